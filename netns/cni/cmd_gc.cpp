#include "commands.hpp"

namespace orch::cni {

// Attachments whose network namespace no longer exists are torn down like DEL would.
CniResult<std::string> cmd_gc(const Request& req) {
  auto r = netns::net_gc(req.net);
  if (!r) return std::unexpected(from_error(r.error(), kIoFailure));
  return std::string();
}

}  // namespace orch::cni
