// The link layer against the kernel, inside a private network namespace (the test's "host")
// so nothing touches the machine's own links.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

#include "addr.hpp"
#include "attach.hpp"
#include "base/file.hpp"
#include "link.hpp"

using namespace orch::netns;

namespace {

// Run fn in a forked child inside a new network namespace; returns what fn reported ("" = ok).
std::string in_new_netns(const std::function<std::string()>& fn) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return "pipe";
  pid_t pid = fork();
  if (pid == 0) {
    std::string msg = unshare(CLONE_NEWNET) == 0 ? fn() : "unshare(CLONE_NEWNET) failed";
    (void)!write(fds[1], msg.data(), msg.size());
    _exit(0);
  }
  close(fds[1]);
  std::string msg = *orun::read_fd(fds[0]);
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st)) return "child died: " + msg;
  return msg;
}

// A process holding a second new network namespace (the "container"); killed on destruction.
struct NsHolder {
  pid_t pid = -1;
  int hold[2] = {-1, -1};
  NsHolder() {
    if (pipe2(hold, O_CLOEXEC) != 0) return;
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0) return;
    pid = fork();
    if (pid == 0) {
      close(hold[1]);  // or the read below never sees EOF
      if (unshare(CLONE_NEWNET) != 0) _exit(1);
      (void)!write(ready[1], "x", 1);
      char c;
      (void)!read(hold[0], &c, 1);
      _exit(0);
    }
    close(ready[1]);
    char c;
    (void)!read(ready[0], &c, 1);
    close(ready[0]);
  }
  std::string path() const { return "/proc/" + std::to_string(pid) + "/ns/net"; }
  ~NsHolder() {
    close(hold[1]);
    if (pid > 0) waitpid(pid, nullptr, 0);
  }
};

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  return out;
}

#define EXPECT(cond, what) \
  if (!(cond)) return std::string(what)

}  // namespace

TEST_CASE("attach builds bridge, veth, addresses and routes; detach removes the container's part") {
  std::string msg = in_new_netns([]() -> std::string {
    NsHolder c;
    auto ns = open_netns(c.path());
    EXPECT(ns, "open_netns: " + ns.error().message);
    AttachSpec s{"tbr0", 1400, {*parse_cidr("10.5.0.1/24"), *parse_cidr("fd05::1/64")}, "tveth0", "eth0", ns->get(),
                 {*parse_cidr("10.5.0.2/24"), *parse_cidr("fd05::2/64")}, "02:00:00:00:05:02", true,
                 {*parse_ip("10.5.0.1"), *parse_ip("fd05::1")}};
    auto a = attach(s);
    EXPECT(a, "attach: " + a.error().message);
    EXPECT(a->container_mac == "02:00:00:00:05:02", "mac " + a->container_mac);
    auto host = nl_open();
    int br = *ifindex_of(host->get(), "tbr0");
    auto braddrs = *addresses_of(host->get(), br);
    EXPECT(std::count(braddrs.begin(), braddrs.end(), *parse_cidr("10.5.0.1/24")) == 1, "bridge lacks 10.5.0.1/24");
    auto veth = *find_link(host->get(), "tveth0");
    EXPECT(veth && rtnl_link_get_master(veth.get()) == br, "tveth0 not on tbr0");
    EXPECT(rtnl_link_get_mtu(veth.get()) == 1400, "tveth0 mtu");
    EXPECT(*orun::read_file("/proc/sys/net/ipv4/ip_forward") == "1\n", "ip_forward");
    std::string nsenter = "nsenter --net=" + c.path() + " ";
    std::string links = run(nsenter + "ip -o link show");
    EXPECT(links.find("lo: <LOOPBACK,UP") != std::string::npos, "lo not up: " + links);
    EXPECT(links.find("eth0@") != std::string::npos && links.find("mtu 1400") != std::string::npos, "eth0: " + links);
    std::string addrs = run(nsenter + "ip -o addr show dev eth0");
    EXPECT(addrs.find("10.5.0.2/24") != std::string::npos && addrs.find("fd05::2/64") != std::string::npos, addrs);
    EXPECT(run(nsenter + "ip -4 route show default").find("default via 10.5.0.1 dev eth0") == 0, "no v4 default route");
    EXPECT(run(nsenter + "ip -6 route show default").find("default via fd05::1 dev eth0") == 0, "no v6 default route");
    EXPECT(run("bridge -d link show dev tveth0").find("hairpin on") != std::string::npos, "hairpin off");

    // A second attach with the same container interface name fails and leaves no host veth.
    s.host_veth = "tveth1";
    auto dup = attach(s);
    EXPECT(!dup, "second eth0 was accepted");
    EXPECT(!*find_link(host->get(), "tveth1"), "failed attach left tveth1");

    auto gone = detach("tveth0");
    EXPECT(gone && *gone, "detach did not remove tveth0");
    EXPECT(!*find_link(host->get(), "tveth0"), "tveth0 still there");
    EXPECT(run(nsenter + "ip -o link show").find("eth0") == std::string::npos, "eth0 left in the container");
    auto again = detach("tveth0");
    EXPECT(again && !*again, "second detach");
    EXPECT(*find_link(host->get(), "tbr0"), "the shared bridge was removed");
    return "";
  });
  CHECK_MESSAGE(msg.empty(), msg);
}

TEST_CASE("a link that is not a bridge is not taken for one") {
  std::string msg = in_new_netns([]() -> std::string {
    auto host = nl_open();
    auto r = ensure_bridge(host->get(), "lo", 0);
    EXPECT(!r, "lo was taken for a bridge");
    EXPECT(r.error().message.find("not a bridge") != std::string::npos, r.error().message);
    auto bad = open_netns("/proc/self/ns/pid");
    EXPECT(!bad && bad.error().message.find("not a network namespace") != std::string::npos, "pid ns accepted");
    return "";
  });
  CHECK_MESSAGE(msg.empty(), msg);
}
