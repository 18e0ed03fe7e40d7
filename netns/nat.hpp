// Outbound masquerade and published ports through libnftables, in tables of orch's own
// (`ip orch`, `ip6 orch`): fixed chains that look containers up in sets and maps, so a
// container's rules are set/map elements, added and deleted one by one; nothing else's rules
// are touched. The ruleset is in nat.cpp's header comment and docs/networking.md.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ip.hpp"
#include "store.hpp"

namespace orch::netns {

struct PortMap {
  std::string protocol;     // "tcp" or "udp"
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  std::optional<Ip> host_ip;  // only traffic to this host address; none: every local address
};

struct NatSpec {
  Cidr subnet;                 // the network's prefix (one family)
  Ip container;                // the container's address in it
  bool masquerade = true;
  std::vector<PortMap> ports;  // those of this family (or without host_ip)
};

// Create the table if missing (serialised by `table_lock`), then add this container's
// elements. A host port already published for another container is an error. On error,
// the elements added so far are deleted again.
[[nodiscard]] Result<> nat_add(const NetworkLock& table_lock, const NatSpec& spec);
// Delete this container's elements; ones already absent, or now pointing at another
// container, are left alone. Never fails for absent things.
[[nodiscard]] Result<> nat_remove(const NatSpec& spec);
// Whether each of this container's elements is present (CHECK).
[[nodiscard]] Result<> nat_check(const NatSpec& spec);

}  // namespace orch::netns
