// The orun command line: main.cpp owns the global flags; each cmd_<verb>.cpp
// registers one subcommand whose action parses nothing more and calls one
// liborun function.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "base/result.hpp"
#include "container/container.hpp"

namespace orun::cli {

struct Cli {
  container::Globals globals;
  std::string log_path;
  std::string log_format = "text";
  bool debug = false;
  // Set by the chosen subcommand; returns the process exit status.
  std::function<Result<int>()> action;
  // The verbs that exec into a container must run from a sealed binary.
  bool needs_sealed_exe = false;
};

// Each adds its subcommand to app.
void add_spec(CLI::App& app, Cli& cli);
void add_create(CLI::App& app, Cli& cli);
void add_start(CLI::App& app, Cli& cli);
void add_run(CLI::App& app, Cli& cli);
void add_exec(CLI::App& app, Cli& cli);
void add_state(CLI::App& app, Cli& cli);
void add_kill(CLI::App& app, Cli& cli);
void add_delete(CLI::App& app, Cli& cli);
void add_list(CLI::App& app, Cli& cli);
void add_features(CLI::App& app, Cli& cli);
void add_update(CLI::App& app, Cli& cli);
void add_pause(CLI::App& app, Cli& cli);
void add_resume(CLI::App& app, Cli& cli);
void add_ps(CLI::App& app, Cli& cli);
void add_events(CLI::App& app, Cli& cli);

// The flags create and run share.
void add_create_flags(CLI::App* sub, container::CreateOptions& opt);

}  // namespace orun::cli
