// Container consoles: a pty made inside the container's devpts, its master
// handed to the caller's --console-socket (runc's protocol: SCM_RIGHTS on a
// unix stream socket), its slave the container's stdio and /dev/console.
#pragma once
#include <string>

#include "base/fd.hpp"
#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::linux {

struct Pty {
  Fd master;
  Fd slave;
  std::string slave_path;  // path of the slave under the devpts it came from, e.g. "<rootfs>/dev/pts/0"
};

// Open a new pty through ptmx_path (e.g. "<rootfs>/dev/pts/ptmx").
[[nodiscard]] Result<Pty> open_pty(const std::string& ptmx_path, const std::string& pts_dir);
[[nodiscard]] Result<> set_console_size(int fd, const spec::ConsoleSize& size);
// Make fd the stdio and controlling terminal of the calling process (after setsid).
[[nodiscard]] Result<> become_console(int slave_fd);
// Parent: send the master to a unix socket path.
[[nodiscard]] Result<> send_to_console_socket(const std::string& socket_path, int master_fd);

}  // namespace orun::linux
