#include "cgroups/stats.hpp"

#include <dirent.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/strings.hpp"
#include "cgroups/cgfs.hpp"

namespace orun::cgroups {

namespace {

constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

std::vector<std::string> words(std::string_view line) {
  std::vector<std::string> out;
  for (auto& w : split(line, ' '))
    if (!w.empty()) out.push_back(w);
  return out;
}

// The file's content, or nullopt when the kernel does not have it.
Result<std::optional<std::string>> read_opt(const std::string& dir, const std::string& file) {
  if (!has_file(dir, file)) return std::optional<std::string>();
  return std::optional<std::string>(TRY(read_value(dir, file)));
}

Result<uint64_t> read_num(const std::string& dir, const std::string& file) {
  auto text = TRY(read_opt(dir, file));
  return text ? parse_limit(*text) : 0;
}

std::vector<uint64_t> parse_list(std::string_view text) {
  std::vector<uint64_t> out;
  for (auto& w : words(trim(text))) out.push_back(parse_uint(w).value_or(0));
  return out;
}

// Hugepage sizes with a file in dir: "hugetlb.2MB.<suffix>" -> "2MB".
std::vector<std::string> hugepage_sizes(const std::string& dir, std::string_view suffix) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (!n.starts_with("hugetlb.") || !n.ends_with(suffix)) continue;
    n.remove_prefix(8);
    n.remove_suffix(suffix.size());
    if (!n.empty() && n.find('.') == std::string_view::npos) out.emplace_back(n);
  }
  ::closedir(d);
  return out;
}

Result<MemoryEntry> memory_entry_v1(const std::string& dir, const std::string& prefix) {
  MemoryEntry e;
  e.usage = TRY(read_num(dir, prefix + ".usage_in_bytes"));
  e.max = TRY(read_num(dir, prefix + ".max_usage_in_bytes"));
  e.failcnt = TRY(read_num(dir, prefix + ".failcnt"));
  e.limit = TRY(read_num(dir, prefix + ".limit_in_bytes"));
  return e;
}

Result<> read_v1(const std::map<std::string, std::string>& paths, Stats& s) {
  auto dir = [&](const char* c) -> const std::string* {
    auto it = paths.find(c);
    return it == paths.end() ? nullptr : &it->second;
  };
  if (auto* d = dir("cpuacct")) {
    s.cpu.total = TRY(read_num(*d, "cpuacct.usage"));
    if (auto t = TRY(read_opt(*d, "cpuacct.usage_percpu"))) s.cpu.percpu = parse_list(*t);
    if (auto t = TRY(read_opt(*d, "cpuacct.usage_percpu_sys"))) s.cpu.percpu_kernel = parse_list(*t);
    if (auto t = TRY(read_opt(*d, "cpuacct.usage_percpu_user"))) s.cpu.percpu_user = parse_list(*t);
    if (has_file(*d, "cpuacct.usage_sys")) {
      s.cpu.kernel = TRY(read_num(*d, "cpuacct.usage_sys"));
      s.cpu.user = TRY(read_num(*d, "cpuacct.usage_user"));
    } else if (auto t = TRY(read_opt(*d, "cpuacct.stat"))) {
      // In USER_HZ ticks (100 a second on Linux).
      auto k = parse_keyed(*t);
      s.cpu.kernel = k["system"] * 10000000;
      s.cpu.user = k["user"] * 10000000;
    }
  }
  if (auto* d = dir("cpu")) {
    if (auto t = TRY(read_opt(*d, "cpu.stat"))) {
      auto k = parse_keyed(*t);
      s.cpu.periods = k["nr_periods"];
      s.cpu.throttled_periods = k["nr_throttled"];
      s.cpu.throttled_time = k["throttled_time"];
    }
  }
  if (auto* d = dir("memory")) {
    if (auto t = TRY(read_opt(*d, "memory.stat"))) s.memory.raw = parse_keyed(*t);
    s.memory.cache = s.memory.raw["cache"];
    s.memory.usage = TRY(memory_entry_v1(*d, "memory"));
    s.memory.swap = TRY(memory_entry_v1(*d, "memory.memsw"));
    s.memory.kernel = TRY(memory_entry_v1(*d, "memory.kmem"));
    s.memory.kernel_tcp = TRY(memory_entry_v1(*d, "memory.kmem.tcp"));
  }
  if (auto* d = dir("pids")) {
    s.pids.current = TRY(read_num(*d, "pids.current"));
    s.pids.limit = TRY(read_num(*d, "pids.max"));
  }
  if (auto* d = dir("blkio")) {
    // The I/O scheduler's counters when it keeps them (BFQ, CFQ), else the throttle layer's.
    for (const char* prefix : {"blkio.bfq.", "blkio.", "blkio.throttle."}) {
      std::string bytes = std::string(prefix) + "io_service_bytes_recursive";
      if (!has_file(*d, bytes)) continue;
      s.blkio.service_bytes = parse_blkio_v1(TRY(read_value(*d, bytes)));
      s.blkio.serviced = parse_blkio_v1(TRY(read_value(*d, std::string(prefix) + "io_serviced_recursive")));
      break;
    }
  }
  if (auto* d = dir("hugetlb")) {
    for (auto& size : hugepage_sizes(*d, ".limit_in_bytes")) {
      HugetlbStats h;
      std::string p = "hugetlb." + size;
      h.usage = TRY(read_num(*d, p + ".usage_in_bytes"));
      h.max = TRY(read_num(*d, p + ".max_usage_in_bytes"));
      h.failcnt = TRY(read_num(*d, p + ".failcnt"));
      s.hugetlb[size] = h;
    }
  }
  return {};
}

// cgroup v2 (Documentation/admin-guide/cgroup-v2.rst): usec counters, "max"
// for no limit, events files of "name count" lines.
Result<> read_v2(const std::string& d, Stats& s) {
  if (auto t = TRY(read_opt(d, "cpu.stat"))) {
    auto k = parse_keyed(*t);
    s.cpu.total = k["usage_usec"] * 1000;
    s.cpu.user = k["user_usec"] * 1000;
    s.cpu.kernel = k["system_usec"] * 1000;
    s.cpu.periods = k["nr_periods"];
    s.cpu.throttled_periods = k["nr_throttled"];
    s.cpu.throttled_time = k["throttled_usec"] * 1000;
  }
  if (has_file(d, "memory.current")) {
    if (auto t = TRY(read_opt(d, "memory.stat"))) s.memory.raw = parse_keyed(*t);
    s.memory.cache = s.memory.raw["file"];
    auto limit = [&](const char* file) -> Result<uint64_t> {
      auto t = TRY(read_opt(d, file));
      if (!t || *t == "max") return kUnlimited;
      return parse_uint(*t).value_or(0);
    };
    s.memory.usage.usage = TRY(read_num(d, "memory.current"));
    s.memory.usage.limit = TRY(limit("memory.max"));
    s.memory.usage.max = TRY(read_num(d, "memory.peak"));
    if (auto t = TRY(read_opt(d, "memory.events"))) s.memory.usage.failcnt = parse_keyed(*t)["max"];
    if (has_file(d, "memory.swap.current")) {
      // runc reports swap as v1's memsw: memory plus swap.
      uint64_t swap_limit = TRY(limit("memory.swap.max"));
      s.memory.swap.usage = TRY(read_num(d, "memory.swap.current")) + s.memory.usage.usage;
      s.memory.swap.limit = swap_limit == kUnlimited || s.memory.usage.limit == kUnlimited
                                ? kUnlimited
                                : swap_limit + s.memory.usage.limit;
      s.memory.swap.max = TRY(read_num(d, "memory.swap.peak"));
      if (auto t = TRY(read_opt(d, "memory.swap.events"))) s.memory.swap.failcnt = parse_keyed(*t)["max"];
    }
  }
  s.pids.current = TRY(read_num(d, "pids.current"));
  s.pids.limit = TRY(read_num(d, "pids.max"));
  if (auto t = TRY(read_opt(d, "io.stat"))) parse_io_stat(*t, s.blkio);
  for (auto& size : hugepage_sizes(d, ".max")) {
    HugetlbStats h;
    std::string p = "hugetlb." + size;
    h.usage = TRY(read_num(d, p + ".current"));
    h.max = TRY(read_num(d, p + ".max"));
    if (auto t = TRY(read_opt(d, p + ".events"))) h.failcnt = parse_keyed(*t)["max"];
    s.hugetlb[size] = h;
  }
  return {};
}

nlohmann::json memory_entry_json(const MemoryEntry& e) {
  return {{"limit", e.limit}, {"usage", e.usage}, {"max", e.max}, {"failcnt", e.failcnt}};
}

nlohmann::json blkio_json(const std::vector<BlkioEntry>& list) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& e : list) out.push_back({{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
  return out;
}

}  // namespace

uint64_t parse_limit(std::string_view text) {
  text = trim(text);
  if (text == "max") return 0;
  return parse_uint(text).value_or(0);
}

std::map<std::string, uint64_t> parse_keyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (auto& line : split(text, '\n')) {
    auto w = words(line);
    if (w.size() == 2)
      if (auto v = parse_uint(w[1])) out[w[0]] = *v;
  }
  return out;
}

std::vector<BlkioEntry> parse_blkio_v1(std::string_view text) {
  std::vector<BlkioEntry> out;
  for (auto& line : split(text, '\n')) {
    auto w = words(line);
    if (w.size() != 3) continue;
    auto mm = split(w[0], ':');
    if (mm.size() != 2) continue;
    auto major = parse_uint(mm[0]), minor = parse_uint(mm[1]), value = parse_uint(w[2]);
    if (!major || !minor || !value) continue;
    out.push_back({*major, *minor, w[1], *value});
  }
  return out;
}

void parse_io_stat(std::string_view text, BlkioStats& out) {
  for (auto& line : split(text, '\n')) {
    auto w = words(line);
    if (w.empty()) continue;
    auto mm = split(w[0], ':');
    if (mm.size() != 2) continue;
    auto major = parse_uint(mm[0]), minor = parse_uint(mm[1]);
    if (!major || !minor) continue;
    for (size_t i = 1; i < w.size(); ++i) {
      auto eq = w[i].find('=');
      if (eq == std::string::npos) continue;
      std::string key = w[i].substr(0, eq);
      uint64_t v = parse_uint(std::string_view(w[i]).substr(eq + 1)).value_or(0);
      static const std::pair<const char*, const char*> bytes[] = {{"rbytes", "Read"}, {"wbytes", "Write"}, {"dbytes", "Discard"}};
      static const std::pair<const char*, const char*> ios[] = {{"rios", "Read"}, {"wios", "Write"}, {"dios", "Discard"}};
      for (auto& [k, op] : bytes)
        if (key == k) out.service_bytes.push_back({*major, *minor, op, v});
      for (auto& [k, op] : ios)
        if (key == k) out.serviced.push_back({*major, *minor, op, v});
    }
  }
}

Result<Stats> read_stats(const std::map<std::string, std::string>& paths) {
  Stats s;
  bool v1 = false;
  for (auto& [controller, dir] : paths)
    if (!controller.empty() && !controller.starts_with("name=")) v1 = true;
  if (v1) {
    TRY(read_v1(paths, s));
  } else if (auto it = paths.find(""); it != paths.end()) {
    TRY(read_v2(it->second, s));
  } else {
    return fail("no cgroup directory to read statistics from");
  }
  return s;
}

std::string stats_json(const Stats& s) {
  using nlohmann::json;
  json hugetlb = json::object();
  for (auto& [size, h] : s.hugetlb) hugetlb[size] = {{"usage", h.usage}, {"max", h.max}, {"failcnt", h.failcnt}};
  json data = {
      {"cpu",
       {{"usage",
         {{"total", s.cpu.total},
          {"percpu", s.cpu.percpu},
          {"percpu_kernel", s.cpu.percpu_kernel},
          {"percpu_user", s.cpu.percpu_user},
          {"kernel", s.cpu.kernel},
          {"user", s.cpu.user}}},
        {"throttling",
         {{"periods", s.cpu.periods},
          {"throttledPeriods", s.cpu.throttled_periods},
          {"throttledTime", s.cpu.throttled_time}}}}},
      {"memory",
       {{"cache", s.memory.cache},
        {"usage", memory_entry_json(s.memory.usage)},
        {"swap", memory_entry_json(s.memory.swap)},
        {"kernel", memory_entry_json(s.memory.kernel)},
        {"kernelTCP", memory_entry_json(s.memory.kernel_tcp)},
        {"raw", s.memory.raw}}},
      {"pids", {{"current", s.pids.current}, {"limit", s.pids.limit}}},
      {"blkio",
       {{"ioServiceBytesRecursive", blkio_json(s.blkio.service_bytes)},
        {"ioServicedRecursive", blkio_json(s.blkio.serviced)}}},
      {"hugetlb", hugetlb},
  };
  // Keys come from the kernel's files: replace, never throw, on odd bytes.
  return data.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace orun::cgroups
