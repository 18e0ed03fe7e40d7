// linux.seccomp: compiled to classic BPF in the parent with libseccomp, loaded
// in the child with one seccomp(2) call (no libseccomp state, no parsing there).
//
// When the init loads the filter (runc's rule):
//   - process.noNewPrivileges set, or CAP_SYS_ADMIN kept in the effective set
//     (has_cap(caps.effective, CAP_SYS_ADMIN)): load_seccomp() is the very
//     last step before execve (after set_user/apply_caps and the wait for
//     `orun start`), so the profile need not allow the init's own calls;
//   - otherwise: load_seccomp() just before dropping privileges
//     (drop_bounding/set_user/apply_caps of caps.hpp), while the init still
//     has CAP_SYS_ADMIN, which loading a filter without no_new_privs needs;
//     the rest of the init then runs under the filter.
//
// As runc, a stub ahead of libseccomp's program returns ENOSYS for system
// calls numbered above the highest one the profile names, per listed
// architecture, when the default action is not permissive (see seccomp.cpp).
//
// SCMP_ACT_NOTIFY: the parent connects to linux.seccomp.listenerPath with
// connect_listener() before cloning (it is a host path). load_seccomp()
// returns the listener fd; it goes to the agent with the spec's
// ContainerProcessState JSON (container_process_state()) by
// send_seccomp_listener(). Recommended: the init passes the listener fd to the
// parent over the sync socket, and the parent, which knows the host pid and
// the state, builds the JSON and sends it; the child never parses JSON.
// container_process_state() only concatenates, so the child may call it too.
// Between load_seccomp() and handing the fd on, a notified system call would
// wait for an agent that has no fd yet; prepare_seccomp() therefore refuses
// SCMP_ACT_NOTIFY for write, sendmsg and sendto (runc refuses write).
#pragma once
#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.hpp"
#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::linux {

struct SeccompProgram {
  std::vector<sock_filter> bpf;
  unsigned flags = 0;  // SECCOMP_FILTER_FLAG_* for seccomp(2); NEW_LISTENER is added by load when notify
  bool notify = false;  // some rule uses SCMP_ACT_NOTIFY
  std::string listener_path, listener_metadata;
};

// Names for `orun features` and validation.
std::vector<std::string> seccomp_actions();
std::vector<std::string> seccomp_operators();
std::vector<std::string> seccomp_archs();  // those the installed libseccomp knows
std::vector<std::string> seccomp_flags();  // those this kernel knows

// nullopt when seccomp is null (no filter). Errors name the field:
//   linux.seccomp.syscalls[2].action: unknown action "SCMP_ACT_BOGUS"
// Syscall names libseccomp does not know are skipped (as runc); a rule whose
// action equals the default action is skipped (libseccomp refuses it).
[[nodiscard]] Result<std::optional<SeccompProgram>> prepare_seccomp(const spec::Seccomp* seccomp);

// Child: seccomp(SECCOMP_SET_MODE_FILTER). Returns the listener fd when
// prog.notify, else an empty Fd. Needs no_new_privs or CAP_SYS_ADMIN.
[[nodiscard]] Result<Fd> load_seccomp(const SeccompProgram& prog);

// Parent, before clone: a SOCK_STREAM connection to the agent's socket.
[[nodiscard]] Result<Fd> connect_listener(const std::string& path);

// The ContainerProcessState JSON (config-linux.md "seccomp"):
//   {"ociVersion":"1.2.0","fds":["seccompFd"],"pid":<pid>,"metadata":"...","state":<state_json>}
// state_json is the container's state (status "creating" at create time)
// inserted verbatim; metadata is left out when empty. Concatenation only.
std::string container_process_state(std::string_view state_json, pid_t pid, std::string_view metadata);

// Send json with listener_fd attached by SCM_RIGHTS on a connected stream socket.
[[nodiscard]] Result<> send_seccomp_listener(int connected_unix_socket, int listener_fd, std::string_view state_json);

}  // namespace orun::linux
