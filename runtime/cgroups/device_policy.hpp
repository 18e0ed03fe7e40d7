// linux.resources.devices as the cgroup v1 devices controller would leave it:
// a default (allow or deny) and a list of exceptions. cgroup v2 has no devices
// files, only an eBPF program (bpf_devices.hpp); computing the end state first
// gives that program exactly the v1 meaning of the ordered rule list, which is
// what the spec's "apply entries in the listed order" refers to.
//
// v1 semantics (Documentation/admin-guide/cgroup-v1/devices.rst, devcgroup_update_access):
//   type "a" (any major, minor, access): set the default, clear the exceptions
//   allow rule, default deny:  add an exception (access merges into an equal key)
//   allow rule, default allow: remove its access bits from an equal exception
//   deny rule:                 the mirror image
// and a request is decided by the exceptions that match its device:
//   default deny:  allowed when one of them holds every requested access
//   default allow: denied when one of them holds any requested access
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::cgroups {

// Access bits, the values of BPF_DEVCG_ACC_* so that the program uses them as they are.
enum DeviceAccess : unsigned { kMknod = 1, kRead = 2, kWrite = 4, kAllAccess = 7 };

struct DeviceException {
  char type;                             // 'c' or 'b'
  std::optional<uint32_t> major, minor;  // nullopt: any
  unsigned access;                       // DeviceAccess bits, never 0
  bool operator==(const DeviceException&) const = default;
};

struct DevicePolicy {
  bool default_allow = false;
  std::vector<DeviceException> exceptions;
};

// Starting from "deny everything", apply `rules` in order. Errors name
// linux.resources.devices[i] for a type, number or access the kernel would refuse.
[[nodiscard]] Result<DevicePolicy> device_policy(const std::vector<spec::DeviceCgroup>& rules);

// The decision for one request, as the kernel's v1 controller makes it.
// `type` 'c' or 'b'; `access` DeviceAccess bits.
bool device_allowed(const DevicePolicy& policy, char type, uint32_t major, uint32_t minor, unsigned access);

// A v1 cgroup's devices.list as a policy. The kernel shows a default-allow cgroup as the single line
// "a *:* rwm" and hides its (deny) exceptions, so such a policy has none.
[[nodiscard]] Result<DevicePolicy> parse_devices_list(std::string_view text);

// The rules that turn a v1 cgroup holding `from` into `to` (runc's devices emulator does the same):
// a type "a" rule first when the defaults differ or `from` allows by default (its exceptions are
// unknown), then the access each exception of `from` loses, then what each one of `to` gains.
// Without the "a" rule this works on a cgroup with children, where the kernel refuses "a" (EINVAL).
std::vector<spec::DeviceCgroup> device_transition(const DevicePolicy& from, const DevicePolicy& to);

}  // namespace orun::cgroups
