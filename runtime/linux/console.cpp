#include "console.hpp"

#include "base/unix_socket.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

namespace orun::linux {

Result<Pty> open_pty(const std::string& ptmx_path, const std::string& pts_dir) {
  int m = ::open(ptmx_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return sys_error("open " + ptmx_path);
  Pty pty;
  pty.master.reset(m);
  int unlock = 0;
  if (::ioctl(m, TIOCSPTLCK, &unlock) < 0) return sys_error("unlock pty");
  unsigned n = 0;
  if (::ioctl(m, TIOCGPTN, &n) < 0) return sys_error("pty number");
  // TIOCGPTPEER opens the slave through the master: no path lookup to race.
  int s = ::ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) return sys_error("open pty slave");
  pty.slave.reset(s);
  pty.slave_path = pts_dir + "/" + std::to_string(n);
  return pty;
}

Result<> set_console_size(int fd, const spec::ConsoleSize& size) {
  struct winsize ws{};
  ws.ws_row = static_cast<unsigned short>(size.height);
  ws.ws_col = static_cast<unsigned short>(size.width);
  if (::ioctl(fd, TIOCSWINSZ, &ws) < 0) return sys_error("process.consoleSize: set window size");
  return {};
}

Result<> become_console(int slave_fd) {
  for (int i = 0; i < 3; ++i)
    if (::dup2(slave_fd, i) < 0) return sys_error("dup console");
  if (::ioctl(0, TIOCSCTTY, 0) < 0) return sys_error("set controlling terminal");
  return {};
}

Result<> send_to_console_socket(const std::string& socket_path, int master_fd) {
  Fd sock = TRYC(unix_connect(socket_path, SOCK_STREAM), "--console-socket");
  // The payload is the master's name; callers such as conmon read it as data.
  TRYC(send_with_fd(sock.get(), "/dev/ptmx", master_fd), "--console-socket " + socket_path);
  return {};
}

}  // namespace orun::linux
