#include <doctest/doctest.h>
#include <cerrno>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <seccomp.h>

#include "base/child.hpp"
#include "linux/test_util.hpp"
#include "linux/process_attrs.hpp"
#include "linux/seccomp.hpp"

using namespace orun;
using namespace orun::linux;
using orun::linux::test::in_child;

namespace {

spec::SeccompSyscall rule(std::vector<std::string> names, std::string action, std::optional<uint32_t> err = {},
                          std::vector<spec::SeccompArg> args = {}) {
  spec::SeccompSyscall s;
  s.names = std::move(names);
  s.action = std::move(action);
  s.errno_ret = err;
  s.args = std::move(args);
  return s;
}

spec::SeccompArg arg(uint32_t index, std::string op, uint64_t value, uint64_t two = 0) {
  spec::SeccompArg a;
  a.index = index;
  a.op = std::move(op);
  a.value = value;
  a.value_two = two;
  return a;
}

std::string prepare_error(const spec::Seccomp& sc) {
  auto p = prepare_seccomp(&sc);
  return p ? std::string("(no error)") : p.error().message;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("seccomp name lists") {
  CHECK(seccomp_actions().size() == 9);
  CHECK(contains(seccomp_actions(), "SCMP_ACT_KILL_PROCESS"));
  CHECK(seccomp_operators().size() == 7);
  CHECK(contains(seccomp_operators(), "SCMP_CMP_MASKED_EQ"));
  auto archs = seccomp_archs();
  CHECK(contains(archs, "SCMP_ARCH_X86_64"));
  CHECK(contains(archs, "SCMP_ARCH_AARCH64"));
  CHECK(!contains(archs, "SCMP_ARCH_BOGUS"));
  auto flags = seccomp_flags();
  CHECK(contains(flags, "SECCOMP_FILTER_FLAG_LOG"));
  CHECK(contains(flags, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
}

TEST_CASE("prepare_seccomp: absent is no filter") {
  auto p = prepare_seccomp(nullptr);
  REQUIRE(p);
  CHECK(!p->has_value());
}

TEST_CASE("prepare_seccomp: errors name the field") {
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.syscalls.push_back(rule({"getcwd"}, "SCMP_ACT_ERRNO"));

  SUBCASE("default action") {
    sc.default_action = "SCMP_ACT_NOPE";
    CHECK(prepare_error(sc) == "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
  }
  SUBCASE("default NOTIFY") {
    sc.default_action = "SCMP_ACT_NOTIFY";
    CHECK(prepare_error(sc).starts_with("linux.seccomp.defaultAction: "));
  }
  SUBCASE("errnoRet above 16 bits") {
    sc.default_action = "SCMP_ACT_ERRNO";
    sc.default_errno_ret = 70000;
    CHECK(prepare_error(sc) == "linux.seccomp.defaultErrnoRet: 70000 is above 65535");
  }
  SUBCASE("rule action") {
    sc.syscalls.push_back(rule({"uname"}, "SCMP_ACT_ERRNO"));
    sc.syscalls.push_back(rule({"uname"}, "SCMP_ACT_BOGUS"));
    CHECK(prepare_error(sc) == "linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_BOGUS\"");
  }
  SUBCASE("errnoRet on an action that takes no errno") {
    sc.syscalls.push_back(rule({"uname"}, "SCMP_ACT_KILL", 3));
    CHECK(prepare_error(sc) ==
          "linux.seccomp.syscalls[1].errnoRet: set, but SCMP_ACT_KILL takes no errno (only SCMP_ACT_ERRNO and "
          "SCMP_ACT_TRACE do)");
    sc.syscalls.pop_back();
    sc.default_errno_ret = 1;
    CHECK(prepare_error(sc).starts_with("linux.seccomp.defaultErrnoRet: set, but SCMP_ACT_"));
  }
  SUBCASE("operator and index") {
    sc.syscalls.push_back(rule({"uname"}, "SCMP_ACT_ERRNO", {}, {arg(0, "SCMP_CMP_EQ", 1), arg(1, "SCMP_CMP_XX", 1)}));
    CHECK(prepare_error(sc) == "linux.seccomp.syscalls[1].args[1].op: unknown operator \"SCMP_CMP_XX\"");
    sc.syscalls[1].args[1] = arg(6, "SCMP_CMP_EQ", 1);
    CHECK(prepare_error(sc) == "linux.seccomp.syscalls[1].args[1].index: 6 is above 5");
  }
  SUBCASE("architecture") {
    sc.architectures = {"SCMP_ARCH_X86", "SCMP_ARCH_VAX"};
    CHECK(prepare_error(sc) == "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
  }
  SUBCASE("flag") {
    sc.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NOPE"};
    CHECK(prepare_error(sc) == "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\"");
  }
  SUBCASE("NOTIFY needs listenerPath") {
    sc.syscalls.push_back(rule({"uname"}, "SCMP_ACT_NOTIFY"));
    CHECK(prepare_error(sc).starts_with("linux.seccomp.listenerPath: "));
  }
  SUBCASE("NOTIFY on write is refused") {
    sc.listener_path = "/run/agent.sock";
    sc.syscalls.push_back(rule({"uname", "write"}, "SCMP_ACT_NOTIFY"));
    CHECK(prepare_error(sc).starts_with("linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY cannot be used for \"write\""));
  }
}

TEST_CASE("prepare_seccomp: program shape") {
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  sc.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  sc.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"};
  // Unknown names are skipped; a rule equal to the default action is skipped.
  sc.syscalls.push_back(rule({"read", "no_such_syscall_at_all", "write", "exit_group"}, "SCMP_ACT_ALLOW"));
  sc.syscalls.push_back(rule({"getcwd"}, "SCMP_ACT_ERRNO"));
  if (contains(seccomp_flags(), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"))
    sc.flags.push_back("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");  // dropped: no notify rule
  auto p = prepare_seccomp(&sc);
  REQUIRE(p);
  REQUIRE(p->has_value());
  const SeccompProgram& prog = **p;
  CHECK(!prog.bpf.empty());
  CHECK(!prog.notify);
  CHECK(prog.flags == (SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));
  // The program loads with those flags.
  int st = in_child([&] { return set_no_new_privs() && load_seccomp(prog) ? 0 : 10; });
  CHECK(exit_code_of(st) == 0);
}

TEST_CASE("a loaded filter returns the configured errno, honours args, kills") {
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.syscalls.push_back(rule({"getcwd", "not_a_syscall"}, "SCMP_ACT_ERRNO", ENOMEDIUM));
  sc.syscalls.push_back(rule({"uname"}, "SCMP_ACT_ERRNO"));  // EPERM by default
  // Two args on one rule: ANDed.
  sc.syscalls.push_back(
      rule({"getpriority"}, "SCMP_ACT_ERRNO", EXDEV, {arg(0, "SCMP_CMP_EQ", PRIO_PROCESS), arg(1, "SCMP_CMP_EQ", 4242)}));
  // Two conditions on the same arg: one rule each, ORed (as runc).
  sc.syscalls.push_back(
      rule({"umask"}, "SCMP_ACT_ERRNO", EDOM, {arg(0, "SCMP_CMP_EQ", 0711), arg(0, "SCMP_CMP_EQ", 0722)}));
  // MASKED_EQ: value is the mask, valueTwo the expected result.
  sc.syscalls.push_back(rule({"dup"}, "SCMP_ACT_ERRNO", ENOTTY, {arg(0, "SCMP_CMP_MASKED_EQ", 0xff00, 0x4200)}));
  sc.syscalls.push_back(rule({"getppid"}, "SCMP_ACT_KILL_PROCESS"));
  auto p = prepare_seccomp(&sc);
  REQUIRE(p);
  REQUIRE(p->has_value());
  const SeccompProgram& prog = **p;

  int st = in_child([&] {
    if (!set_no_new_privs()) return 9;
    auto fd = load_seccomp(prog);
    if (!fd) return std::fprintf(stderr, "%s\n", fd.error().message.c_str()), 10;
    if (fd->valid()) return 11;
    char buf[256];
    errno = 0;
    if (::syscall(SYS_getcwd, buf, sizeof buf) != -1 || errno != ENOMEDIUM) return 12;
    errno = 0;
    if (::syscall(SYS_uname, buf) != -1 || errno != EPERM) return 13;
    errno = 0;
    if (::syscall(SYS_getpriority, PRIO_PROCESS, 4242) != -1 || errno != EXDEV) return 14;
    if (::syscall(SYS_getpriority, PRIO_PROCESS, 0) < 0) return 15;
    errno = 0;
    if (::syscall(SYS_umask, 0711) != -1 || errno != EDOM) return 16;
    errno = 0;
    if (::syscall(SYS_umask, 0722) != -1 || errno != EDOM) return 17;
    if (::syscall(SYS_umask, 0733) < 0) return 18;
    errno = 0;
    if (::syscall(SYS_dup, 0x4233) != -1 || errno != ENOTTY) return 19;
    errno = 0;
    if (::syscall(SYS_dup, 0x4333) != -1 || errno != EBADF) return 20;  // not matched: the kernel's EBADF
    ::syscall(SYS_getppid);  // killed here
    return 21;
  });
  CHECK(WIFSIGNALED(st));
  CHECK(exit_code_of(st) == 128 + SIGSYS);
}

TEST_CASE("TRAP, LOG, TRACE and KILL_THREAD actions take effect") {
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.syscalls.push_back(rule({"getpid"}, "SCMP_ACT_LOG"));
  sc.syscalls.push_back(rule({"getcwd"}, "SCMP_ACT_TRACE", 33));  // no tracer: the call fails with ENOSYS
  sc.syscalls.push_back(rule({"getppid"}, "SCMP_ACT_TRAP"));
  sc.syscalls.push_back(rule({"uname"}, "SCMP_ACT_KILL"));
  auto p = prepare_seccomp(&sc);
  REQUIRE(p);
  auto run = [&](long nr) {
    return in_child([&] {
      if (!set_no_new_privs() || !load_seccomp(**p)) return 10;
      char buf[512];
      errno = 0;
      long r = ::syscall(nr, buf, sizeof buf);
      if (nr == SYS_getpid) return r > 0 ? 0 : 11;
      if (nr == SYS_getcwd) return r == -1 && errno == ENOSYS ? 0 : 12;
      return 13;  // TRAP and KILL do not return
    });
  };
  CHECK(exit_code_of(run(SYS_getpid)) == 0);
  CHECK(exit_code_of(run(SYS_getcwd)) == 0);
  CHECK(exit_code_of(run(SYS_getppid)) == 128 + SIGSYS);
  CHECK(exit_code_of(run(SYS_uname)) == 128 + SIGSYS);
}

TEST_CASE("defaultErrnoRet applies to the default action") {
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  sc.default_errno_ret = ENOSYS;
  // Enough for the child to run and exit.
  sc.syscalls.push_back(rule({"exit", "exit_group", "getpid", "getcwd"}, "SCMP_ACT_ALLOW"));
  auto p = prepare_seccomp(&sc);
  REQUIRE(p);
  int st = in_child([&] {
    if (!set_no_new_privs() || !load_seccomp(**p)) return 10;
    errno = 0;
    if (::syscall(SYS_uname, nullptr) != -1 || errno != ENOSYS) return 11;
    if (::syscall(SYS_getpid) <= 0) return 12;
    return 0;
  });
  CHECK(exit_code_of(st) == 0);
}

TEST_CASE("ENOSYS stub: syscalls above the profile's highest return ENOSYS (runc)") {
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";  // EPERM
  sc.syscalls.push_back(rule({"exit", "exit_group", "getpid", "write", "umask"}, "SCMP_ACT_ALLOW"));
  // Named but denied: still raises the highest known number (exit_group, 231, on x86_64).
  sc.syscalls.push_back(rule({"uname"}, "SCMP_ACT_ERRNO", EXDEV));

  auto run = [](const spec::Seccomp& c, long nr, int want) {
    auto p = prepare_seccomp(&c);
    REQUIRE(p);
    int st = in_child([&] {
      if (!set_no_new_privs() || !load_seccomp(**p)) return 10;
      errno = 0;
      long r = ::syscall(nr, 0, 0, 0);
      return r == -1 && errno == want ? 0 : 11;
    });
    return exit_code_of(st);
  };
  int above = 1000;  // no such syscall on any architecture
#if defined(__x86_64__)
  SUBCASE("without architectures: no stub, the default action") {
    CHECK(run(sc, above, EPERM) == 0);
  }
  SUBCASE("with architectures: ENOSYS above, default below, rules kept") {
    sc.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    CHECK(run(sc, above, ENOSYS) == 0);
    CHECK(run(sc, SYS_clone3, ENOSYS) == 0);
    CHECK(run(sc, SYS_getcwd, EPERM) == 0);
    CHECK(run(sc, SYS_uname, EXDEV) == 0);
  }
  SUBCASE("a permissive default gets no stub") {
    sc.default_action = "SCMP_ACT_ALLOW";
    sc.architectures = {"SCMP_ARCH_X86_64"};
    sc.syscalls[0] = rule({"getpid"}, "SCMP_ACT_ERRNO");
    CHECK(run(sc, above, ENOSYS) == 0);  // the kernel's own ENOSYS
    CHECK(run(sc, SYS_getpid, EPERM) == 0);
    CHECK(run(sc, SYS_getcwd, EPERM) != 0);
  }
#endif
}

TEST_CASE("a docker-sized profile compiles, loads and runs a shell") {
  // Allow every syscall libseccomp knows on this architecture except a few,
  // default ERRNO, three architectures: about the size of docker's profile.
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  sc.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  spec::SeccompSyscall allow = rule({}, "SCMP_ACT_ALLOW");
  for (int nr = 0; nr < 460; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (!name) continue;
    std::string n = name;
    std::free(name);
    if (n != "uname" && n != "clone3" && n != "mount" && n != "ptrace") allow.names.push_back(n);
  }
  REQUIRE(allow.names.size() > 300);
  sc.syscalls.push_back(allow);
  sc.syscalls.push_back(rule({"mount"}, "SCMP_ACT_ERRNO", ENOSPC));
  sc.syscalls.push_back(rule({"clone3"}, "SCMP_ACT_ERRNO", ENOSYS));
  auto p = prepare_seccomp(&sc);
  REQUIRE(p);
  CHECK((*p)->bpf.size() < 4096);
  int st = in_child([&] {
    if (!set_no_new_privs() || !load_seccomp(**p)) return 10;
    char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>("uname 2>/dev/null || exit 3"), nullptr};
    char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
    ::execve("/bin/sh", argv, envp);
    return 11;
  });
  CHECK(exit_code_of(st) == 3);  // the shell ran; uname was refused
}

TEST_CASE("container_process_state") {
  auto j = nlohmann::json::parse(container_process_state(R"({"ociVersion":"1.2.0","id":"c1","status":"creating","pid":77,"bundle":"/b"})",
                                                         77, "meta \"q\"\n"));
  CHECK(j["ociVersion"] == "1.2.0");
  CHECK(j["fds"] == nlohmann::json::array({"seccompFd"}));
  CHECK(j["pid"] == 77);
  CHECK(j["metadata"] == "meta \"q\"\n");
  CHECK(j["state"]["id"] == "c1");
  CHECK(j["state"]["status"] == "creating");
  auto k = nlohmann::json::parse(container_process_state("", 5, ""));
  CHECK(!k.contains("metadata"));
  CHECK(k["state"].is_object());
}

TEST_CASE("connect_listener") {
  auto bad = connect_listener("/nonexistent/agent.sock");
  REQUIRE(!bad);
  CHECK(bad.error().message.starts_with("linux.seccomp.listenerPath: "));
  CHECK(!connect_listener(""));

  char dir[] = "/tmp/orun-seccomp-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string path = std::string(dir) + "/agent.sock";
  Fd srv(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  REQUIRE(::bind(srv.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(srv.get(), 1) == 0);
  auto c = connect_listener(path);
  CHECK(c);
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST_CASE("notify: the listener reaches the agent with the state, and answers a call") {
  spec::Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.listener_path = "/unused/in/this/test";
  sc.listener_metadata = "hello";
  sc.syscalls.push_back(rule({"getppid"}, "SCMP_ACT_NOTIFY"));
  // Exercised by the load below when this kernel has it (5.19+).
  bool killable = contains(seccomp_flags(), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
  if (killable) sc.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  auto p = prepare_seccomp(&sc);
  REQUIRE(p);
  REQUIRE(p->has_value());
  CHECK((*p)->notify);
  CHECK((*p)->flags == (killable ? 1U << 5 : 0U));
  CHECK((*p)->listener_metadata == "hello");

  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  Fd agent(sv[0]), runtime(sv[1]);
  const SeccompProgram& prog = **p;
  pid_t pid = ::fork();
  if (pid == 0) {
    agent.reset();
    if (!set_no_new_privs()) ::_exit(10);
    auto l = load_seccomp(prog);
    if (!l || !l->valid()) ::_exit(11);
    std::string json = container_process_state(R"({"id":"c1","status":"creating"})", ::getpid(), prog.listener_metadata);
    if (!send_seccomp_listener(runtime.get(), l->get(), json)) ::_exit(12);
    l->reset();
    // Intercepted: the agent answers 4242.
    long r = ::syscall(SYS_getppid);
    ::_exit(r == 4242 ? 0 : 13);
  }
  ChildPid child(pid);
  runtime.reset();

  // The agent side: read the JSON with the fd.
  char buf[4096];
  iovec iov{buf, sizeof buf};
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t n = ::recvmsg(agent.get(), &msg, MSG_CMSG_CLOEXEC);
  REQUIRE(n > 0);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  REQUIRE(c != nullptr);
  REQUIRE(c->cmsg_type == SCM_RIGHTS);
  int raw;
  std::memcpy(&raw, CMSG_DATA(c), sizeof raw);
  Fd listener(raw);
  auto j = nlohmann::json::parse(std::string(buf, static_cast<size_t>(n)), nullptr, false);
  REQUIRE(!j.is_discarded());
  CHECK(j["fds"][0] == "seccompFd");
  CHECK(j["pid"] == pid);
  CHECK(j["metadata"] == "hello");
  CHECK(j["state"]["id"] == "c1");

  seccomp_notif req{};
  REQUIRE(::ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_RECV, &req) == 0);
  CHECK(req.pid == static_cast<uint32_t>(pid));
  CHECK(req.data.nr == SYS_getppid);
  seccomp_notif_resp resp{};
  resp.id = req.id;
  resp.val = 4242;
  resp.error = 0;
  REQUIRE(::ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0);
  CHECK(exit_code_of(child.wait()) == 0);
}
