// The container process's last steps, shared by the container init (after
// `orun start`) and by `orun exec`: attributes, privileges, seccomp, execve,
// in the order the kernel requires. Prepared in the parent (prepare_process),
// applied in the child (exec_container_process).
#pragma once
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.hpp"
#include "base/result.hpp"
#include "linux/caps.hpp"
#include "linux/process_attrs.hpp"
#include "linux/rlimits.hpp"
#include "linux/seccomp.hpp"
#include "linux/sync.hpp"
#include "spec/config.hpp"

namespace orun::linux {

// Report a failure to the parent over sock and exit (child side).
#define CHECK_OR_DIE(sock, expr)                                         \
  do {                                                                   \
    auto orun_r_ = (expr);                                               \
    if (!orun_r_) ::orun::linux::child_fail(sock, orun_r_.error());      \
  } while (0)

struct ProcessPlan {
  const spec::Process* process = nullptr;
  CapSets caps;
  std::optional<SeccompProgram> seccomp;
  Fd seccomp_listener;  // connected to linux.seccomp.listenerPath, when notify is used
  std::vector<PreparedRlimit> rlimits;
  ProcessAttrs attrs;
  ExecEnv exec_env;
  int preserve_fds = 0;  // fds 3 .. 3+preserve_fds-1 reach the process
};

// Parent: resolve every name and build the seccomp program; errors name the field.
// warn receives what runc would only warn about (capabilities unknown to the kernel).
[[nodiscard]] Result<ProcessPlan> prepare_process(const spec::Process& process, const spec::Linux* linux,
                                                  const std::function<void(const std::string&)>& warn);

// Child: caller fds above 2 become close-on-exec, except the preserved ones.
[[nodiscard]] Result<> seal_fds(int preserve);
// Child, after the root is in place: chdir and check it landed inside.
[[nodiscard]] Result<> enter_cwd(const std::string& cwd);
// Child: what stage-1 applies with host privileges (before a user namespace).
[[nodiscard]] Result<> apply_host_limits(const ProcessPlan& p);

// Child: attributes, seccomp, capabilities, uid switch, execve. Errors go to
// report_fd (ExecError when execve fails); on success report_fd closes on exec.
// state_json and host_pid fill the seccomp listener's ContainerProcessState.
[[noreturn]] void exec_container_process(ProcessPlan& p, int report_fd, const std::string& exe,
                                         std::string_view state_json, pid_t host_pid);

}  // namespace orun::linux
