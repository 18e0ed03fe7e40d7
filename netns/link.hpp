// Links over libnl: bridges, veth pairs, up/down, lookups. No `ip` is run.
#pragma once
#include <optional>
#include <string>

#include "names.hpp"
#include "nl.hpp"

namespace orch::netns {

// The link named `name`, or an empty Link when there is none.
[[nodiscard]] Result<Link> find_link(nl_sock* sk, const std::string& name);
[[nodiscard]] Result<int> ifindex_of(nl_sock* sk, const std::string& name);

// The bridge `name`, created (with `mtu` when non-zero) if missing, and up. Returns its ifindex.
// An existing link of that name that is not a bridge is an error.
[[nodiscard]] Result<int> ensure_bridge(nl_sock* sk, const std::string& name, unsigned mtu);

struct VethSpec {
  std::string host_name;    // stays in the caller's namespace, enslaved to `master`
  std::string peer_name;    // created directly inside `peer_netns_fd` with this name
  int peer_netns_fd = -1;
  int master = 0;           // bridge ifindex
  unsigned mtu = 0;         // 0: the kernel's default
  std::optional<std::string> peer_mac;  // "aa:bb:cc:dd:ee:ff"
};
// One RTM_NEWLINK: the pair appears whole or not at all, the peer already in its namespace
// under its final name (so no half-moved or wrongly named link can be left by a crash).
[[nodiscard]] Result<> create_veth(nl_sock* sk, const VethSpec& spec);

[[nodiscard]] Result<> set_up(nl_sock* sk, int ifindex);
// Hairpin mode on a bridge port: frames may leave by the port they came in (a container
// reaching itself through a published port).
[[nodiscard]] Result<> set_hairpin(nl_sock* sk, int ifindex);
// Delete the link; false when it did not exist.
[[nodiscard]] Result<bool> delete_link(nl_sock* sk, const std::string& name);
[[nodiscard]] Result<std::string> mac_of(nl_sock* sk, const std::string& name);

}  // namespace orch::netns
