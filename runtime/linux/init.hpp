// The processes `orun create` starts (see sync.hpp for the handshake): the
// container init, which builds the root file system, waits for `orun start`,
// drops privileges and execs the container's process; where a user, time or
// joined pid namespace needs a step in between, first a stage-1 that joins and
// creates the namespaces and forks the init. Everything is prepared by the
// parent in an InitPlan; the children only apply it.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "linux/cgroup_join.hpp"
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
  CgroupJoin cgroups;   // what the child joins itself (empty when the parent places it: wait_for_cgroup)
  int cgroup_fd = -1;    // cgroups.v2_dir, opened: the first child is born in it (CLONE_INTO_CGROUP)
  // The parent places stage-1 in its cgroup itself (a systemd scope starts with stage-1's pid):
  // stage-1 waits for CgroupReady before anything else.
  bool wait_for_cgroup = false;
  ProcessPlan process;  // empty when config.json has no process
  int sync_fd = -1;      // child end of the sync socketpair
  int parent_sync_fd = -1;  // the parent's end: the child closes it, so that it reads EOF if the parent dies
  int lock_fd = -1;      // the parent's flock on the state directory: closed at once, or it outlives create
  int start_fd = -1;     // listening start socket; accept() blocks until `orun start`
  bool no_pivot = false;
  bool no_new_keyring = false;
  bool console = false;  // process.terminal: make a pty and send the master to the parent
};

struct Spawned {
  pid_t pid;
  bool is_init;  // the init itself, cloned into its namespaces; else stage-1, which reports InitPid
};

// Start the container's first child. With no user, time or joined pid namespace that is the init,
// made by one clone3 with its new namespaces and (cgroup_fd) in its cgroup v2: no second fork. Otherwise, or where the kernel refuses clone3, stage-1.
[[nodiscard]] Result<Spawned> spawn_container(InitPlan& plan);

}  // namespace orun::linux
