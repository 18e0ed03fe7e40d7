// Mount option parsing, safe paths, and real root file system setups run in forked children
// that own a private mount namespace (and a user namespace for the rootless-like case).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <functional>
#include <set>

#include "base/file.hpp"
#include "base/strings.hpp"
#include "linux/devices.hpp"
#include "linux/mounts.hpp"
#include "linux/rootfs.hpp"
#include "linux/safe_path.hpp"

using namespace orun;
using namespace orun::linux;

// ---- option parsing ---------------------------------------------------------------------------

TEST_CASE("mount options: the table has runc's names, once each") {
  auto names = known_mount_options();
  std::set<std::string> uniq(names.begin(), names.end());
  CHECK(uniq.size() == names.size());
  CHECK(names.size() == 62);
  for (const char* n : {"async", "rbind", "rro", "rnosymfollow", "tmpcopyup", "idmap", "ridmap", "runbindable",
                        "nosymfollow", "defaults", "remount", "lazytime", "silent", "loud"})
    CHECK_MESSAGE(uniq.count(n) == 1, n);
}

TEST_CASE("mount options: flags, clears and data") {
  auto mo = parse_mount_options({"nosuid", "noexec", "nodev", "ro", "size=65536k", "mode=755"});
  CHECK(mo.flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  CHECK(mo.data == "size=65536k,mode=755");
  CHECK_FALSE(mo.bind);
  CHECK(mo.propagation.empty());

  auto rw = parse_mount_options({"ro", "suid", "rw"});
  CHECK(rw.flags == 0);
  CHECK(rw.clear == (MS_RDONLY | MS_NOSUID));
  auto ro = parse_mount_options({"rw", "ro"});
  CHECK(ro.flags == MS_RDONLY);
  CHECK(ro.clear == 0);

  auto atime = parse_mount_options({"noatime", "atime", "strictatime", "relatime", "nodiratime", "sync", "dirsync"});
  CHECK(atime.flags == (MS_STRICTATIME | MS_RELATIME | MS_NODIRATIME | MS_SYNCHRONOUS | MS_DIRSYNC));
  CHECK(parse_mount_options({"defaults"}).flags == 0);
  CHECK(parse_mount_options({"remount", "nosymfollow"}).flags == (MS_REMOUNT | MS_NOSYMFOLLOW));
  CHECK(parse_mount_options({"mand", "iversion", "lazytime", "silent"}).flags ==
        (MS_MANDLOCK | MS_I_VERSION | MS_LAZYTIME | MS_SILENT));
  CHECK(parse_mount_options({"gid=5", "newinstance"}).data == "gid=5,newinstance");
}

TEST_CASE("mount options: bind, rbind, idmap, tmpcopyup") {
  auto b = parse_mount_options({"bind", "ro"});
  CHECK(b.bind);
  CHECK_FALSE(b.recursive_bind);
  CHECK(b.flags == (MS_BIND | MS_RDONLY));
  auto rb = parse_mount_options({"rbind"});
  CHECK(rb.bind);
  CHECK(rb.recursive_bind);
  CHECK(rb.flags == (MS_BIND | MS_REC));
  auto id = parse_mount_options({"idmap"});
  CHECK(id.idmap);
  CHECK_FALSE(id.recursive_idmap);
  auto rid = parse_mount_options({"ridmap"});
  CHECK(rid.idmap);
  CHECK(rid.recursive_idmap);
  CHECK(parse_mount_options({"tmpcopyup"}).tmpcopyup);
  CHECK(parse_mount_options({"tmpcopyup"}).data.empty());
}

TEST_CASE("mount options: propagation in order") {
  auto mo = parse_mount_options({"rprivate", "shared", "rslave", "unbindable"});
  REQUIRE(mo.propagation.size() == 4);
  CHECK(mo.propagation[0] == (MS_PRIVATE | MS_REC));
  CHECK(mo.propagation[1] == MS_SHARED);
  CHECK(mo.propagation[2] == (MS_SLAVE | MS_REC));
  CHECK(mo.propagation[3] == MS_UNBINDABLE);
  CHECK(mo.flags == 0);
  CHECK(propagation_flags("rshared") == (MS_SHARED | MS_REC));
  CHECK(propagation_flags("private") == MS_PRIVATE);
  CHECK(propagation_flags("runbindable") == (MS_UNBINDABLE | MS_REC));
  CHECK(propagation_flags("ro") == 0);
  CHECK(propagation_flags("bogus") == 0);
}

TEST_CASE("mount options: recursive attributes") {
  auto mo = parse_mount_options({"rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow", "rnodiratime"});
  CHECK(mo.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                        MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_NODIRATIME));
  CHECK(mo.attr_clr == 0);
  CHECK(mo.flags == 0);
  auto off = parse_mount_options({"rro", "rrw", "rsuid", "rdev", "rexec", "rsymfollow", "rdiratime"});
  CHECK(off.attr_set == 0);
  CHECK(off.attr_clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                         MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_NODIRATIME));
  // Access times are one enum: the whole mask is cleared and one mode set.
  auto na = parse_mount_options({"rnoatime"});
  CHECK(na.attr_set == MOUNT_ATTR_NOATIME);
  CHECK(na.attr_clr == MOUNT_ATTR__ATIME);
  auto st = parse_mount_options({"rnoatime", "rstrictatime"});
  CHECK(st.attr_set == MOUNT_ATTR_STRICTATIME);
  CHECK(st.attr_clr == MOUNT_ATTR__ATIME);
  auto rel = parse_mount_options({"rnoatime", "rrelatime"});
  CHECK(rel.attr_set == MOUNT_ATTR_RELATIME);
  CHECK(rel.attr_clr == MOUNT_ATTR__ATIME);
  CHECK(parse_mount_options({"ratime"}).attr_set == MOUNT_ATTR_RELATIME);
  CHECK(parse_mount_options({"ratime"}).attr_clr == MOUNT_ATTR__ATIME);
  CHECK(parse_mount_options({"rnorelatime"}).attr_set == MOUNT_ATTR_STRICTATIME);
  CHECK(parse_mount_options({"rnostrictatime"}).attr_set == MOUNT_ATTR_RELATIME);
}

// ---- devices (pure part) ----------------------------------------------------------------------

TEST_CASE("devices: defaults, overrides and errors naming the entry") {
  spec::Config cfg;
  auto d = container_devices(cfg);
  REQUIRE(d);
  CHECK(d->size() == 6);
  std::set<std::string> paths;
  for (auto& n : *d) paths.insert(n.path);
  CHECK(paths == std::set<std::string>{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"});

  cfg.linux.emplace();
  cfg.linux->devices.push_back({"c", "/dev/null", 1, 3, 0600u, 5u, 6u});
  cfg.linux->devices.push_back({"b", "/dev/sda", 8, 0, std::nullopt, std::nullopt, std::nullopt});
  d = container_devices(cfg);
  REQUIRE(d);
  CHECK(d->size() == 7);
  auto null = std::find_if(d->begin(), d->end(), [](auto& n) { return n.path == "/dev/null"; });
  CHECK(null->file_mode == 0600);
  CHECK(null->uid == 5);
  CHECK(d->back().file_mode == 0666);
  CHECK(d->back().type == 'b');

  cfg.linux->devices.push_back({"x", "/dev/bad", 1, 1, std::nullopt, std::nullopt, std::nullopt});
  auto bad = container_devices(cfg);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("linux.devices[2].type") == 0);
  CHECK(default_device_rules().size() >= 12);
}

// ---- safe paths (no privileges needed) ----------------------------------------------------------

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/orun-fs-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)remove_tree(path); }
};

bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("safe_path: symlinks and .. cannot leave the root") {
  TempDir t;
  std::string r = t.path + "/root";
  REQUIRE(mkdir_p(r + "/real/sub"));
  REQUIRE(::symlink("/", (r + "/etc").c_str()) == 0);
  REQUIRE(::symlink("../../../", (r + "/a").c_str()) == 0);
  REQUIRE(::symlink("/x/../../real", (r + "/abs").c_str()) == 0);
  REQUIRE(::symlink("l2", (r + "/l1").c_str()) == 0);
  REQUIRE(::symlink("l1", (r + "/l2").c_str()) == 0);
  REQUIRE(::symlink("../sub", (r + "/real/up").c_str()) == 0);
  REQUIRE(::symlink("/nonexist/deeper", (r + "/dang").c_str()) == 0);
  Fd root = open_fd(r, O_PATH | O_DIRECTORY).value();

  CHECK(resolve_in_root(root.get(), "/etc/passwd").value() == "/passwd");
  CHECK(resolve_in_root(root.get(), "/a/b").value() == "/b");
  CHECK(resolve_in_root(root.get(), "a/../../../b").value() == "/b");
  CHECK(resolve_in_root(root.get(), "/abs/sub").value() == "/real/sub");
  CHECK(resolve_in_root(root.get(), "/real/up/x").value() == "/sub/x");
  CHECK(resolve_in_root(root.get(), "/dang/file").value() == "/nonexist/deeper/file");
  CHECK(resolve_in_root(root.get(), "/").value() == "/");
  auto loop = resolve_in_root(root.get(), "/l1/x");
  REQUIRE_FALSE(loop);
  CHECK(loop.error().code == ELOOP);

  // openat2 keeps "/etc" (-> "/") and "a" (-> ../../../) at the root.
  struct stat rs {}, es {}, as {};
  REQUIRE(::fstat(root.get(), &rs) == 0);
  Fd e = open_in_root(root.get(), "/etc", O_PATH).value();
  Fd a = open_in_root(root.get(), "/a/../..", O_PATH).value();
  REQUIRE(::fstat(e.get(), &es) == 0);
  REQUIRE(::fstat(a.get(), &as) == 0);
  CHECK(es.st_ino == rs.st_ino);
  CHECK(as.st_ino == rs.st_ino);
}

TEST_CASE("safe_path: make_target creates inside the root only") {
  TempDir t;
  std::string r = t.path + "/root";
  REQUIRE(mkdir_p(r));
  REQUIRE(::symlink("/", (r + "/etc").c_str()) == 0);
  REQUIRE(::symlink("../../../../../../../../../", (r + "/a").c_str()) == 0);
  REQUIRE(::symlink("/nonexist/deeper", (r + "/dang").c_str()) == 0);
  Fd root = open_fd(r, O_PATH | O_DIRECTORY).value();
  std::string name = "orun-escape-" + std::to_string(::getpid());

  auto d = make_target(root.get(), "/etc/" + name + "/dir", TargetKind::directory);
  REQUIRE(d);
  CHECK(exists(r + "/" + name + "/dir"));
  CHECK_FALSE(exists("/" + name));
  auto f = make_target(root.get(), "/a/" + name + "-file", TargetKind::file);
  REQUIRE(f);
  struct stat st {};
  REQUIRE(::stat((r + "/" + name + "-file").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK_FALSE(exists("/" + name + "-file"));
  REQUIRE(make_target(root.get(), "/dang/file", TargetKind::file));
  CHECK(exists(r + "/nonexist/deeper/file"));
  CHECK_FALSE(exists("/nonexist"));
  // The fd names the target: the same inode as the created file.
  struct stat fs {};
  REQUIRE(::fstat(f->get(), &fs) == 0);
  CHECK(fs.st_ino == st.st_ino);
  CHECK(fd_path(7) == "/proc/self/fd/7");
}

// ---- real root file systems in forked children ------------------------------------------------

namespace {

// Runs fn in a forked child; fn returns failures, one a line ("" when all is well).
std::string in_child(const std::function<std::string()>& fn) {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    std::string out = fn();
    (void)write_all(p[1], out);
    ::_exit(0);
  }
  ::close(p[1]);
  Fd r(p[0]);
  std::string out = read_fd(r.get()).value_or("read failed");
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) out += "child died, status " + std::to_string(status);
  return out;
}

struct Checks {
  std::string failures;
  void expect(bool ok, const std::string& what) {
    if (!ok) failures += what + " (errno " + std::to_string(errno) + ")\n";
  }
  template <typename T>
  bool ok(const Result<T>& r, const std::string& what) {
    if (!r) failures += what + ": " + r.error().message + "\n";
    return bool(r);
  }
};

unsigned long vfs_flags(const std::string& p) {
  struct statvfs s {};
  return ::statvfs(p.c_str(), &s) == 0 ? s.f_flag : ~0UL;
}

long fs_type(const std::string& p) {
  struct statfs s {};
  return ::statfs(p.c_str(), &s) == 0 ? static_cast<long>(s.f_type) : -1;
}

std::string slurp(const std::string& p) { return read_file(p).value_or("<unreadable>"); }

std::string link_of(const std::string& p) {
  char b[PATH_MAX];
  ssize_t n = ::readlink(p.c_str(), b, sizeof b);
  return n < 0 ? "" : std::string(b, static_cast<size_t>(n));
}

// A bundle with a busybox rootfs and a data dir to bind.
struct Bundle {
  TempDir t;
  std::string rootfs = t.path + "/rootfs";
  std::string data = t.path + "/data";
  Bundle() {
    for (const char* d : {"/bin", "/proc", "/dev", "/etc", "/tmp", "/secret", "/sys"}) REQUIRE(mkdir_p(rootfs + d));
    REQUIRE(::chmod((rootfs + "/tmp").c_str(), 01777) == 0);
    REQUIRE(write_file(rootfs + "/bin/busybox", read_file("/bin/busybox").value(), 0755));
    REQUIRE(write_file(rootfs + "/etc/hostname", "box\n"));
    REQUIRE(write_file(rootfs + "/secret/key", "s3cret"));
    REQUIRE(mkdir_p(data));
    REQUIRE(write_file(data + "/hello", "hello"));
  }
};

spec::Mount mnt(std::string dest, std::string type, std::string source, std::vector<std::string> opts) {
  spec::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(opts);
  return m;
}

bool is_root() { return ::geteuid() == 0; }

}  // namespace

TEST_CASE("rootfs: full setup with pivot_root, checked from inside") {
  if (!is_root()) return;
  Bundle b;
  std::string escape = "orun-escape-" + std::to_string(::getpid());
  REQUIRE(::symlink("../../../../../../../../", (b.rootfs + "/escape").c_str()) == 0);
  spec::Config cfg;
  cfg.root = spec::Root{b.rootfs, true};
  cfg.mounts = {
      mnt("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mnt("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mnt("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mnt("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "size=1m"}),
      mnt("/data", "bind", b.data, {"rbind", "ro", "nosuid"}),
      mnt("/rotmp", "tmpfs", "tmpfs", {"ro", "nodev"}),
      mnt("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mnt("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mnt("/escape/" + escape, "tmpfs", "tmpfs", {}),
      mnt("/etc", "tmpfs", "tmpfs", {"tmpcopyup", "mode=755"}),
      mnt("/hello-file", "none", "data/hello", {"bind"}),  // relative to the bundle
      mnt("/data2", "bind", b.data, {"rbind", "rro"}),
      mnt("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  };
  cfg.linux.emplace();
  cfg.linux->devices.push_back({"c", "/dev/mydev", 1, 5, 0600u, 1000u, 1001u});
  cfg.linux->masked_paths = {"/proc/keys", "/secret", "/does/not/exist"};
  cfg.linux->readonly_paths = {"/proc/sys", "/nope"};
  RootfsOptions opt;
  opt.rootfs = b.rootfs;
  opt.bundle = b.t.path;

  std::string out = in_child([&] {
    Checks c;
    if (::unshare(CLONE_NEWNS) < 0) return std::string("unshare failed\n");
    if (!c.ok(prepare_rootfs(cfg, opt), "prepare_rootfs")) return c.failures;
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    c.expect(master >= 0 && ::grantpt(master) == 0 && ::unlockpt(master) == 0, "open a pty");
    c.ok(mount_console(b.rootfs, ::ptsname(master)), "mount_console");
    if (!c.ok(enter_rootfs(cfg, b.rootfs, false), "enter_rootfs")) return c.failures;
    if (!c.ok(finish_rootfs(cfg), "finish_rootfs")) return c.failures;

    char cwd[PATH_MAX];
    c.expect(::getcwd(cwd, sizeof cwd) && std::string(cwd) == "/", "cwd is /");
    c.expect(::access("/bin/busybox", X_OK) == 0, "busybox in the new root");
    c.expect(::access(b.t.path.c_str(), F_OK) < 0, "the host's temp dir is not visible");
    c.expect(fs_type("/proc") == PROC_SUPER_MAGIC, "/proc is procfs");
    for (const auto& line : split(slurp("/proc/self/mountinfo"), '\n')) {
      auto f = split(line, ' ');
      c.expect(f.size() < 5 || f[4].find(b.t.path) == std::string::npos, "old root detached: " + line);
    }
    struct stat st {};
    c.expect(::stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3) &&
                 (st.st_mode & 07777) == 0666,
             "/dev/null is c 1:3 0666");
    c.expect(::stat("/dev/urandom", &st) == 0 && st.st_rdev == makedev(1, 9), "/dev/urandom");
    c.expect(::stat("/dev/mydev", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 5) &&
                 (st.st_mode & 07777) == 0600 && st.st_uid == 1000 && st.st_gid == 1001,
             "/dev/mydev from linux.devices");
    c.expect(link_of("/dev/fd") == "/proc/self/fd", "/dev/fd link");
    c.expect(link_of("/dev/stderr") == "/proc/self/fd/2", "/dev/stderr link");
    c.expect(link_of("/dev/ptmx") == "pts/ptmx", "/dev/ptmx link");
    c.expect(::stat("/dev/ptmx", &st) == 0 && S_ISCHR(st.st_mode) && (st.st_mode & 0777) == 0666,
             "/dev/ptmx reaches a usable ptmx of the new devpts");
    c.expect(fs_type("/dev/pts") == DEVPTS_SUPER_MAGIC, "/dev/pts is devpts");
    c.expect(::stat("/dev/console", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 136, "/dev/console is the pty");
    c.expect(fs_type("/dev/mqueue") == 0x19800202 /* MQUEUE_MAGIC */, "/dev/mqueue");
    c.expect(fs_type("/tmp") == TMPFS_MAGIC && ::stat("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777,
             "/tmp is a tmpfs keeping mode 1777");
    c.expect((vfs_flags("/tmp") & (ST_NOSUID | ST_NODEV)) == (ST_NOSUID | ST_NODEV), "/tmp nosuid,nodev");
    c.expect(slurp("/data/hello") == "hello", "bind content");
    c.expect((vfs_flags("/data") & (ST_RDONLY | ST_NOSUID)) == (ST_RDONLY | ST_NOSUID), "/data ro,nosuid");
    c.expect(::open("/data/new", O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 && errno == EROFS, "/data refuses writes");
    c.expect(fs_type("/rotmp") == TMPFS_MAGIC && (vfs_flags("/rotmp") & (ST_RDONLY | ST_NODEV)) == (ST_RDONLY | ST_NODEV),
             "/rotmp read-only tmpfs");
    c.expect(fs_type("/sys") == SYSFS_MAGIC && (vfs_flags("/sys") & ST_RDONLY), "/sys read-only sysfs");
    c.expect(fs_type("/" + escape) == TMPFS_MAGIC, "mount through escaping symlink landed in the root");
    c.expect(fs_type("/etc") == TMPFS_MAGIC && slurp("/etc/hostname") == "box\n", "tmpcopyup kept /etc/hostname");
    c.expect(slurp("/hello-file") == "hello", "file bind with a bundle-relative source");
    c.expect(vfs_flags("/data2") & ST_RDONLY, "rro makes /data2 read-only");
    c.expect(fs_type("/sys/fs/cgroup") == TMPFS_MAGIC && (vfs_flags("/sys/fs/cgroup") & ST_RDONLY),
             "/sys/fs/cgroup is a read-only tmpfs (hybrid host)");
    c.expect(fs_type("/sys/fs/cgroup/memory") == CGROUP_SUPER_MAGIC && (vfs_flags("/sys/fs/cgroup/memory") & ST_RDONLY),
             "/sys/fs/cgroup/memory is a read-only cgroup bind");
    c.expect(::access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0, "memory cgroup files visible");
    // masked and read-only paths
    c.expect(::stat("/proc/keys", &st) == 0 && st.st_rdev == makedev(1, 3) && slurp("/proc/keys").empty(),
             "/proc/keys masked by /dev/null");
    c.expect((::access("/proc/kcore", F_OK) == 0) == (link_of("/dev/core") == "/proc/kcore"),
             "/dev/core exactly when the kernel has /proc/kcore");
    c.expect(fs_type("/secret") == TMPFS_MAGIC && ::access("/secret/key", F_OK) < 0 && (vfs_flags("/secret") & ST_RDONLY),
             "/secret masked by an empty read-only tmpfs");
    c.expect(vfs_flags("/proc/sys") & ST_RDONLY, "/proc/sys read-only");
    c.expect((vfs_flags("/proc/sys") & (ST_NOSUID | ST_NOEXEC | ST_NODEV)) == (ST_NOSUID | ST_NOEXEC | ST_NODEV),
             "/proc/sys keeps nosuid,noexec,nodev");
    c.expect(!(vfs_flags("/proc") & ST_RDONLY), "/proc itself stays writable");
    c.expect(vfs_flags("/") & ST_RDONLY, "root.readonly");
    c.expect(::mkdir("/newdir", 0755) < 0 && errno == EROFS, "root refuses mkdir");
    c.expect(::open("/tmp/w", O_WRONLY | O_CREAT | O_CLOEXEC, 0644) >= 0, "/tmp still writable");
    return c.failures;
  });
  CHECK_MESSAGE(out.empty(), out);
  CHECK_FALSE(exists("/" + escape));
  CHECK(exists(b.rootfs + "/" + escape));
}

TEST_CASE("rootfs: errors name the mount or field") {
  if (!is_root()) return;
  Bundle b;
  auto run = [&](spec::Config cfg) {
    RootfsOptions opt;
    opt.rootfs = b.rootfs;
    opt.bundle = b.t.path;
    return in_child([&] {
      if (::unshare(CLONE_NEWNS) < 0) return std::string("unshare failed");
      auto r = prepare_rootfs(cfg, opt);
      return r ? std::string("no error") : r.error().message;
    });
  };
  spec::Config cfg;
  cfg.mounts = {mnt("/proc", "proc", "proc", {}), mnt("/run", "tmpfs", "tmpfs", {"size=lots"})};
  CHECK(run(cfg) == "mounts[1] (tmpfs on /run): mount: Invalid argument");
  cfg.mounts = {mnt("/x", "bind", "/nonexistent-orun", {"rbind"})};
  CHECK(run(cfg) == "mounts[0] (bind /nonexistent-orun on /x): source /nonexistent-orun: No such file or directory");
  cfg.mounts = {mnt("/proc/sys/kernel", "bind", b.data, {"rbind"})};
  CHECK(run(cfg).find("mounts[0] (bind " + b.data + " on /proc/sys/kernel): \"/proc/sys/kernel\" cannot be mounted") == 0);
  cfg.mounts = {mnt("", "tmpfs", "tmpfs", {})};
  CHECK(run(cfg) == "mounts[0].destination: empty");
  cfg.mounts = {};
  cfg.linux.emplace();
  cfg.linux->devices.push_back({"c", "/dev/bad", 1, 3, std::nullopt, std::nullopt, std::nullopt});
  cfg.linux->devices.push_back({"q", "/dev/bad2", 1, 3, std::nullopt, std::nullopt, std::nullopt});
  CHECK(run(cfg).find("linux.devices[1].type") == 0);
  cfg.linux->devices.clear();
  cfg.linux->rootfs_propagation = "sideways";
  CHECK(run(cfg) == "linux.rootfsPropagation: unknown value \"sideways\"");
}

TEST_CASE("rootfs: user namespace keeps locked flags, binds devices and sysfs") {
  if (!is_root()) return;
  Bundle b;
  std::string locked = b.t.path + "/locked";
  REQUIRE(mkdir_p(locked));
  spec::Config cfg;
  cfg.root = spec::Root{b.rootfs, true};
  cfg.mounts = {
      mnt("/dev", "tmpfs", "tmpfs", {"nosuid", "mode=755"}),
      mnt("/locked", "bind", locked, {"bind", "ro"}),
      mnt("/locked2", "bind", locked, {"bind", "ro", "suid", "dev", "exec", "noatime"}),
      mnt("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      mnt("/tmp", "tmpfs", "tmpfs", {}),
  };
  RootfsOptions opt;
  opt.rootfs = b.rootfs;
  opt.user_namespace = true;

  std::string out = in_child([&] {
    Checks c;
    // A nosuid,nodev,noexec mount made before the user namespace: those flags become locked.
    if (::unshare(CLONE_NEWNS) < 0) return std::string("unshare mnt failed\n");
    if (::mount("tmpfs", locked.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m") < 0)
      return std::string("mount locked tmpfs failed\n");
    (void)write_file(locked + "/f", "locked");
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) return std::string("unshare user failed\n");
    if (!write_file("/proc/self/setgroups", "deny") || !write_file("/proc/self/uid_map", "0 0 1") ||
        !write_file("/proc/self/gid_map", "0 0 1"))
      return std::string("writing own id maps failed\n");
    if (!c.ok(prepare_rootfs(cfg, opt), "prepare_rootfs")) return c.failures;
    if (!c.ok(enter_rootfs(cfg, b.rootfs, false), "enter_rootfs")) return c.failures;
    if (!c.ok(finish_rootfs(cfg), "finish_rootfs")) return c.failures;
    struct stat st {};
    c.expect(::stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
             "/dev/null is the host node bound in");
    int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    c.expect(fd >= 0 && ::write(fd, "x", 1) == 1, "/dev/null writable");
    if (fd >= 0) ::close(fd);
    c.expect(slurp("/locked/f") == "locked", "locked bind content");
    unsigned long want = ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC;
    c.expect((vfs_flags("/locked") & want) == want, "/locked is ro and kept nosuid,nodev,noexec");
    c.expect((vfs_flags("/locked2") & want) == want, "/locked2: suid,dev,exec cannot undo locked flags, ro still applies");
    c.expect(fs_type("/sys") == SYSFS_MAGIC && ::access("/sys/kernel", F_OK) == 0, "/sys bound from the host");
    c.expect(vfs_flags("/sys") & ST_RDONLY, "/sys read-only");
    c.expect(vfs_flags("/") & ST_RDONLY, "root.readonly in a user namespace");
    c.expect(fs_type("/tmp") == TMPFS_MAGIC, "/tmp tmpfs");
    return c.failures;
  });
  CHECK_MESSAGE(out.empty(), out);
}

TEST_CASE("rootfs: idmapped bind mounts") {
  if (!is_root()) return;
  Bundle b;
  REQUIRE(::chown((b.data + "/hello").c_str(), 0, 0) == 0);
  spec::Config cfg;
  auto m = mnt("/idm", "bind", b.data, {"rbind"});
  m.uid_mappings = {{0, 1000, 1}};
  m.gid_mappings = {{0, 2000, 1}};
  cfg.mounts = {m, mnt("/idm2", "bind", b.data, {"bind", "idmap"}), mnt("/idm3", "bind", "/nonexistent", {"bind"})};
  cfg.linux.emplace();
  cfg.linux->uid_mappings = {{0, 3000, 10}};
  cfg.linux->gid_mappings = {{0, 4000, 10}};
  RootfsOptions opt;
  opt.rootfs = b.rootfs;
  // A tree the parent prepared (as the host side does before the init enters its user ns):
  // used instead of mounts[2].source.
  auto tree = make_idmapped_tree(b.data, false, false, {{0, 5000, 1}}, {{0, 6000, 1}});
  REQUIRE_MESSAGE(tree, tree.error().message);
  opt.mount_trees[2] = tree->get();
  std::string out = in_child([&] {
    Checks c;
    if (::unshare(CLONE_NEWNS) < 0) return std::string("unshare failed\n");
    if (!c.ok(prepare_rootfs(cfg, opt), "prepare_rootfs")) return c.failures;
    struct stat st {};
    c.expect(::stat((b.rootfs + "/idm3/hello").c_str(), &st) == 0 && st.st_uid == 5000 && st.st_gid == 6000,
             "prepared tree from mount_trees");
    c.expect(::stat((b.rootfs + "/idm/hello").c_str(), &st) == 0 && st.st_uid == 1000 && st.st_gid == 2000,
             "mount mappings: uid 0 shows as 1000, gid 0 as 2000");
    c.expect(::stat((b.rootfs + "/idm2/hello").c_str(), &st) == 0 && st.st_uid == 3000 && st.st_gid == 4000,
             "idmap option uses the container's mappings");
    return c.failures;
  });
  CHECK_MESSAGE(out.empty(), out);
}

TEST_CASE("rootfs: no_pivot and shared propagation") {
  if (!is_root()) return;
  Bundle b;
  spec::Config cfg;
  cfg.mounts = {mnt("/proc", "proc", "proc", {}), mnt("/dev", "tmpfs", "tmpfs", {})};
  cfg.linux.emplace();
  cfg.linux->rootfs_propagation = "shared";
  RootfsOptions opt;
  opt.rootfs = b.rootfs;
  for (bool no_pivot : {false, true}) {
    CAPTURE(no_pivot);
    std::string out = in_child([&] {
      Checks c;
      if (::unshare(CLONE_NEWNS) < 0) return std::string("unshare failed\n");
      if (!c.ok(prepare_rootfs(cfg, opt), "prepare_rootfs")) return c.failures;
      if (!c.ok(enter_rootfs(cfg, b.rootfs, no_pivot), "enter_rootfs")) return c.failures;
      if (!c.ok(finish_rootfs(cfg), "finish_rootfs")) return c.failures;
      c.expect(::access("/bin/busybox", X_OK) == 0, "busybox in the new root");
      c.expect(::access(b.t.path.c_str(), F_OK) < 0, "host temp dir hidden");
      c.expect(fs_type("/proc") == PROC_SUPER_MAGIC, "/proc");
      bool root_shared = false;
      for (const auto& line : split(slurp("/proc/self/mountinfo"), '\n')) {
        auto f = split(line, ' ');
        if (f.size() > 6 && f[4] == "/") root_shared = root_shared || line.find(" shared:") != std::string::npos;
      }
      c.expect(root_shared, "/ is shared as linux.rootfsPropagation asks");
      return c.failures;
    });
    CHECK_MESSAGE(out.empty(), out);
  }
}

TEST_CASE("rootfs: cgroup mount with a cgroup namespace") {
  if (!is_root()) return;
  Bundle b;
  spec::Config cfg;
  cfg.mounts = {mnt("/sys", "sysfs", "sysfs", {"ro"}),
                mnt("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "ro"})};
  RootfsOptions opt;
  opt.rootfs = b.rootfs;
  opt.new_cgroup_ns = true;
  std::string out = in_child([&] {
    Checks c;
    if (::unshare(CLONE_NEWNS | CLONE_NEWCGROUP) < 0) return std::string("unshare failed\n");
    if (!c.ok(prepare_rootfs(cfg, opt), "prepare_rootfs")) return c.failures;
    std::string cg = b.rootfs + "/sys/fs/cgroup";
    struct statfs host {};
    bool unified = ::statfs("/sys/fs/cgroup", &host) == 0 && host.f_type == CGROUP2_SUPER_MAGIC;
    if (unified) {
      c.expect(fs_type(cg) == CGROUP2_SUPER_MAGIC && (vfs_flags(cg) & ST_RDONLY), "cgroup2 mounted read-only");
    } else {
      c.expect(fs_type(cg) == TMPFS_MAGIC && (vfs_flags(cg) & ST_RDONLY), "tmpfs holding the hierarchies, read-only");
      c.expect(fs_type(cg + "/memory") == CGROUP_SUPER_MAGIC && (vfs_flags(cg + "/memory") & ST_RDONLY),
               "memory hierarchy mounted read-only");
      c.expect(::access((cg + "/memory/memory.limit_in_bytes").c_str(), F_OK) == 0, "memory files");
      c.expect(fs_type(cg + "/systemd") == CGROUP_SUPER_MAGIC || ::access("/sys/fs/cgroup/systemd", F_OK) < 0,
               "name=systemd hierarchy");
    }
    return c.failures;
  });
  CHECK_MESSAGE(out.empty(), out);
}
