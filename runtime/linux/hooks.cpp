#include "hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <unistd.h>

#include "base/child.hpp"
#include "base/fd.hpp"
#include "base/file.hpp"
#include "base/strings.hpp"

namespace orun::linux {
namespace {

std::vector<char*> cstrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Result<> run_hook(const spec::Hook& hook, const std::string& name, std::string_view state) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) < 0) return sys_error(name + ": pipe");
  Fd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) < 0) return sys_error(name + ": pipe");
  Fd out_r(out[0]), out_w(out[1]);
  // args[0] is argv[0] per the spec; an empty args runs path with argv[0] = path.
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  auto argv = cstrings(args);
  auto envp = cstrings(hook.env);

  pid_t pid = ::fork();
  if (pid < 0) return sys_error(name + ": fork");
  if (pid == 0) {
    sigset_t none;  // `orun run` blocks signals it forwards; hooks get a clean mask
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    ::dup2(out_w.get(), 2);
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ChildPid child(pid);
  in_r.reset();
  out_w.reset();
  // The hook may exit without reading: ignore SIGPIPE while writing, and
  // restore it, because the container init later execs with our dispositions.
  struct sigaction ign{}, old{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  (void)write_all(in_w.get(), state);
  ::sigaction(SIGPIPE, &old, nullptr);
  in_w.reset();

  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  Fd pfd(pidfd);
  int64_t deadline = hook.timeout ? now_ms() + int64_t(*hook.timeout) * 1000 : -1;
  std::string output;
  bool out_open = true;
  for (;;) {
    struct pollfd fds[2] = {{pfd.get(), POLLIN, 0}, {out_open ? out_r.get() : -1, POLLIN, 0}};
    int wait_ms = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    int n = ::poll(fds, 2, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      child.reset();  // SIGKILL and reap
      return fail(name + " (" + hook.path + "): timed out after " + std::to_string(*hook.timeout) + "s", ETIMEDOUT);
    }
    if (fds[1].revents) {
      char buf[4096];
      ssize_t r = ::read(out_r.get(), buf, sizeof buf);
      if (r > 0) {
        if (output.size() < 4096) output.append(buf, static_cast<size_t>(r));
      } else {
        out_open = false;
      }
    }
    if (fds[0].revents && !out_open) break;
    if (fds[0].revents && out_open) {
      // Exited: drain what is left without blocking on a grandchild holding the pipe.
      ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
      char buf[4096];
      ssize_t r;
      while ((r = ::read(out_r.get(), buf, sizeof buf)) > 0)
        if (output.size() < 4096) output.append(buf, static_cast<size_t>(r));
      break;
    }
  }
  int status = child.wait();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::string why = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                         : "exit status " + std::to_string(exit_code_of(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && ::access(hook.path.c_str(), X_OK) < 0)
    why = "cannot execute: " + std::string(std::strerror(errno));
  std::string out_text(trim(output));
  return fail(name + " (" + hook.path + "): " + why + (out_text.empty() ? "" : ": " + out_text), ECANCELED);
}

}  // namespace

Result<> run_hooks(const std::vector<spec::Hook>& hooks, std::string_view kind, std::string_view state_json) {
  for (size_t i = 0; i < hooks.size(); ++i)
    TRY(run_hook(hooks[i], "hooks." + std::string(kind) + "[" + std::to_string(i) + "]", state_json));
  return {};
}

std::vector<Error> run_hooks_all(const std::vector<spec::Hook>& hooks, std::string_view kind,
                                 std::string_view state_json) {
  std::vector<Error> errors;
  for (size_t i = 0; i < hooks.size(); ++i) {
    auto r = run_hook(hooks[i], "hooks." + std::string(kind) + "[" + std::to_string(i) + "]", state_json);
    if (!r) errors.push_back(r.error());
  }
  return errors;
}

}  // namespace orun::linux
