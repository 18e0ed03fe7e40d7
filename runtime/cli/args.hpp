// orun's command-line parser: runc's syntax, table-driven, without iostreams.
//
// It replaces CLI11, whose headers bring <iostream> and the whole C++ locale
// into every orun start-up, and a `run` starts orun twice (the CVE-2019-5736
// re-exec): docs/benchmarks.md has the cost. What it accepts, as runc does:
//   --flag value, --flag=value, -f value, -fvalue, -f=value;
//   bool flags as --flag or --flag=true|false; short bool flags combined (-dt);
//   repeated options (a vector collects each occurrence, a scalar keeps the last);
//   options before, between or after positionals, unless `options_first`,
//   where the first positional ends them (exec's command, ps's arguments);
//   "--" ends the options (and, right after the last positional of an
//   `options_first` command, is dropped: `exec ID -- cmd`, `ps ID -- -o pid`);
//   -h/--help anywhere among the options.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.hpp"

namespace orun::cli {

using Args = std::span<char* const>;

// Where an option's value goes. bool*: a flag without a value; the others take a value.
using Target = std::variant<bool*, std::string*, int*, std::optional<std::string>*, std::vector<std::string>*,
                            std::vector<uint32_t>*>;

struct Option {
  char short_name;             // 'b', or 0 for none
  std::string_view long_name;  // "bundle"
  Target target;
  std::string_view help;       // empty: accepted, but not listed by --help
  std::string_view value_name = "VALUE";  // --bundle DIR, in the help
  std::span<const std::string_view> choices = {};  // when not empty, the only values accepted
};

struct Positional {
  std::string_view name;  // ID, SIGNAL
  std::string* target;
  std::string_view help;
  bool required = true;
};

// One level of the command line: the program with its global options, or one verb.
struct Command {
  std::string_view name = {};  // "orun", "orun run"
  std::string_view about = {};
  std::span<const Option> options = {};
  std::span<const Positional> positionals = {};
  // The words after the positionals (exec's command, ps's arguments); null: none are accepted.
  std::vector<std::string>* rest = nullptr;
  std::string_view rest_name = {};
  std::string_view rest_help = {};
  bool options_first = false;
  std::string_view usage = {};   // the usage line after [OPTIONS], when the generated one says too little
  std::string_view footer = {};  // the end of the help text
};

enum class Parsed { ok, help };

// Stores args (what follows the command's own name) into the targets. Parsed::help when -h or
// --help was given (nothing is checked after it). Errors are one line naming the flag or argument.
[[nodiscard]] Result<Parsed> parse(const Command& cmd, Args args);

// The text of --help for cmd.
std::string help_text(const Command& cmd);

}  // namespace orun::cli
