#include "cgroup_join.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>

#include "base/file.hpp"

namespace orun::linux {

CgroupJoin cgroup_join(const std::map<std::string, std::string>& paths) {
  CgroupJoin j;
  std::set<std::string> seen;
  for (const auto& [controller, dir] : paths) {
    if (controller.empty()) j.v2_dir = dir;
    else if (seen.insert(dir).second) j.v1_tasks.push_back(dir + "/tasks");
  }
  return j;
}

Fd open_v2_dir(const CgroupJoin& join) {
  if (join.v2_dir.empty()) return Fd();
  return Fd(::open(join.v2_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

Result<> join_cgroups(const CgroupJoin& join, bool born_in_v2) {
  for (const auto& tasks : join.v1_tasks) TRY(write_file(tasks, "0"));
  if (!join.v2_dir.empty() && !born_in_v2) TRY(write_file(join.v2_dir + "/cgroup.procs", "0"));
  return {};
}

pid_t fork_into_cgroup(int cgroup_fd, bool& born_in) {
  born_in = false;
  if (cgroup_fd >= 0) {
    struct clone_args args{};
    args.flags = CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
    args.exit_signal = SIGCHLD;
    auto pid = static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
    if (pid >= 0) {
      born_in = true;
      return pid;
    }
    // An older kernel, or a refusal the child's cgroup.procs write will name.
  }
  return ::fork();
}

}  // namespace orun::linux
