// cgroupfs file operations shared by the v1 and v2 managers: value writes whose
// errors name the file, directory creation that undoes itself, recursive
// process listing and removal (cgroup directories are removed with rmdir only:
// their files cannot be unlinked).
#pragma once
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace orun::cgroups {

// Write `value` to dir/file in one write(2), without O_CREAT.
// Error: "write <dir>/<file>: <strerror>".
[[nodiscard]] Result<> write_value(const std::string& dir, const std::string& file, std::string_view value);
// The content of dir/file with surrounding white space removed.
[[nodiscard]] Result<std::string> read_value(const std::string& dir, const std::string& file);
bool has_file(const std::string& dir, const std::string& file);

// mkdir every missing component of `dir` below `mount_point`. Returns the
// directories it made, outermost first. On failure it removes what it made.
[[nodiscard]] Result<std::vector<std::string>> make_dirs(const std::string& mount_point, const std::string& dir);
// rmdir `dir` and every cgroup below it, children first. A missing dir is
// fine. EBUSY (a process still leaving) is retried until `timeout`.
[[nodiscard]] Result<> remove_dirs(const std::string& dir,
                                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
// One rmdir of `dir`: true when it is gone afterwards (removed now, or missing). The kernel
// refuses it (EBUSY) while a process or a child cgroup is in it, so true also says that nothing
// was left there to kill. destroy() tries it first: a stopped container's cgroup is usually
// empty, and then reading cgroup.procs and walking the tree twice is wasted.
bool remove_if_empty(const std::string& dir);
// Append the pids in dir/cgroup.procs and in every cgroup below it.
[[nodiscard]] Result<> collect_pids(const std::string& dir, std::vector<pid_t>& out);
// Call `done` with growing pauses until it yields true or `timeout` passes.
[[nodiscard]] Result<bool> wait_until(const std::function<Result<bool>()>& done, std::chrono::milliseconds timeout);

}  // namespace orun::cgroups
