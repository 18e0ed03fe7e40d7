// The orun command line: main.cpp parses the global flags and picks the verb;
// each cmd_<verb>.cpp parses the verb's own flags (args.hpp) and calls one
// liborun function.
#pragma once
#include <array>
#include <string>
#include <string_view>

#include "args.hpp"
#include "base/result.hpp"
#include "container/container.hpp"

namespace orun::cli {

struct Cli {
  container::Globals globals;
  char** argv = nullptr;
  // The verbs that exec into a container call this before they act: it re-executes orun from a
  // copy the container cannot write (linux/exe_protect.hpp) and returns in that copy.
  [[nodiscard]] Result<> seal() const;
};

struct Verb {
  std::string_view name;
  std::string_view about;
  // Parses args (the words after the verb) and acts; returns the exit status.
  Result<int> (*main)(Cli& cli, const Verb& self, Args args);
  std::string_view alias = {};
};

// One per cmd_<verb>.cpp.
extern const Verb kSpec, kCreate, kStart, kRun, kExec, kState, kKill, kDelete, kList, kFeatures, kUpdate, kPause,
    kResume, kPs, kEvents;

// Parses a verb's args against its options and positionals. Returns false when --help was
// printed: the verb then exits 0 without acting.
[[nodiscard]] Result<bool> parse_verb(const Verb& self, Command cmd, Args args);

// The options create and run share, stored into opt.
constexpr size_t kCreateOptionCount = 6;
std::array<Option, kCreateOptionCount> create_options(container::CreateOptions& opt);

}  // namespace orun::cli
