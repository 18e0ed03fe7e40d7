// The container's root file system, set up by the container init in its new mount namespace:
//   prepare_rootfs()   propagation of /, the rootfs bind, config.mounts, /dev nodes and links
//   mount_console()    (when process.terminal) the pty slave onto <rootfs>/dev/console
//   enter_rootfs()     pivot_root (or MS_MOVE + chroot)
//   finish_rootfs()    read-only remounts, readonlyPaths, maskedPaths, final propagation
// Mounts made here die with the mount namespace, so errors leave them; fds are always closed.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "base/fd.hpp"
#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::linux {

struct RootfsOptions {
  std::string rootfs;          // absolute host path of the rootfs, already resolved from the bundle
  std::string bundle;          // bundle directory: relative bind-mount sources are relative to it
  bool user_namespace = false; // a new user ns: no mknod, locked mount flags, no sysfs without a net ns
  bool new_cgroup_ns = false;
  // controller ("memory", "cpu", "name=systemd", or "" for cgroup2) -> absolute host dir of the
  // container's cgroup, for "cgroup" mounts when there is no cgroup namespace. Missing entries
  // fall back to this process's own cgroup (/proc/self/cgroup).
  std::map<std::string, std::string> cgroup_paths;
  // mounts[i] -> a detached mount tree (open_tree(OPEN_TREE_CLONE), possibly idmapped with
  // make_idmapped_tree()) that the parent prepared before the init entered its user namespace.
  // Borrowed: the caller keeps ownership. Used instead of the mount's source.
  std::map<size_t, int> mount_trees;
};

[[nodiscard]] Result<> prepare_rootfs(const spec::Config& cfg, const RootfsOptions& opt);
[[nodiscard]] Result<> mount_console(const std::string& rootfs, const std::string& pty_slave_path);
// pivot_root(".", ".") in the rootfs and a lazy unmount of the old root; with no_pivot, MS_MOVE
// the rootfs onto / and chroot (less safe: the old root stays reachable to a process that can
// escape a chroot, which is why pivot_root is the default). Leaves the cwd at the new "/".
[[nodiscard]] Result<> enter_rootfs(const spec::Config& cfg, const std::string& rootfs, bool no_pivot);
[[nodiscard]] Result<> finish_rootfs(const spec::Config& cfg);

// A detached copy of `source` (recursive when `recursive`) whose ids are mapped through a new
// user namespace holding uid_map/gid_map ("container_id host_id size" lines, as OCI writes
// them); idmap applied recursively when recursive_idmap. For the idmap/ridmap options and
// mounts[].uidMappings; callable from the host side before the init enters its user ns.
[[nodiscard]] Result<Fd> make_idmapped_tree(const std::string& source, bool recursive, bool recursive_idmap,
                                            const std::vector<spec::Mount::IdMap>& uid_map,
                                            const std::vector<spec::Mount::IdMap>& gid_map);

// A user namespace fd (/proc/<pid>/ns/user of a short-lived child) with these mappings.
[[nodiscard]] Result<Fd> make_userns_fd(const std::vector<spec::Mount::IdMap>& uid_map,
                                        const std::vector<spec::Mount::IdMap>& gid_map);

}  // namespace orun::linux
