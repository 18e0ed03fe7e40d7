#include "caps.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>

#include "base/file.hpp"
#include "base/strings.hpp"

namespace orun::linux {

namespace {

constexpr std::array<CapName, 41> kCaps{{
    {0, "CAP_CHOWN"},
    {1, "CAP_DAC_OVERRIDE"},
    {2, "CAP_DAC_READ_SEARCH"},
    {3, "CAP_FOWNER"},
    {4, "CAP_FSETID"},
    {5, "CAP_KILL"},
    {6, "CAP_SETGID"},
    {7, "CAP_SETUID"},
    {8, "CAP_SETPCAP"},
    {9, "CAP_LINUX_IMMUTABLE"},
    {10, "CAP_NET_BIND_SERVICE"},
    {11, "CAP_NET_BROADCAST"},
    {12, "CAP_NET_ADMIN"},
    {13, "CAP_NET_RAW"},
    {14, "CAP_IPC_LOCK"},
    {15, "CAP_IPC_OWNER"},
    {16, "CAP_SYS_MODULE"},
    {17, "CAP_SYS_RAWIO"},
    {18, "CAP_SYS_CHROOT"},
    {19, "CAP_SYS_PTRACE"},
    {20, "CAP_SYS_PACCT"},
    {21, "CAP_SYS_ADMIN"},
    {22, "CAP_SYS_BOOT"},
    {23, "CAP_SYS_NICE"},
    {24, "CAP_SYS_RESOURCE"},
    {25, "CAP_SYS_TIME"},
    {26, "CAP_SYS_TTY_CONFIG"},
    {27, "CAP_MKNOD"},
    {28, "CAP_LEASE"},
    {29, "CAP_AUDIT_WRITE"},
    {30, "CAP_AUDIT_CONTROL"},
    {31, "CAP_SETFCAP"},
    {32, "CAP_MAC_OVERRIDE"},
    {33, "CAP_MAC_ADMIN"},
    {34, "CAP_SYSLOG"},
    {35, "CAP_WAKE_ALARM"},
    {36, "CAP_BLOCK_SUSPEND"},
    {37, "CAP_AUDIT_READ"},
    {38, "CAP_PERFMON"},
    {39, "CAP_BPF"},
    {40, "CAP_CHECKPOINT_RESTORE"},
}};

constexpr int kMaxKnown = static_cast<int>(kCaps.size()) - 1;

// Resolve one set; nullopt (absent) stays empty.
Result<uint64_t> resolve_set(const std::optional<std::vector<std::string>>& names, const char* field, int last_cap,
                             std::vector<std::string>& unsupported) {
  uint64_t mask = 0;
  if (!names) return mask;
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    auto n = capability_number(name);
    if (!n) {
      return fail("process.capabilities." + std::string(field) + "[" + std::to_string(i) +
                  "]: unknown capability \"" + name + "\"");
    }
    if (*n > last_cap) {
      bool seen = false;
      for (const auto& u : unsupported) seen = seen || u == name;
      if (!seen) unsupported.push_back(name);
      continue;
    }
    mask |= uint64_t{1} << *n;
  }
  return mask;
}

}  // namespace

std::span<const CapName> known_capabilities() { return kCaps; }

std::optional<int> capability_number(std::string_view name) {
  for (const auto& c : kCaps)
    if (name == c.name) return c.number;
  return std::nullopt;
}

const char* capability_name(int number) {
  if (number < 0 || number > kMaxKnown) return nullptr;
  return kCaps[static_cast<size_t>(number)].name;
}

int kernel_last_cap() {
  auto text = read_file("/proc/sys/kernel/cap_last_cap");
  if (!text) return kMaxKnown;
  auto n = parse_int(trim(*text));
  if (!n || *n < 0 || *n > 63) return kMaxKnown;
  return static_cast<int>(*n);
}

Result<CapSets> prepare_caps(const spec::Capabilities* caps) { return prepare_caps(caps, kernel_last_cap()); }

Result<CapSets> prepare_caps(const spec::Capabilities* caps, int last_cap) {
  CapSets s;
  s.last_cap = last_cap;
  if (!caps) return s;
  s.bounding = TRY(resolve_set(caps->bounding, "bounding", last_cap, s.unsupported));
  s.effective = TRY(resolve_set(caps->effective, "effective", last_cap, s.unsupported));
  s.permitted = TRY(resolve_set(caps->permitted, "permitted", last_cap, s.unsupported));
  s.inheritable = TRY(resolve_set(caps->inheritable, "inheritable", last_cap, s.unsupported));
  s.ambient = TRY(resolve_set(caps->ambient, "ambient", last_cap, s.unsupported));
  // The kernel raises an ambient capability only when it is both permitted
  // and inheritable; runc warns and goes on, so do we (the caller warns).
  uint64_t raisable = s.ambient & s.permitted & s.inheritable;
  for (int i = 0; i <= last_cap && i <= kMaxKnown; ++i) {
    if ((s.ambient & ~raisable) & (uint64_t{1} << i)) s.ambient_dropped.emplace_back(kCaps[static_cast<size_t>(i)].name);
  }
  s.ambient = raisable;
  return s;
}

Result<> drop_bounding(const CapSets& sets) {
  for (int i = 0; i <= sets.last_cap && i < 64; ++i) {
    if (sets.bounding & (uint64_t{1} << i)) continue;
    if (::prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0) {
      // EINVAL: the kernel does not know this capability; nothing to drop.
      if (errno == EINVAL) continue;
      const char* name = capability_name(i);
      return sys_error(std::string("dropping ") + (name ? name : std::to_string(i).c_str()) +
                       " from the bounding set");
    }
  }
  return {};
}

Result<> apply_caps(const CapSets& sets) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int w = 0; w < 2; ++w) {
    data[w].effective = static_cast<uint32_t>(sets.effective >> (32 * w));
    data[w].permitted = static_cast<uint32_t>(sets.permitted >> (32 * w));
    data[w].inheritable = static_cast<uint32_t>(sets.inheritable >> (32 * w));
  }
  if (::syscall(SYS_capset, &hdr, data) < 0) return sys_error("capset");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return sys_error("clearing the ambient set");
  for (int i = 0; i <= sets.last_cap && i < 64; ++i) {
    if (!(sets.ambient & (uint64_t{1} << i))) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0) {
      const char* name = capability_name(i);
      return sys_error(std::string("raising ambient ") + (name ? name : std::to_string(i).c_str()));
    }
  }
  return {};
}

}  // namespace orun::linux
