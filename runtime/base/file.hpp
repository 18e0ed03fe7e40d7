// Small file helpers: whole-file reads and writes, atomic replace, mkdir -p.
#pragma once
#include <sys/types.h>

#include <string>
#include <string_view>

#include "fd.hpp"
#include "result.hpp"

namespace orun {

[[nodiscard]] Result<Fd> open_fd(const std::string& path, int flags, mode_t mode = 0);
[[nodiscard]] Result<std::string> read_file(const std::string& path);
[[nodiscard]] Result<std::string> read_fd(int fd);
// Write data to path (create or truncate).
[[nodiscard]] Result<> write_file(const std::string& path, std::string_view data, mode_t mode = 0644);
// Write through an existing fd, all of it, retrying on EINTR.
[[nodiscard]] Result<> write_all(int fd, std::string_view data);
// Write to a temporary file beside path, then rename over path: readers see
// the old or the new content, never a partial one. No fsync: the callers'
// files (state, pid files) live on /run and describe processes that a power
// loss ends anyway; a record lost that way reads as debris for delete --force.
[[nodiscard]] Result<> write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);
[[nodiscard]] Result<> mkdir_p(const std::string& path, mode_t mode = 0755);
// rm -rf that never crosses into another file system.
[[nodiscard]] Result<> remove_tree(const std::string& path);
bool path_exists(const std::string& path);

}  // namespace orun
