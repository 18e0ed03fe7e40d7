// Helpers shared by the linux unit tests.
#pragma once
#include <unistd.h>

#include "base/child.hpp"

namespace orun::linux::test {

// Run f in a forked child; returns the raw wait status. f returns the exit code.
template <typename F>
int in_child(F&& f) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(f());
  return ChildPid(pid).wait();
}

}  // namespace orun::linux::test
