// Unix-domain sockets: connect, listen, and send bytes with one fd attached
// (SCM_RIGHTS). Shared by the sync handshake, --console-socket, start.sock
// and the seccomp listener.
#pragma once
#include <string>
#include <string_view>

#include "fd.hpp"
#include "result.hpp"

namespace orun {

// type: SOCK_STREAM or SOCK_SEQPACKET. Errors name the path.
[[nodiscard]] Result<Fd> unix_connect(const std::string& path, int type);
[[nodiscard]] Result<Fd> unix_listen(const std::string& path, int type, int backlog = 1);
// Send all of data; fd (if >= 0) rides with the first byte.
[[nodiscard]] Result<> send_with_fd(int sock, std::string_view data, int fd);

}  // namespace orun
