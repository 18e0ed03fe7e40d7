#include "commands.hpp"

namespace orch::cni {

// Idempotent: whatever is already gone is fine (netns::net_del), and DEL prints nothing.
CniResult<std::string> cmd_del(const Request& req) {
  auto r = netns::net_del(req.net, req.container);
  if (!r) return std::unexpected(from_error(r.error(), kIoFailure));
  return std::string();
}

}  // namespace orch::cni
