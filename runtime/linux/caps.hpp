// Capabilities of the container's process: the name table, the sets prepared
// in the parent from process.capabilities, and the two child-side steps.
//
// Raw capget/capset/prctl rather than libcap: the child applies five 64-bit
// masks, which map one to one onto the kernel's two 32-bit words; libcap would
// need cap_init() (malloc) in the child or a move-only cap_t in the plan, and
// its name table stops at the capabilities the installed libcap knows, while
// `orun features` must list all of them. The test cross-checks our names
// against libcap's cap_to_name().
//
// Order the init must follow (as runc's finalizeNamespace):
//   1. drop_bounding(sets)   still root with CAP_SETPCAP
//   2. set_user(user)        process_attrs.hpp: setgroups, setresgid, setresuid
//                            with PR_SET_KEEPCAPS held around the uid switch,
//                            so the permitted set survives it
//   3. apply_caps(sets)      capset effective/permitted/inheritable, then raise
//                            the ambient set
// Seccomp is loaded around these steps, see seccomp.hpp.
#pragma once
#include <linux/capability.h>  // CAP_* numbers

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::linux {

struct CapName {
  int number;
  const char* name;  // "CAP_CHOWN"
};

// Every capability orun knows by name, CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40),
// in numeric order.
std::span<const CapName> known_capabilities();
std::optional<int> capability_number(std::string_view name);
// nullptr for a number orun does not know.
const char* capability_name(int number);
// The kernel's last capability (/proc/sys/kernel/cap_last_cap), or the highest
// known to orun when that file cannot be read.
int kernel_last_cap();

inline bool has_cap(uint64_t set, int cap) { return cap >= 0 && cap < 64 && (set >> cap) & 1; }

struct CapSets {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
  int last_cap = 40;  // highest capability the kernel knows: drop_bounding walks 0..last_cap
  // For the caller to log as warnings (runc warns and goes on for both):
  // names known to orun but not to this kernel, dropped from every set;
  std::vector<std::string> unsupported;
  // ambient capabilities that are not in both permitted and inheritable (the
  // kernel refuses to raise those), dropped from the ambient set.
  std::vector<std::string> ambient_dropped;
};

// Resolve process.capabilities. Absent (nullptr) means every set empty, as in
// runc (a container with no "capabilities" runs with none). A name orun does
// not know is an error naming the field:
//   process.capabilities.bounding[3]: unknown capability "CAP_FOO"
[[nodiscard]] Result<CapSets> prepare_caps(const spec::Capabilities* caps);
[[nodiscard]] Result<CapSets> prepare_caps(const spec::Capabilities* caps, int last_cap);

// Child, before the uid switch: PR_CAPBSET_DROP every capability not in
// sets.bounding (needs CAP_SETPCAP in the effective set).
[[nodiscard]] Result<> drop_bounding(const CapSets& sets);
// Child, after the uid switch: set effective/permitted/inheritable with
// capset, then clear the ambient set and raise each ambient capability.
[[nodiscard]] Result<> apply_caps(const CapSets& sets);

}  // namespace orun::linux
