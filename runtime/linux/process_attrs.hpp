// Attributes of the container's process other than capabilities, seccomp and
// rlimits: user and groups, no_new_privs, scheduler, I/O priority, CPU
// affinity, personality, OOM score, LSM labels, and the execve arguments.
//
// prepare_* run in the parent and check everything, naming the config.json
// field at fault; apply_* run in the child and only make system calls.
//
// Order for the container init (runc's standard_init order), with the steps
// of caps.hpp, rlimits.hpp, sysctl.hpp and seccomp.hpp:
//   parent/stage-1, before the new user namespace exists:
//     apply_oom_score_adj      lowering it needs CAP_SYS_RESOURCE in the host
//     apply_cpu_affinity(initial)   as early as possible (runc: right after start)
//   init, still root, after pivot_root with the container's /proc mounted:
//     apply_scheduler, apply_io_priority, apply_rlimits
//     apply_sysctl, apply_apparmor, apply_personality
//     set_no_new_privs         when process.noNewPrivileges
//     load_seccomp             here only when NOT noNewPrivileges (needs CAP_SYS_ADMIN)
//     drop_bounding            caps.hpp
//     set_user                 setgroups, setresgid, setresuid, umask
//     chdir(process.cwd)
//     apply_caps               caps.hpp
//     prepare HOME (home_of), find_executable   after the uid switch, so the check
//                              is made with the container user's rights
//     ... wait for `orun start` ...
//     apply_selinux_label      just before exec (labels the next execve)
//     apply_cpu_affinity(final)
//     load_seccomp             here when noNewPrivileges: the last step
//     exec_process
// `orun exec` (setns init) follows the same order from apply_scheduler on.
#pragma once
#include <sched.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::linux {

// ---- user, groups, no_new_privs

// setgroups(additionalGids) (an empty list clears the inherited groups; when
// the user namespace has setgroups "deny" the call is skipped, as runc does),
// setresgid, setresuid with PR_SET_KEEPCAPS held so that the permitted set
// survives for apply_caps, then umask (process.user.umask, else 0022 as runc).
[[nodiscard]] Result<> set_user(const spec::User& user);
[[nodiscard]] Result<> set_no_new_privs();

// ---- scheduler (sched_setattr)

struct SchedAttr {
  uint32_t policy = 0;
  uint64_t flags = 0;
  int32_t nice = 0;
  uint32_t priority = 0;
  uint64_t runtime = 0, deadline = 0, period = 0;
};
// Errors name process.scheduler.policy / .flags[i] / .nice / .priority.
[[nodiscard]] Result<SchedAttr> prepare_scheduler(const spec::Scheduler& s);
[[nodiscard]] Result<> apply_scheduler(const SchedAttr& attr, pid_t pid = 0);

// ---- I/O priority (ioprio_set); the value is IOPRIO_PRIO_VALUE(class, level)

[[nodiscard]] Result<int> prepare_io_priority(const spec::IoPriority& p);
[[nodiscard]] Result<> apply_io_priority(int ioprio, pid_t pid = 0);

// ---- CPU affinity

// Parse a cpu list ("0-3,7", " 1 , 4-5 ") into a set; errors start with field.
[[nodiscard]] Result<cpu_set_t> parse_cpu_list(std::string_view list, const std::string& field);
[[nodiscard]] Result<> apply_cpu_affinity(const cpu_set_t& cpus, pid_t pid = 0);

// ---- personality (LINUX, LINUX32 plus the flags of <sys/personality.h>)

[[nodiscard]] Result<unsigned long> prepare_personality(const spec::Personality& p);
[[nodiscard]] Result<> apply_personality(unsigned long persona);

// ---- OOM score, LSM labels

[[nodiscard]] Result<> apply_oom_score_adj(int score);
bool apparmor_enabled();
bool selinux_enabled();
// Parent: an error naming process.apparmorProfile when AppArmor is off.
[[nodiscard]] Result<> check_apparmor(const std::string& profile);
// Parent: an error naming process.selinuxLabel when SELinux is off.
[[nodiscard]] Result<> check_selinux(const std::string& label);
// Child: "exec <profile>" into /proc/thread-self/attr/apparmor/exec (or the
// older attr/exec): the profile takes effect at the next execve.
[[nodiscard]] Result<> apply_apparmor(const std::string& profile);
// Child: the label into /proc/thread-self/attr/exec, for the next execve.
[[nodiscard]] Result<> apply_selinux_label(const std::string& label);

// ---- everything above, prepared at once

struct ProcessAttrs {
  std::optional<SchedAttr> scheduler;
  std::optional<int> io_priority;
  std::optional<cpu_set_t> cpus_initial, cpus_final;
  std::optional<unsigned long> personality;
  std::optional<int> oom_score_adj;
  std::string apparmor_profile;  // empty: leave as is
  std::string selinux_label;     // empty: leave as is
};
// linux may be null (no "linux" object).
[[nodiscard]] Result<ProcessAttrs> prepare_process_attrs(const spec::Process& process, const spec::Linux* linux);

// ---- the execve call

struct ExecEnv {
  std::vector<std::string> args;
  std::vector<std::string> env;  // "KEY=VALUE", one per key: first position, last value (as runc)
  std::string path;              // PATH from env, or the default one
};
inline constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Parent: check process.args and process.env (errors name process.args /
// process.env[i]), deduplicate env, pick PATH.
[[nodiscard]] Result<ExecEnv> prepare_exec_env(const spec::Process& process);
// Child, after pivot_root: the home directory of uid in passwd ("/" when the
// file or the entry is missing), for HOME when env lacks it.
std::string home_of(uint32_t uid, const std::string& passwd = "/etc/passwd");
// Child: add HOME=<home> when env has no HOME.
void ensure_home(ExecEnv& env, const std::string& home);
// Child, after pivot_root: the file args[0] names. Without a '/', search
// path_var (an empty entry means the current directory). Error code ENOENT:
// not found (exit 127); EACCES: found but not executable, a directory, or on a
// noexec mount (exit 126).
[[nodiscard]] Result<std::string> find_executable(std::string_view name, std::string_view path_var);
// Child: execve(path, args, env); returns only with the error.
[[nodiscard]] Result<> exec_process(const std::string& path, const ExecEnv& env);

}  // namespace orun::linux
