#include "init.hpp"

#include <sched.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "base/file.hpp"
#include "linux/console.hpp"
#include "linux/hooks.hpp"
#include "linux/process_exec.hpp"
#include "linux/sync.hpp"
#include "linux/sysctl.hpp"

namespace orun::linux {
namespace {

Result<> set_names(const spec::Config& cfg) {
  if (!cfg.hostname.empty() && ::sethostname(cfg.hostname.data(), cfg.hostname.size()) < 0)
    return sys_error("hostname: sethostname");
  if (!cfg.domainname.empty() && ::setdomainname(cfg.domainname.data(), cfg.domainname.size()) < 0)
    return sys_error("domainname: setdomainname");
  return {};
}

void join_session_keyring(const std::string& id) {
  // A private keyring keeps the host's session keys away; ENOSYS/EPERM
  // (keyrings disabled or blocked) is not fatal, as in runc.
  constexpr long KEYCTL_JOIN_SESSION_KEYRING = 1;
  std::string name = "_ses." + id;
  ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str());
}

[[noreturn]] void init_main(InitPlan& p) {
  const int sock = p.sync_fd;
  const spec::Config& cfg = *p.config;
  CHECK_OR_DIE(sock, ::setsid() < 0 ? Result<>(sys_error("setsid")) : Result<>{});
  CHECK_OR_DIE(sock, set_names(cfg));
  if (p.ns.is_new(spec::NamespaceType::network)) CHECK_OR_DIE(sock, loopback_up());
  if (!p.no_new_keyring) join_session_keyring(p.id);

  // A joined mount namespace is set up already (the spec; validate() refuses mounts and the like
  // with it): setns made its root ours, so every rootfs step is skipped.
  const bool own_root = p.ns.is_new(spec::NamespaceType::mount);
  if (own_root) CHECK_OR_DIE(sock, prepare_rootfs(cfg, p.rootfs_options));
  CHECK_OR_DIE(sock, send_msg(sock, Msg::HooksPls));
  std::string state_json;
  pid_t host_pid = 0;  // as the runtime sees it; in a new pid namespace we are 1
  {
    auto ack = expect_msg(sock, Msg::HooksAck);
    if (!ack) child_fail(sock, ack.error());
    state_json = std::move(ack->payload);
    host_pid = ack->value;
  }
  if (cfg.hooks) CHECK_OR_DIE(sock, run_hooks(cfg.hooks->create_container, "createContainer", state_json));

  Fd console_slave;
  if (p.console) {
    const std::string root = own_root ? p.rootfs : "";
    auto pty = open_pty(root + "/dev/pts/ptmx", root + "/dev/pts");
    if (!pty) child_fail(sock, pty.error().context("process.terminal"));
    if (cfg.process->console_size) CHECK_OR_DIE(sock, set_console_size(pty->master.get(), *cfg.process->console_size));
    if (own_root) CHECK_OR_DIE(sock, mount_console(p.rootfs, pty->slave_path));
    CHECK_OR_DIE(sock, send_msg(sock, Msg::ConsolePty, 0, {}, pty->master.get()));
    console_slave = std::move(pty->slave);
  }

  if (own_root) CHECK_OR_DIE(sock, enter_rootfs(cfg, p.rootfs, p.no_pivot));
  // runc creates a missing working directory (engines rely on it for image
  // WORKDIRs): inside the new root, before finish_rootfs makes it read-only.
  if (cfg.process && !cfg.process->cwd.empty()) {
    auto made = mkdir_p(cfg.process->cwd, 0755);
    if (!made) child_fail(sock, made.error().context("process.cwd"));
  }
  // Before finish_rootfs: readonlyPaths usually holds /proc/sys (as in runc's order).
  if (cfg.linux) CHECK_OR_DIE(sock, apply_sysctl(cfg.linux->sysctl));
  if (own_root) CHECK_OR_DIE(sock, finish_rootfs(cfg));
  if (console_slave) {
    CHECK_OR_DIE(sock, become_console(console_slave.get()));
    console_slave.reset();
  }
  CHECK_OR_DIE(sock, seal_fds(p.process.preserve_fds));

  if (!cfg.process) {
    // A container without a process can exist but never start.
    CHECK_OR_DIE(sock, send_msg(sock, Msg::Ready));
    for (;;) ::pause();
  }
  CHECK_OR_DIE(sock, enter_cwd(cfg.process->cwd));
  std::string exe;
  {
    auto r = find_executable(p.process.exec_env.args[0], p.process.exec_env.path);
    if (!r) {
      (void)send_msg(sock, Msg::ExecError, r.error().code, r.error().message);
      ::_exit(1);
    }
    exe = std::move(*r);
  }
  CHECK_OR_DIE(sock, send_msg(sock, Msg::Ready));
  ::close(sock);

  int conn;
  while ((conn = ::accept4(p.start_fd, nullptr, nullptr, SOCK_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (conn < 0) ::_exit(1);
  ::close(p.start_fd);  // a second start finds no listener
  auto m = recv_msg(conn);
  if (!m || m->type != Msg::Start) ::_exit(1);
  // `orun start` sends the state as it is now (status "created") for the startContainer hooks.
  if (!m->payload.empty()) state_json = std::move(m->payload);
  if (cfg.hooks) CHECK_OR_DIE(conn, run_hooks(cfg.hooks->start_container, "startContainer", state_json));
  exec_container_process(p.process, conn, exe, state_json, host_pid);
}

// The parent's fds the child must not hold: its sync end (EOF tells the child the parent died),
// its flock on the state directory (it would outlive create), the cgroup directory.
void close_parent_fds(const InitPlan& p) {
  for (int fd : {p.parent_sync_fd, p.lock_fd, p.cgroup_fd})
    if (fd >= 0) ::close(fd);
}

// The init as the parent's own child, made by clone3 in its new namespaces (and on cgroup v2 in its
// cgroup): what stage-1 does, less the fork.
[[noreturn]] void cloned_init_main(InitPlan& p) {
  const int sock = p.sync_fd;
  close_parent_fds(p);
  if (p.config->process) CHECK_OR_DIE(sock, apply_host_limits(p.process));
  // Before a new cgroup namespace is made, so that the container's cgroup becomes its root.
  CHECK_OR_DIE(sock, join_cgroups(p.cgroups, p.cgroup_fd >= 0));
  CHECK_OR_DIE(sock, join_namespaces(p.ns));
  if ((p.ns.unshare_flags & CLONE_NEWCGROUP) && ::unshare(CLONE_NEWCGROUP) < 0)
    child_fail(sock, sys_error("unshare cgroup namespace").error());
  init_main(p);
}

// One process is enough when nothing has to happen between making one namespace and the next
// (and the cgroup is one we can enter ourselves): a user namespace (new or joined) must own the others and a new one needs its maps written by the
// parent first; joining a pid namespace moves only later children; a new time namespace needs its
// offsets before a process enters it.
bool init_can_be_cloned(const InitPlan& p) {
  // A systemd scope starts with its first process, stage-1, placed by the parent.
  if (p.wait_for_cgroup) return false;
  if (p.ns.has(spec::NamespaceType::user) || p.ns.has(spec::NamespaceType::time)) return false;
  for (const auto& j : p.ns.join)
    if (j.type == spec::NamespaceType::pid) return false;
  return true;
}

// clone3 as fork, with namespaces and a target cgroup; -1 with errno when the kernel refuses
// (before 5.3 no clone3, before 5.7 no CLONE_INTO_CGROUP).
pid_t clone_init(const InitPlan& p) {
  struct clone_args args{};
  // The cgroup namespace is unshared by the child once it is in its cgroups (on hybrid hosts
  // it joins the v1 ones first).
  args.flags = static_cast<uint64_t>(p.ns.unshare_flags & ~CLONE_NEWCGROUP);
  if (p.cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(p.cgroup_fd);
  }
  args.exit_signal = SIGCHLD;
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

[[noreturn]] void stage1_main(InitPlan& p, bool born_in_v2) {
  const int sock = p.sync_fd;
  close_parent_fds(p);
  if (p.wait_for_cgroup) CHECK_OR_DIE(sock, expect_msg(sock, Msg::CgroupReady));
  // Limits that a new user namespace could no longer raise or lower: set them
  // here, with the host's privileges; fork and exec pass them on to the init.
  if (p.config->process) CHECK_OR_DIE(sock, apply_host_limits(p.process));
  CHECK_OR_DIE(sock, join_cgroups(p.cgroups, born_in_v2));
  CHECK_OR_DIE(sock, join_namespaces(p.ns));
  if (p.ns.new_user) {
    if (::unshare(CLONE_NEWUSER) < 0) child_fail(sock, sys_error("unshare user namespace").error());
    CHECK_OR_DIE(sock, send_msg(sock, Msg::UsermapPls));
    CHECK_OR_DIE(sock, expect_msg(sock, Msg::UsermapAck));
  }
  // In a new or joined user namespace our host ids are unmapped until we take its root's.
  if (p.ns.has(spec::NamespaceType::user) && (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0))
    child_fail(sock, sys_error("become root in the user namespace (is uid 0 mapped?)").error());
  if (p.ns.unshare_flags && ::unshare(p.ns.unshare_flags) < 0)
    child_fail(sock, sys_error("unshare namespaces").error());
  if (p.ns.is_new(spec::NamespaceType::time) && p.config->linux) {
    // Becoming root of a new user namespace changed our euid, which made us non-dumpable: our
    // /proc/self files then belong to the host's root, unmapped here. Dumpable just for the write.
    int dumpable = ::prctl(PR_GET_DUMPABLE);
    (void)::prctl(PR_SET_DUMPABLE, 1);
    CHECK_OR_DIE(sock, write_time_offsets(*p.config->linux));
    (void)::prctl(PR_SET_DUMPABLE, dumpable);
  }

  pid_t pid = ::fork();
  if (pid < 0) child_fail(sock, sys_error("fork container init").error());
  if (pid == 0) init_main(p);
  CHECK_OR_DIE(sock, send_msg(sock, Msg::InitPid, pid));
  ::_exit(0);
}

}  // namespace

Result<Spawned> spawn_container(InitPlan& p) {
  if (init_can_be_cloned(p)) {
    pid_t pid = clone_init(p);
    if (pid == 0) cloned_init_main(p);
    if (pid > 0) return Spawned{pid, true};
    // An older kernel, or a refused combination: stage-1 makes the same namespaces step by step
    // and reports a real failure with its field.
  }
  bool born_in_v2 = false;
  pid_t pid = fork_into_cgroup(p.cgroup_fd, born_in_v2);
  if (pid < 0) return sys_error("fork");
  if (pid == 0) stage1_main(p, born_in_v2);
  return Spawned{pid, false};
}

}  // namespace orun::linux
