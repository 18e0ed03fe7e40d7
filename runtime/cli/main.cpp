#include <seccomp.h>
#include <unistd.h>

#include <cstdio>

#include "base/log.hpp"
#include "cli.hpp"
#include "linux/exe_protect.hpp"

using namespace orun;

namespace {

std::string version_text() {
  const scmp_version* v = seccomp_version();
  return std::string("orun version ") + ORCH_VERSION + "\nspec: 1.2.0\nlibseccomp: " + std::to_string(v->major) + "." +
         std::to_string(v->minor) + "." + std::to_string(v->micro);
}

// One error line, where engines read it: --log (JSON or text), else stderr.
int report(const Error& e) {
  log::error(e.message);
  return e.exit_status ? e.exit_status : 1;
}

}  // namespace

int main(int argc, char** argv) {
  cli::Cli c;
  CLI::App app{"orun: an OCI container runtime, command-line compatible with runc", "orun"};
  app.set_version_flag("-v,--version", version_text());
  app.require_subcommand(1);
  app.add_option("--root", c.globals.root, "root directory for container state")->capture_default_str();
  app.add_option("--log", c.log_path, "log file (default: stderr)");
  app.add_option("--log-format", c.log_format, "log format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_flag("--debug", c.debug, "log debug messages");
  app.add_flag("--systemd-cgroup", c.globals.systemd_cgroup, "manage cgroups with systemd (cgroupsPath slice:prefix:name)");
  // runc accepts these; orun has nothing to configure for them.
  std::string criu;
  std::string rootless_unused;
  app.add_option("--criu", criu, "ignored (no checkpoint support)")->group("");
  app.add_option("--rootless", rootless_unused, "ignored: orun detects rootless operation")->group("");

  cli::add_spec(app, c);
  cli::add_create(app, c);
  cli::add_start(app, c);
  cli::add_run(app, c);
  cli::add_exec(app, c);
  cli::add_state(app, c);
  cli::add_kill(app, c);
  cli::add_delete(app, c);
  cli::add_list(app, c);
  cli::add_features(app, c);
  cli::add_update(app, c);
  cli::add_pause(app, c);
  cli::add_resume(app, c);
  cli::add_ps(app, c);
  cli::add_events(app, c);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    log::setup(c.log_path, c.log_format == "json" ? log::Format::json : log::Format::text, c.debug);
    log::error(e.what());
    // runc exits 1 on every usage error; CLI11's own codes (106, 109...) would surprise callers.
    return 1;
  }
  log::setup(c.log_path, c.log_format == "json" ? log::Format::json : log::Format::text, c.debug);
  c.globals.warn = [](const std::string& w) { log::warning(w); };
  if (c.needs_sealed_exe) {
    if (auto r = linux::ensure_sealed_exe(argv); !r) return report(r.error());
  }
  if (!c.action) return 1;
  auto r = c.action();
  if (!r) return report(r.error());
  return *r;
}
