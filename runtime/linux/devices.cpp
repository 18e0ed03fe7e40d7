#include "devices.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "safe_path.hpp"

namespace orun::linux {

const std::vector<DeviceNode>& default_devices() {
  static const std::vector<DeviceNode> devs = {
      {"/dev/null", 'c', 1, 3, 0666, 0, 0},    {"/dev/random", 'c', 1, 8, 0666, 0, 0},
      {"/dev/full", 'c', 1, 7, 0666, 0, 0},    {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
      {"/dev/zero", 'c', 1, 5, 0666, 0, 0},    {"/dev/urandom", 'c', 1, 9, 0666, 0, 0},
  };
  return devs;
}

const std::vector<DeviceRule>& default_device_rules() {
  static const std::vector<DeviceRule> rules = [] {
    std::vector<DeviceRule> r = {
        {true, 'c', -1, -1, "m"},   // mknod of any char device (the node is useless without rw)
        {true, 'b', -1, -1, "m"},   // and of any block device
        {true, 'c', 5, 1, "rwm"},   // /dev/console
        {true, 'c', 136, -1, "rwm"},  // /dev/pts/*
        {true, 'c', 5, 2, "rwm"},   // /dev/ptmx
        {true, 'c', 10, 200, "rwm"},  // /dev/net/tun
    };
    for (const auto& d : default_devices()) r.push_back({true, d.type, d.major, d.minor, "rwm"});
    return r;
  }();
  return rules;
}

Result<std::vector<DeviceNode>> container_devices(const spec::Config& cfg) {
  static const std::vector<spec::Device> none;
  const auto& devs = cfg.linux ? cfg.linux->devices : none;
  std::vector<DeviceNode> out;
  for (const auto& d : default_devices()) {
    bool overridden = false;
    for (const auto& s : devs) overridden = overridden || s.path == d.path;
    if (!overridden) out.push_back(d);
  }
  for (size_t i = 0; i < devs.size(); ++i) {
    const auto& s = devs[i];
    std::string field = "linux.devices[" + std::to_string(i) + "]";
    if (s.type.size() != 1 || std::string_view("cbup").find(s.type[0]) == std::string_view::npos)
      return fail(field + ".type: \"" + s.type + "\" is not one of c, b, u, p");
    if (s.path.empty() || s.path[0] != '/') return fail(field + ".path: \"" + s.path + "\" is not absolute");
    if (s.major < 0 || s.minor < 0) return fail(field + ": major and minor must not be negative");
    DeviceNode n{s.path, s.type[0], s.major, s.minor, 0666, s.uid.value_or(0), s.gid.value_or(0)};
    if (s.file_mode) n.file_mode = *s.file_mode & 07777;  // the type bits come from `type`
    out.push_back(std::move(n));
  }
  return out;
}

Result<> create_device(int root_fd, const DeviceNode& node, bool bind_host, bool must_match) {
  std::string resolved = TRY(resolve_in_root(root_fd, node.path));
  if (resolved == "/") return fail("device path is the root");
  size_t slash = resolved.rfind('/');
  std::string name = resolved.substr(slash + 1);
  Fd dir = TRY(mkdir_in_root(root_fd, slash == 0 ? "/" : resolved.substr(0, slash)));
  if (bind_host) {
    // mknod is refused in a user namespace: bind the host's node onto an empty file.
    Fd target = TRY(make_target(root_fd, resolved, TargetKind::file, 0644));
    if (::mount(node.path.c_str(), fd_path(target.get()).c_str(), nullptr, MS_BIND, nullptr) < 0)
      return sys_error("bind-mount host " + node.path);
    return {};
  }
  mode_t type = node.type == 'b' ? S_IFBLK : node.type == 'p' ? S_IFIFO : S_IFCHR;
  dev_t dev = node.type == 'p' ? 0 : makedev(node.major, node.minor);
  // The umask must not reduce the requested mode: set the mode explicitly afterwards.
  if (::mknodat(dir.get(), name.c_str(), type | node.file_mode, dev) < 0) {
    if (errno != EEXIST) return sys_error("mknod " + resolved);
    // Already there (a rootfs reused without a /dev tmpfs): kept, as runc does,
    // unless a configured device must match it (the spec's rule; runc keeps it).
    if (!must_match) return {};
    struct stat st;
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return sys_error("stat " + resolved);
    if ((st.st_mode & S_IFMT) != type || (node.type != 'p' && st.st_rdev != dev))
      return fail("a file that is not this device already exists at " + resolved, EEXIST);
    return {};
  }
  if (::fchmodat(dir.get(), name.c_str(), node.file_mode, 0) < 0) return sys_error("chmod " + resolved);
  if (::fchownat(dir.get(), name.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) < 0)
    return sys_error("chown " + resolved);
  return {};
}

}  // namespace orun::linux
