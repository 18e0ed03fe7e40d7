// Usage statistics of a container's cgroups for `orun events`, in the units
// and with the meanings of runc's stats (nanoseconds of CPU, bytes of memory).
//
//   read_stats(Manager::paths())  v1 controllers (v1, hybrid) -> cpuacct.*, cpu.stat, memory.*, pids.*, blkio.*, hugetlb.*
//                                 else the cgroup2 directory  -> cpu.stat, memory.*, pids.*, io.stat, hugetlb.*
//   stats_json(stats)             runc's "data" object of a {"type":"stats"} event
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace orun::cgroups {

struct CpuStats {
  uint64_t total = 0, kernel = 0, user = 0;  // ns
  std::vector<uint64_t> percpu, percpu_kernel, percpu_user;
  uint64_t periods = 0, throttled_periods = 0, throttled_time = 0;  // throttled_time in ns
};

struct MemoryEntry {
  uint64_t limit = 0, usage = 0, max = 0, failcnt = 0;
};

struct MemoryStats {
  uint64_t cache = 0;
  MemoryEntry usage, swap, kernel, kernel_tcp;
  std::map<std::string, uint64_t> raw;  // memory.stat
};

struct PidsStats {
  uint64_t current = 0, limit = 0;  // limit 0: none
};

struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;  // "Read", "Write", "Sync", "Async", "Discard", "Total"
  uint64_t value = 0;
};

struct BlkioStats {
  std::vector<BlkioEntry> service_bytes, serviced;
};

struct HugetlbStats {
  uint64_t usage = 0, max = 0, failcnt = 0;
};

struct Stats {
  CpuStats cpu;
  MemoryStats memory;
  PidsStats pids;
  BlkioStats blkio;
  std::map<std::string, HugetlbStats> hugetlb;  // page size ("2MB") -> stats
};

// The statistics of the cgroups in `paths` (Manager::paths()). A controller
// that is not mounted leaves its part zero; a file that cannot be read is an error.
[[nodiscard]] Result<Stats> read_stats(const std::map<std::string, std::string>& paths);
std::string stats_json(const Stats& s);

// Parsers, pure for the unit tests.
// "key value" lines (memory.stat, cpu.stat, memory.events, cpuacct.stat).
std::map<std::string, uint64_t> parse_keyed(std::string_view text);
// blkio.throttle.io_service_bytes and friends: "8:0 Read 4096" lines, "Total N" skipped.
std::vector<BlkioEntry> parse_blkio_v1(std::string_view text);
// io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6" -> bytes and ios entries.
void parse_io_stat(std::string_view text, BlkioStats& out);
// "max" -> 0 (no limit), else the number.
uint64_t parse_limit(std::string_view text);

}  // namespace orun::cgroups
