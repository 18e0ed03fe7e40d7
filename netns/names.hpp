// Names that come from the caller (network, container id, interface) and the host end's name.
#pragma once
#include <string>

namespace orch::netns {

// Network names and container ids: [A-Za-z0-9_.-], 1 to 128 bytes, not "." or "..".
bool valid_name(const std::string& s);
// An interface name the kernel accepts: 1 to 15 bytes, no '/', ':' or whitespace.
bool valid_ifname(const std::string& name);
// The host end's name: "orch" + 11 hex digits of a hash of (network, id, ifname).
std::string host_veth_name(const std::string& network, const std::string& id, const std::string& ifname);

}  // namespace orch::netns
