#include "rootfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <climits>

#include "base/child.hpp"
#include "base/file.hpp"
#include "base/strings.hpp"
#include "devices.hpp"
#include "mounts.hpp"
#include "safe_path.hpp"

namespace orun::linux {
namespace {

// Flags a bind remount can change per mount (the rest belong to the superblock).
constexpr unsigned long kPerMountFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                         MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW;
constexpr unsigned long kAtimeFlags = MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;
constexpr unsigned long kSecurityFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// ---- /proc/self/mountinfo ----------------------------------------------------------------

struct MountInfo {
  std::string root, mountpoint, optional, fstype, source, super_options;
};

std::string unescape_octal(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

Result<std::vector<MountInfo>> read_mountinfo() {
  std::string text = TRY(read_file("/proc/self/mountinfo"));
  std::vector<MountInfo> out;
  for (const auto& line : split(text, '\n')) {
    if (line.empty()) continue;
    auto f = split(line, ' ');
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 7 || dash == f.end() || f.end() - dash < 4) continue;
    MountInfo mi;
    mi.root = unescape_octal(f[3]);
    mi.mountpoint = unescape_octal(f[4]);
    mi.optional = join(std::vector<std::string>(f.begin() + 6, dash), " ");
    mi.fstype = dash[1];
    mi.source = unescape_octal(dash[2]);
    mi.super_options = dash[3];
    out.push_back(std::move(mi));
  }
  return out;
}

bool under(std::string_view path, std::string_view dir) {
  return dir == "/" || path == dir || (starts_with(path, dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

// The mount holding `path` (the last, i.e. topmost, with the longest mount point prefix).
std::optional<MountInfo> mount_of(const std::vector<MountInfo>& mounts, const std::string& path) {
  std::optional<MountInfo> best;
  for (const auto& m : mounts)
    if (under(path, m.mountpoint) && (!best || m.mountpoint.size() >= best->mountpoint.size())) best = m;
  return best;
}

bool is_shared(const MountInfo& m) { return m.optional.find("shared:") != std::string::npos; }

// ---- mount helpers -----------------------------------------------------------------------

Result<> do_mount(const std::string& source, const std::string& target, const char* type, unsigned long flags,
                  const std::string& data, const std::string& what = "mount") {
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), type, flags,
              data.empty() ? nullptr : data.c_str()) < 0)
    return sys_error(what);
  return {};
}

// The per-mount flags a mount has now, as MS_* (fd may be O_PATH).
unsigned long current_flags(int fd) {
  struct statvfs s {};
  if (::fstatvfs(fd, &s) < 0) return 0;
  unsigned long f = 0;
  if (s.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) f |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
  else if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
  else f |= MS_STRICTATIME;
  return f;
}

// Change the flags of the bind mount at `path` (fd: the same mount, for fstatvfs).
// nosuid/nodev/noexec the mount already has are kept unless `cleared` names them (the
// "suid"/"dev"/"exec" options), so "ro" alone never drops them. In a user namespace the
// flags the mount had when the namespace was made are locked and any attempt to drop them
// fails with EPERM: then retry keeping every flag the mount has (runc does the same).
Result<> remount_bind(const std::string& path, int fd, unsigned long flags, unsigned long cleared = 0) {
  unsigned long now = current_flags(fd);
  unsigned long f = (flags & kPerMountFlags) | (now & kSecurityFlags & ~cleared) | MS_BIND | MS_REMOUNT;
  if (::mount(nullptr, path.c_str(), nullptr, f, nullptr) == 0) return {};
  if (errno != EPERM) return sys_error("remount");
  unsigned long g = f | (now & (kSecurityFlags | MS_RDONLY));
  if (flags & kAtimeFlags) g = (g & ~kAtimeFlags) | (now & kAtimeFlags);
  if (::mount(nullptr, path.c_str(), nullptr, g, nullptr) < 0) return sys_error("remount");
  return {};
}

bool is_proc_fs(const std::string& path) {
  struct statfs s {};
  return ::statfs(path.c_str(), &s) == 0 && s.f_type == PROC_SUPER_MAGIC;
}

// Nothing may be mounted inside /proc except over the few files lxcfs emulates (a mount over
// /proc/sys/kernel/... would let a container undo its protections: CVE-2019-16884).
Result<> check_proc_dest(const std::string& resolved, bool source_is_proc) {
  if (!under(resolved, "/proc")) return {};
  if (resolved == "/proc") {
    if (source_is_proc) return {};
    return fail("\"/proc\" cannot be mounted because it is not of type proc");
  }
  static const char* const kAllowed[] = {"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",  "/proc/stat",
                                         "/proc/swaps",   "/proc/uptime",    "/proc/loadavg",  "/proc/slabinfo",
                                         "/proc/net/dev", "/proc/sys/kernel/ns_last_pid"};
  for (const char* a : kAllowed)
    if (resolved == a) return {};
  return fail("\"" + resolved + "\" cannot be mounted because it is inside /proc");
}

// ---- tmpcopyup ----------------------------------------------------------------------------

Result<> copy_tree(int from, int to, const std::string& where);

Result<> copy_entry(int from, int to, const char* name, const std::string& where) {
  std::string path = where + "/" + name;
  struct stat st {};
  if (::fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return sys_error("stat " + path);
  if (S_ISDIR(st.st_mode)) {
    if (::mkdirat(to, name, 0700) < 0 && errno != EEXIST) return sys_error("mkdir " + path);
    int a = ::openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (a < 0) return sys_error("open " + path);
    Fd fa(a);
    int b = ::openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (b < 0) return sys_error("open copy of " + path);
    Fd fb(b);
    TRY(copy_tree(fa.get(), fb.get(), path));
  } else if (S_ISREG(st.st_mode)) {
    int a = ::openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (a < 0) return sys_error("open " + path);
    Fd fa(a);
    int b = ::openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (b < 0) return sys_error("create copy of " + path);
    Fd fb(b);
    std::string data = TRYC(read_fd(fa.get()), "read " + path);
    TRYC(write_all(fb.get(), data), "write copy of " + path);
  } else if (S_ISLNK(st.st_mode)) {
    char buf[PATH_MAX];
    ssize_t n = ::readlinkat(from, name, buf, sizeof buf - 1);
    if (n < 0) return sys_error("readlink " + path);
    buf[n] = 0;
    if (::symlinkat(buf, to, name) < 0) return sys_error("symlink " + path);
  } else {
    if (::mknodat(to, name, st.st_mode, st.st_rdev) < 0) return sys_error("mknod " + path);
  }
  if (::fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) return sys_error("chown " + path);
  if (!S_ISLNK(st.st_mode) && ::fchmodat(to, name, st.st_mode & 07777, 0) < 0) return sys_error("chmod " + path);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ::utimensat(to, name, times, AT_SYMLINK_NOFOLLOW);  // best effort, like cp -a
  return {};
}

Result<> copy_tree(int from, int to, const std::string& where) {
  int d = ::dup(from);
  if (d < 0) return sys_error("dup");
  DIR* dir = ::fdopendir(d);
  if (!dir) {
    ::close(d);
    return sys_error("opendir " + where);
  }
  Handle<DIR*, ::closedir> guard(dir);
  ::rewinddir(dir);
  while (struct dirent* e = ::readdir(dir)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    TRY(copy_entry(from, to, e->d_name, where));
  }
  return {};
}

// ---- the mounts ---------------------------------------------------------------------------

struct Ctx {
  const spec::Config& cfg;
  const RootfsOptions& opt;
  Fd root;
};

std::string bind_source(const RootfsOptions& opt, const std::string& source) {
  if (source.empty() || source[0] == '/' || opt.bundle.empty()) return source;
  return clean_path(opt.bundle + "/" + source);
}

std::vector<spec::Mount::IdMap> to_idmap(const std::vector<spec::IdMapping>& v) {
  std::vector<spec::Mount::IdMap> out;
  for (const auto& m : v) out.push_back({m.container_id, m.host_id, m.size});
  return out;
}

Result<> move_tree(int tree, int target) {
  if (::move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sys_error("move_mount");
  return {};
}

Result<> mount_bind(Ctx& c, size_t i, const spec::Mount& m, const MountOptions& mo, const std::string& dest) {
  std::string src = bind_source(c.opt, m.source);
  auto tree_it = c.opt.mount_trees.find(i);
  int tree = tree_it == c.opt.mount_trees.end() ? -1 : tree_it->second;
  struct stat st {};
  if (tree >= 0 ? ::fstat(tree, &st) < 0 : ::stat(src.c_str(), &st) < 0)
    return sys_error("source " + src);  // nothing to bind: runc refuses too
  TRY(check_proc_dest(dest, is_proc_fs(src)));
  Fd target = TRY(make_target(c.root.get(), dest, S_ISDIR(st.st_mode) ? TargetKind::directory : TargetKind::file));
  bool idmapped = mo.idmap || !m.uid_mappings.empty() || !m.gid_mappings.empty();
  if (tree >= 0) {
    TRY(move_tree(tree, target.get()));
  } else if (idmapped) {
    auto uids = m.uid_mappings, gids = m.gid_mappings;
    // "idmap" without mappings of its own maps like the container's user namespace.
    if (uids.empty() && c.cfg.linux) uids = to_idmap(c.cfg.linux->uid_mappings);
    if (gids.empty() && c.cfg.linux) gids = to_idmap(c.cfg.linux->gid_mappings);
    if (uids.empty() || gids.empty()) return fail("idmapped mount without uidMappings/gidMappings");
    Fd t = TRY(make_idmapped_tree(src, mo.recursive_bind, mo.recursive_idmap, uids, gids));
    TRY(move_tree(t.get(), target.get()));
  } else {
    TRY(do_mount(src, fd_path(target.get()), nullptr, MS_BIND | (mo.recursive_bind ? MS_REC : 0), "",
                 "bind " + src));
  }
  // A bind ignores every flag but MS_REC: a remount applies them to the new mount.
  if (mo.flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) {
    Fd mnt = TRY(open_in_root(c.root.get(), dest, O_PATH));
    TRY(remount_bind(fd_path(mnt.get()), mnt.get(), mo.flags, mo.clear));
  }
  return {};
}

std::string without_option(const std::string& data, std::string_view prefix) {
  std::vector<std::string> keep;
  for (auto& o : split(data, ','))
    if (!starts_with(o, prefix)) keep.push_back(o);
  return join(keep, ",");
}

bool has_option(const std::string& data, std::string_view prefix) {
  for (auto& o : split(data, ','))
    if (starts_with(o, prefix)) return true;
  return false;
}

// proc, sysfs, tmpfs, mqueue, devpts and any other file system by type.
Result<> mount_fs(Ctx& c, const spec::Mount& m, const MountOptions& mo, const std::string& dest) {
  const std::string& type = m.type;
  std::optional<mode_t> old_mode;
  {
    auto existing = open_in_root(c.root.get(), dest, O_PATH);
    struct stat st {};
    if (existing && ::fstat(existing->get(), &st) == 0) {
      if ((type == "proc" || type == "sysfs") && !S_ISDIR(st.st_mode))
        return fail("filesystem \"" + type + "\" must be mounted on ordinary directory");
      if (S_ISDIR(st.st_mode)) old_mode = st.st_mode & 07777;
    }
  }
  if (type != "proc") TRY(check_proc_dest(dest, false));
  Fd target = TRY(make_target(c.root.get(), dest, TargetKind::directory));
  std::string tpath = fd_path(target.get());

  unsigned long flags = mo.flags & ~(MS_BIND | MS_REC);
  // /dev and tmpfs mounts get files and a mode first: read-only comes in finish_rootfs().
  if (type == "tmpfs" || dest == "/dev") flags &= ~MS_RDONLY;
  std::string data = mo.data;
  if (type == "devpts") {
    // A private instance whose ptmx is usable (its default mode is 000); runc relies on the
    // config to ask for these, which every generated config does.
    if (!has_option(data, "newinstance")) data = data.empty() ? "newinstance" : data + ",newinstance";
    if (!has_option(data, "ptmxmode=")) data += ",ptmxmode=0666";
  }
  // linux.mountLabel labels the file systems the container owns, as runc does: not proc, sysfs
  // or mqueue, whose labels come from the host policy. create() refused it without SELinux.
  const std::string& label = c.cfg.linux ? c.cfg.linux->mount_label : std::string();
  if (!label.empty() && type != "proc" && type != "sysfs" && type != "mqueue" && !has_option(data, "context="))
    data += std::string(data.empty() ? "" : ",") + "context=\"" + label + "\"";
  Fd shadowed;  // the directory the tmpfs will cover, still readable through this fd
  if (mo.tmpcopyup && type == "tmpfs") {
    int fd = ::open(tpath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return sys_error("open " + dest + " for tmpcopyup");
    shadowed.reset(fd);
  }

  const char* fstype = type.empty() ? nullptr : type.c_str();
  std::string source = m.source.empty() ? type : m.source;
  if (::mount(source.c_str(), tpath.c_str(), fstype, flags, data.empty() ? nullptr : data.c_str()) < 0) {
    int err = errno;
    std::string fallback;
    // In a user namespace without its own network namespace the kernel refuses a new sysfs;
    // without its own ipc namespace a new mqueue: show the host's, as runc and crun do.
    if (c.opt.user_namespace && err == EPERM && type == "sysfs") fallback = "/sys";
    if (c.opt.user_namespace && err == EPERM && type == "mqueue") fallback = "/dev/mqueue";
    if (!fallback.empty()) {
      TRY(do_mount(fallback, tpath, nullptr, MS_BIND | MS_REC, "", "bind " + fallback + " (" + type +
                                                                        " refused in the user namespace)"));
      Fd mnt = TRY(open_in_root(c.root.get(), dest, O_PATH));
      if (flags & kPerMountFlags) TRY(remount_bind(fd_path(mnt.get()), mnt.get(), flags, mo.clear));
      return {};
    }
    // gid=5 is refused when group 5 is not mapped into the user namespace: drop it.
    if (c.opt.user_namespace && err == EINVAL && type == "devpts" && has_option(data, "gid=")) {
      TRY(do_mount(source, tpath, fstype, flags, without_option(data, "gid=")));
    } else {
      return sys_error("mount", err);
    }
  }

  if (shadowed || (type == "tmpfs" && old_mode && !has_option(data, "mode="))) {
    Fd top = TRY(open_in_root(c.root.get(), dest, O_RDONLY | O_DIRECTORY));
    if (shadowed) TRYC(copy_tree(shadowed.get(), top.get(), dest), "tmpcopyup");
    // Keep the mode of the directory the tmpfs covers (/tmp stays 1777), as runc does.
    if (type == "tmpfs" && old_mode && !has_option(data, "mode=") && ::fchmod(top.get(), *old_mode) < 0)
      return sys_error("chmod " + dest);
  }
  return {};
}

// ---- cgroup mounts ------------------------------------------------------------------------

struct OwnCgroup {
  std::string controllers, path;  // "cpu,cpuacct" / "name=systemd" / "" (v2)
};

std::vector<OwnCgroup> own_cgroups() {
  std::vector<OwnCgroup> out;
  auto text = read_file("/proc/self/cgroup");
  if (!text) return out;
  for (const auto& line : split(*text, '\n')) {
    size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    out.push_back({line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  return out;
}

// The controllers of a v1 hierarchy from its super options ("rw,cpu,cpuacct" -> cpu, cpuacct).
std::vector<std::string> hierarchy_controllers(const MountInfo& mi) {
  std::vector<std::string> out;
  for (auto& o : split(mi.super_options, ',')) {
    if (o == "rw" || o == "ro" || o == "noprefix" || o == "clone_children" || o == "xattr" || o == "cpuset_v2_mode")
      continue;
    if (o.find('=') != std::string::npos && !starts_with(o, "name=")) continue;
    out.push_back(o);
  }
  return out;
}

// Host directory of the container's cgroup in hierarchy `mi`.
std::string cgroup_dir_v1(const RootfsOptions& opt, const MountInfo& mi, const std::vector<std::string>& ctrls) {
  for (const auto& ct : ctrls) {
    auto it = opt.cgroup_paths.find(ct);
    if (it == opt.cgroup_paths.end() && starts_with(ct, "name=")) it = opt.cgroup_paths.find(ct.substr(5));
    if (it != opt.cgroup_paths.end()) return it->second;
  }
  for (const auto& own : own_cgroups()) {
    auto names = split(own.controllers, ',');
    bool match = !own.controllers.empty() &&
                 std::any_of(names.begin(), names.end(), [&](const std::string& n) {
                   return std::find(ctrls.begin(), ctrls.end(), n) != ctrls.end();
                 });
    if (!match) continue;
    std::string rel = own.path;
    if (mi.root != "/" && under(rel, mi.root)) rel = rel.substr(mi.root.size());
    return clean_path(mi.mountpoint + "/" + rel);
  }
  return mi.mountpoint;
}

Result<> mount_cgroup(Ctx& c, const MountOptions& mo, const std::string& dest) {
  unsigned long flags = mo.flags & ~(MS_BIND | MS_REC);
  struct statfs sf {};
  bool unified = ::statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
  Fd target = TRY(make_target(c.root.get(), dest, TargetKind::directory));
  if (unified) {
    if (c.opt.new_cgroup_ns) {
      if (::mount("cgroup2", fd_path(target.get()).c_str(), "cgroup2", flags,
                  mo.data.empty() ? nullptr : mo.data.c_str()) == 0)
        return {};
      if (errno != EPERM && errno != EBUSY) return sys_error("mount cgroup2");
    }
    // No cgroup namespace (or cgroup2 refused): show only the container's own cgroup.
    std::string src;
    if (auto it = c.opt.cgroup_paths.find(""); it != c.opt.cgroup_paths.end()) src = it->second;
    for (const auto& own : own_cgroups())
      if (src.empty() && own.controllers.empty()) src = clean_path("/sys/fs/cgroup/" + own.path);
    if (src.empty()) src = "/sys/fs/cgroup";
    TRY(do_mount(src, fd_path(target.get()), nullptr, MS_BIND | MS_REC, "", "bind " + src));
    Fd mnt = TRY(open_in_root(c.root.get(), dest, O_PATH));
    return remount_bind(fd_path(mnt.get()), mnt.get(), flags | kSecurityFlags, mo.clear);
  }

  // v1 or hybrid: a tmpfs holding one mount per v1 hierarchy, like runc.
  TRY(do_mount("tmpfs", fd_path(target.get()), "tmpfs", kSecurityFlags, "mode=755", "mount tmpfs"));
  auto mounts = TRY(read_mountinfo());
  std::vector<std::string> names;
  for (const auto& mi : mounts) {
    if (mi.fstype != "cgroup") continue;
    std::string name = mi.mountpoint.substr(mi.mountpoint.rfind('/') + 1);
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    auto ctrls = hierarchy_controllers(mi);
    if (ctrls.empty()) continue;
    names.push_back(name);
    std::string sub = dest + "/" + name;
    Fd st = TRYC(make_target(c.root.get(), sub, TargetKind::directory), sub);
    if (c.opt.new_cgroup_ns) {
      TRYC(do_mount("cgroup", fd_path(st.get()), "cgroup", kSecurityFlags | (flags & MS_RDONLY), join(ctrls, ",")),
           sub);
    } else {
      std::string src = cgroup_dir_v1(c.opt, mi, ctrls);
      TRYC(do_mount(src, fd_path(st.get()), nullptr, MS_BIND | MS_REC, "", "bind " + src), sub);
      Fd mnt = TRY(open_in_root(c.root.get(), sub, O_PATH));
      TRYC(remount_bind(fd_path(mnt.get()), mnt.get(), flags | kSecurityFlags, mo.clear), sub);
    }
  }
  // Co-mounted hierarchies ("cpu,cpuacct") get a link per controller, as on the host.
  Fd dir = TRY(open_in_root(c.root.get(), dest, O_PATH | O_DIRECTORY));
  for (const auto& name : names) {
    if (name.find(',') == std::string::npos) continue;
    for (const auto& part : split(name, ','))
      if (::symlinkat(name.c_str(), dir.get(), part.c_str()) < 0 && errno != EEXIST)
        return sys_error("symlink " + dest + "/" + part);
  }
  if (flags & MS_RDONLY)
    TRY(do_mount("", fd_path(dir.get()), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | kSecurityFlags, "",
                 "remount read-only"));
  return {};
}

// ---- one config.mounts entry --------------------------------------------------------------

std::string mount_label(size_t i, const spec::Mount& m, bool bind) {
  std::string what = bind ? "bind " + m.source : (m.type.empty() ? std::string("mount") : m.type);
  return "mounts[" + std::to_string(i) + "] (" + what + " on " + m.destination + ")";
}

Result<> mount_entry(Ctx& c, size_t i, const spec::Mount& m) {
  MountOptions mo = parse_mount_options(m.options);
  bool bind = mo.bind || m.type == "bind";
  std::string label = mount_label(i, m, bind);
  std::string field = "mounts[" + std::to_string(i) + "]";
  if (m.destination.empty()) return fail(field + ".destination: empty");
  bool idmapped = mo.idmap || !m.uid_mappings.empty() || !m.gid_mappings.empty();
  if (idmapped && !bind) return fail(label + ": idmapped mounts must be bind mounts");
  std::string dest = TRYC(resolve_in_root(c.root.get(), m.destination), field + ".destination");

  if (m.type == "cgroup") TRYC(mount_cgroup(c, mo, dest), label);
  else if (bind) TRYC(mount_bind(c, i, m, mo, dest), label);
  else TRYC(mount_fs(c, m, mo, dest), label);

  if (!mo.propagation.empty() || mo.attr_set || mo.attr_clr) {
    // Reopen: the target fd from before the mount names the covered directory.
    Fd mnt = TRYC(open_in_root(c.root.get(), dest, O_PATH), label);
    for (unsigned long p : mo.propagation)
      TRYC(do_mount("", fd_path(mnt.get()), nullptr, p, "", "set propagation"), label);
    if (mo.attr_set || mo.attr_clr) {
      mount_attr attr{};
      attr.attr_set = mo.attr_set;
      attr.attr_clr = mo.attr_clr;
      if (::mount_setattr(mnt.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        return std::unexpected(sys_error("mount_setattr").error().context(label));
    }
  }
  return {};
}

// ---- /dev -----------------------------------------------------------------------------------

bool binds_dev(const spec::Config& cfg) {
  for (const auto& m : cfg.mounts) {
    auto mo = parse_mount_options(m.options);
    if ((mo.bind || m.type == "bind") && clean_path("/" + m.destination) == "/dev") return true;
  }
  return false;
}

Result<> setup_dev(Ctx& c) {
  auto nodes = TRY(container_devices(c.cfg));
  size_t first_cfg = nodes.size() - (c.cfg.linux ? c.cfg.linux->devices.size() : 0);
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::string label = i < first_cfg ? "device " + nodes[i].path
                                      : "linux.devices[" + std::to_string(i - first_cfg) + "] (" + nodes[i].path + ")";
    TRYC(create_device(c.root.get(), nodes[i], c.opt.user_namespace, i >= first_cfg), label);
  }
  Fd dev = TRYC(mkdir_in_root(c.root.get(), "/dev"), "/dev");
  std::vector<std::pair<const char*, const char*>> links = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
  // Only when the kernel has /proc/kcore (CONFIG_PROC_KCORE), as runc checks.
  if (::access("/proc/kcore", F_OK) == 0) links.push_back({"/proc/kcore", "core"});
  for (auto [target, name] : links)
    if (::symlinkat(target, dev.get(), name) < 0 && errno != EEXIST) return sys_error(std::string("symlink /dev/") + name);
  // /dev/ptmx must be the one of the container's devpts instance.
  if (::unlinkat(dev.get(), "ptmx", 0) < 0 && errno != ENOENT) return sys_error("remove /dev/ptmx");
  if (::symlinkat("pts/ptmx", dev.get(), "ptmx") < 0) return sys_error("symlink /dev/ptmx");
  return {};
}

unsigned long root_propagation(const spec::Config& cfg) {
  if (!cfg.linux || cfg.linux->rootfs_propagation.empty()) return 0;
  return propagation_flags(cfg.linux->rootfs_propagation);
}

// `how` is MS_PRIVATE or MS_SLAVE: either way nothing propagates back out.
Result<> unshare_if_shared(const std::string& path, unsigned long how) {
  auto mounts = TRY(read_mountinfo());
  auto mi = mount_of(mounts, path);
  if (mi && is_shared(*mi))
    TRY(do_mount("", mi->mountpoint, nullptr, how, "", "make " + mi->mountpoint + (how == MS_SLAVE ? " slave" : " private")));
  return {};
}

// Whether a mount of the container's namespace may be shared when pivot_root runs. Not after the
// default recursive slave propagation of / (or a recursive private or unbindable one): every copy
// of a host mount is then a slave, and so is every bind of one. Only linux.rootfsPropagation
// (shared, or not recursive) or a mount's own shared option can make one shared; otherwise
// unshare_if_shared() and its reads of /proc/self/mountinfo, which lists every host mount, are
// skipped.
bool may_be_shared(const spec::Config& cfg) {
  unsigned long prop = root_propagation(cfg);
  if (prop && (!(prop & MS_REC) || (prop & MS_SHARED))) return true;
  for (const auto& m : cfg.mounts)
    for (const auto& o : m.options)
      if (o == "shared" || o == "rshared") return true;
  return false;
}

}  // namespace

// ---- public -----------------------------------------------------------------------------------

Result<> prepare_rootfs(const spec::Config& cfg, const RootfsOptions& opt) {
  if (opt.rootfs.empty() || opt.rootfs[0] != '/') return fail("root.path: \"" + opt.rootfs + "\" is not absolute");
  unsigned long prop = MS_SLAVE | MS_REC;  // host mounts still reach us, ours never reach the host
  if (cfg.linux && !cfg.linux->rootfs_propagation.empty()) {
    prop = root_propagation(cfg);
    if (!prop) return fail("linux.rootfsPropagation: unknown value \"" + cfg.linux->rootfs_propagation + "\"");
  }
  TRYC(do_mount("", "/", nullptr, prop, ""), "linux.rootfsPropagation: set on /");
  // The rootfs bind below must not propagate out, and pivot_root refuses a shared parent. For
  // (r)slave, a slave: the bind of a slave follows the same master, so host events still arrive.
  if (may_be_shared(cfg)) TRYC(unshare_if_shared(opt.rootfs, (prop & MS_SLAVE) ? MS_SLAVE : MS_PRIVATE), "root.path");
  TRYC(do_mount(opt.rootfs, opt.rootfs, nullptr, MS_BIND | MS_REC, "", "bind " + opt.rootfs + " onto itself"),
       "root.path");

  Ctx c{cfg, opt, {}};
  c.root = TRYC(open_fd(opt.rootfs, O_PATH | O_DIRECTORY), "root.path");
  for (size_t i = 0; i < cfg.mounts.size(); ++i) TRY(mount_entry(c, i, cfg.mounts[i]));
  if (!binds_dev(cfg)) TRY(setup_dev(c));
  return {};
}

Result<> mount_console(const std::string& rootfs, const std::string& pty_slave_path) {
  Fd root = TRYC(open_fd(rootfs, O_PATH | O_DIRECTORY), "root.path");
  Fd target = TRYC(make_target(root.get(), "/dev/console", TargetKind::file, 0666), "/dev/console");
  TRYC(do_mount(pty_slave_path, fd_path(target.get()), nullptr, MS_BIND, "", "bind " + pty_slave_path),
       "/dev/console");
  return {};
}

Result<> enter_rootfs(const spec::Config& cfg, const std::string& rootfs, bool no_pivot) {
  Fd newroot = TRYC(open_fd(rootfs, O_DIRECTORY | O_RDONLY), "root.path");
  if (!no_pivot) {
    // pivot_root refuses shared mounts for the new root and the current one; the final
    // propagation comes back in finish_rootfs().
    if (may_be_shared(cfg)) {
      TRY(unshare_if_shared(rootfs, MS_PRIVATE));
      TRY(unshare_if_shared("/", MS_PRIVATE));
    }
    Fd oldroot = TRYC(open_fd("/", O_DIRECTORY | O_RDONLY), "open /");
    if (::fchdir(newroot.get()) < 0) return sys_error("chdir " + rootfs);
    // pivot_root(".", "."): the old root ends up stacked on the new one, no put_old dir needed.
    if (::syscall(SYS_pivot_root, ".", ".") < 0) return sys_error("pivot_root " + rootfs);
    if (::fchdir(oldroot.get()) < 0) return sys_error("chdir old root");
    // Slave first, so that detaching the old root cannot propagate to the host.
    TRY(do_mount("", ".", nullptr, MS_SLAVE | MS_REC, "", "make old root rslave"));
    if (::umount2(".", MNT_DETACH) < 0) return sys_error("detach old root");
  } else {
    if (::fchdir(newroot.get()) < 0) return sys_error("chdir " + rootfs);
    // The host's full proc and sysfs stay reachable from a chroot and make the kernel refuse a
    // new proc/sysfs for a user namespace ("too revealing"): detach or cover them first.
    auto mounts = TRY(read_mountinfo());
    for (const auto& mi : mounts) {
      if (mi.root != "/" || (mi.fstype != "proc" && mi.fstype != "sysfs") || under(mi.mountpoint, rootfs)) continue;
      if (::mount(nullptr, mi.mountpoint.c_str(), nullptr, MS_SLAVE | MS_REC, nullptr) < 0) {
        if (errno == ENOENT) continue;
        return sys_error("make " + mi.mountpoint + " rslave");
      }
      if (::umount2(mi.mountpoint.c_str(), MNT_DETACH) < 0) {
        if (errno != EINVAL && errno != EPERM) return sys_error("detach " + mi.mountpoint);
        TRY(do_mount("tmpfs", mi.mountpoint, "tmpfs", 0, "", "cover " + mi.mountpoint));
      }
    }
    TRY(do_mount(rootfs, "/", nullptr, MS_MOVE, "", "move " + rootfs + " onto /"));
    if (::chroot(".") < 0) return sys_error("chroot " + rootfs);
  }
  if (::chdir("/") < 0) return sys_error("chdir /");
  return {};
}

Result<> finish_rootfs(const spec::Config& cfg) {
  Fd root = TRYC(open_fd("/", O_PATH | O_DIRECTORY), "open /");
  // tmpfs and /dev mounts were left writable to be filled: now make them read-only.
  for (size_t i = 0; i < cfg.mounts.size(); ++i) {
    const auto& m = cfg.mounts[i];
    MountOptions mo = parse_mount_options(m.options);
    bool bind = mo.bind || m.type == "bind";
    if (!(mo.flags & MS_RDONLY) || m.type == "cgroup") continue;
    std::string dest = TRYC(resolve_in_root(root.get(), m.destination), "mounts[" + std::to_string(i) + "].destination");
    if (!(m.type == "tmpfs" && !bind) && dest != "/dev") continue;
    Fd fd = TRYC(open_in_root(root.get(), dest, O_PATH), mount_label(i, m, bind));
    TRYC(remount_bind(dest, fd.get(), mo.flags | MS_RDONLY, mo.clear), mount_label(i, m, bind) + ": read-only");
  }
  if (cfg.root && cfg.root->readonly) TRYC(remount_bind("/", root.get(), MS_RDONLY), "root.readonly");

  const std::vector<std::string> none;
  const auto& ro_paths = cfg.linux ? cfg.linux->readonly_paths : none;
  for (size_t i = 0; i < ro_paths.size(); ++i) {
    const std::string& p = ro_paths[i];
    std::string label = "linux.readonlyPaths[" + std::to_string(i) + "] (" + p + ")";
    if (::mount(p.c_str(), p.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;  // nothing to protect
      return std::unexpected(sys_error("bind").error().context(label));
    }
    Fd fd = TRYC(open_fd(p, O_PATH), label);
    TRYC(remount_bind(p, fd.get(), MS_RDONLY | (current_flags(fd.get()) & kPerMountFlags)), label);
  }
  const auto& masked = cfg.linux ? cfg.linux->masked_paths : none;
  for (size_t i = 0; i < masked.size(); ++i) {
    const std::string& p = masked[i];
    std::string label = "linux.maskedPaths[" + std::to_string(i) + "] (" + p + ")";
    // Look before mounting: a refused bind of /dev/null onto a directory costs the kernel's
    // clean-up an expedited RCU grace period (0.5-3.5 ms each, two per default config).
    struct stat st;
    if (::stat(p.c_str(), &st) < 0) {
      if (errno == ENOENT) continue;  // nothing to hide
      return std::unexpected(sys_error("stat").error().context(label));
    }
    if (S_ISDIR(st.st_mode)) TRYC(do_mount("tmpfs", p, "tmpfs", MS_RDONLY, "", "mount tmpfs"), label);
    else TRYC(do_mount("/dev/null", p, nullptr, MS_BIND, "", "bind /dev/null"), label);
  }
  if (unsigned long prop = root_propagation(cfg))
    TRYC(do_mount("", "/", nullptr, prop, ""), "linux.rootfsPropagation");
  return {};
}

Result<Fd> make_userns_fd(const std::vector<spec::Mount::IdMap>& uid_map,
                          const std::vector<spec::Mount::IdMap>& gid_map) {
  int ready[2], hold[2];
  if (::pipe2(ready, O_CLOEXEC) < 0) return sys_error("pipe");
  Fd ready_r(ready[0]), ready_w(ready[1]);
  if (::pipe2(hold, O_CLOEXEC) < 0) return sys_error("pipe");
  Fd hold_r(hold[0]), hold_w(hold[1]);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    // Only async-signal-safe calls: the caller may have threads.
    char b = 0;
    if (::unshare(CLONE_NEWUSER) < 0) ::_exit(1);
    if (::write(ready_w.get(), &b, 1) != 1) ::_exit(1);
    while (::read(hold_r.get(), &b, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);  // the parent closed hold_w (or died)
  }
  ChildPid child(pid);
  ready_w.reset();
  hold_r.reset();
  char b;
  ssize_t n;
  while ((n = ::read(ready_r.get(), &b, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) return fail("idmap helper could not create a user namespace", EPERM);
  auto lines = [](const std::vector<spec::Mount::IdMap>& v) {
    std::string s;
    for (const auto& m : v)
      s += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
    return s;
  };
  std::string proc = "/proc/" + std::to_string(pid);
  TRYC(write_file(proc + "/uid_map", lines(uid_map)), "uidMappings");
  TRYC(write_file(proc + "/gid_map", lines(gid_map)), "gidMappings");
  Fd ns = TRY(open_fd(proc + "/ns/user", O_RDONLY));
  return ns;  // child killed and reaped by ChildPid
}

Result<Fd> make_idmapped_tree(const std::string& source, bool recursive, bool recursive_idmap,
                              const std::vector<spec::Mount::IdMap>& uid_map,
                              const std::vector<spec::Mount::IdMap>& gid_map) {
  int t = ::open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (t < 0) return sys_error("open_tree " + source);
  Fd tree(t);
  Fd ns = TRY(make_userns_fd(uid_map, gid_map));
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(ns.get());
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | (recursive_idmap ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    return sys_error("idmap " + source);
  return tree;
}

}  // namespace orun::linux
