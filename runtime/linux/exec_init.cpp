#include "exec_init.hpp"

#include <sched.h>
#include <unistd.h>

#include "base/file.hpp"
#include "linux/console.hpp"

namespace orun::linux {

const char* ns_proc_name(spec::NamespaceType t) {
  switch (t) {
    case spec::NamespaceType::pid: return "pid";
    case spec::NamespaceType::network: return "net";
    case spec::NamespaceType::mount: return "mnt";
    case spec::NamespaceType::ipc: return "ipc";
    case spec::NamespaceType::uts: return "uts";
    case spec::NamespaceType::user: return "user";
    case spec::NamespaceType::cgroup: return "cgroup";
    case spec::NamespaceType::time: return "time";
  }
  return "";
}

namespace {

Result<> enter_root(int root_fd) {
  if (::fchdir(root_fd) < 0) return sys_error("fchdir to the container's root");
  if (::chroot(".") < 0) return sys_error("chroot to the container's root");
  ::close(root_fd);
  return {};
}

[[noreturn]] void process_main(ExecPlan& p) {
  const int sock = p.sync_fd;
  const spec::Process& proc = *p.process.process;
  if (p.console) {
    // Entering the mount namespace made its root ours: this is the container's devpts.
    if (::setsid() < 0) child_fail(sock, sys_error("setsid").error());
    auto pty = open_pty("/dev/pts/ptmx", "/dev/pts");
    if (!pty) child_fail(sock, pty.error().context("--tty"));
    if (proc.console_size) CHECK_OR_DIE(sock, set_console_size(pty->master.get(), *proc.console_size));
    CHECK_OR_DIE(sock, send_msg(sock, Msg::ConsolePty, 0, {}, pty->master.get()));
    CHECK_OR_DIE(sock, become_console(pty->slave.get()));
  }
  CHECK_OR_DIE(sock, seal_fds(p.process.preserve_fds));
  CHECK_OR_DIE(sock, enter_cwd(proc.cwd));
  auto exe = find_executable(p.process.exec_env.args[0], p.process.exec_env.path);
  if (!exe) {
    (void)send_msg(sock, Msg::ExecError, exe.error().code, exe.error().message);
    ::_exit(1);
  }
  exec_container_process(p.process, sock, *exe, p.state_json, ::getpid());
}

}  // namespace

void exec_stage1_main(ExecPlan& p, bool born_in_v2) {
  const int sock = p.sync_fd;
  ::close(p.lock_fd);
  if (p.cgroup_fd >= 0) ::close(p.cgroup_fd);
  CHECK_OR_DIE(sock, apply_host_limits(p.process));
  CHECK_OR_DIE(sock, join_cgroups(p.cgroups, born_in_v2));
  CHECK_OR_DIE(sock, join_namespaces(p.ns));
  CHECK_OR_DIE(sock, enter_root(p.root_fd));
  pid_t pid = ::fork();  // after setns(pid): the child is inside the container's pid namespace
  if (pid < 0) child_fail(sock, sys_error("fork").error());
  if (pid == 0) process_main(p);
  CHECK_OR_DIE(sock, send_msg(sock, Msg::InitPid, pid));
  ::_exit(0);
}

}  // namespace orun::linux
