#include "supervise.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "base/file.hpp"

namespace orun::container {

sigset_t supervised_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, s);
  return set;
}

// Copy between the caller's terminal and the container's pty until the
// container exits; forward signals; reap. Returns the wait status of init.
Result<int> supervise(pid_t init, int master) {
  sigset_t set = supervised_signals();
  Fd sfd(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!sfd) return sys_error("signalfd");

  struct termios saved{};
  bool raw = master >= 0 && ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    ::cfmakeraw(&t);
    ::tcsetattr(0, TCSANOW, &t);
  }
  // A caller terminal that reports no size (0x0, e.g. a fresh pty) would
  // wipe process.consoleSize: keep the configured size then.
  auto resize = [&] {
    struct winsize ws;
    if (master >= 0 && ::ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) ::ioctl(master, TIOCSWINSZ, &ws);
  };
  resize();
  int status = -1;
  bool in_open = master >= 0;
  bool out_open = master >= 0;
  while (status == -1 || out_open) {
    struct pollfd fds[3] = {{sfd.get(), POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}, {out_open ? master : -1, POLLIN, 0}};
    // After init exits, drain the pty briefly instead of waiting forever.
    int n = ::poll(fds, 3, status == -1 ? -1 : 100);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (fds[0].revents) {
      struct signalfd_siginfo si;
      if (::read(sfd.get(), &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          int ws;
          pid_t p;
          while ((p = ::waitpid(-1, &ws, WNOHANG)) > 0)
            if (p == init) status = ws;
        } else if (si.ssi_signo == SIGWINCH) {
          resize();
        } else {
          ::kill(init, static_cast<int>(si.ssi_signo));
        }
      }
    }
    char buf[8192];
    if (fds[1].revents) {
      ssize_t r = ::read(0, buf, sizeof buf);
      if (r > 0) (void)write_all(master, std::string_view(buf, static_cast<size_t>(r)));
      else in_open = false;
    }
    if (fds[2].revents) {
      ssize_t r = ::read(master, buf, sizeof buf);
      if (r > 0) (void)write_all(1, std::string_view(buf, static_cast<size_t>(r)));
      else out_open = false;
    }
  }
  if (raw) ::tcsetattr(0, TCSANOW, &saved);
  while (status == -1) {
    int ws;
    pid_t p = ::waitpid(-1, &ws, 0);
    if (p == init) status = ws;
    if (p < 0 && errno != EINTR) return sys_error("wait for container");
  }
  return status;
}


}  // namespace orun::container
