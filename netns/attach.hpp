// One container's link layer: bridge (with gateway addresses), veth pair, the container
// side's addresses and routes. attach() undoes its own partial work on failure; detach()
// removes what attach() made for the container and nothing shared (the bridge stays).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ip.hpp"
#include "nl.hpp"

namespace orch::netns {

struct AttachSpec {
  std::string bridge;
  unsigned mtu = 0;                // 0: kernel default
  std::vector<Cidr> gateways;      // bridge addresses, prefix = the subnet's
  std::string host_veth;           // the host end's name
  std::string ifname = "eth0";     // the container end's name
  int netns_fd = -1;               // the container's network namespace
  std::vector<Cidr> addresses;     // container addresses, prefix = the subnet's
  std::optional<std::string> mac;  // container end's MAC
  bool hairpin = true;
  std::vector<Ip> routes;          // default routes in the container, via these gateways
};

struct Attached {
  std::string bridge_mac, host_mac, container_mac;
};

[[nodiscard]] Result<Attached> attach(const AttachSpec& spec);
// Delete the host end (the kernel deletes the peer, its addresses and routes with it).
// Absent already: fine (DEL is idempotent). Returns whether a link was removed.
[[nodiscard]] Result<bool> detach(const std::string& host_veth);

}  // namespace orch::netns
