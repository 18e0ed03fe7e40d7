// Device rules: the v1 model (device_policy/device_allowed) against the v1
// kernel controller, and the v2 eBPF program against the model, both measured
// by real open(2) and mknod(2) calls in a process placed in the cgroup.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <tuple>

#include "base/child.hpp"
#include "base/file.hpp"
#include "cgroups/bpf_devices.hpp"
#include "cgroups/cgfs.hpp"
#include "cgroups/device_policy.hpp"
#include "cgroups/hierarchy.hpp"
#include "cgroups/manager.hpp"

using namespace orun;
using namespace orun::cgroups;

namespace {

spec::DeviceCgroup allow(std::string t, std::optional<int64_t> ma, std::optional<int64_t> mi, std::string acc) {
  return {true, std::move(t), ma, mi, std::move(acc)};
}
spec::DeviceCgroup deny(std::string t, std::optional<int64_t> ma, std::optional<int64_t> mi, std::string acc) {
  return {false, std::move(t), ma, mi, std::move(acc)};
}
const std::nullopt_t any = std::nullopt;

DevicePolicy policy_of(const std::vector<spec::DeviceCgroup>& rules) {
  auto p = device_policy(rules);
  REQUIRE_MESSAGE(p, p.error().message);
  return *p;
}

}  // namespace

TEST_CASE("device_policy follows the v1 controller's rules") {
  SUBCASE("nothing: deny everything") {
    auto p = policy_of({});
    CHECK_FALSE(p.default_allow);
    CHECK(p.exceptions.empty());
    CHECK_FALSE(device_allowed(p, 'c', 1, 3, kRead));
  }
  SUBCASE("the default rules: mknod anything, open only the listed devices") {
    std::vector<spec::DeviceCgroup> rules = {deny("", any, any, "rwm")};
    rules.insert(rules.end(), default_device_rules().begin(), default_device_rules().end());
    auto p = policy_of(rules);
    CHECK_FALSE(p.default_allow);
    CHECK(p.exceptions.size() == default_device_rules().size());
    CHECK(device_allowed(p, 'b', 8, 0, kMknod));
    CHECK_FALSE(device_allowed(p, 'b', 8, 0, kRead));
    CHECK(device_allowed(p, 'c', 1, 3, kRead | kWrite));
    CHECK(device_allowed(p, 'c', 136, 7, kRead | kWrite));
    CHECK_FALSE(device_allowed(p, 'c', 10, 200, kRead));
  }
  SUBCASE("a deny narrows an equal exception; access bits merge") {
    auto p = policy_of({allow("c", 1, 3, "rwm"), deny("c", 1, 3, "w"), allow("c", 1, 5, "r"), allow("c", 1, 5, "w")});
    REQUIRE(p.exceptions.size() == 2);
    CHECK(p.exceptions[0] == DeviceException{'c', 1, 3, kRead | kMknod});
    CHECK(p.exceptions[1] == DeviceException{'c', 1, 5, kRead | kWrite});
    CHECK(device_allowed(p, 'c', 1, 3, kRead));
    CHECK_FALSE(device_allowed(p, 'c', 1, 3, kRead | kWrite));
    CHECK(device_allowed(p, 'c', 1, 5, kRead | kWrite));
  }
  SUBCASE("one exception must hold every access: a wildcard and a specific one do not add up") {
    auto p = policy_of({allow("c", any, any, "r"), allow("c", 1, 5, "w")});
    CHECK(device_allowed(p, 'c', 1, 5, kRead));
    CHECK(device_allowed(p, 'c', 1, 5, kWrite));
    CHECK_FALSE(device_allowed(p, 'c', 1, 5, kRead | kWrite));
  }
  SUBCASE("default allow: a deny exception refuses any access it holds") {
    auto p = policy_of({allow("a", any, any, "rwm"), deny("b", 7, -1, "rw")});
    CHECK(p.default_allow);
    CHECK(device_allowed(p, 'b', 7, 0, kMknod));
    CHECK_FALSE(device_allowed(p, 'b', 7, 0, kRead | kMknod));
    CHECK(device_allowed(p, 'c', 7, 0, kRead));
  }
  SUBCASE("type a resets: earlier rules are gone") {
    auto p = policy_of({allow("b", any, any, "m"), deny("a", 1, 2, "r"), allow("c", 10, 237, "rw")});
    CHECK_FALSE(p.default_allow);
    CHECK(p.exceptions == std::vector<DeviceException>{{'c', 10, 237, kRead | kWrite}});
  }
  SUBCASE("an empty access string means rwm") {
    auto p = policy_of({allow("c", 1, 3, "")});
    CHECK(p.exceptions == std::vector<DeviceException>{{'c', 1, 3, kAllAccess}});
  }
  SUBCASE("bad rules are errors that name the rule") {
    auto e = device_policy({allow("c", 1, 3, "r"), allow("x", 1, 3, "r")});
    REQUIRE_FALSE(e);
    CHECK(e.error().message == "linux.resources.devices[1].type: invalid cgroup device type \"x\"");
    e = device_policy({allow("c", int64_t{1} << 32, 3, "r")});
    REQUIRE_FALSE(e);
    CHECK(e.error().message == "linux.resources.devices[0].major: 4294967296 is not a device number");
    e = device_policy({allow("b", 1, -2, "r")});
    REQUIRE_FALSE(e);
    CHECK(e.error().message == "linux.resources.devices[0].minor: -2 is not a device number");
    e = device_policy({deny("c", 1, 3, "rx")});
    REQUIRE_FALSE(e);
    CHECK(e.error().message == "linux.resources.devices[0].access: invalid access \"rx\" (a subset of \"rwm\")");
  }
}

TEST_CASE("parse_devices_list and device_transition") {
  auto list = parse_devices_list("c 1:3 rwm\nc *:* m\nb 7:* r\nc 136:* rw\n");
  REQUIRE_MESSAGE(list, list.error().message);
  CHECK_FALSE(list->default_allow);
  CHECK(list->exceptions == std::vector<DeviceException>{{'c', 1, 3, kAllAccess}, {'c', any, any, kMknod},
                                                         {'b', 7, any, kRead}, {'c', 136, any, kRead | kWrite}});
  auto all = parse_devices_list("a *:* rwm\n");
  REQUIRE(all);
  CHECK(all->default_allow);
  CHECK(all->exceptions.empty());
  CHECK(parse_devices_list("")->exceptions.empty());
  CHECK_FALSE(parse_devices_list("c 1:3"));
  CHECK_FALSE(parse_devices_list("x 1:3 rw"));
  CHECK_FALSE(parse_devices_list("c 1:3 rwx"));

  auto strings = [](const std::vector<spec::DeviceCgroup>& rules) {
    std::vector<std::string> out;
    for (auto& r : rules) out.push_back(std::string(r.allow ? "allow " : "deny ") + device_rule_string(r));
    return out;
  };
  // Default deny on both sides: only the differences, no "a" rule.
  auto from = policy_of({allow("c", 1, 3, "rwm"), allow("c", 1, 5, "rw"), allow("b", 7, any, "r")});
  auto to = policy_of({allow("c", 1, 3, "r"), allow("c", 1, 5, "rwm"), allow("c", 10, 200, "rw")});
  CHECK(strings(device_transition(from, to)) ==
        std::vector<std::string>{"deny c 1:3 wm", "deny b 7:* r", "allow c 1:5 m", "allow c 10:200 rw"});
  CHECK(device_transition(to, to).empty());
  // A default-allow source hides its exceptions: start again from the target's default.
  CHECK(strings(device_transition(DevicePolicy{true, {}}, to)) ==
        std::vector<std::string>{"deny a *:* rwm", "allow c 1:3 r", "allow c 1:5 rwm", "allow c 10:200 rw"});
  auto open = policy_of({allow("a", any, any, "rwm"), deny("c", 1, 3, "w")});
  CHECK(strings(device_transition(from, open)) == std::vector<std::string>{"allow a *:* rwm", "deny c 1:3 w"});
}

TEST_CASE("device_program: a prologue, one block per exception, the default") {
  auto empty = device_program(policy_of({}));
  REQUIRE(empty.size() == 8);
  CHECK(empty[6].code == (BPF_ALU | BPF_MOV | BPF_K));
  CHECK(empty[6].imm == 0);
  CHECK(empty[7].code == (BPF_JMP | BPF_EXIT));
  // type, access (3), major, minor, return (2): 8; full access and wildcards need fewer.
  CHECK(device_program(policy_of({allow("c", 1, 3, "r")})).size() == 8 + 8);
  CHECK(device_program(policy_of({allow("c", any, any, "rwm")})).size() == 8 + 3);
}

// ---- The kernel's decisions, measured. ----

namespace {

struct Request {
  char type;
  uint32_t major, minor;
  unsigned access;
};

std::string describe(const Request& r) {
  std::ostringstream s;
  s << r.type << " " << r.major << ":" << r.minor << " " << ((r.access & kRead) ? "r" : "")
    << ((r.access & kWrite) ? "w" : "") << ((r.access & kMknod) ? "m" : "");
  return s.str();
}

// Harmless devices to open on this kind of host: memory devices, loop-control,
// an absent pts number (the driver answers ENXIO/EIO, never EPERM), loop0/1.
std::vector<Request> requests() {
  std::vector<Request> out;
  const std::pair<char, std::pair<uint32_t, uint32_t>> devices[] = {
      {'c', {1, 3}}, {'c', {1, 5}}, {'c', {10, 237}}, {'c', {136, 4000}}, {'b', {7, 0}}, {'b', {7, 1}}};
  for (auto& [type, num] : devices)
    for (unsigned access : {unsigned{kRead}, unsigned{kWrite}, unsigned{kRead | kWrite}, unsigned{kMknod}})
      out.push_back({type, num.first, num.second, access});
  return out;
}

// In a child: a private tmpfs with a node per request, then join the cgroup
// through `procs_file`, then try each request. EPERM is the device
// controller's refusal; any other outcome means it let the call through.
std::vector<bool> kernel_decisions(const std::string& procs_file, const std::vector<Request>& reqs) {
  char tmpl[] = "/tmp/orun-devtest-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  int pipefd[2];
  REQUIRE(::pipe2(pipefd, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", dir.c_str(), "tmpfs", 0, "mode=0700") != 0)
      ::_exit(10);
    for (size_t i = 0; i < reqs.size(); ++i) {
      mode_t kind = reqs[i].type == 'b' ? S_IFBLK : S_IFCHR;
      if (::mknod((dir + "/n" + std::to_string(i)).c_str(), kind | 0600, makedev(reqs[i].major, reqs[i].minor)) != 0)
        ::_exit(11);
    }
    int procs = ::open(procs_file.c_str(), O_WRONLY | O_CLOEXEC);
    if (procs < 0 || ::write(procs, "0", 1) != 1) ::_exit(12);
    ::close(procs);
    for (size_t i = 0; i < reqs.size(); ++i) {
      const auto& r = reqs[i];
      bool refused;
      if (r.access == kMknod) {
        mode_t kind = r.type == 'b' ? S_IFBLK : S_IFCHR;
        refused = ::mknod((dir + "/m" + std::to_string(i)).c_str(), kind | 0600, makedev(r.major, r.minor)) != 0 &&
                  errno == EPERM;
      } else {
        int flags = r.access == (kRead | kWrite) ? O_RDWR : r.access == kWrite ? O_WRONLY : O_RDONLY;
        int fd = ::open((dir + "/n" + std::to_string(i)).c_str(), flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        refused = fd < 0 && errno == EPERM;
        if (fd >= 0) ::close(fd);
      }
      char c = refused ? '0' : '1';
      if (::write(pipefd[1], &c, 1) != 1) ::_exit(13);
    }
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string got;
  char buf[64];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    REQUIRE(n > 0);
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int status = ChildPid(pid).wait();
  ::rmdir(dir.c_str());
  REQUIRE_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0), "probe child status " << status);
  REQUIRE(got.size() == reqs.size());
  std::vector<bool> out;
  for (char c : got) out.push_back(c == '1');
  return out;
}

std::vector<std::vector<spec::DeviceCgroup>> rule_sets() {
  std::vector<spec::DeviceCgroup> defaults = {deny("a", any, any, "rwm")};
  defaults.insert(defaults.end(), default_device_rules().begin(), default_device_rules().end());
  return {
      {},
      defaults,
      {allow("c", 1, 3, "rwm"), deny("c", 1, 3, "w")},
      {allow("c", any, any, "r"), allow("c", 1, 5, "w")},
      {allow("a", any, any, "rwm"), deny("b", 7, any, "rw"), deny("c", 1, 5, "m")},
      {allow("c", 1, 3, "r"), allow("c", 1, 3, "w"), allow("b", 7, 1, "m")},
      {allow("b", any, any, "m"), deny("a", any, any, "rwm"), allow("c", 10, 237, "rw")},
      {allow("a", any, any, "rwm"), deny("c", any, any, "w"), allow("c", any, any, "w")},
      {allow("c", 136, any, "rwm"), allow("b", 7, 0, "r")},
  };
}

void check_matches_model(const DevicePolicy& p, const std::vector<bool>& kernel, size_t set) {
  auto reqs = requests();
  for (size_t i = 0; i < reqs.size(); ++i) {
    const auto& r = reqs[i];
    CHECK_MESSAGE(kernel[i] == device_allowed(p, r.type, r.major, r.minor, r.access),
                  "rule set " << set << ": " << describe(r) << " kernel " << std::string(kernel[i] ? "allows" : "refuses"));
  }
}

// The v1 devices hierarchy of this host, when running as root on a v1 or hybrid host.
std::optional<Hierarchy> v1_devices() {
  if (::geteuid() != 0) return std::nullopt;
  auto host = detect_host();
  REQUIRE(host);
  for (auto& h : host->v1)
    for (auto& c : h.controllers)
      if (c == "devices") return h;
  return std::nullopt;
}

}  // namespace

TEST_CASE("real host: the model decides as the v1 devices controller does") {
  auto devices = v1_devices();
  if (!devices) return;  // not root, or pure v2: no v1 controller to compare with
  auto sets = rule_sets();
  for (size_t s = 0; s < sets.size(); ++s) {
    std::string dir = devices->dir_of(devices->own_path) + "/orun-devtest-" + std::to_string(::getpid());
    REQUIRE(mkdir_p(dir));
    REQUIRE(write_value(dir, "devices.deny", "a"));
    for (auto& r : sets[s]) REQUIRE(write_value(dir, r.allow ? "devices.allow" : "devices.deny", device_rule_string(r)));
    auto kernel = kernel_decisions(dir + "/cgroup.procs", requests());
    CHECK(::rmdir(dir.c_str()) == 0);
    check_matches_model(policy_of(sets[s]), kernel, s);
  }
}

// What V1Manager::apply() relies on: from any rule set to any default-deny one through
// device_transition(), with a child cgroup present (the kernel refuses "a" rules then).
TEST_CASE("real host: device_transition reaches each rule set in a cgroup with children") {
  auto devices = v1_devices();
  if (!devices) return;
  auto sorted = [](std::vector<DeviceException> v) {
    auto key = [](const DeviceException& e) {
      return std::tuple(e.type, e.major.value_or(UINT32_MAX), e.minor.value_or(UINT32_MAX), e.access);
    };
    std::sort(v.begin(), v.end(), [&](auto& a, auto& b) { return key(a) < key(b); });
    return v;
  };
  std::string dir = devices->dir_of(devices->own_path) + "/orun-devtrans-" + std::to_string(::getpid());
  auto sets = rule_sets();
  for (size_t a = 0; a < sets.size(); ++a) {
    for (size_t b = 0; b < sets.size(); ++b) {
      auto want = policy_of(sets[b]);
      REQUIRE(mkdir_p(dir));
      REQUIRE(write_value(dir, "devices.deny", "a"));
      for (auto& r : sets[a]) REQUIRE(write_value(dir, r.allow ? "devices.allow" : "devices.deny", device_rule_string(r)));
      auto have = parse_devices_list(read_value(dir, "devices.list").value());
      REQUIRE(have);
      auto steps = device_transition(*have, want);
      bool resets = !steps.empty() && steps.front().type == "a";
      CHECK(resets == (have->default_allow || want.default_allow));
      // A child makes "a" rules fail with EINVAL: only transitions without one can have it.
      if (!resets) REQUIRE(mkdir_p(dir + "/child"));
      for (auto& r : steps) {
        auto w = write_value(dir, r.allow ? "devices.allow" : "devices.deny", device_rule_string(r));
        CHECK_MESSAGE(w, "set " << a << " -> " << b << ": " << (w ? "" : w.error().message));
      }
      auto got = parse_devices_list(read_value(dir, "devices.list").value());
      REQUIRE(got);
      CHECK_MESSAGE(got->default_allow == want.default_allow, "set " << a << " -> " << b);
      if (!want.default_allow)
        CHECK_MESSAGE(sorted(got->exceptions) == sorted(want.exceptions), "set " << a << " -> " << b);
      ::rmdir((dir + "/child").c_str());
      CHECK(::rmdir(dir.c_str()) == 0);
    }
  }
}

TEST_CASE("real host: the eBPF program decides as the model does") {
  if (::geteuid() != 0) return;
  auto host = detect_host();
  REQUIRE(host);
  REQUIRE(host->unified);  // hybrid and pure v2 both have a cgroup2 mount
  std::string dir = host->unified->mount_point + "/orun-bpftest-" + std::to_string(::getpid());
  REQUIRE(mkdir_p(dir));
  auto sets = rule_sets();
  for (size_t s = 0; s < sets.size(); ++s) {
    auto p = policy_of(sets[s]);
    auto r = attach_device_filter(dir, p);
    REQUIRE_MESSAGE(r, r.error().message);
    // Attaching again replaced the program: exactly one stays.
    auto ids = attached_device_programs(dir);
    REQUIRE(ids);
    CHECK(ids->size() == 1);
    check_matches_model(p, kernel_decisions(dir + "/cgroup.procs", requests()), s);
  }
  CHECK(::rmdir(dir.c_str()) == 0);
}

TEST_CASE("real host: a missing cgroup is a clear error") {
  if (::geteuid() != 0) return;
  auto r = attach_device_filter("/sys/fs/cgroup/orun-no-such-cgroup", policy_of({}));
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "open /sys/fs/cgroup/orun-no-such-cgroup: No such file or directory");
}
