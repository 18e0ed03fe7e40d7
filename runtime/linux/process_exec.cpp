#include "process_exec.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace orun::linux {
namespace {

// Process attributes that need privileges, applied before the uid switch.
Result<> apply_attrs(const ProcessAttrs& a) {
  if (a.personality) TRY(apply_personality(*a.personality));
  if (a.scheduler) TRY(apply_scheduler(*a.scheduler));
  if (a.io_priority) TRY(apply_io_priority(*a.io_priority));
  if (!a.apparmor_profile.empty()) TRY(apply_apparmor(a.apparmor_profile));
  if (!a.selinux_label.empty()) TRY(apply_selinux_label(a.selinux_label));
  return {};
}

void reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::signal(sig, SIG_DFL);
  }
}

Fd load_or_die(int report_fd, const SeccompProgram& prog) {
  auto r = load_seccomp(prog);
  if (!r) child_fail(report_fd, r.error());
  return std::move(*r);
}

}  // namespace

Result<ProcessPlan> prepare_process(const spec::Process& process, const spec::Linux* linux,
                                    const std::function<void(const std::string&)>& warn) {
  ProcessPlan p;
  p.process = &process;
  p.caps = TRY(prepare_caps(process.capabilities ? &*process.capabilities : nullptr));
  for (auto& name : p.caps.unsupported) warn("process.capabilities: " + name + " is unknown to this kernel; ignored");
  // ambient_dropped is not worth a warning: runc's own default spec asks for
  // ambient capabilities without inheritable ones, and runc drops them quietly.
  p.rlimits = TRY(prepare_rlimits(process.rlimits));
  p.attrs = TRY(prepare_process_attrs(process, linux));
  p.exec_env = TRY(prepare_exec_env(process));
  if (linux) p.seccomp = TRY(prepare_seccomp(linux->seccomp ? &*linux->seccomp : nullptr));
  if (p.seccomp && p.seccomp->notify) p.seccomp_listener = TRY(connect_listener(p.seccomp->listener_path));
  return p;
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

Result<> apply_host_limits(const ProcessPlan& p) {
  if (p.attrs.oom_score_adj) TRY(apply_oom_score_adj(*p.attrs.oom_score_adj));
  if (p.attrs.cpus_initial) TRY(apply_cpu_affinity(*p.attrs.cpus_initial));
  return apply_rlimits(p.rlimits);
}

void exec_container_process(ProcessPlan& p, int report_fd, const std::string& exe, std::string_view state_json,
                            pid_t host_pid) {
  const spec::Process& proc = *p.process;
  CHECK_OR_DIE(report_fd, apply_attrs(p.attrs));

  // Loading a filter needs no_new_privs or CAP_SYS_ADMIN: load it last when
  // either holds at exec time, otherwise while we still have CAP_SYS_ADMIN.
  bool seccomp_last = proc.no_new_privileges || has_cap(p.caps.effective, CAP_SYS_ADMIN);
  Fd listener;
  if (p.seccomp && !seccomp_last) listener = load_or_die(report_fd, *p.seccomp);
  CHECK_OR_DIE(report_fd, drop_bounding(p.caps));
  CHECK_OR_DIE(report_fd, set_user(proc.user));
  CHECK_OR_DIE(report_fd, apply_caps(p.caps));
  if (proc.no_new_privileges) CHECK_OR_DIE(report_fd, set_no_new_privs());
  if (p.attrs.cpus_final) CHECK_OR_DIE(report_fd, apply_cpu_affinity(*p.attrs.cpus_final));
  ensure_home(p.exec_env, home_of(proc.user.uid));

  reset_signals();
  if (p.seccomp && seccomp_last) listener = load_or_die(report_fd, *p.seccomp);
  if (listener)
    CHECK_OR_DIE(report_fd, send_seccomp_listener(p.seccomp_listener.get(), listener.get(),
                                                  container_process_state(state_json, host_pid, p.seccomp->listener_metadata)));
  listener.reset();
  p.seccomp_listener.reset();
  auto r = exec_process(exe, p.exec_env);
  (void)send_msg(report_fd, Msg::ExecError, r.error().code, r.error().message);
  ::_exit(r.error().code == ENOENT ? 127 : 126);
}

}  // namespace orun::linux
