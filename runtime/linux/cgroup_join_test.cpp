#include <doctest/doctest.h>
#include <mntent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.hpp"
#include "linux/cgroup_join.hpp"
#include "linux/test_util.hpp"

using namespace orun;
using namespace orun::linux;

TEST_CASE("cgroup_join: each v1 directory once, through tasks; the v2 one apart") {
  auto j = cgroup_join({{"", "/sys/fs/cgroup/unified/c"},
                        {"cpu", "/sys/fs/cgroup/cpu,cpuacct/c"},
                        {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct/c"},
                        {"pids", "/sys/fs/cgroup/pids/c"}});
  CHECK(j.v2_dir == "/sys/fs/cgroup/unified/c");
  CHECK(j.v1_tasks == std::vector<std::string>{"/sys/fs/cgroup/cpu,cpuacct/c/tasks", "/sys/fs/cgroup/pids/c/tasks"});
  CHECK(cgroup_join({{"", "/sys/fs/cgroup/c"}}).v1_tasks.empty());
}

namespace {

// The mount point of a cgroup2 file system, or of the v1 hierarchy with `option` (e.g. "pids").
std::string cgroup_mount(const char* type, const char* option) {
  std::string found;
  FILE* f = ::setmntent("/proc/self/mounts", "re");
  while (mntent* m = ::getmntent(f))
    if (std::string(m->mnt_type) == type && (!option || ::hasmntopt(m, option))) found = m->mnt_dir;
  ::endmntent(f);
  return found;
}

}  // namespace

TEST_CASE("a child is born in its cgroup v2 and joins v1 hierarchies itself") {
  std::string v2 = cgroup_mount("cgroup2", nullptr);
  std::string v1 = cgroup_mount("cgroup", "pids");
  REQUIRE_MESSAGE(!v2.empty(), "no cgroup2 mounted");
  std::map<std::string, std::string> paths{{"", v2 + "/orun-join-test"}};
  if (!v1.empty()) paths["pids"] = v1 + "/orun-join-test";
  for (auto& [c, dir] : paths) REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  auto j = cgroup_join(paths);
  Fd dir = open_v2_dir(j);
  REQUIRE(dir.valid());

  bool born = false;
  pid_t pid = fork_into_cgroup(dir.get(), born);
  if (pid == 0) {
    if (!born || !join_cgroups(j, born)) ::_exit(2);
    auto self = read_file("/proc/self/cgroup");
    bool in_v2 = self && self->find("0::/orun-join-test\n") != std::string::npos;
    bool in_v1 = v1.empty() || (self && self->find(":pids:/orun-join-test\n") != std::string::npos);
    ::_exit(in_v2 && in_v1 ? 0 : 3);
  }
  REQUIRE(pid > 0);
  dir.reset();
  int status = ChildPid(pid).wait();
  CHECK(born);  // Linux 5.7 and later
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (auto& [c, dir] : paths) CHECK(::rmdir(dir.c_str()) == 0);
}
