// ChildPid: a child process that is killed and reaped unless released.
#pragma once
#include <signal.h>
#include <cerrno>
#include <sys/types.h>
#include <sys/wait.h>

#include <utility>

namespace orun {

class ChildPid {
 public:
  ChildPid() = default;
  explicit ChildPid(pid_t pid) : pid_(pid) {}
  ChildPid(ChildPid&& o) noexcept : pid_(o.release()) {}
  ChildPid& operator=(ChildPid&& o) noexcept {
    if (this != &o) {
      reset();
      pid_ = o.release();
    }
    return *this;
  }
  ChildPid(const ChildPid&) = delete;
  ChildPid& operator=(const ChildPid&) = delete;
  ~ChildPid() { reset(); }

  pid_t get() const { return pid_; }
  pid_t release() { return std::exchange(pid_, -1); }
  // Wait for the child; returns the raw wait status, or -1.
  int wait() {
    int status = -1;
    while (pid_ > 0 && ::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }
  void reset() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }

 private:
  pid_t pid_ = -1;
};

// Exit code a shell would report for a wait status (128+signal when killed).
inline int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace orun
