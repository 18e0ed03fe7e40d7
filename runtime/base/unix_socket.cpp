#include "unix_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace orun {
namespace {

Result<sockaddr_un> address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return fail("unix socket path \"" + path + "\" is empty or too long", ENAMETOOLONG);
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

}  // namespace

Result<Fd> unix_connect(const std::string& path, int type) {
  sockaddr_un addr = TRY(address(path));
  Fd s(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!s) return sys_error("socket");
  int rc;
  while ((rc = ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr)) < 0 && errno == EINTR) {
  }
  if (rc < 0) return sys_error("connect " + path);
  return s;
}

Result<Fd> unix_listen(const std::string& path, int type, int backlog) {
  sockaddr_un addr = TRY(address(path));
  Fd s(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!s) return sys_error("socket");
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return sys_error("bind " + path);
  if (::listen(s.get(), backlog) < 0) return sys_error("listen " + path);
  return s;
}

Result<> send_with_fd(int sock, std::string_view data, int fd) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t n;
  while ((n = ::sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  if (n < 0) return sys_error("send");
  // A stream socket may take part of it; the fd went with the first byte.
  data.remove_prefix(static_cast<size_t>(n));
  while (!data.empty()) {
    while ((n = ::send(sock, data.data(), data.size(), MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    if (n < 0) return sys_error("send");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace orun
