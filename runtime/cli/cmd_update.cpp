#include "cli.hpp"

namespace orun::cli {

namespace {

// runc's flags: name, help. Values are checked by the library, which names the flag.
constexpr std::pair<std::string_view, std::string_view> kFlags[] = {
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
constexpr size_t kFlagCount = std::size(kFlags);

Result<int> update_main(Cli& cli, const Verb& self, Args args) {
  container::UpdateOptions opt;
  std::string id;
  std::array<std::optional<std::string>, kFlagCount> values;
  std::array<Option, kFlagCount + 1> options{};
  options[0] = {'r', "resources", &opt.resources,
                "linux.resources JSON file (- for stdin); the other flags are then ignored", "FILE"};
  for (size_t i = 0; i < kFlagCount; ++i) options[i + 1] = {0, kFlags[i].first, &values[i], kFlags[i].second};
  const Positional positionals[] = {{"ID", &id, "container id"}};
  if (!TRY(parse_verb(self, {.options = options, .positionals = positionals}, args))) return 0;
  for (size_t i = 0; i < kFlagCount; ++i)
    if (values[i]) opt.flags[std::string(kFlags[i].first)] = *values[i];
  TRY(container::update(cli.globals, id, opt));
  return 0;
}

}  // namespace

const Verb kUpdate{"update", "change the resource limits of a container", update_main};

}  // namespace orun::cli
