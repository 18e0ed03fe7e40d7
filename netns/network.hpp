// One container on one network: the whole ADD / DEL / CHECK, crash-safe.
//
//   ADD  lock network -> record intent (state file) -> allocate addresses (lease) -> record them
//        -> bridge, veth, addresses, routes -> nft elements -> state "ready"
//   DEL  lock network -> nft elements of the state -> host veth (by its derived name) -> leases
//        of (id, ifname) -> state file.  Everything absent is fine, so DEL finishes any ADD that
//        died at any point, and a second DEL does nothing.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "attach.hpp"
#include "ipam.hpp"
#include "names.hpp"
#include "nat.hpp"

namespace orch::netns {

struct NetworkConfig {
  std::string name;                              // [A-Za-z0-9_.-], a directory name under data_dir
  std::string bridge = "orch0";
  unsigned mtu = 0;
  bool ip_masq = true;
  bool hairpin = true;
  bool is_gateway = true;                        // bridge holds the gateways; default routes via them
  IpamConfig ipam;                               // resolved (see ipam.hpp)
  std::string data_dir = "/var/lib/orch/net";
};

struct ContainerRef {
  std::string id;
  std::string ifname = "eth0";
  std::string netns;                             // path of the network namespace
  std::vector<PortMap> ports;
  std::optional<std::string> mac;
};

struct AddResult {
  std::string host_veth;
  Attached links;
  std::vector<Cidr> addresses;
  std::vector<Ip> gateways;                      // per address, same order; empty without is_gateway
};


[[nodiscard]] Result<AddResult> net_add(const NetworkConfig& cfg, const ContainerRef& c);
[[nodiscard]] Result<> net_del(const NetworkConfig& cfg, const ContainerRef& c);
[[nodiscard]] Result<> net_check(const NetworkConfig& cfg, const ContainerRef& c);
// Remove every attachment of the network whose network namespace file is gone (DEL for each);
// returns the container ids collected.
[[nodiscard]] Result<std::vector<std::string>> net_gc(const NetworkConfig& cfg);

}  // namespace orch::netns
