// IPAM: ranges, defaults, exhaustion, release, collection and concurrent processes.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "base/file.hpp"
#include "ipam.hpp"

using namespace orch::netns;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/netns-ipam-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { (void)orun::remove_tree(path); }
};

IpamConfig config(const char* subnet, const char* start = nullptr, const char* end = nullptr) {
  Range r{*parse_cidr(subnet), {}, {}, {}, 0, -1};
  if (start) r.start = *parse_ip(start);
  if (end) r.end = *parse_ip(end);
  return *resolve(IpamConfig{{r}, {}});
}

}  // namespace

TEST_CASE("resolve fills defaults and names the bad field") {
  IpamConfig c = config("10.1.0.0/24");
  CHECK(to_string(*c.ranges[0].gateway) == "10.1.0.1");
  CHECK(to_string(*c.ranges[0].start) == "10.1.0.1");
  CHECK(to_string(*c.ranges[0].end) == "10.1.0.254");
  auto bad = [](const char* subnet, const char* start, const char* end, const char* gw) {
    Range r{*parse_cidr(subnet), {}, {}, {}, 0, -1};
    if (start) r.start = *parse_ip(start);
    if (end) r.end = *parse_ip(end);
    if (gw) r.gateway = *parse_ip(gw);
    auto res = resolve(IpamConfig{{r}, {}});
    REQUIRE_FALSE(res);
    return res.error().message;
  };
  CHECK(bad("10.1.0.0/24", "10.2.0.1", nullptr, nullptr).starts_with("ranges[0].rangeStart:"));
  CHECK(bad("10.1.0.0/24", nullptr, "10.1.0.255", nullptr).starts_with("ranges[0].rangeEnd:"));
  CHECK(bad("10.1.0.0/24", nullptr, nullptr, "10.1.1.1").starts_with("ranges[0].gateway:"));
  CHECK(bad("10.1.0.0/24", "10.1.0.9", "10.1.0.5", nullptr).starts_with("ranges[0].rangeStart:"));
  CHECK(bad("10.1.0.5/24", nullptr, nullptr, nullptr).starts_with("ranges[0].subnet:"));
  CHECK(bad("10.1.0.0/31", nullptr, nullptr, nullptr).starts_with("ranges[0].subnet:"));
  CHECK_FALSE(resolve(IpamConfig{}));
}

TEST_CASE("allocation skips gateway and reserved, exhausts, releases and collects") {
  TempDir d;
  auto lock = lock_network(d.path);
  REQUIRE(lock);
  IpamConfig c = config("10.9.0.0/29");  // .1 gateway, .2-.6 usable
  c.reserved.push_back(*parse_ip("10.9.0.3"));
  std::set<std::string> got;
  for (int i = 0; i < 4; ++i) {
    auto a = allocate(*lock, c, "c" + std::to_string(i), "eth0", "/nonexistent/" + std::to_string(i));
    REQUIRE(a);
    REQUIRE(a->size() == 1);
    CHECK((*a)[0].prefix == 29);
    got.insert(to_string((*a)[0].ip));
  }
  CHECK(got == std::set<std::string>{"10.9.0.2", "10.9.0.4", "10.9.0.5", "10.9.0.6"});
  auto again = allocate(*lock, c, "c1", "eth0", "x");
  REQUIRE(again);  // the same attachment gets its own address back
  CHECK(got.count(to_string((*again)[0].ip)));
  auto full = allocate(*lock, c, "c9", "eth0", "x");
  REQUIRE_FALSE(full);
  CHECK(full.error().code == ENOSPC);
  CHECK(*release(*lock, "c2", "eth0") == 1);
  CHECK(*release(*lock, "c2", "eth0") == 0);
  REQUIRE(allocate(*lock, c, "c9", "eth0", "x"));
  auto dropped = collect(*lock, [](const Lease& le) { return le.id != "c0"; });
  REQUIRE(dropped);
  REQUIRE(dropped->size() == 1);
  CHECK((*dropped)[0].id == "c0");
  CHECK(leases(*lock)->size() == 3);
}

TEST_CASE("a range set hands out from its next range when the first is full") {
  TempDir d;
  auto lock = lock_network(d.path);
  REQUIRE(lock);
  auto range = [](const char* subnet, unsigned set, int index) { return Range{*parse_cidr(subnet), {}, {}, {}, set, index}; };
  // Set 0: a /30 (one address after its gateway), then a /29; set 1: IPv6.
  auto c = resolve(IpamConfig{{range("10.8.0.0/30", 0, 0), range("10.8.1.0/29", 0, 1), range("fd08::/64", 1, -1)}, {}});
  REQUIRE(c);
  std::vector<std::string> got;
  for (const char* id : {"a", "b", "c"}) {
    auto a = allocate(*lock, *c, id, "eth0", "x");
    REQUIRE(a);
    REQUIRE(a->size() == 2);
    got.push_back(to_string((*a)[0]) + " " + to_string((*a)[1]));
  }
  CHECK(got == std::vector<std::string>{"10.8.0.2/30 fd08::2/64", "10.8.1.2/29 fd08::3/64", "10.8.1.3/29 fd08::4/64"});
  CHECK(range_of(*c, *parse_ip("10.8.1.3")) == &c->ranges[1]);
  CHECK(to_string(*allocate(*lock, *c, "b", "eth0", "x")->begin()) == "10.8.1.2/29");  // its own again

  auto bad = [&](std::vector<Range> rs) {
    auto res = resolve(IpamConfig{rs, {}});
    REQUIRE_FALSE(res);
    return res.error().message;
  };
  CHECK(bad({range("10.8.0.0/24", 0, 0), range("fd08::/64", 0, 1)}) == "ranges[0][1].subnet: not of the address family of its set");
  CHECK(bad({range("10.8.0.0/24", 0, -1), range("10.9.0.0/24", 1, -1)}).starts_with("ranges[1].subnet: only one range set per"));
  CHECK(bad({range("10.8.0.0/16", 0, 0), range("10.8.1.0/24", 0, 1)}).starts_with("ranges[0][1].subnet: 10.8.1.0/24 overlaps ranges[0][0]"));
  CHECK(bad({range("10.8.0.0/24", 0, 0), range("10.8.0.0/24", 0, 1)}).starts_with("ranges[0][1]: its addresses overlap"));
  Range low = range("10.8.0.0/24", 0, 0), high = range("10.8.0.0/24", 0, 1);
  low.end = *parse_ip("10.8.0.99");
  high.start = *parse_ip("10.8.0.100");
  CHECK(resolve(IpamConfig{{low, high}, {}}));  // one subnet split in two ranges
}

TEST_CASE("a damaged lease file is an error, not a fresh start") {
  TempDir d;
  auto lock = lock_network(d.path);
  REQUIRE(lock);
  REQUIRE(orun::write_file(d.path + "/leases.json", "{\"leases\": [{\"ip\": 5}]}"));
  CHECK_FALSE(allocate(*lock, config("10.9.0.0/24"), "c", "eth0", "x"));
}

TEST_CASE("parallel processes never get the same address") {
  TempDir d;
  IpamConfig c = config("10.7.0.0/24");
  constexpr int kProcs = 8, kEach = 12;
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  for (int p = 0; p < kProcs; ++p) {
    if (fork() == 0) {
      close(fds[0]);
      for (int i = 0; i < kEach; ++i) {
        auto lock = lock_network(d.path);  // each allocation takes the lock on its own, as ADDs do
        if (!lock) _exit(1);
        auto a = allocate(*lock, c, "p" + std::to_string(p) + "-" + std::to_string(i), "eth0", "x");
        if (!a) _exit(2);
        std::string line = to_string((*a)[0].ip) + "\n";
        if (write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
      }
      _exit(0);
    }
  }
  close(fds[1]);
  std::string all = *orun::read_fd(fds[0]);
  close(fds[0]);
  for (int p = 0; p < kProcs; ++p) {
    int st = 0;
    wait(&st);
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
  }
  std::set<std::string> seen;
  size_t lines = 0;
  for (size_t pos = 0, nl; (nl = all.find('\n', pos)) != std::string::npos; pos = nl + 1, ++lines)
    seen.insert(all.substr(pos, nl - pos));
  CHECK(lines == kProcs * kEach);
  CHECK(seen.size() == lines);
  auto lock = lock_network(d.path);
  CHECK(leases(*lock)->size() == lines);
}
