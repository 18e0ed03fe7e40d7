// Foreground `run` and `exec`: we are the process's subreaper; forward
// signals to it, proxy its pty (if any) to our stdio, and reap it.
#pragma once
#include <signal.h>
#include <sys/types.h>

#include "base/result.hpp"

namespace orun::container {

// The signals supervise() handles; block them before the process is started
// so that none is lost before supervise() takes them over.
sigset_t supervised_signals();
// Returns the wait status of pid. master is the pty master, or -1.
[[nodiscard]] Result<int> supervise(pid_t pid, int master);

}  // namespace orun::container
