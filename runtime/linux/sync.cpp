#include "sync.hpp"

#include "base/unix_socket.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace orun::linux {
namespace {
struct Header {
  uint32_t type;
  int32_t value;
};
constexpr size_t kMaxPayload = 1 << 20;
}  // namespace

const char* to_string(Msg m) {
  switch (m) {
    case Msg::UsermapPls: return "UsermapPls";
    case Msg::UsermapAck: return "UsermapAck";
    case Msg::InitPid: return "InitPid";
    case Msg::HooksPls: return "HooksPls";
    case Msg::HooksAck: return "HooksAck";
    case Msg::ConsolePty: return "ConsolePty";
    case Msg::Ready: return "Ready";
    case Msg::Error: return "Error";
    case Msg::ExecError: return "ExecError";
    case Msg::Start: return "Start";
    case Msg::CgroupReady: return "CgroupReady";
  }
  return "unknown";
}

Result<SyncPair> make_sync_pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return sys_error("socketpair");
  return SyncPair{Fd(sv[0]), Fd(sv[1])};
}

Result<> send_msg(int sock, Msg type, int32_t value, std::string_view payload, int fd) {
  Header h{static_cast<uint32_t>(type), value};
  std::string packet(reinterpret_cast<const char*>(&h), sizeof h);
  packet += payload;
  TRYC(send_with_fd(sock, packet, fd), std::string("send ") + to_string(type));
  return {};
}

Result<Message> recv_msg(int sock) {
  // Peek at the size first: most messages are a bare header, and a 1 MiB
  // buffer per message costs an mmap and page faults on the start path.
  ssize_t size;
  while ((size = ::recv(sock, nullptr, 0, MSG_PEEK | MSG_TRUNC)) < 0) {
    if (errno != EINTR) return sys_error("receive from container init");
  }
  if (static_cast<size_t>(size) > sizeof(Header) + kMaxPayload) return fail("sync message too large", EPROTO);
  std::vector<char> buf(std::max<size_t>(static_cast<size_t>(size), sizeof(Header)));
  struct iovec iov{buf.data(), buf.size()};
  struct msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
  mh.msg_control = cbuf;
  mh.msg_controllen = sizeof cbuf;
  ssize_t n;
  while ((n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return sys_error("receive from container init");
  }
  Message m;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      m.fd.reset(fd);
    }
  }
  if (n == 0) return fail("container init exited before it was ready", EPIPE);
  if (static_cast<size_t>(n) < sizeof(Header) || (mh.msg_flags & MSG_TRUNC)) return fail("malformed sync message", EPROTO);
  Header h;
  std::memcpy(&h, buf.data(), sizeof h);
  m.type = static_cast<Msg>(h.type);
  m.value = h.value;
  m.payload.assign(buf.data() + sizeof h, static_cast<size_t>(n) - sizeof h);
  return m;
}

Error message_error(const Message& m) {
  if (m.type == Msg::Error) return Error{m.value ? m.value : EINVAL, m.payload};
  if (m.type == Msg::ExecError) return Error{m.value, m.payload, m.value == ENOENT ? 127 : 126};
  return Error{EPROTO, std::string("sync: unexpected message ") + to_string(m.type)};
}

Result<Message> expect_msg(int sock, Msg type) {
  Message m = TRY(recv_msg(sock));
  if (m.type != type) return std::unexpected(message_error(m));
  return m;
}

void child_fail(int sock, const Error& err) {
  (void)send_msg(sock, Msg::Error, err.code, err.message);
  ::_exit(1);
}

}  // namespace orun::linux
