#include "cgroups/device_policy.hpp"

#include <algorithm>

#include "base/strings.hpp"

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

namespace {

unsigned access_of(const std::vector<DeviceException>& list, const DeviceException& key) {
  for (const auto& e : list)
    if (e.type == key.type && e.major == key.major && e.minor == key.minor) return e.access;
  return 0;
}

spec::DeviceCgroup rule_for(bool allow, char type, const DeviceException* e, unsigned access) {
  spec::DeviceCgroup r;
  r.allow = allow;
  r.type = std::string(1, type);
  if (e && e->major) r.major = *e->major;
  if (e && e->minor) r.minor = *e->minor;
  for (auto [bit, letter] : {std::pair{kRead, 'r'}, std::pair{kWrite, 'w'}, std::pair{kMknod, 'm'}})
    if (access & bit) r.access += letter;
  return r;
}

}  // namespace

Result<DevicePolicy> parse_devices_list(std::string_view text) {
  DevicePolicy p;
  for (auto& raw : split(text, '\n')) {
    std::string_view line = trim(raw);
    if (line.empty()) continue;
    auto f = split(line, ' ');
    auto colon = f.size() == 3 ? f[1].find(':') : std::string::npos;
    if (colon == std::string::npos || f[0].size() != 1)
      return fail("devices.list: unexpected line \"" + std::string(line) + "\"");
    if (f[0] == "a") {
      p.default_allow = true;
      continue;
    }
    auto number = [&](std::string_view s) -> Result<std::optional<uint32_t>> {
      if (s == "*") return std::optional<uint32_t>();
      auto n = parse_uint(s);
      if (!n || *n > UINT32_MAX) return fail("devices.list: unexpected line \"" + std::string(line) + "\"");
      return std::optional<uint32_t>(static_cast<uint32_t>(*n));
    };
    DeviceException e{f[0][0], TRY(number(std::string_view(f[1]).substr(0, colon))),
                      TRY(number(std::string_view(f[1]).substr(colon + 1))),
                      TRY(access_bits(f[2], "devices.list"))};
    if (e.type != 'c' && e.type != 'b') return fail("devices.list: unexpected line \"" + std::string(line) + "\"");
    p.exceptions.push_back(e);
  }
  // Exceptions of a default-allow cgroup are not shown; any partial view would mislead.
  if (p.default_allow) p.exceptions.clear();
  return p;
}

std::vector<spec::DeviceCgroup> device_transition(const DevicePolicy& from, const DevicePolicy& to) {
  std::vector<spec::DeviceCgroup> out;
  std::vector<DeviceException> old = from.exceptions;
  if (from.default_allow || from.default_allow != to.default_allow) {
    out.push_back(rule_for(to.default_allow, 'a', nullptr, kAllAccess));
    old.clear();
  }
  // An exception's access is the access that differs from the default: writing the default's
  // side takes letters away, the other side adds them (merging into the same type and numbers).
  for (const auto& e : old)
    if (unsigned lost = e.access & ~access_of(to.exceptions, e)) out.push_back(rule_for(to.default_allow, e.type, &e, lost));
  for (const auto& e : to.exceptions)
    if (unsigned gained = e.access & ~access_of(old, e)) out.push_back(rule_for(!to.default_allow, e.type, &e, gained));
  return out;
}

}  // namespace orun::cgroups
