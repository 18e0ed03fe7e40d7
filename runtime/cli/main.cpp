#include <seccomp.h>
#include <unistd.h>

#include <cstdio>
#include <string_view>

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

using AddVerb = void (*)(CLI::App&, cli::Cli&);
struct Verb {
  const char* name;
  AddVerb add;
};
constexpr Verb kVerbs[] = {
    {"spec", cli::add_spec},   {"create", cli::add_create}, {"start", cli::add_start},
    {"run", cli::add_run},     {"exec", cli::add_exec},     {"state", cli::add_state},
    {"kill", cli::add_kill},   {"delete", cli::add_delete}, {"list", cli::add_list},
    {"features", cli::add_features}, {"update", cli::add_update}, {"pause", cli::add_pause},
    {"resume", cli::add_resume},     {"ps", cli::add_ps},         {"events", cli::add_events},
};

// The verb argv names: the first word that is neither a global flag nor the
// value of a global option. Registering only that subcommand spares the CLI11
// set-up of all the others, which was most of the user-space instructions of
// an orun exec (two of them per `run`; docs/benchmarks.md). Without a known
// verb (--help, a typo) every subcommand is registered, for help and errors.
const Verb* verb_of(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--root" || a == "--log" || a == "--log-format" || a == "--criu" || a == "--rootless") {
      ++i;
      continue;
    }
    if (a.starts_with("-")) continue;
    for (const Verb& v : kVerbs)
      if (a == v.name) return &v;
    return nullptr;
  }
  return nullptr;
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

  if (const Verb* v = verb_of(argc, argv)) {
    v->add(app, c);
  } else {
    for (const Verb& each : kVerbs) each.add(app, c);
  }

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
