#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>

#include "base/child.hpp"
#include "base/file.hpp"
#include "cgroups/bpf_devices.hpp"
#include "cgroups/cgfs.hpp"
#include "cgroups/hierarchy.hpp"
#include "cgroups/manager.hpp"
#include "cgroups/oom.hpp"
#include "cgroups/stats.hpp"
#include "cgroups/v1.hpp"
#include "cgroups/v2.hpp"

#include <map>

using namespace orun;
using namespace orun::cgroups;

namespace {

const char* kV2Mountinfo =
    "22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
const char* kV2Cgroup = "0::/user.slice/user-1000.slice/session-3.scope\n";

const char* kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "33 31 0:30 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "35 31 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "36 31 0:33 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory\n"
    "37 31 0:34 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup "
    "rw,net_cls,net_prio\n"
    "38 31 0:35 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpuset\n";
const char* kHybridCgroup =
    "12:cpuset:/\n"
    "11:net_cls,net_prio:/\n"
    "6:memory:/user.slice/user-1000.slice/session-2.scope\n"
    "3:cpu,cpuacct:/user.slice\n"
    "1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"
    "0::/user.slice/user-1000.slice/session-2.scope\n";

// Pure v1, with an octal-escaped space in one mount point and a bind-mounted sub-tree.
const char* kV1Mountinfo =
    "25 18 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,release_agent=/x,name=systemd\n"
    "28 25 0:25 / /sys/fs/cgroup/cpu\\040acct rw,relatime - cgroup cgroup rw,cpuacct,cpu\n"
    "29 25 0:26 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "30 25 0:27 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n";
const char* kV1Cgroup =
    "4:pids:/docker/abc\n"
    "3:memory:/docker/abc\n"
    "2:cpu,cpuacct:/docker/abc\n"
    "1:name=systemd:/docker/abc\n";

}  // namespace

TEST_CASE("parse_mountinfo keeps cgroup mounts and decodes them") {
  auto m = parse_mountinfo(kV1Mountinfo);
  REQUIRE(m.size() == 4);
  CHECK(m[0].mount_point == "/sys/fs/cgroup/systemd");
  CHECK(std::find(m[0].super_options.begin(), m[0].super_options.end(), "name=systemd") != m[0].super_options.end());
  CHECK(m[1].mount_point == "/sys/fs/cgroup/cpu acct");
  CHECK(m[2].root == "/docker/abc");
  CHECK(m[2].fstype == "cgroup");
  auto v2 = parse_mountinfo(kV2Mountinfo);
  REQUIRE(v2.size() == 1);
  CHECK(v2[0].fstype == "cgroup2");
}

TEST_CASE("parse_mountinfo goes by the type after the separator, not by names elsewhere") {
  auto m = parse_mountinfo(
      "40 1 0:50 / /mnt/cgroup rw - tmpfs cgroup rw\n"           // named cgroup, but a tmpfs
      "41 1 0:51 / /mnt/x rw shared:2 - cgroup2Z none rw\n"      // a type that only starts so
      "42 1 0:52 / /mnt/y rw - cgroup2\n"                        // truncated: no source, no options
      "43 1 0:53 /a /mnt/z rw shared:3 master:1 - cgroup2 cgroup2 rw,nsdelegate");  // no final newline
  REQUIRE(m.size() == 1);
  CHECK(m[0].mount_point == "/mnt/z");
  CHECK(m[0].root == "/a");
  CHECK(m[0].super_options == std::vector<std::string>{"rw", "nsdelegate"});
}

TEST_CASE("parse_proc_cgroup splits ids, controller sets and paths") {
  auto e = parse_proc_cgroup(kHybridCgroup);
  REQUIRE(e.size() == 6);
  CHECK(e[1].controllers == std::vector<std::string>{"net_cls", "net_prio"});
  CHECK(e[4].controllers == std::vector<std::string>{"name=systemd"});
  CHECK(e[5].id == 0);
  CHECK(e[5].controllers.empty());
  CHECK(e[5].path == "/user.slice/user-1000.slice/session-2.scope");
  auto colon = parse_proc_cgroup("0::/a:b\n");
  REQUIRE(colon.size() == 1);
  CHECK(colon[0].path == "/a:b");
}

TEST_CASE("detect: pure v2") {
  auto h = detect(kV2Mountinfo, kV2Cgroup);
  REQUIRE(h);
  CHECK(h->layout == Layout::v2);
  CHECK(h->v1.empty());
  REQUIRE(h->unified);
  CHECK(h->unified->mount_point == "/sys/fs/cgroup");
  CHECK(h->unified->own_path == "/user.slice/user-1000.slice/session-3.scope");
  // Relative paths go below the parent of the caller's cgroup (runc's fs2 rule).
  auto m = open_manager(*h, "", "c1");
  REQUIRE(m);
  CHECK((*m)->paths() == std::map<std::string, std::string>{{"", "/sys/fs/cgroup/user.slice/user-1000.slice/c1"}});
  auto abs = open_manager(*h, "/system.slice/c1", "c1");
  REQUIRE(abs);
  CHECK((*abs)->paths()[""] == "/sys/fs/cgroup/system.slice/c1");
}

TEST_CASE("detect: hybrid with co-mounted controllers and name=systemd") {
  auto h = detect(kHybridMountinfo, kHybridCgroup);
  REQUIRE(h);
  CHECK(h->layout == Layout::hybrid);
  REQUIRE(h->unified);
  CHECK(h->unified->mount_point == "/sys/fs/cgroup/unified");
  REQUIRE(h->v1.size() == 5);
  auto find = [&](const std::string& c) -> const Hierarchy* {
    for (auto& x : h->v1)
      if (std::find(x.controllers.begin(), x.controllers.end(), c) != x.controllers.end()) return &x;
    return nullptr;
  };
  REQUIRE(find("cpuacct"));
  CHECK(find("cpu") == find("cpuacct"));
  CHECK(find("cpu")->mount_point == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(find("cpu")->own_path == "/user.slice");
  REQUIRE(find("name=systemd"));
  CHECK(find("name=systemd")->mount_point == "/sys/fs/cgroup/systemd");
  CHECK(find("net_prio")->mount_point == "/sys/fs/cgroup/net_cls,net_prio");

  auto m = open_manager(*h, "", "ctr1");
  REQUIRE(m);
  auto p = (*m)->paths();
  CHECK(p["cpu"] == "/sys/fs/cgroup/cpu,cpuacct/user.slice/ctr1");
  CHECK(p["cpuacct"] == p["cpu"]);
  CHECK(p["memory"] == "/sys/fs/cgroup/memory/user.slice/user-1000.slice/session-2.scope/ctr1");
  CHECK(p["name=systemd"] == "/sys/fs/cgroup/systemd/user.slice/user-1000.slice/session-2.scope/ctr1");
  CHECK(p[""] == "/sys/fs/cgroup/unified/user.slice/user-1000.slice/session-2.scope/ctr1");
  CHECK(p["cpuset"] == "/sys/fs/cgroup/cpuset/ctr1");
}

TEST_CASE("detect: pure v1, bind-mounted sub-tree, no cgroup2") {
  auto h = detect(kV1Mountinfo, kV1Cgroup);
  REQUIRE(h);
  CHECK(h->layout == Layout::v1);
  CHECK_FALSE(h->unified);
  REQUIRE(h->v1.size() == 4);
  auto m = open_manager(*h, "/a/b", "x");
  REQUIRE(m);
  auto p = (*m)->paths();
  CHECK(p.count("") == 0);
  CHECK(p["cpu"] == "/sys/fs/cgroup/cpu acct/a/b");
  CHECK(p["memory"] == "/sys/fs/cgroup/memory/a/b");
  auto rel = open_manager(*h, "sub", "x");
  REQUIRE(rel);
  // The memory mount shows /docker/abc at its top.
  CHECK((*rel)->paths()["memory"] == "/sys/fs/cgroup/memory/sub");
  CHECK((*rel)->paths()["pids"] == "/sys/fs/cgroup/pids/docker/abc/sub");
}

TEST_CASE("detect: nothing mounted") {
  auto h = detect("22 1 259:1 / / rw - ext4 /dev/vda1 rw\n", "0::/\n");
  REQUIRE_FALSE(h);
  CHECK(h.error().message.find("no cgroup") != std::string::npos);
}

TEST_CASE("cgroup_path_in resolves cgroupsPath like runc's cgroupfs driver") {
  Hierarchy h;
  h.mount_point = "/sys/fs/cgroup/memory";
  h.mount_root = "/";
  h.own_path = "/user.slice/s.scope";
  CHECK(cgroup_path_in(h, false, "", "id1").value() == "/user.slice/s.scope/id1");
  CHECK(cgroup_path_in(h, true, "", "id1").value() == "/user.slice/id1");
  CHECK(cgroup_path_in(h, false, "/machine/c1", "id1").value() == "/machine/c1");
  CHECK(cgroup_path_in(h, false, "//machine/./c1/", "id1").value() == "/machine/c1");
  CHECK(cgroup_path_in(h, false, "a/b", "id1").value() == "/user.slice/s.scope/a/b");
  h.own_path = "/";
  CHECK(cgroup_path_in(h, true, "a", "id1").value() == "/a");

  auto dots = cgroup_path_in(h, false, "/a/../../etc", "id1");
  REQUIRE_FALSE(dots);
  CHECK(dots.error().message.find("\"..\"") != std::string::npos);
  auto sd = cgroup_path_in(h, false, "system.slice:docker:abc", "id1");
  REQUIRE_FALSE(sd);
  CHECK(sd.error().message.find("--systemd-cgroup") != std::string::npos);
  CHECK_FALSE(cgroup_path_in(h, false, ":runc:abc", "id1"));
  CHECK_FALSE(cgroup_path_in(h, false, "/", "id1"));
  CHECK_FALSE(cgroup_path_in(h, false, "", "a/b"));
  CHECK_FALSE(cgroup_path_in(h, false, "", ".."));
}

TEST_CASE("v2 value conversions") {
  CHECK(shares_to_weight(0) == 0);
  CHECK(shares_to_weight(2) == 1);
  CHECK(shares_to_weight(1024) == 39);
  CHECK(shares_to_weight(262144) == 10000);
  CHECK(shares_to_weight(1) == 1);  // clamped, no unsigned wrap
  CHECK(blkio_weight_to_io_weight(10) == 1);
  CHECK(blkio_weight_to_io_weight(500) == 4950);
  CHECK(blkio_weight_to_io_weight(1000) == 10000);

  using O = std::optional<int64_t>;
  CHECK(swap_max_value(O{}, O{}).value() == std::nullopt);
  CHECK(swap_max_value(O{}, O{-1}).value() == "max");
  CHECK(swap_max_value(O{-1}, O{1000}).value() == "max");
  CHECK(swap_max_value(O{3000}, O{1000}).value() == "2000");
  CHECK(swap_max_value(O{1000}, O{1000}).value() == "0");
  CHECK_FALSE(swap_max_value(O{500}, O{1000}));
  CHECK_FALSE(swap_max_value(O{500}, O{}));
  auto e = swap_max_value(O{500}, O{1000});
  CHECK(e.error().message.starts_with("linux.resources.memory.swap: "));
}

TEST_CASE("v2_ignored: what v2 has no file for is a warning, not an error (runc ignores it there)") {
  spec::Resources res;
  CHECK(v2_ignored(res).empty());
  res.memory = spec::Memory{};
  res.memory->disable_oom_killer = false;
  res.block_io = spec::BlockIo{};
  res.block_io->leaf_weight = 0;
  res.block_io->weight_device.push_back(spec::WeightDevice{8, 0, 500, 0});
  CHECK(v2_ignored(res).empty());  // false and 0 ask for nothing
  res.memory->disable_oom_killer = true;
  res.block_io->leaf_weight = 300;
  res.block_io->weight_device.push_back(spec::WeightDevice{8, 16, std::nullopt, 200});
  auto w = v2_ignored(res);
  REQUIRE(w.size() == 3);
  CHECK(w[0].starts_with("linux.resources.memory.disableOOMKiller: ignored"));
  CHECK(w[1].starts_with("linux.resources.blockIO.leafWeight: ignored"));
  CHECK(w[2] == "linux.resources.blockIO.weightDevice.leafWeight: ignored: cgroup v2 has no leaf weight (device 8:16)");
}

TEST_CASE("rdma.max lines") {
  CHECK(rdma_max_line("mlx5_1", spec::Rdma{3, 10000}) == "mlx5_1 hca_handle=3 hca_object=10000");
  CHECK(rdma_max_line("rxe0", spec::Rdma{2, std::nullopt}) == "rxe0 hca_handle=2 hca_object=max");
  CHECK(rdma_max_line("rxe0", spec::Rdma{std::nullopt, 0}) == "rxe0 hca_handle=max hca_object=0");
  CHECK(rdma_max_line("rxe0", spec::Rdma{}) == "rxe0 hca_handle=max hca_object=max");
}

TEST_CASE("device rule strings") {
  spec::DeviceCgroup all;
  all.access = "rwm";
  CHECK(device_rule_string(all) == "a *:* rwm");
  CHECK(device_rule_string(spec::DeviceCgroup{false, "c", 1, 3, "rw"}) == "c 1:3 rw");
  CHECK(device_rule_string(default_device_rules().back()) == "c 136:* rwm");
  spec::Device fuse;
  fuse.type = "c";
  fuse.major = 10;
  fuse.minor = 229;
  auto r = device_rules_for({fuse});
  REQUIRE(r.size() == 1);
  CHECK(r[0].allow);
  CHECK(device_rule_string(r[0]) == "c 10:229 rwm");
}

TEST_CASE("detect_mounts: the same layout and mount points as detect_host on this machine") {
  // Here a hybrid host (the full parse); in the VM tier pure v2 (one statfs).
  auto full = detect_host();
  auto quick = detect_mounts();
  REQUIRE(full);
  REQUIRE(quick);
  CHECK(quick->layout == full->layout);
  REQUIRE(quick->unified.has_value() == full->unified.has_value());
  if (full->unified) CHECK(quick->unified->mount_point == full->unified->mount_point);
  REQUIRE(quick->v1.size() == full->v1.size());
  for (size_t i = 0; i < full->v1.size(); ++i) {
    CHECK(quick->v1[i].mount_point == full->v1[i].mount_point);
    CHECK(quick->v1[i].controllers == full->v1[i].controllers);
  }
}

// ---- A real Manager on this host (root; v1 or hybrid layout). ----

namespace {

bool real_host_usable() {
  if (::geteuid() != 0) return false;
  auto h = detect_host();
  return h && h->layout != Layout::v2;
}

// A child that sleeps until killed; the ChildPid kills and reaps it at the end.
ChildPid sleeper() {
  int ready[2];
  REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    // doctest's crash handlers came along with fork: the signals must act plainly.
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
    ::close(ready[1]);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c;
  // EOF once the child has reset its handlers.
  while (::read(ready[0], &c, 1) < 0 && errno == EINTR) {
  }
  ::close(ready[0]);
  REQUIRE(pid > 0);
  return ChildPid(pid);
}

std::string read_or_empty(const std::string& dir, const std::string& file) {
  auto v = read_value(dir, file);
  return v ? *v : std::string("<") + v.error().message + ">";
}

bool contains_pid(const std::vector<pid_t>& v, pid_t p) { return std::find(v.begin(), v.end(), p) != v.end(); }

}  // namespace

TEST_CASE("real host: default cgroupsPath is the caller's cgroup plus the id") {
  if (!real_host_usable()) return;
  auto host = detect_host().value();
  auto m = open_manager("", "some-id").value();
  auto p = m->paths();
  for (auto& h : host.v1) CHECK(p[h.controllers[0]] == h.dir_of(h.own_path == "/" ? "/some-id" : h.own_path + "/some-id"));
  // Nothing is made before create().
  CHECK_FALSE(path_exists(p["memory"]));
  auto again = load_manager(p);
  REQUIRE(again);
  CHECK((*again)->paths() == p);
}

TEST_CASE("real host: create, add, apply, freeze, kill, destroy") {
  if (!real_host_usable()) return;
  std::string name = "/orun-cgtest-" + std::to_string(::getpid());
  auto opened = open_manager(name + "/ctr", "ignored");
  REQUIRE(opened);
  auto& m = *opened;
  auto paths = m->paths();
  REQUIRE(paths.count("memory"));
  REQUIRE(paths.count("freezer"));
  REQUIRE(paths.count("name=systemd"));
  bool hybrid = paths.count("") == 1;

  REQUIRE(m->create());
  REQUIRE(m->create());  // idempotent
  for (auto& [c, d] : paths) CHECK_MESSAGE(path_exists(d), c << " " << d);
  // cpuset was filled from the parent so that a task may join.
  CHECK_FALSE(read_or_empty(paths["cpuset"], "cpuset.cpus").empty());
  CHECK_FALSE(read_or_empty(paths["cpuset"], "cpuset.mems").empty());

  ChildPid a = sleeper();
  auto added = m->add(a.get());
  REQUIRE_MESSAGE(added.has_value(), (added ? std::string() : added.error().message));
  auto pids = m->pids();
  REQUIRE(pids);
  CHECK(contains_pid(*pids, a.get()));
  {
    std::string own = read_file("/proc/" + std::to_string(a.get()) + "/cgroup").value();
    CHECK(own.find(":memory:" + name + "/ctr\n") != std::string::npos);
    CHECK(own.find(":name=systemd:" + name + "/ctr\n") != std::string::npos);
    if (hybrid) CHECK(own.find("0::" + name + "/ctr\n") != std::string::npos);
  }

  SUBCASE("limits") {
    spec::Resources res;
    spec::Memory mem;
    mem.limit = 64 << 20;
    mem.reservation = 32 << 20;
    bool memsw = has_file(paths["memory"], "memory.memsw.limit_in_bytes");
    if (memsw) mem.swap = 128 << 20;
    res.memory = mem;
    res.pids = spec::Pids{10};
    spec::Cpu cpu;
    cpu.shares = 512;
    cpu.quota = 50000;
    cpu.period = 100000;
    cpu.cpus = "0";
    res.cpu = cpu;
    spec::DeviceCgroup deny;
    deny.access = "rwm";
    res.devices = {deny};
    auto r = m->apply(res);
    REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
    CHECK(read_or_empty(paths["memory"], "memory.limit_in_bytes") == std::to_string(64 << 20));
    CHECK(read_or_empty(paths["memory"], "memory.soft_limit_in_bytes") == std::to_string(32 << 20));
    if (memsw) CHECK(read_or_empty(paths["memory"], "memory.memsw.limit_in_bytes") == std::to_string(128 << 20));
    CHECK(read_or_empty(paths["pids"], "pids.max") == "10");
    CHECK(read_or_empty(paths["cpu"], "cpu.shares") == "512");
    CHECK(read_or_empty(paths["cpu"], "cpu.cfs_quota_us") == "50000");
    CHECK(read_or_empty(paths["cpu"], "cpu.cfs_period_us") == "100000");
    CHECK(read_or_empty(paths["cpuset"], "cpuset.cpus") == "0");
    std::string devs = read_or_empty(paths["devices"], "devices.list");
    CHECK(devs.find("a *:* rwm") == std::string::npos);
    CHECK(devs.find("c 1:3 rwm") != std::string::npos);
    CHECK(devs.find("c 136:* rwm") != std::string::npos);

    if (memsw) {
      // Growing both: memsw must go first; shrinking both: the limit first.
      spec::Resources grow;
      grow.memory = spec::Memory{};
      grow.memory->limit = 256 << 20;
      grow.memory->swap = 512 << 20;
      r = m->apply(grow);
      REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
      CHECK(read_or_empty(paths["memory"], "memory.limit_in_bytes") == std::to_string(256 << 20));
      CHECK(read_or_empty(paths["memory"], "memory.memsw.limit_in_bytes") == std::to_string(512 << 20));
      spec::Resources shrink;
      shrink.memory = spec::Memory{};
      shrink.memory->limit = 32 << 20;
      shrink.memory->swap = 48 << 20;
      r = m->apply(shrink);
      REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().message));
      CHECK(read_or_empty(paths["memory"], "memory.limit_in_bytes") == std::to_string(32 << 20));
      CHECK(read_or_empty(paths["memory"], "memory.memsw.limit_in_bytes") == std::to_string(48 << 20));
      // -1 with swap unset lifts both.
      spec::Resources unl;
      unl.memory = spec::Memory{};
      unl.memory->limit = -1;
      REQUIRE(m->apply(unl));
      CHECK(read_or_empty(paths["memory"], "memory.memsw.limit_in_bytes") ==
            read_or_empty(paths["memory"], "memory.limit_in_bytes"));
    }

    spec::Resources unlimited;
    unlimited.pids = spec::Pids{-1};
    REQUIRE(m->apply(unlimited));
    CHECK(read_or_empty(paths["pids"], "pids.max") == "max");
  }

  SUBCASE("errors name the field and the file") {
    spec::Resources bad;
    bad.cpu = spec::Cpu{};
    bad.cpu->cpus = "100000";
    auto r = m->apply(bad);
    REQUIRE_FALSE(r);
    // "...: Numerical result out of range" on 6.1; the errno is the kernel's choice.
    CHECK(r.error().message.starts_with("linux.resources.cpu.cpus: write " + paths["cpuset"] + "/cpuset.cpus: "));

    spec::Resources uni;
    uni.unified["memory.max"] = "1000000";
    r = m->apply(uni);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with("linux.resources.unified: "));

    if (!paths.count("hugetlb")) {
      spec::Resources huge;
      huge.hugepage_limits.push_back({"2MB", 1 << 21});
      r = m->apply(huge);
      REQUIRE_FALSE(r);
      CHECK(r.error().message.find("linux.resources.hugepageLimits: the hugetlb cgroup controller is not mounted") !=
            std::string::npos);
    }

    spec::Resources shares;
    shares.cpu = spec::Cpu{};
    shares.cpu->shares = 1;  // the kernel clamps to 2
    r = m->apply(shares);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with("linux.resources.cpu.shares: "));
  }

  SUBCASE("freeze and thaw") {
    REQUIRE(m->freeze(true));
    CHECK(m->frozen().value());
    CHECK(read_or_empty(paths["freezer"], "freezer.state") == "FROZEN");
    REQUIRE(m->freeze(false));
    CHECK_FALSE(m->frozen().value());
    CHECK(read_or_empty(paths["freezer"], "freezer.state") == "THAWED");
  }

  SUBCASE("kill_all with a plain signal reaches every process") {
    ChildPid b = sleeper();
    REQUIRE(m->add(b.get()));
    REQUIRE(m->kill_all(SIGTERM));
    int sa = a.wait(), sb = b.wait();
    CHECK((WIFSIGNALED(sa) && WTERMSIG(sa) == SIGTERM));
    CHECK((WIFSIGNALED(sb) && WTERMSIG(sb) == SIGTERM));
    CHECK_FALSE(m->frozen().value());  // thawed again after signalling
  }

  SUBCASE("SIGKILL reaches a frozen container") {
    REQUIRE(m->freeze(true));
    REQUIRE(m->kill_all(SIGKILL));
    int sa = a.wait();
    CHECK((WIFSIGNALED(sa) && WTERMSIG(sa) == SIGKILL));
  }

  // destroy() kills what is left (a may still live) and removes every directory.
  auto d = m->destroy();
  CHECK_MESSAGE(d.has_value(), (d ? std::string() : d.error().message));
  (void)a.wait();
  for (auto& [c, dir] : paths) CHECK_MESSAGE(!path_exists(dir), c << " " << dir);
  CHECK(m->destroy());  // nothing left: fine
  // The parent that create() made for the nested path stays, as with runc; clean it here.
  for (auto& [c, dir] : paths) (void)remove_dirs(dir.substr(0, dir.rfind('/')));
}

TEST_CASE("real host: destroy removes empty hierarchies at once and still kills what one holds") {
  if (!real_host_usable()) return;
  std::string name = "/orun-cgtest-d-" + std::to_string(::getpid());
  auto m = open_manager(name + "/ctr", "ignored").value();
  auto paths = m->paths();
  REQUIRE(paths.count("memory"));
  REQUIRE(m->create());
  // A process in a cgroup below the container's in the memory hierarchy alone: every other
  // directory is empty and goes with its first rmdir, the memory one is busy.
  REQUIRE(mkdir_p(paths["memory"] + "/sub"));
  ChildPid b = sleeper();
  REQUIRE(write_value(paths["memory"] + "/sub", "cgroup.procs", std::to_string(b.get())));
  auto d = m->destroy();
  CHECK_MESSAGE(d.has_value(), (d ? std::string() : d.error().message));
  int sb = b.wait();
  CHECK((WIFSIGNALED(sb) && WTERMSIG(sb) == SIGKILL));
  for (auto& [c, dir] : paths) CHECK_MESSAGE(!path_exists(dir), c << " " << dir);
  for (auto& [c, dir] : paths) (void)remove_dirs(dir.substr(0, dir.rfind('/')));
}

TEST_CASE("real host: a create that fails half-way leaves no directory") {
  if (!real_host_usable()) return;
  auto host = detect_host().value();
  // A last hierarchy whose directory cannot be made.
  Hierarchy broken;
  broken.controllers = {"broken"};
  broken.mount_point = "/proc/sys";
  broken.mount_root = "/";
  broken.own_path = "/";
  host.v1.push_back(broken);
  std::string name = "/orun-cgtest-rb-" + std::to_string(::getpid()) + "/ctr";
  auto m = open_manager(host, name, "x").value();
  auto r = m->create();
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("mkdir /proc/sys/orun-cgtest-rb-") != std::string::npos);
  for (auto& [c, dir] : m->paths()) {
    CHECK_MESSAGE(!path_exists(dir), c << " " << dir);
    CHECK_MESSAGE(!path_exists(dir.substr(0, dir.rfind('/'))), c << " parent of " << dir);
  }
}

TEST_CASE("real host: V2Manager lifecycle on the cgroup2 mount") {
  if (::geteuid() != 0) return;
  auto host = detect_host().value();
  if (!host.unified) return;
  // Start below a parent of our own so that create() delegates nothing at the
  // host's cgroup2 root.
  std::string base = host.unified->mount_point + "/orun-v2test-" + std::to_string(::getpid());
  REQUIRE(mkdir_p(base));
  std::string dir = base + "/a/ctr";
  {
    V2Manager m(base, dir);
    REQUIRE(m.create());
    CHECK(path_exists(dir));
    ChildPid a = sleeper();
    REQUIRE(m.add(a.get()));
    CHECK(contains_pid(m.pids().value(), a.get()));
    REQUIRE(has_file(dir, "cgroup.freeze"));  // kernel 5.2+
    REQUIRE(m.freeze(true));
    CHECK(m.frozen().value());
    CHECK(read_or_empty(dir, "cgroup.events").find("frozen 1") != std::string::npos);
    REQUIRE(m.freeze(false));
    CHECK_FALSE(m.frozen().value());
    // Without the memory controller (a hybrid host's empty cgroup2 mount) the error names the
    // field and the file; with it (a pure v2 host) the limit is written.
    spec::Resources res;
    res.memory = spec::Memory{};
    res.memory->limit = 1 << 26;
    auto r = m.apply(res);
    if (has_file(dir, "memory.max")) {
      REQUIRE(r);
      CHECK(read_or_empty(dir, "memory.max") == std::to_string(1 << 26));
    } else {
      REQUIRE_FALSE(r);
      CHECK(r.error().message == "linux.resources.memory.limit: write " + dir + "/memory.max: No such file or directory");
    }
    // Devices need no controller: apply() attached the eBPF filter first.
    CHECK(attached_device_programs(dir).value().size() == 1);
    // The v1-only fields have no v2 file: an error naming the field, before anything is written.
    auto refused = [&](const std::function<void(spec::Resources&)>& set, const std::string& message) {
      spec::Resources v1only;
      set(v1only);
      auto e = m.update(v1only);
      REQUIRE_FALSE(e);
      CHECK(e.error().message == message);
    };
    refused([](spec::Resources& x) { x.memory.emplace().kernel_tcp = 1 << 20; },
            "linux.resources.memory.kernelTCP: not supported on cgroup v2");
    refused([](spec::Resources& x) { x.memory.emplace().swappiness = 10; },
            "linux.resources.memory.swappiness: not supported on cgroup v2");
    refused([](spec::Resources& x) { x.memory.emplace().use_hierarchy = false; },
            "linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical");
    refused([](spec::Resources& x) { x.cpu.emplace().realtime_runtime = 1000; },
            "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2");
    refused([](spec::Resources& x) { x.network.emplace().class_id = 1; },
            "linux.resources.network: net_cls and net_prio do not exist on cgroup v2");
    refused([](spec::Resources& x) { x.unified["../memory.max"] = "1"; },
            "linux.resources.unified: invalid file name \"../memory.max\"");
    // What runc ignores on v2 is ignored, and said so through ignored() (no file is written, so
    // this succeeds without the memory and io controllers).
    spec::Resources skipped;
    skipped.memory.emplace().disable_oom_killer = true;
    skipped.block_io.emplace().leaf_weight = 100;
    skipped.block_io->weight_device.push_back(spec::WeightDevice{8, 0, std::nullopt, 100});
    CHECK(m.update(skipped));
    CHECK(m.ignored(skipped).size() == 3);

    REQUIRE(m.kill_all(SIGKILL));
    int st = a.wait();
    CHECK((WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL));
    ChildPid b = sleeper();
    REQUIRE(m.add(b.get()));
    REQUIRE(m.destroy());
    (void)b.wait();
    CHECK_FALSE(path_exists(dir));

    // A process in a cgroup the container made below its own: the first rmdir is refused
    // (a child cgroup), so destroy() still kills it and removes both.
    REQUIRE(m.create());
    REQUIRE(mkdir_p(dir + "/sub"));
    ChildPid c = sleeper();
    REQUIRE(write_value(dir + "/sub", "cgroup.procs", std::to_string(c.get())));
    REQUIRE(m.destroy());
    int sc = c.wait();
    CHECK((WIFSIGNALED(sc) && WTERMSIG(sc) == SIGKILL));
    CHECK_FALSE(path_exists(dir));

    // Empty: one rmdir.
    REQUIRE(m.create());
    REQUIRE(m.destroy());
    CHECK_FALSE(path_exists(dir));
  }
  CHECK(remove_dirs(base));
  CHECK_FALSE(path_exists(base));
}

TEST_CASE("stats parsers") {
  auto k = parse_keyed("usage_usec 1500\nnr_throttled 3\nbogus\nx y\n");
  CHECK(k.size() == 2);
  CHECK(k["usage_usec"] == 1500);
  CHECK(k["nr_throttled"] == 3);
  auto b = parse_blkio_v1("8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\nTotal 4608\n");
  REQUIRE(b.size() == 3);
  CHECK(b[0].major == 8);
  CHECK(b[0].op == "Read");
  CHECK(b[1].value == 512);
  BlkioStats io;
  parse_io_stat("254:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n", io);
  REQUIRE(io.service_bytes.size() == 3);
  CHECK(io.service_bytes[1].op == "Write");
  CHECK(io.service_bytes[1].value == 200);
  CHECK(io.serviced[0].value == 1);
  CHECK(io.serviced[0].major == 254);
  CHECK(parse_limit("max\n") == 0);
  CHECK(parse_limit("42") == 42);
}

TEST_CASE("stats JSON has runc's shape") {
  Stats s;
  s.pids = {3, 50};
  s.memory.usage.usage = 4096;
  s.cpu.percpu = {1, 2};
  s.hugetlb["2MB"] = {1, 2, 3};
  auto j = nlohmann::json::parse(stats_json(s));
  CHECK(j["pids"]["current"] == 3);
  CHECK(j["pids"]["limit"] == 50);
  CHECK(j["memory"]["usage"]["usage"] == 4096);
  CHECK(j["cpu"]["usage"]["percpu"].size() == 2);
  CHECK(j["cpu"]["throttling"].contains("throttledPeriods"));
  CHECK(j["blkio"].contains("ioServiceBytesRecursive"));
  CHECK(j["hugetlb"]["2MB"]["failcnt"] == 3);
}

namespace {

// A directory of files standing in for cgroupfs (read_stats only reads files).
struct FakeCgroup {
  std::string dir;
  FakeCgroup() {
    char tmpl[] = "/tmp/orun-cgstats-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~FakeCgroup() { (void)remove_tree(dir); }
  void put(const std::string& file, const std::string& text) { REQUIRE(write_file(dir + "/" + file, text)); }
};

}  // namespace

// net_cls/net_prio and rdma are not mounted on the test host (mounting a v1 hierarchy there would
// show in every process's /proc/PID/cgroup): the files and values, on plain files named as the kernel's.
TEST_CASE("V1Manager writes network and rdma limits to their files") {
  FakeCgroup net, rdma;
  for (const char* f : {"net_cls.classid", "net_prio.ifpriomap"}) net.put(f, "");
  rdma.put("rdma.max", "");
  V1Manager m({V1Dir{{"net_cls", "net_prio"}, "/nowhere", net.dir}, V1Dir{{"rdma"}, "/nowhere", rdma.dir}},
              std::nullopt);
  spec::Resources res;
  res.network.emplace();
  res.network->class_id = 0x100001;
  res.network->priorities.push_back({"eth0", 5});
  res.rdma["mlx5_1"] = spec::Rdma{3, std::nullopt};
  auto r = m.update(res);
  REQUIRE_MESSAGE(r, r.error().message);
  CHECK(read_value(net.dir, "net_cls.classid").value() == "1048577");
  CHECK(read_value(net.dir, "net_prio.ifpriomap").value() == "eth0 5");
  CHECK(read_value(rdma.dir, "rdma.max").value() == "mlx5_1 hca_handle=3 hca_object=max");

  V1Manager bare({}, std::nullopt);
  auto e = bare.update(res);
  REQUIRE_FALSE(e);
  CHECK(e.error().message == "linux.resources.network.classID: the net_cls cgroup controller is not mounted");
}

TEST_CASE("read_stats on cgroup v2 files") {
  FakeCgroup cg;
  cg.put("cpu.stat", "usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 7\n");
  cg.put("memory.current", "8192\n");
  cg.put("memory.max", "max\n");
  cg.put("memory.peak", "9000\n");
  cg.put("memory.stat", "anon 4096\nfile 1024\n");
  cg.put("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  cg.put("memory.swap.current", "100\n");
  cg.put("memory.swap.max", "max\n");
  cg.put("pids.current", "3\n");
  cg.put("pids.max", "50\n");
  cg.put("io.stat", "254:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
  cg.put("hugetlb.2MB.current", "0\n");
  cg.put("hugetlb.2MB.max", "4194304\n");
  cg.put("hugetlb.2MB.events", "max 2\n");
  auto s = read_stats({{"", cg.dir}});
  REQUIRE(s);
  CHECK(s->cpu.total == 2000000);
  CHECK(s->cpu.user == 1500000);
  CHECK(s->cpu.kernel == 500000);
  CHECK(s->cpu.throttled_periods == 4);
  CHECK(s->cpu.throttled_time == 7000);
  CHECK(s->memory.usage.usage == 8192);
  CHECK(s->memory.usage.limit == UINT64_MAX);
  CHECK(s->memory.usage.max == 9000);
  CHECK(s->memory.usage.failcnt == 3);
  CHECK(s->memory.cache == 1024);
  CHECK(s->memory.swap.usage == 8292);
  CHECK(s->memory.swap.limit == UINT64_MAX);
  CHECK(s->pids.current == 3);
  CHECK(s->pids.limit == 50);
  CHECK(s->blkio.service_bytes.size() == 3);
  CHECK(s->hugetlb["2MB"].max == 4194304);
  CHECK(s->hugetlb["2MB"].failcnt == 2);
}

TEST_CASE("read_stats on cgroup v1 files") {
  FakeCgroup cpuacct, cpu, memory, pids, blkio;
  cpuacct.put("cpuacct.usage", "3000\n");
  cpuacct.put("cpuacct.usage_percpu", "1000 2000 \n");
  cpuacct.put("cpuacct.usage_sys", "1200\n");
  cpuacct.put("cpuacct.usage_user", "1800\n");
  cpu.put("cpu.stat", "nr_periods 5\nnr_throttled 2\nthrottled_time 99\n");
  memory.put("memory.stat", "cache 512\nrss 4096\n");
  memory.put("memory.usage_in_bytes", "4608\n");
  memory.put("memory.limit_in_bytes", "33554432\n");
  memory.put("memory.failcnt", "6\n");
  pids.put("pids.current", "2\n");
  pids.put("pids.max", "max\n");
  blkio.put("blkio.throttle.io_service_bytes_recursive", "254:0 Read 4096\n254:0 Write 0\nTotal 4096\n");
  blkio.put("blkio.throttle.io_serviced_recursive", "254:0 Read 1\nTotal 1\n");
  auto s = read_stats({{"cpuacct", cpuacct.dir}, {"cpu", cpu.dir}, {"memory", memory.dir}, {"pids", pids.dir},
                       {"blkio", blkio.dir}, {"", "/nonexistent"}});
  REQUIRE(s);
  CHECK(s->cpu.total == 3000);
  CHECK(s->cpu.percpu == std::vector<uint64_t>{1000, 2000});
  CHECK(s->cpu.kernel == 1200);
  CHECK(s->cpu.user == 1800);
  CHECK(s->cpu.throttled_periods == 2);
  CHECK(s->memory.cache == 512);
  CHECK(s->memory.usage.usage == 4608);
  CHECK(s->memory.usage.limit == 33554432);
  CHECK(s->memory.usage.failcnt == 6);
  CHECK(s->pids.current == 2);
  CHECK(s->pids.limit == 0);
  REQUIRE(s->blkio.service_bytes.size() == 2);
  CHECK(s->blkio.serviced.size() == 1);
}

TEST_CASE("OOM watch on cgroup v2 counts rises of oom_kill") {
  FakeCgroup cg;
  cg.put("memory.events", "oom 1\noom_kill 1\n");
  auto w = OomWatch::open({{"", cg.dir}});
  REQUIRE(w);
  CHECK(w->consume().value() == 0);  // kills before the watch do not count
  cg.put("memory.events", "oom 3\noom_kill 3\n");
  struct pollfd p{w->fd(), POLLIN, 0};
  CHECK(::poll(&p, 1, 5000) == 1);
  CHECK(w->consume().value() == 2);
  CHECK(w->consume().value() == 0);
  CHECK(!OomWatch::open({{"", "/nonexistent"}}));
}
