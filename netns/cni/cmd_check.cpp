#include "commands.hpp"

namespace orch::cni {

CniResult<std::string> cmd_check(const Request& req) {
  auto r = netns::net_check(req.net, req.container);
  if (!r) return std::unexpected(from_error(r.error(), r.error().code == ENOENT ? kUnknownContainer : kIoFailure));
  return std::string();
}

}  // namespace orch::cni
