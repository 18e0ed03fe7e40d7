// Which cgroup file systems this host mounts, and where this process sits in them.
// The parsers are pure (text in, structs out) so that each layout can be tested
// from sample /proc files.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace orun::cgroups {

// v2: one cgroup2 tree at /sys/fs/cgroup. hybrid: v1 controller trees plus a
// cgroup2 tree (usually /sys/fs/cgroup/unified) used only for grouping. v1: no cgroup2.
enum class Layout { v2, hybrid, v1 };
const char* to_string(Layout layout);

// One line of /proc/self/mountinfo whose file system type is cgroup or cgroup2.
struct MountEntry {
  std::string root;         // the cgroup shown at the mount point ("/" unless bind-mounted or namespaced)
  std::string mount_point;  // octal escapes (\040) decoded
  std::string fstype;       // "cgroup" or "cgroup2"
  std::vector<std::string> super_options;  // "rw", "cpu", "cpuacct", "name=systemd", ...
};
std::vector<MountEntry> parse_mountinfo(std::string_view text);

// One line of /proc/<pid>/cgroup: "4:cpu,cpuacct:/a/b" or "0::/a" (v2).
struct CgroupEntry {
  int id = 0;
  std::vector<std::string> controllers;  // empty for the v2 line
  std::string path;
};
std::vector<CgroupEntry> parse_proc_cgroup(std::string_view text);

struct Hierarchy {
  std::vector<std::string> controllers;  // v1: "cpu", "cpuacct" or "name=systemd"; v2: empty
  std::string mount_point;
  std::string mount_root;
  std::string own_path;  // this process's cgroup in this hierarchy ("/" when unknown)
  bool v2 = false;
  // The directory of cgroup `path` (absolute, from the hierarchy root).
  std::string dir_of(std::string_view path) const;
};

struct Host {
  Layout layout = Layout::v2;
  std::vector<Hierarchy> v1;          // empty on v2
  std::optional<Hierarchy> unified;   // the cgroup2 tree; absent on v1
};

// Combine the two files into a Host; fails when no cgroup file system is mounted.
[[nodiscard]] Result<Host> detect(std::string_view mountinfo, std::string_view proc_cgroup);
// detect() on /proc/self/mountinfo and /proc/self/cgroup.
[[nodiscard]] Result<Host> detect_host();
// The layout and where each tree is mounted, for re-opening directories recorded at create
// (load_manager): on a pure v2 host one statfs of /sys/fs/cgroup, as runc and crun detect it,
// and then own_path and mount_root are not known (left "/"); elsewhere detect_host().
[[nodiscard]] Result<Host> detect_mounts();

}  // namespace orun::cgroups
