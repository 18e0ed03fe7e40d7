// Paths inside a container root that cannot escape it through symlinks or "..".
// A destination is resolved with the root as "/", created piece by piece with *at()
// calls on fds, and finally opened with openat2(RESOLVE_IN_ROOT); callers mount onto
// /proc/self/fd/N of that fd, never onto a path string a container could swap out
// underneath (runc's defence against CVE-2021-30465).
#pragma once
#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/fd.hpp"
#include "base/result.hpp"

namespace orun::linux {

// Resolve `path` as the container sees it: symlinks are followed with root_fd as "/",
// ".." stops at the root. Returns a clean absolute container path ("/etc/hosts");
// components that do not exist yet are kept lexically.
[[nodiscard]] Result<std::string> resolve_in_root(int root_fd, std::string_view path);

// openat2(root_fd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS).
[[nodiscard]] Result<Fd> open_in_root(int root_fd, std::string_view path, int flags, mode_t mode = 0);

// mkdir -p inside the root; returns an O_PATH fd of the (resolved) directory.
[[nodiscard]] Result<Fd> mkdir_in_root(int root_fd, std::string_view path, mode_t mode = 0755);

enum class TargetKind { directory, file };

// A mount target: create what is missing (parent directories 0755, then the last one as a
// directory or an empty file of file_mode) and return an O_PATH fd to it.
[[nodiscard]] Result<Fd> make_target(int root_fd, std::string_view path, TargetKind kind,
                                     mode_t file_mode = 0755);

// "/proc/self/fd/N": the path that names fd for mount(2) and friends.
std::string fd_path(int fd);

}  // namespace orun::linux
