// The pure half of the systemd cgroup driver: linux.cgroupsPath "slice:prefix:name" to a unit
// name and its cgroup, and linux.resources to the unit properties systemd applies itself.
// No D-Bus here (that is systemd_bus.hpp), so every rule is unit-tested from strings.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::cgroups {

struct SystemdUnit {
  std::string slice;   // the parent slice, "system.slice" when the path left it empty
  std::string name;    // "prefix-name.scope", or "name" when that is itself a slice
  std::string cgroup;  // the unit's cgroup from the hierarchy root: "/system.slice/prefix-name.scope"
  bool is_slice() const { return name.ends_with(".slice"); }
};

// The prefix of the scope when linux.cgroupsPath is empty: unit "orun-<id>.scope" in system.slice
// (runc uses "runc-<id>.scope").
inline constexpr std::string_view kDefaultScopePrefix = "orun";

// runc's rules: "slice:prefix:name" names the scope "prefix-name.scope" (or "name.scope" with an
// empty prefix) in `slice` (empty: system.slice); a name that ends in ".slice" is a slice unit of
// its own, placed by its name; "" is ":orun:<id>". Anything else, or a part that is not a valid
// unit name (`/`, "..", characters systemd refuses), is an error naming linux.cgroupsPath.
[[nodiscard]] Result<SystemdUnit> parse_systemd_path(const std::string& cgroups_path, const std::string& id);

// A slice's cgroup as systemd lays it out: "a-b.slice" -> "/a.slice/a-b.slice"; "-.slice" -> "/".
[[nodiscard]] Result<std::string> expand_slice(std::string_view slice);

// "0-3,8" (cpuset.cpus syntax) -> the bitmask systemd's AllowedCPUs/AllowedMemoryNodes take:
// bit j of byte i is CPU (or node) 8i+j. `field` names the value in errors.
[[nodiscard]] Result<std::vector<uint8_t>> cpu_list_mask(std::string_view list, const std::string& field);

// One D-Bus property of a unit, as StartTransientUnit and SetUnitProperties take it ("(sv)").
struct UnitProperty {
  // b, t, s, au, ay
  using Value = std::variant<bool, uint64_t, std::string, std::vector<uint32_t>, std::vector<uint8_t>>;
  std::string name;
  Value value;
  bool operator==(const UnitProperty&) const = default;
};
// systemd's "infinity" for limits (MemoryMax, TasksMax, CPUQuotaPerSecUSec...).
inline constexpr uint64_t kInfinity = std::numeric_limits<uint64_t>::max();
// The D-Bus signature of a property's value.
const char* signature(const UnitProperty::Value& v);

// The unit properties for the fields of `res` that systemd can express (only those given, so
// that `update` sends only what changed). `v2`: the unified names (MemoryMax, CPUWeight,
// IOWeight, AllowedCPUs...); else the v1 ones (MemoryLimit, CPUShares, BlockIOWeight). Values the
// cgroupfs managers would refuse are refused here too, naming the field.
[[nodiscard]] Result<std::vector<UnitProperty>> resource_properties(const spec::Resources& res, bool v2);

// Everything StartTransientUnit gets: the unit's own properties (Description, Slice, Delegate,
// DefaultDependencies, PIDs for a scope), accounting for each controller, TasksMax=infinity when
// pids.limit is absent (instead of systemd's DefaultTasksMax: the container gets the same limits
// under either driver), then resource_properties().
[[nodiscard]] Result<std::vector<UnitProperty>> start_properties(const SystemdUnit& unit, const std::string& id,
                                                                 pid_t pid, const spec::Resources& res, bool v2);

}  // namespace orun::cgroups
