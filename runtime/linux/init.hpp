// The two processes `orun create` forks (see sync.hpp for the handshake):
// stage-1 joins and creates namespaces and forks the container init, which
// builds the root file system, waits for `orun start`, drops privileges and
// execs the container's process. Everything is prepared by the parent in an
// InitPlan; the children only apply it.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "linux/namespaces.hpp"
#include "linux/process_exec.hpp"
#include "linux/rootfs.hpp"
#include "spec/config.hpp"

namespace orun::linux {

struct InitPlan {
  const spec::Config* config = nullptr;
  std::string id;
  std::string rootfs;  // absolute host path
  NamespacePlan ns;
  RootfsOptions rootfs_options;
  std::vector<std::string> cgroup_procs;  // cgroup.procs files stage-1 joins by writing "0"
  // The parent places stage-1 in its cgroup itself (a systemd scope starts with stage-1's pid):
  // stage-1 waits for CgroupReady before anything else.
  bool wait_for_cgroup = false;
  ProcessPlan process;  // empty when config.json has no process
  int sync_fd = -1;      // child end of the sync socketpair
  int lock_fd = -1;      // the parent's flock on the state directory: closed at once, or it outlives create
  int start_fd = -1;     // listening start socket; accept() blocks until `orun start`
  bool no_pivot = false;
  bool no_new_keyring = false;
  bool console = false;  // process.terminal: make a pty and send the master to the parent
};

// stage-1: never returns.
[[noreturn]] void stage1_main(InitPlan& plan);

}  // namespace orun::linux
