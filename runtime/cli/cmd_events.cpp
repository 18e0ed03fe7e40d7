#include <cstdio>

#include "base/strings.hpp"
#include "cli.hpp"

namespace orun::cli {

namespace {

Result<int> events_main(Cli& cli, const Verb& self, Args args) {
  std::string id, interval = "5s";
  container::EventsOptions opt;
  const Option options[] = {
      {0, "stats", &opt.stats_once, "print one stats event and exit"},
      {0, "interval", &interval, "time between stats events (Go duration: 5s, 500ms)", "DURATION"},
  };
  const Positional positionals[] = {{"ID", &id, "container id"}};
  if (!TRY(parse_verb(self, {.options = options, .positionals = positionals}, args))) return 0;
  auto d = parse_duration(interval);
  if (!d) return fail("--interval: invalid duration \"" + interval + "\" (as 5s, 500ms, 1m30s)");
  opt.interval = *d;
  TRY(container::events(cli.globals, id, opt, [](const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
  }));
  return 0;
}

}  // namespace

const Verb kEvents{"events", "stream a container's stats and OOM events as JSON lines", events_main};

}  // namespace orun::cli
