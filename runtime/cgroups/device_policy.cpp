#include "cgroups/device_policy.hpp"

#include <algorithm>

namespace orun::cgroups {

namespace {

Result<std::optional<uint32_t>> device_number(const std::optional<int64_t>& n, const std::string& field) {
  if (!n || *n == -1) return std::optional<uint32_t>();
  if (*n < 0 || *n > int64_t{UINT32_MAX}) return fail(field + ": " + std::to_string(*n) + " is not a device number");
  return std::optional<uint32_t>(static_cast<uint32_t>(*n));
}

Result<unsigned> access_bits(const std::string& access, const std::string& field) {
  if (access.empty()) return kAllAccess;  // as in devices.allow: no access letters means all of them
  unsigned bits = 0;
  for (char c : access) {
    switch (c) {
      case 'r': bits |= kRead; break;
      case 'w': bits |= kWrite; break;
      case 'm': bits |= kMknod; break;
      default: return fail(field + ": invalid access \"" + access + "\" (a subset of \"rwm\")");
    }
  }
  return bits;
}

}  // namespace

Result<DevicePolicy> device_policy(const std::vector<spec::DeviceCgroup>& rules) {
  DevicePolicy p;
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    std::string field = "linux.resources.devices[" + std::to_string(i) + "]";
    if (r.type.empty() || r.type == "a") {
      p.default_allow = r.allow;
      p.exceptions.clear();
      continue;
    }
    if (r.type != "c" && r.type != "b") return fail(field + ".type: invalid cgroup device type \"" + r.type + "\"");
    DeviceException ex{r.type[0], TRY(device_number(r.major, field + ".major")),
                       TRY(device_number(r.minor, field + ".minor")), TRY(access_bits(r.access, field + ".access"))};
    auto same_device = [&](const DeviceException& e) {
      return e.type == ex.type && e.major == ex.major && e.minor == ex.minor;
    };
    auto it = std::find_if(p.exceptions.begin(), p.exceptions.end(), same_device);
    if (r.allow != p.default_allow) {  // an exception to the default: add, merging access
      if (it == p.exceptions.end())
        p.exceptions.push_back(ex);
      else
        it->access |= ex.access;
    } else if (it != p.exceptions.end()) {  // agrees with the default: narrows an exception
      it->access &= ~ex.access;
      if (it->access == 0) p.exceptions.erase(it);
    }
  }
  return p;
}

bool device_allowed(const DevicePolicy& policy, char type, uint32_t major, uint32_t minor, unsigned access) {
  for (const auto& e : policy.exceptions) {
    if (e.type != type || (e.major && *e.major != major) || (e.minor && *e.minor != minor)) continue;
    if (policy.default_allow) {
      if (access & e.access) return false;
    } else if ((access & ~e.access) == 0) {
      return true;
    }
  }
  return policy.default_allow;
}

}  // namespace orun::cgroups
