#include "cli.hpp"

namespace orun::cli {

void add_update(CLI::App& app, Cli& cli) {
  static container::UpdateOptions opt;
  static std::string id;
  static std::map<std::string, std::string> values;
  static std::vector<std::pair<std::string, CLI::Option*>> given;
  auto* sub = app.add_subcommand("update", "change the resource limits of a container");
  sub->add_option("-r,--resources", opt.resources,
                  "linux.resources JSON file (- for stdin); the other flags are then ignored");
  // runc's flags: name, help. Values are checked by the library, which names the flag.
  static const std::pair<const char*, const char*> flags[] = {
      {"blkio-weight", "block IO weight, 10 to 1000"},
      {"cpu-period", "CPU CFS period (us)"},
      {"cpu-quota", "CPU CFS quota per period (us), -1 for none"},
      {"cpu-burst", "CPU CFS burst (us)"},
      {"cpu-share", "CPU shares (relative weight)"},
      {"cpu-rt-period", "CPU realtime period (us)"},
      {"cpu-rt-runtime", "CPU realtime runtime per period (us)"},
      {"cpuset-cpus", "CPUs to use (0-3,5)"},
      {"cpuset-mems", "memory nodes to use"},
      {"cpu-idle", "1: SCHED_IDLE for the cgroup, 0: normal"},
      {"memory", "memory limit (bytes; units k, m, g), -1 for none"},
      {"memory-reservation", "memory soft limit (bytes; units k, m, g)"},
      {"memory-swap", "memory plus swap limit (bytes; units k, m, g), -1 for unlimited swap"},
      {"pids-limit", "maximum number of processes, -1 for none"},
      {"kernel-memory", "obsolete, ignored"},
      {"kernel-memory-tcp", "obsolete, ignored"},
      {"l3-cache-schema", "Intel RDT L3 cache schema (not supported)"},
      {"mem-bw-schema", "Intel RDT memory bandwidth schema (not supported)"},
  };
  for (auto& [name, help] : flags) given.emplace_back(name, sub->add_option(std::string("--") + name, values[name], help));
  sub->add_option("id", id, "container id")->required();
  sub->callback([&cli] {
    for (auto& [name, option] : given)
      if (option->count() > 0) opt.flags[name] = values[name];
    cli.action = [&cli]() -> Result<int> {
      TRY(container::update(cli.globals, id, opt));
      return 0;
    };
  });
}

}  // namespace orun::cli
