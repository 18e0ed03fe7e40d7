#include <seccomp.h>

#include <cstdio>
#include <string_view>

#include "base/log.hpp"
#include "cli.hpp"
#include "linux/exe_protect.hpp"

using namespace orun;

namespace {

constexpr const cli::Verb* kVerbs[] = {
    &cli::kSpec,   &cli::kCreate, &cli::kStart, &cli::kRun,      &cli::kExec,   &cli::kState,  &cli::kKill, &cli::kDelete,
    &cli::kList,   &cli::kFeatures, &cli::kUpdate, &cli::kPause, &cli::kResume, &cli::kPs,     &cli::kEvents,
};

const cli::Verb* find_verb(std::string_view name) {
  for (const cli::Verb* v : kVerbs)
    if (name == v->name || (!v->alias.empty() && name == v->alias)) return v;
  return nullptr;
}

void print_version() {
  const scmp_version* v = seccomp_version();
  std::printf("orun version %s\nspec: 1.2.0\nlibseccomp: %u.%u.%u\n", ORCH_VERSION, v->major, v->minor, v->micro);
}

std::string verb_list() {
  std::string out = "Subcommands:\n";
  for (const cli::Verb* v : kVerbs) {
    std::string name(v->name);
    out += "  " + name + std::string(name.size() < 28 ? 28 - name.size() : 1, ' ') + std::string(v->about) + "\n";
  }
  return out;
}

// One error line, where engines read it: --log (JSON or text), else stderr.
int report(const Error& e) {
  log::error(e.message);
  return e.exit_status ? e.exit_status : 1;
}

constexpr std::string_view kLogFormats[] = {"text", "json"};

}  // namespace

namespace orun::cli {

Result<> Cli::seal() const { return linux::ensure_sealed_exe(argv); }

Result<bool> parse_verb(const Verb& self, Command cmd, Args args) {
  std::string name = "orun " + std::string(self.name);
  cmd.name = name;
  cmd.about = self.about;
  if (TRY(parse(cmd, args)) == Parsed::ok) return true;
  std::fputs(help_text(cmd).c_str(), stdout);
  return false;
}

}  // namespace orun::cli

int main(int argc, char** argv) {
  cli::Cli c;
  c.argv = argv;
  std::string log_path, log_format = "text", criu, rootless;
  bool debug = false, version = false;
  std::vector<std::string> words;  // the verb and its arguments
  const cli::Option options[] = {
      {'v', "version", &version, "print the version and exit"},
      {0, "root", &c.globals.root, "root directory for container state", "DIR"},
      {0, "log", &log_path, "log file (default: stderr)", "FILE"},
      {0, "log-format", &log_format, "log format: text or json", "FORMAT", kLogFormats},
      {0, "debug", &debug, "log debug messages"},
      {0, "systemd-cgroup", &c.globals.systemd_cgroup, "manage cgroups with systemd (cgroupsPath slice:prefix:name)"},
      // runc accepts these; orun has nothing to configure for them.
      {0, "criu", &criu, ""},
      {0, "rootless", &rootless, ""},
  };
  std::string verbs = verb_list();
  const cli::Command program{.name = "orun",
                             .about = "orun: an OCI container runtime, command-line compatible with runc",
                             .options = options,
                             .rest = &words,
                             .rest_name = "COMMAND",
                             .rest_help = "a subcommand and its arguments",
                             .options_first = true,
                             .usage = "COMMAND [OPTIONS] [ARGUMENTS]",
                             .footer = verbs};
  auto parsed = cli::parse(program, cli::Args(argv + 1, argc - 1));
  log::setup(log_path, log_format == "json" ? log::Format::json : log::Format::text, debug);
  // runc exits 1 on every usage error.
  if (!parsed) return report(parsed.error());
  if (*parsed == cli::Parsed::help) {
    std::fputs(cli::help_text(program).c_str(), stdout);
    return 0;
  }
  if (version) {
    print_version();
    return 0;
  }
  if (words.empty()) return report(Error{EINVAL, "missing a subcommand; see orun --help"});
  const cli::Verb* verb = find_verb(words[0]);
  if (!verb) return report(Error{EINVAL, "unknown subcommand \"" + words[0] + "\"; see orun --help"});
  c.globals.warn = [](const std::string& w) { log::warning(w); };
  // The verb's arguments, as argv pointers again: words holds copies, argv the originals.
  auto r = verb->main(c, *verb, cli::Args(argv + argc - (words.size() - 1), words.size() - 1));
  if (!r) return report(r.error());
  return *r;
}
