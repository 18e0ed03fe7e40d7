#include <cstdio>

#include "base/strings.hpp"
#include "cli.hpp"

namespace orun::cli {

void add_events(CLI::App& app, Cli& cli) {
  static std::string id, interval = "5s";
  static bool stats = false;
  auto* sub = app.add_subcommand("events", "stream a container's stats and OOM events as JSON lines");
  sub->add_flag("--stats", stats, "print one stats event and exit");
  sub->add_option("--interval", interval, "time between stats events (Go duration: 5s, 500ms)")->capture_default_str();
  sub->add_option("id", id, "container id")->required();
  sub->callback([&cli] {
    cli.action = [&cli]() -> Result<int> {
      container::EventsOptions opt;
      opt.stats_once = stats;
      auto d = parse_duration(interval);
      if (!d) return fail("--interval: invalid duration \"" + interval + "\" (as 5s, 500ms, 1m30s)");
      opt.interval = *d;
      TRY(container::events(cli.globals, id, opt, [](const std::string& line) {
        std::fputs((line + "\n").c_str(), stdout);
        std::fflush(stdout);
      }));
      return 0;
    };
  });
}

}  // namespace orun::cli
