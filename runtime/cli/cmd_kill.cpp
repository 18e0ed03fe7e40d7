#include "base/signals.hpp"
#include "cli.hpp"

namespace orun::cli {

namespace {

Result<int> kill_main(Cli& cli, const Verb& self, Args args) {
  std::string id, signal = "SIGTERM";
  bool all = false;
  const Option options[] = {{'a', "all", &all, "signal every process in the container's cgroup"}};
  const Positional positionals[] = {{"ID", &id, "container id"},
                                    {"SIGNAL", &signal, "signal name or number", false}};
  if (!TRY(parse_verb(self, {.options = options, .positionals = positionals}, args))) return 0;
  int sig = TRY(parse_signal(signal));
  TRY(container::kill(cli.globals, id, sig, all));
  return 0;
}

}  // namespace

const Verb kKill{"kill", "send a signal (default SIGTERM) to the container's init", kill_main};

}  // namespace orun::cli
