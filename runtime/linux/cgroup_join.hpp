// How the children of create and exec enter the container's cgroups themselves.
//
// A cgroup.procs write takes the kernel's global threadgroup lock, and taking it for writing waits
// for an RCU grace period (about 9 ms on this idle 2-CPU host, far more under load): runc pays one
// per create and per exec. Two ways around it, both used here:
// - v1 hierarchies: writing "0" to `tasks` moves only the calling thread, which the kernel does
//   without that lock. Our children are single-threaded, so the thread is the whole process.
// - cgroup v2 has no such file for a domain cgroup: there the child is born in its cgroup
//   (clone3 CLONE_INTO_CGROUP, Linux 5.7), and writes cgroup.procs only where that failed.
#pragma once
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "base/fd.hpp"
#include "base/result.hpp"

namespace orun::linux {

struct CgroupJoin {
  std::vector<std::string> v1_tasks;  // <dir>/tasks, once per v1 directory (co-mounted controllers share one)
  std::string v2_dir;                 // the cgroup v2 directory; empty on a pure v1 host
};

// From Manager::paths(): controller -> directory, "" for cgroup v2.
CgroupJoin cgroup_join(const std::map<std::string, std::string>& paths);

// v2_dir opened for fork_into_cgroup (and clone3 with CLONE_INTO_CGROUP); invalid without one. A
// failed open is left to the child's cgroup.procs write to report.
Fd open_v2_dir(const CgroupJoin& join);

// Run in the child: join every directory; the v2 one unless the child was born in it.
[[nodiscard]] Result<> join_cgroups(const CgroupJoin& join, bool born_in_v2);

// fork(), the child born in the cgroup v2 directory `cgroup_fd` where the kernel allows it;
// `born_in` tells both processes whether it was. cgroup_fd < 0: a plain fork.
pid_t fork_into_cgroup(int cgroup_fd, bool& born_in);

}  // namespace orun::linux
