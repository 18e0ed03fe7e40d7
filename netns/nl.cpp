#include "nl.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <netlink/errno.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <functional>

#include "base/file.hpp"
#include "base/strings.hpp"

namespace orch::netns {

using orun::fail;
using orun::sys_error;

std::unexpected<Error> nl_fail(const std::string& what, int nlerr) {
  int e = nlerr < 0 ? -nlerr : nlerr;
  int code = EIO;
  switch (e) {
    case NLE_EXIST: code = EEXIST; break;
    case NLE_NODEV: case NLE_OBJ_NOTFOUND: code = ENODEV; break;
    case NLE_PERM: code = EPERM; break;
    case NLE_NOMEM: code = ENOMEM; break;
    case NLE_INVAL: code = EINVAL; break;
    case NLE_BUSY: code = EBUSY; break;
    case NLE_RANGE: code = ERANGE; break;
    case NLE_OPNOTSUPP: code = EOPNOTSUPP; break;
    default: break;
  }
  return std::unexpected(Error{code, what + ": " + nl_geterror(e)});
}

Result<NlSock> nl_open() {
  NlSock sk(nl_socket_alloc());
  if (!sk) return fail("netlink: out of memory", ENOMEM);
  if (int err = nl_connect(sk.get(), NETLINK_ROUTE); err < 0) return nl_fail("netlink connect", err);
  return sk;
}

Result<Fd> open_netns(const std::string& path) {
  if (path.empty() || path[0] != '/') return fail("network namespace path " + orun::quote(path) + " is not absolute");
  // O_NONBLOCK: a FIFO given as the path must not hang the plugin in open().
  Fd fd = TRYC(orun::open_fd(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), "network namespace " + orun::quote(path));
  int type = ioctl(fd.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) return fail(orun::quote(path) + " is not a network namespace", EINVAL);
  return fd;
}

Result<> in_netns(int netns_fd, const std::function<Result<>()>& fn) {
  Fd self = TRYC(orun::open_fd("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), "saving the network namespace");
  if (setns(netns_fd, CLONE_NEWNET) < 0) return sys_error("entering the network namespace");
  Result<> r = fn();
  // Failing to return would leave the process acting on the container's links: stop here.
  if (setns(self.get(), CLONE_NEWNET) < 0) abort();
  return r;
}

Result<NlSock> nl_open_in(int netns_fd) {
  NlSock out;
  TRY(in_netns(netns_fd, [&]() -> Result<> {
    out = TRY(nl_open());
    return {};
  }));
  return out;
}

}  // namespace orch::netns
