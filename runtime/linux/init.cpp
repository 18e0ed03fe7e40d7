#include "init.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "base/file.hpp"
#include "linux/console.hpp"
#include "linux/hooks.hpp"
#include "linux/sync.hpp"
#include "linux/sysctl.hpp"

extern char** environ;

namespace orun::linux {
namespace {

// Fail the handshake: report to whoever listens on sock, then exit.
#define CHECK_OR_DIE(sock, expr)                     \
  do {                                               \
    auto orun_r_ = (expr);                           \
    if (!orun_r_) child_fail(sock, orun_r_.error()); \
  } while (0)

// Process attributes that need privileges, applied before the uid switch.
Result<> apply_attrs(const ProcessAttrs& a) {
  if (a.personality) TRY(apply_personality(*a.personality));
  if (a.scheduler) TRY(apply_scheduler(*a.scheduler));
  if (a.io_priority) TRY(apply_io_priority(*a.io_priority));
  if (!a.apparmor_profile.empty()) TRY(apply_apparmor(a.apparmor_profile));
  if (!a.selinux_label.empty()) TRY(apply_selinux_label(a.selinux_label));
  return {};
}

// Caller fds above 2 must not reach the container, except the preserved ones
// (CVE-2024-21626 leaked a host directory fd as the cwd). Ours are already
// close-on-exec; marking everything else is one syscall.
Result<> seal_fds(int preserve) {
  if (::syscall(SYS_close_range, 3 + preserve, ~0U, CLOSE_RANGE_CLOEXEC) < 0) return sys_error("close_range");
  for (int fd = 3; fd < 3 + preserve; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
      return sys_error("--preserve-fds: fd " + std::to_string(fd));
  }
  return {};
}

// cwd must resolve inside the new root: a path through a leaked fd
// (/proc/self/fd/N) would land outside, and getcwd then fails or says
// "(unreachable)".
Result<> enter_cwd(const std::string& cwd) {
  if (::chdir(cwd.c_str()) < 0) return sys_error("process.cwd: chdir " + cwd);
  char buf[4096];
  if (!::getcwd(buf, sizeof buf) || buf[0] != '/')
    return fail("process.cwd: " + cwd + " is outside the container", EPERM);
  return {};
}

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

void reset_signals() {
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::signal(sig, SIG_DFL);
  }
}

// After `orun start`: the last steps, ending in execve. Errors go to the start
// connection; on success it closes on exec.
[[noreturn]] void run_process(InitPlan& p, int conn, const std::string& state_json, pid_t host_pid,
                              const std::string& exe) {
  const spec::Process& proc = *p.config->process;
  if (p.config->hooks) CHECK_OR_DIE(conn, run_hooks(p.config->hooks->start_container, "startContainer", state_json));
  CHECK_OR_DIE(conn, apply_attrs(p.attrs));

  // Loading a filter needs no_new_privs or CAP_SYS_ADMIN: load it last when
  // either holds at exec time, otherwise while we still have CAP_SYS_ADMIN.
  bool seccomp_last = proc.no_new_privileges || has_cap(p.caps.effective, CAP_SYS_ADMIN);
  Fd listener;
  if (p.seccomp && !seccomp_last) listener = ({
    auto r = load_seccomp(*p.seccomp);
    if (!r) child_fail(conn, r.error());
    std::move(*r);
  });
  CHECK_OR_DIE(conn, drop_bounding(p.caps));
  CHECK_OR_DIE(conn, set_user(proc.user));
  CHECK_OR_DIE(conn, apply_caps(p.caps));
  if (proc.no_new_privileges) CHECK_OR_DIE(conn, set_no_new_privs());
  if (p.attrs.cpus_final) CHECK_OR_DIE(conn, apply_cpu_affinity(*p.attrs.cpus_final));
  ensure_home(p.exec_env, home_of(proc.user.uid));

  reset_signals();
  if (p.seccomp && seccomp_last) listener = ({
    auto r = load_seccomp(*p.seccomp);
    if (!r) child_fail(conn, r.error());
    std::move(*r);
  });
  if (listener)
    CHECK_OR_DIE(conn, send_seccomp_listener(p.seccomp_listener.get(), listener.get(),
                                             container_process_state(state_json, host_pid, p.seccomp->listener_metadata)));
  listener.reset();
  p.seccomp_listener.reset();
  auto r = exec_process(exe, p.exec_env);
  (void)send_msg(conn, Msg::ExecError, r.error().code, r.error().message);
  ::_exit(r.error().code == ENOENT ? 127 : 126);
}

[[noreturn]] void init_main(InitPlan& p) {
  const int sock = p.sync_fd;
  const spec::Config& cfg = *p.config;
  CHECK_OR_DIE(sock, ::setsid() < 0 ? Result<>(sys_error("setsid")) : Result<>{});
  CHECK_OR_DIE(sock, set_names(cfg));
  if (!p.no_new_keyring) join_session_keyring(p.id);

  CHECK_OR_DIE(sock, prepare_rootfs(cfg, p.rootfs_options));
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
    auto pty = open_pty(p.rootfs + "/dev/pts/ptmx", p.rootfs + "/dev/pts");
    if (!pty) child_fail(sock, pty.error().context("process.terminal"));
    if (cfg.process->console_size) CHECK_OR_DIE(sock, set_console_size(pty->master.get(), *cfg.process->console_size));
    CHECK_OR_DIE(sock, mount_console(p.rootfs, pty->slave_path));
    CHECK_OR_DIE(sock, send_msg(sock, Msg::ConsolePty, 0, {}, pty->master.get()));
    console_slave = std::move(pty->slave);
  }

  CHECK_OR_DIE(sock, enter_rootfs(p.rootfs, p.no_pivot));
  // Before finish_rootfs: readonlyPaths usually holds /proc/sys (as in runc's order).
  if (cfg.linux) CHECK_OR_DIE(sock, apply_sysctl(cfg.linux->sysctl));
  CHECK_OR_DIE(sock, finish_rootfs(cfg));
  if (console_slave) {
    CHECK_OR_DIE(sock, become_console(console_slave.get()));
    console_slave.reset();
  }
  CHECK_OR_DIE(sock, seal_fds(p.preserve_fds));

  if (!cfg.process) {
    // A container without a process can exist but never start.
    CHECK_OR_DIE(sock, send_msg(sock, Msg::Ready));
    for (;;) ::pause();
  }
  CHECK_OR_DIE(sock, enter_cwd(cfg.process->cwd));
  std::string exe;
  {
    auto r = find_executable(p.exec_env.args[0], p.exec_env.path);
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
  run_process(p, conn, state_json, host_pid, exe);
}

}  // namespace

void stage1_main(InitPlan& p) {
  const int sock = p.sync_fd;
  ::close(p.lock_fd);
  // Limits that a new user namespace could no longer raise or lower: set them
  // here, with the host's privileges; fork and exec pass them on to the init.
  if (p.attrs.oom_score_adj) CHECK_OR_DIE(sock, apply_oom_score_adj(*p.attrs.oom_score_adj));
  if (p.attrs.cpus_initial) CHECK_OR_DIE(sock, apply_cpu_affinity(*p.attrs.cpus_initial));
  CHECK_OR_DIE(sock, apply_rlimits(p.rlimits));
  // Join the cgroup before a new cgroup namespace is made, so it becomes the root.
  for (const auto& procs : p.cgroup_procs) CHECK_OR_DIE(sock, write_file(procs, "0"));
  CHECK_OR_DIE(sock, join_namespaces(p.ns));
  if (p.ns.new_user) {
    if (::unshare(CLONE_NEWUSER) < 0) child_fail(sock, sys_error("unshare user namespace").error());
    CHECK_OR_DIE(sock, send_msg(sock, Msg::UsermapPls));
    CHECK_OR_DIE(sock, expect_msg(sock, Msg::UsermapAck));
    if (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0)
      child_fail(sock, sys_error("become root in the user namespace (is uid 0 mapped?)").error());
  }
  if (p.ns.unshare_flags && ::unshare(p.ns.unshare_flags) < 0)
    child_fail(sock, sys_error("unshare namespaces").error());
  if (p.ns.is_new(spec::NamespaceType::time) && p.config->linux) CHECK_OR_DIE(sock, write_time_offsets(*p.config->linux));

  pid_t pid = ::fork();
  if (pid < 0) child_fail(sock, sys_error("fork container init").error());
  if (pid == 0) init_main(p);
  CHECK_OR_DIE(sock, send_msg(sock, Msg::InitPid, pid));
  ::_exit(0);
}

}  // namespace orun::linux
