#include "rlimits.hpp"

#include <sys/resource.h>

#include <array>
#include <string>

namespace orun::linux {

namespace {

constexpr std::array<RlimitName, 16> kRlimits{{
    {RLIMIT_AS, "RLIMIT_AS"},
    {RLIMIT_CORE, "RLIMIT_CORE"},
    {RLIMIT_CPU, "RLIMIT_CPU"},
    {RLIMIT_DATA, "RLIMIT_DATA"},
    {RLIMIT_FSIZE, "RLIMIT_FSIZE"},
    {RLIMIT_LOCKS, "RLIMIT_LOCKS"},
    {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},
    {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"},
    {RLIMIT_NICE, "RLIMIT_NICE"},
    {RLIMIT_NOFILE, "RLIMIT_NOFILE"},
    {RLIMIT_NPROC, "RLIMIT_NPROC"},
    {RLIMIT_RSS, "RLIMIT_RSS"},
    {RLIMIT_RTPRIO, "RLIMIT_RTPRIO"},
    {RLIMIT_RTTIME, "RLIMIT_RTTIME"},
    {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
    {RLIMIT_STACK, "RLIMIT_STACK"},
}};

const char* name_of(int resource) {
  for (const auto& r : kRlimits)
    if (r.resource == resource) return r.name;
  return "rlimit";
}

}  // namespace

std::span<const RlimitName> known_rlimits() { return kRlimits; }

std::optional<int> rlimit_number(std::string_view name) {
  for (const auto& r : kRlimits)
    if (name == r.name) return r.resource;
  return std::nullopt;
}

Result<std::vector<PreparedRlimit>> prepare_rlimits(const std::vector<spec::Rlimit>& rlimits) {
  std::vector<PreparedRlimit> out;
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const auto& r = rlimits[i];
    std::string field = "process.rlimits[" + std::to_string(i) + "]";
    auto n = rlimit_number(r.type);
    if (!n) return fail(field + ".type: unknown rlimit \"" + r.type + "\"");
    for (const auto& p : out)
      if (p.resource == *n) return fail(field + ".type: duplicate rlimit \"" + r.type + "\"");
    if (r.soft > r.hard)
      return fail(field + ": soft limit " + std::to_string(r.soft) + " is above hard limit " + std::to_string(r.hard));
    out.push_back({*n, r.soft, r.hard});
  }
  return out;
}

Result<> apply_rlimits(std::span<const PreparedRlimit> rlimits, pid_t pid) {
  for (const auto& r : rlimits) {
    // RLIM_INFINITY is ~0 on Linux, the same as the spec's uint64 maximum.
    struct rlimit64 lim{r.soft, r.hard};
    if (::prlimit64(pid, static_cast<__rlimit_resource>(r.resource), &lim, nullptr) < 0)
      return sys_error(std::string("setting ") + name_of(r.resource));
  }
  return {};
}

}  // namespace orun::linux
