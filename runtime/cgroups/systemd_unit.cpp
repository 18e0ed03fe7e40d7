#include "cgroups/systemd_unit.hpp"

#include <algorithm>

#include "base/strings.hpp"
#include "cgroups/v2.hpp"

namespace orun::cgroups {

namespace {

constexpr size_t kUnitNameMax = 255;  // systemd's UNIT_NAME_MAX less the NUL

std::unexpected<Error> bad_path(const std::string& cgroups_path, const std::string& why) {
  return fail("linux.cgroupsPath " + quote(cgroups_path) + ": " + why);
}

// systemd's unit name alphabet, less '\\' (its escape character: nothing here needs escaping,
// and an escaped name would not be the name the caller wrote).
bool unit_chars_ok(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
           c == '.' || c == '-';
  });
}

// Why `part` (prefix or name) cannot be a piece of a unit name, or "" when it can.
std::string part_problem(std::string_view what, std::string_view part) {
  if (part.find('/') != std::string_view::npos) return std::string(what) + " contains '/'";
  if (part.find("..") != std::string_view::npos) return std::string(what) + " contains \"..\"";
  if (!unit_chars_ok(part))
    return std::string(what) + " " + quote(part) + " holds characters a systemd unit name cannot (allowed: A-Z a-z 0-9 : _ . -)";
  return "";
}

}  // namespace

Result<std::string> expand_slice(std::string_view slice) {
  auto bad = [&](const std::string& why) { return fail("slice " + quote(slice) + ": " + why); };
  if (!slice.ends_with(".slice")) return bad("a slice name ends in \".slice\"");
  if (slice.size() > kUnitNameMax) return bad("longer than 255 characters");
  if (slice == "-.slice") return std::string("/");  // the root slice
  std::string_view stem = slice.substr(0, slice.size() - 6);
  if (stem.empty() || !unit_chars_ok(stem) || stem.find('/') != std::string_view::npos)
    return bad("not a valid slice unit name");
  // systemd's slice_name_is_valid(): "a-b" is "b" inside "a", so no empty level.
  if (stem.front() == '-' || stem.back() == '-' || stem.find("--") != std::string_view::npos)
    return bad("a '-' must separate two non-empty levels");
  if (stem.find("..") != std::string_view::npos) return bad("contains \"..\"");
  std::string path, prefix;
  for (auto& level : split(stem, '-')) {
    prefix += prefix.empty() ? level : "-" + level;
    path += "/" + prefix + ".slice";
  }
  return path;
}

Result<SystemdUnit> parse_systemd_path(const std::string& cgroups_path, const std::string& id) {
  std::vector<std::string> parts{"", std::string(kDefaultScopePrefix), id};
  if (!cgroups_path.empty()) {
    parts = split(cgroups_path, ':');
    if (parts.size() != 3)
      return bad_path(cgroups_path, "with --systemd-cgroup it must be \"slice:prefix:name\" (" +
                                        std::to_string(parts.size() - 1) + " ':' found, 2 expected)");
  }
  SystemdUnit u;
  u.slice = parts[0].empty() ? "system.slice" : parts[0];
  const std::string& prefix = parts[1];
  const std::string& name = parts[2];
  if (name.empty()) return bad_path(cgroups_path, "the name (after the second ':') is empty");
  for (auto [what, part] : {std::pair{"the prefix", &prefix}, std::pair{"the name", &name}})
    if (auto why = part_problem(what, *part); !why.empty()) return bad_path(cgroups_path, why);
  auto slice_dir = expand_slice(u.slice);
  if (!slice_dir) return bad_path(cgroups_path, slice_dir.error().message);
  if (name.ends_with(".slice")) {
    // A slice of its own: its place follows from its name, as for any slice.
    auto own = expand_slice(name);
    if (!own) return bad_path(cgroups_path, own.error().message);
    u.name = name;
    u.cgroup = *own;
  } else {
    u.name = prefix.empty() ? name + ".scope" : prefix + "-" + name + ".scope";
    u.cgroup = (*slice_dir == "/" ? "" : *slice_dir) + "/" + u.name;
  }
  if (u.name.size() > kUnitNameMax)
    return bad_path(cgroups_path, "unit name " + quote(u.name) + " is longer than 255 characters");
  if (u.cgroup == "/") return bad_path(cgroups_path, "names the root cgroup, which cannot hold a container");
  return u;
}

Result<std::vector<uint8_t>> cpu_list_mask(std::string_view list, const std::string& field) {
  // The kernel's NR_CPUS and MAX_NUMNODES stay far below this; it bounds the mask's size.
  constexpr uint64_t kMaxIndex = 1 << 16;
  std::vector<uint8_t> mask;
  auto bad = [&]() { return fail(field + ": " + quote(list) + " is not a list of numbers and ranges (\"0-3,8\")"); };
  for (auto& item : split(list, ',')) {
    std::string_view range = trim(item);
    if (range.empty()) continue;
    auto dash = range.find('-');
    auto lo = parse_uint(range.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : parse_uint(range.substr(dash + 1));
    if (!lo || !hi || *lo > *hi) return bad();
    if (*hi >= kMaxIndex) return fail(field + ": " + std::to_string(*hi) + " is out of range");
    if (mask.size() <= *hi / 8) mask.resize(*hi / 8 + 1, 0);
    for (uint64_t i = *lo; i <= *hi; ++i) mask[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  if (mask.empty()) return bad();
  return mask;
}

const char* signature(const UnitProperty::Value& v) {
  static constexpr const char* kSig[] = {"b", "t", "s", "au", "ay"};
  return kSig[v.index()];
}

Result<std::vector<UnitProperty>> resource_properties(const spec::Resources& res, bool v2) {
  std::vector<UnitProperty> out;
  auto add = [&](const char* name, UnitProperty::Value v) { out.push_back({name, std::move(v)}); };
  // -1 is "unlimited" in the spec, infinity for systemd.
  auto limit = [](int64_t v) { return v < 0 ? kInfinity : static_cast<uint64_t>(v); };

  if (res.memory) {
    const auto& m = *res.memory;
    if (m.limit && *m.limit < -1) return fail("linux.resources.memory.limit: invalid value " + std::to_string(*m.limit));
    if (m.limit && *m.limit != 0) add(v2 ? "MemoryMax" : "MemoryLimit", limit(*m.limit));
    if (v2) {
      if (m.reservation && *m.reservation != 0) add("MemoryLow", limit(*m.reservation));
      // The same rule as the v2 manager: OCI swap counts memory plus swap, MemorySwapMax swap alone.
      auto swap = TRY(swap_max_value(m.swap, m.limit));
      if (swap) add("MemorySwapMax", *swap == "max" ? kInfinity : *parse_uint(*swap));
    }
  }

  if (res.cpu) {
    const auto& c = *res.cpu;
    if (c.shares && *c.shares != 0) {
      if (v2)
        add("CPUWeight", shares_to_weight(*c.shares));
      else
        add("CPUShares", *c.shares);
    }
    uint64_t period = c.period.value_or(0);
    if (period != 0) add("CPUQuotaPeriodUSec", period);
    if ((c.quota && *c.quota != 0) || period != 0) {
      // systemd keeps the quota per second of wall time and writes quota·period/1 s into cpu.max
      // (rounding down): round up here, so that the file gets at least the configured quota.
      uint64_t per_sec = kInfinity;
      if (c.quota && *c.quota > 0) {
        unsigned __int128 q = static_cast<uint64_t>(*c.quota), p = period ? period : 100000;
        unsigned __int128 v = (q * 1000000 + p - 1) / p;
        if (v >= kInfinity) return fail("linux.resources.cpu.quota: " + std::to_string(*c.quota) + " is out of range");
        per_sec = static_cast<uint64_t>(v);
      }
      add("CPUQuotaPerSecUSec", per_sec);
    }
    if (v2 && !c.cpus.empty()) add("AllowedCPUs", TRY(cpu_list_mask(c.cpus, "linux.resources.cpu.cpus")));
    if (v2 && !c.mems.empty()) add("AllowedMemoryNodes", TRY(cpu_list_mask(c.mems, "linux.resources.cpu.mems")));
  }

  if (res.pids && res.pids->limit) add("TasksMax", *res.pids->limit <= 0 ? kInfinity : static_cast<uint64_t>(*res.pids->limit));

  if (res.block_io && res.block_io->weight && *res.block_io->weight != 0) {
    uint16_t w = *res.block_io->weight;
    if (v2)
      add("IOWeight", blkio_weight_to_io_weight(w));
    else
      add("BlockIOWeight", uint64_t{w});
  }
  return out;
}

Result<std::vector<UnitProperty>> start_properties(const SystemdUnit& unit, const std::string& id, pid_t pid,
                                                   const spec::Resources& res, bool v2) {
  std::vector<UnitProperty> out{
      {"Description", "orun container " + id},
      // Only what the container asks for: no ordering against shutdown.target and the like.
      {"DefaultDependencies", false},
  };
  if (!unit.is_slice()) {
    out.push_back({"Slice", unit.slice});
    // The container's init may make cgroups of its own below the scope.
    out.push_back({"Delegate", true});
    out.push_back({"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}});
  }
  for (const char* a : {"MemoryAccounting", "CPUAccounting", v2 ? "IOAccounting" : "BlockIOAccounting", "TasksAccounting"})
    out.push_back({a, true});
  if (!res.pids || !res.pids->limit) out.push_back({"TasksMax", kInfinity});
  auto limits = TRY(resource_properties(res, v2));
  out.insert(out.end(), limits.begin(), limits.end());
  return out;
}

}  // namespace orun::cgroups
