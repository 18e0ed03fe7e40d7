// Addresses and routes over libnl.
#pragma once
#include <vector>

#include "ip.hpp"
#include "nl.hpp"

namespace orch::netns {

// Add `addr` to the link. `nodad`: usable at once (IPv6 skips duplicate address detection,
// the address being unique by IPAM). An address already present is not an error.
[[nodiscard]] Result<> add_address(nl_sock* sk, int ifindex, const Cidr& addr, bool nodad);
// The addresses of the link (all families, link-local included).
[[nodiscard]] Result<std::vector<Cidr>> addresses_of(nl_sock* sk, int ifindex);
// Default route of gw's family via gw out of the link.
[[nodiscard]] Result<> add_default_route(nl_sock* sk, int ifindex, const Ip& gw);

[[nodiscard]] Result<NlAddr> to_nl(const Ip& ip, int prefix);

}  // namespace orch::netns
