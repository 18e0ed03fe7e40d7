// `orun exec`: the processes it forks. stage-1 joins the container's cgroups
// and every namespace of its init (user first, mount last) and forks the new
// process, which is then inside the pid namespace too. The handshake reuses
// linux/sync.hpp:
//
//   parent (orun exec)                stage-1                    process
//                               <--  InitPid {host pid}, exits
//                                                          <--  ConsolePty {fd} (--tty)
//                                                          <--  EOF at execve | Error | ExecError
#pragma once
#include <string>
#include <vector>

#include "linux/namespaces.hpp"
#include "linux/process_exec.hpp"

namespace orun::linux {

struct ExecPlan {
  ProcessPlan process;
  NamespacePlan ns;                       // the init's namespaces, as /proc/<pid>/ns/* paths
  std::vector<std::string> cgroup_procs;  // cgroup.procs files to join
  std::string state_json;                 // the container's state, for the seccomp listener
  int sync_fd = -1;
  int lock_fd = -1;                       // closed at once: the lock must not outlive exec's setup
  bool console = false;
};

// The namespace file under /proc/<pid>/ns/ for a type ("net" for network, ...).
const char* ns_proc_name(spec::NamespaceType t);

[[noreturn]] void exec_stage1_main(ExecPlan& plan);

}  // namespace orun::linux
