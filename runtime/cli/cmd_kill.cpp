#include "base/signals.hpp"
#include "cli.hpp"

namespace orun::cli {

void add_kill(CLI::App& app, Cli& cli) {
  static std::string id, signal = "SIGTERM";
  static bool all = false;
  auto* sub = app.add_subcommand("kill", "send a signal (default SIGTERM) to the container's init");
  sub->add_flag("-a,--all", all, "signal every process in the container's cgroup");
  sub->add_option("id", id, "container id")->required();
  sub->add_option("signal", signal, "signal name or number")->capture_default_str();
  sub->callback([&cli] {
    cli.action = [&cli]() -> Result<int> {
      int sig = TRY(parse_signal(signal));
      TRY(container::kill(cli.globals, id, sig, all));
      return 0;
    };
  });
}

}  // namespace orun::cli
