#include "commands.hpp"
#include "reply.hpp"

namespace orch::cni {

CniError from_error(const orun::Error& e, int fallback) {
  int code = fallback;
  if (e.message.starts_with("CNI_")) code = kInvalidEnv;
  else if (e.code == EEXIST) code = kAlreadyExists;
  else if (e.code == ENOSPC) code = kNoAddresses;
  return CniError{code, e.message, ""};
}

CniResult<std::string> cmd_add(const Request& req) {
  auto r = netns::net_add(req.net, req.container);
  if (!r) return std::unexpected(from_error(r.error(), kIoFailure));
  return add_result(req, *r);
}

}  // namespace orch::cni
