// Address allocation from configured ranges, recorded in <network dir>/leases.json under the
// network lock. One address per range set (so one IPv4 and/or one IPv6 per attachment), from the
// first range of the set that has a free one (host-local's range sets).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ip.hpp"
#include "store.hpp"

namespace orch::netns {

struct Range {
  Cidr subnet;               // network/prefix
  std::optional<Ip> start;   // first address handed out; default: network + 1
  std::optional<Ip> end;     // last; default: the last address (IPv4: before broadcast)
  std::optional<Ip> gateway; // never handed out; default: network + 1
  unsigned set = 0;          // the range set it belongs to (ranges[set] in the configuration)
  int index = -1;            // its place in a set given as a list (ranges[set][index]); -1: not a list
};

struct IpamConfig {
  std::vector<Range> ranges;  // grouped by set, in configuration order
  std::vector<Ip> reserved;  // never handed out
};

struct Lease {
  Ip ip;
  std::string id, ifname, netns;
};

// Fill in defaults and check that start/end/gateway lie in the subnet; errors name the field
// ("ranges[0].rangeStart").
[[nodiscard]] Result<IpamConfig> resolve(IpamConfig cfg);
Ip gateway_of(const Range& r);  // after resolve(): *r.gateway
// The range whose subnet holds `ip` (the first one: ranges of a set may share a subnet), or null.
const Range* range_of(const IpamConfig& cfg, const Ip& ip);

// One address per range set for (id, ifname), each with its subnet's prefix. An existing lease of
// the same (id, ifname) is returned again rather than doubled.
[[nodiscard]] Result<std::vector<Cidr>> allocate(const NetworkLock& lock, const IpamConfig& cfg,
                                                 const std::string& id, const std::string& ifname,
                                                 const std::string& netns);
// Drop every lease of (id, ifname); returns how many there were.
[[nodiscard]] Result<int> release(const NetworkLock& lock, const std::string& id, const std::string& ifname);
[[nodiscard]] Result<std::vector<Lease>> leases(const NetworkLock& lock);
// Drop the leases for which alive() is false; returns them.
[[nodiscard]] Result<std::vector<Lease>> collect(const NetworkLock& lock,
                                                 const std::function<bool(const Lease&)>& alive);

}  // namespace orch::netns
