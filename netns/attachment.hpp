// The record of one container on one network: <network dir>/containers/<id>:<ifname>.json.
// Written before each step of ADD acts (intent first), read by DEL, CHECK and GC.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ip.hpp"
#include "nat.hpp"
#include "store.hpp"

namespace orch::netns {

struct Attachment {
  std::string id, ifname, netns, host_veth;
  std::string phase;                 // "adding", then "ready"
  std::vector<Cidr> addresses;       // empty until IPAM ran
  std::vector<PortMap> ports;
  bool masquerade = false;
};

[[nodiscard]] Result<> save_attachment(const NetworkLock& lock, const Attachment& a);
// nullopt when there is no record.
[[nodiscard]] Result<std::optional<Attachment>> load_attachment(const NetworkLock& lock, const std::string& id,
                                                                const std::string& ifname);
[[nodiscard]] Result<> remove_attachment(const NetworkLock& lock, const std::string& id, const std::string& ifname);
[[nodiscard]] Result<std::vector<Attachment>> list_attachments(const NetworkLock& lock);

}  // namespace orch::netns
