// `orun exec`: the processes it forks. stage-1 joins the container's cgroups
// and every namespace of its init (user first, mount last), takes the init's
// root directory as its own, and forks the new process, which is then inside
// the pid namespace too. The handshake reuses
// linux/sync.hpp:
//
//   parent (orun exec)                stage-1                    process
//                               <--  InitPid {host pid}, exits
//                                                          <--  ConsolePty {fd} (--tty)
//                                                          <--  EOF at execve | Error | ExecError
#pragma once
#include <string>
#include <vector>

#include "linux/cgroup_join.hpp"
#include "linux/namespaces.hpp"
#include "linux/process_exec.hpp"

namespace orun::linux {

struct ExecPlan {
  ProcessPlan process;
  NamespacePlan ns;                       // the init's namespaces, as /proc/<pid>/ns/* paths
  CgroupJoin cgroups;                     // the container's cgroups
  int cgroup_fd = -1;                     // cgroups.v2_dir, opened: stage-1 is born in it
  int root_fd = -1;                       // /proc/<init>/root: setns(mnt) alone gives the namespace's
                                          // root, which is the host's / when the container was made in a chroot
  std::string state_json;                 // the container's state, for the seccomp listener
  int sync_fd = -1;
  int lock_fd = -1;                       // closed at once: the lock must not outlive exec's setup
  bool console = false;
};

// The namespace file under /proc/<pid>/ns/ for a type ("net" for network, ...).
const char* ns_proc_name(spec::NamespaceType t);

[[noreturn]] void exec_stage1_main(ExecPlan& plan, bool born_in_v2);

}  // namespace orun::linux
