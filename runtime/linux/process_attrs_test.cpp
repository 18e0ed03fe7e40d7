#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base/child.hpp"
#include "base/file.hpp"
#include "linux/test_util.hpp"
#include "linux/process_attrs.hpp"
#include "linux/rlimits.hpp"
#include "linux/sysctl.hpp"

using namespace orun;
using namespace orun::linux;
using orun::linux::test::in_child;

namespace {

int say(const Error& e, int code) {
  std::fprintf(stderr, "child: %s\n", e.message.c_str());
  return code;
}

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/orun-attrs-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { (void)remove_tree(path); }
};

}  // namespace

// ---- cpu lists

TEST_CASE("parse_cpu_list") {
  auto s = parse_cpu_list("0-3,7", "f");
  REQUIRE(s);
  CHECK(CPU_COUNT(&*s) == 5);
  for (int c : {0, 1, 2, 3, 7}) CHECK(CPU_ISSET(c, &*s));
  CHECK(!CPU_ISSET(4, &*s));
  auto t = parse_cpu_list(" 2 , 4 - 5 ", "f");
  REQUIRE(t);
  CHECK(CPU_COUNT(&*t) == 3);
  CHECK(CPU_ISSET(5, &*t));
  CHECK(parse_cpu_list("1023", "f"));

  for (const char* bad : {"", "1,", "a", "3-1", "1-", "-1", "1024", "0-2000", "1,,2", "1-2-3"}) {
    CAPTURE(bad);
    auto r = parse_cpu_list(bad, "process.execCPUAffinity.initial");
    REQUIRE(!r);
    CHECK(r.error().message.starts_with("process.execCPUAffinity.initial: invalid cpu list"));
  }
}

// ---- prepare_* errors

TEST_CASE("prepare_scheduler") {
  spec::Scheduler s;
  s.policy = "SCHED_FIFO";
  s.priority = 10;
  s.flags = {"SCHED_FLAG_RESET_ON_FORK"};
  auto a = prepare_scheduler(s);
  REQUIRE(a);
  CHECK(a->policy == SCHED_FIFO);
  CHECK(a->priority == 10);
  CHECK(a->flags == 1);

  s.flags = {"SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_BOGUS"};
  CHECK(prepare_scheduler(s).error().message == "process.scheduler.flags[1]: unknown flag \"SCHED_FLAG_BOGUS\"");
  s.flags.clear();
  s.policy = "SCHED_WHATEVER";
  CHECK(prepare_scheduler(s).error().message == "process.scheduler.policy: unknown policy \"SCHED_WHATEVER\"");
  s.policy = "SCHED_OTHER";
  CHECK(prepare_scheduler(s).error().message.starts_with("process.scheduler.priority: "));
  s.priority = 0;
  s.nice = 20;
  CHECK(prepare_scheduler(s).error().message.starts_with("process.scheduler.nice: "));
  s.nice = 0;
  s.runtime = 5;
  CHECK(!prepare_scheduler(s));
  s.policy = "SCHED_DEADLINE";
  CHECK(prepare_scheduler(s));
}

TEST_CASE("prepare_io_priority and prepare_personality") {
  spec::IoPriority io{"IOPRIO_CLASS_BE", 4};
  CHECK(prepare_io_priority(io) == ((2 << 13) | 4));
  io.klass = "IOPRIO_CLASS_NONE";
  CHECK(prepare_io_priority(io).error().message == "process.ioPriority.class: unknown class \"IOPRIO_CLASS_NONE\"");
  io = {"IOPRIO_CLASS_RT", 8};
  CHECK(prepare_io_priority(io).error().message.starts_with("process.ioPriority.priority: "));

  spec::Personality p;
  p.domain = "LINUX32";
  CHECK(prepare_personality(p) == PER_LINUX32);
  p.flags = {"ADDR_NO_RANDOMIZE"};
  CHECK(prepare_personality(p) == (static_cast<unsigned long>(PER_LINUX32) | ADDR_NO_RANDOMIZE));
  p.flags = {"ADDR_NO_RANDOMIZE", "NOPE"};
  CHECK(prepare_personality(p).error().message == "linux.personality.flags[1]: unknown flag \"NOPE\"");
  p.domain = "WINDOWS";
  CHECK(prepare_personality(p).error().message == "linux.personality.domain: unknown domain \"WINDOWS\"");
}

TEST_CASE("prepare_process_attrs") {
  spec::Process p;
  p.exec_cpu_affinity = spec::ExecCpuAffinity{"0", "0-1"};
  p.oom_score_adj = 100;
  spec::Linux l;
  l.personality = spec::Personality{"LINUX", {}};
  auto a = prepare_process_attrs(p, &l);
  REQUIRE(a);
  CHECK(a->cpus_initial);
  CHECK(CPU_COUNT(&*a->cpus_final) == 2);
  CHECK(a->personality == PER_LINUX);
  CHECK(a->oom_score_adj == 100);
  CHECK(!a->scheduler);

  p.exec_cpu_affinity->final = "x";
  CHECK(prepare_process_attrs(p, &l).error().message.starts_with("process.execCPUAffinity.final: "));
  p.exec_cpu_affinity.reset();
  p.oom_score_adj = 1001;
  CHECK(prepare_process_attrs(p, nullptr).error().message.starts_with("process.oomScoreAdj: "));
  p.oom_score_adj.reset();

  // This host has neither LSM enabled: the error must say which field asked.
  if (!apparmor_enabled()) {
    p.apparmor_profile = "docker-default";
    auto r = prepare_process_attrs(p, nullptr);
    REQUIRE(!r);
    CHECK(r.error().message.starts_with("process.apparmorProfile: "));
    CHECK(r.error().message.find("AppArmor is not enabled") != std::string::npos);
    p.apparmor_profile.clear();
  }
  if (!selinux_enabled()) {
    p.selinux_label = "system_u:system_r:container_t:s0";
    auto r = prepare_process_attrs(p, nullptr);
    REQUIRE(!r);
    CHECK(r.error().message.starts_with("process.selinuxLabel: "));
  }
}

// ---- execve

TEST_CASE("prepare_exec_env") {
  spec::Process p;
  CHECK(prepare_exec_env(p).error().message.starts_with("process.args"));
  p.args = {"sh", "-c", "true"};
  p.env = {"A=1", "PATH=/x:/y", "B=2", "A=3", "EMPTY="};
  auto e = prepare_exec_env(p);
  REQUIRE(e);
  CHECK(e->env == std::vector<std::string>{"A=3", "PATH=/x:/y", "B=2", "EMPTY="});
  CHECK(e->path == "/x:/y");
  ensure_home(*e, "/root");
  CHECK(e->env.back() == "HOME=/root");
  ensure_home(*e, "/other");
  CHECK(e->env.back() == "HOME=/root");

  p.env = {"A=1"};
  CHECK(prepare_exec_env(p)->path == kDefaultPath);
  p.env = {"A=1", "NOEQUALS"};
  CHECK(prepare_exec_env(p).error().message == "process.env[1]: \"NOEQUALS\" has no '='");
  p.env = {"=x"};
  CHECK(prepare_exec_env(p).error().message.starts_with("process.env[0]: "));
}

TEST_CASE("home_of reads passwd") {
  TempDir d;
  std::string pw = d.path + "/passwd";
  REQUIRE(write_file(pw, "root:x:0:0:root:/root:/bin/sh\nbad line\nbob:x:1000:1000::/home/bob:/bin/sh\n"));
  CHECK(home_of(0, pw) == "/root");
  CHECK(home_of(1000, pw) == "/home/bob");
  CHECK(home_of(5, pw) == "/");
  CHECK(home_of(0, d.path + "/missing") == "/");
}

TEST_CASE("find_executable: not found (ENOENT) vs not executable (EACCES)") {
  TempDir d;
  std::string bin = d.path + "/bin", other = d.path + "/other";
  REQUIRE(mkdir_p(bin));
  REQUIRE(mkdir_p(other));
  REQUIRE(write_file(bin + "/tool", "#!/bin/sh\n", 0755));
  REQUIRE(write_file(bin + "/data", "x", 0644));
  REQUIRE(write_file(other + "/data", "#!/bin/sh\n", 0755));
  REQUIRE(mkdir_p(bin + "/adir"));
  std::string path = bin + ":" + other;

  CHECK(find_executable("tool", path) == bin + "/tool");
  // Not executable in the first directory: the search goes on.
  CHECK(find_executable("data", path) == other + "/data");
  auto denied = find_executable("data", bin);
  REQUIRE(!denied);
  CHECK(denied.error().code == EACCES);
  auto missing = find_executable("nothere", path);
  REQUIRE(!missing);
  CHECK(missing.error().code == ENOENT);
  CHECK(missing.error().message.find("not found") != std::string::npos);
  CHECK(find_executable("adir", bin).error().code == ENOENT);  // directories are skipped
  CHECK(find_executable("tool", "").error().code == ENOENT);

  CHECK(find_executable(bin + "/tool", "") == bin + "/tool");
  CHECK(find_executable(bin + "/data", path).error().code == EACCES);
  CHECK(find_executable(bin + "/adir", path).error().code == EACCES);
  CHECK(find_executable(bin + "/nothere", path).error().code == ENOENT);

  // As a non-root user, an owner-only executable of root is not executable.
  REQUIRE(write_file(bin + "/rootonly", "#!/bin/sh\n", 0700));
  REQUIRE(::chmod(d.path.c_str(), 0755) == 0);
  int st = in_child([&] {
    spec::User u;
    u.uid = u.gid = 1000;
    if (!set_user(u)) return 10;
    auto r = find_executable("rootonly", bin);
    return !r && r.error().code == EACCES ? 0 : 11;
  });
  CHECK(exit_code_of(st) == 0);
}

TEST_CASE("exec_process runs the program with the prepared environment") {
  spec::Process p;
  p.args = {"sh", "-c", "test \"$A\" = 3 && test \"$HOME\" = /h && exit 7"};
  p.env = {"A=1", "A=3"};
  auto e = prepare_exec_env(p);
  REQUIRE(e);
  ensure_home(*e, "/h");
  int st = in_child([&] {
    auto exe = find_executable(e->args[0], e->path);
    if (!exe) return 10;
    auto r = exec_process(*exe, *e);
    return 11;
  });
  CHECK(exit_code_of(st) == 7);
  int st2 = in_child([&] {
    auto r = exec_process("/nonexistent/prog", *e);
    return !r && r.error().code == ENOENT ? 0 : 12;
  });
  CHECK(exit_code_of(st2) == 0);
}

// ---- applied in a child

TEST_CASE("set_user: ids, groups, umask") {
  REQUIRE(::getuid() == 0);
  int st = in_child([] {
    spec::User u;
    u.uid = 1000;
    u.gid = 1001;
    u.additional_gids = {10, 20};
    u.umask = 077;
    if (auto r = set_user(u); !r) return say(r.error(), 10);
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    ::getresuid(&ru, &eu, &su);
    ::getresgid(&rg, &eg, &sg);
    if (ru != 1000 || eu != 1000 || su != 1000) return 11;
    if (rg != 1001 || eg != 1001 || sg != 1001) return 12;
    gid_t groups[8];
    int n = ::getgroups(8, groups);
    if (n != 2 || groups[0] != 10 || groups[1] != 20) return 13;
    mode_t old = ::umask(0);
    if (old != 077) return 14;
    return 0;
  });
  CHECK(exit_code_of(st) == 0);

  int st2 = in_child([] {
    spec::User u;  // root, no groups, no umask
    ::umask(0);
    if (auto r = set_user(u); !r) return say(r.error(), 10);
    if (::getgroups(0, nullptr) != 0) return 11;
    return ::umask(0) == 022 ? 0 : 12;
  });
  CHECK(exit_code_of(st2) == 0);
}

TEST_CASE("set_no_new_privs") {
  int st = in_child([] {
    if (!set_no_new_privs()) return 10;
    return ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 11;
  });
  CHECK(exit_code_of(st) == 0);
}

TEST_CASE("scheduler, ioprio, affinity, personality, oom score applied in a child") {
  spec::Scheduler s;
  s.policy = "SCHED_BATCH";
  s.nice = 5;
  auto sched = prepare_scheduler(s);
  REQUIRE(sched);
  auto io = prepare_io_priority({"IOPRIO_CLASS_BE", 6});
  REQUIRE(io);
  auto cpus = parse_cpu_list("0", "f");
  REQUIRE(cpus);
  auto pers = prepare_personality({"LINUX32", {}});
  REQUIRE(pers);
  int st = in_child([&] {
    if (auto r = apply_scheduler(*sched); !r) return say(r.error(), 10);
    if (::sched_getscheduler(0) != SCHED_BATCH) return 11;
    errno = 0;
    if (::getpriority(PRIO_PROCESS, 0) != 5) return 12;
    if (auto r = apply_io_priority(*io); !r) return say(r.error(), 13);
    if (::syscall(SYS_ioprio_get, 1, 0) != *io) return 14;
    if (auto r = apply_cpu_affinity(*cpus); !r) return say(r.error(), 15);
    cpu_set_t got;
    if (::sched_getaffinity(0, sizeof got, &got) != 0 || CPU_COUNT(&got) != 1 || !CPU_ISSET(0, &got)) return 16;
    if (auto r = apply_personality(*pers); !r) return say(r.error(), 17);
    if ((::personality(0xffffffff) & PER_MASK) != PER_LINUX32) return 18;
    if (auto r = apply_oom_score_adj(500); !r) return say(r.error(), 19);
    auto text = read_file("/proc/self/oom_score_adj");
    if (!text || *text != "500\n") return 20;
    return 0;
  });
  CHECK(exit_code_of(st) == 0);
}

TEST_CASE("LSM writes fail with the field named when the host has no such LSM") {
  if (apparmor_enabled() || selinux_enabled()) return;  // the effect would need a real profile
  int st = in_child([] {
    auto a = apply_apparmor("some-profile");
    if (a || !a.error().message.starts_with("process.apparmorProfile \"some-profile\": ")) return 10;
    auto s = apply_selinux_label("system_u:system_r:container_t:s0");
    if (s || !s.error().message.starts_with("process.selinuxLabel ")) return 11;
    if (!apply_apparmor("") || !apply_selinux_label("")) return 12;  // empty: nothing to do
    return 0;
  });
  CHECK(exit_code_of(st) == 0);
}

// ---- rlimits

TEST_CASE("rlimits: names, errors, applied in a child") {
  CHECK(known_rlimits().size() == 16);
  CHECK(rlimit_number("RLIMIT_NOFILE") == RLIMIT_NOFILE);
  CHECK(!rlimit_number("RLIMIT_X"));

  std::vector<spec::Rlimit> rl = {{"RLIMIT_CORE", 0, 0}, {"RLIMIT_X", 1, 1}};
  CHECK(prepare_rlimits(rl).error().message == "process.rlimits[1].type: unknown rlimit \"RLIMIT_X\"");
  rl[1] = {"RLIMIT_CORE", 1, 1};
  CHECK(prepare_rlimits(rl).error().message.starts_with("process.rlimits[1].type: duplicate"));
  rl[1] = {"RLIMIT_NOFILE", 100, 200};  // hard 100 < soft 200
  CHECK(prepare_rlimits(rl).error().message.starts_with("process.rlimits[1]: soft limit"));
  rl[1] = {"RLIMIT_NOFILE", 200, 100};
  rl.push_back({"RLIMIT_STACK", RLIM_INFINITY, RLIM_INFINITY});
  auto prepared = prepare_rlimits(rl);
  REQUIRE(prepared);
  REQUIRE(prepared->size() == 3);

  int st = in_child([&] {
    if (auto r = apply_rlimits(*prepared); !r) return say(r.error(), 10);
    rlimit got;
    ::getrlimit(RLIMIT_NOFILE, &got);
    if (got.rlim_cur != 100 || got.rlim_max != 200) return 11;
    ::getrlimit(RLIMIT_STACK, &got);
    if (got.rlim_cur != RLIM_INFINITY || got.rlim_max != RLIM_INFINITY) return 12;
    ::getrlimit(RLIMIT_CORE, &got);
    if (got.rlim_max != 0) return 13;
    return 0;
  });
  CHECK(exit_code_of(st) == 0);
}

// ---- sysctl

TEST_CASE("sysctl keys and writes") {
  for (const char* bad : {"", "net/ipv4", "..", "net..x", ".net", "net.", "net.ipv4.conf.eth0/1"}) {
    CAPTURE(bad);
    auto r = check_sysctl_key(bad);
    REQUIRE(!r);
    CHECK(r.error().message.starts_with("linux.sysctl[\"" + std::string(bad) + "\"]: "));
  }
  CHECK(check_sysctl_key("net.ipv4.ip_forward"));

  TempDir d;
  REQUIRE(mkdir_p(d.path + "/net/ipv4"));
  REQUIRE(write_file(d.path + "/net/ipv4/ip_forward", "0"));
  REQUIRE(apply_sysctl({{"net.ipv4.ip_forward", "1"}}, d.path));
  CHECK(read_file(d.path + "/net/ipv4/ip_forward") == "1");
  auto missing = apply_sysctl({{"net.ipv4.nope", "1"}}, d.path);
  REQUIRE(!missing);
  CHECK(missing.error().message.starts_with("linux.sysctl[\"net.ipv4.nope\"]: "));
  CHECK(!apply_sysctl({{"net/../x", "1"}}, d.path));
}
