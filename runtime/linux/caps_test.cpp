#include <doctest/doctest.h>
#include <cerrno>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>

#include "base/child.hpp"
#include "base/file.hpp"
#include "linux/test_util.hpp"
#include "linux/caps.hpp"
#include "linux/process_attrs.hpp"

using namespace orun;
using namespace orun::linux;
using orun::linux::test::in_child;

namespace {

// "CapBnd:\t000000000000003f" -> the mask.
uint64_t status_mask(const std::string& status, const std::string& key) {
  auto pos = status.find(key + ":\t");
  if (pos == std::string::npos) return ~uint64_t{0};
  return std::stoull(status.substr(pos + key.size() + 2, 16), nullptr, 16);
}

uint64_t bit(int c) { return uint64_t{1} << c; }

}  // namespace

TEST_CASE("capability table: 0..40 in order, names match libcap") {
  auto caps = known_capabilities();
  REQUIRE(caps.size() == 41);
  std::set<std::string> names;
  for (size_t i = 0; i < caps.size(); ++i) {
    CHECK(caps[i].number == static_cast<int>(i));
    names.insert(caps[i].name);
    CHECK(capability_number(caps[i].name) == caps[i].number);
    CHECK(std::string(capability_name(caps[i].number)) == caps[i].name);
    // libcap knows up to its own CAP_LAST_CAP; its names are the lower-case ones.
    if (caps[i].number <= CAP_LAST_CAP) {
      char* lc = cap_to_name(static_cast<cap_value_t>(caps[i].number));
      REQUIRE(lc != nullptr);
      std::string upper = lc;
      cap_free(lc);
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      CHECK(upper == caps[i].name);
    }
  }
  CHECK(names.size() == 41);
  CHECK(capability_number("CAP_CHECKPOINT_RESTORE") == 40);
  CHECK(!capability_number("CAP_FOO"));
  CHECK(!capability_number("cap_chown"));
  CHECK(capability_name(41) == nullptr);
  CHECK(capability_name(-1) == nullptr);
  CHECK(kernel_last_cap() >= 36);
}

TEST_CASE("prepare_caps: absent capabilities means every set empty (runc)") {
  auto s = prepare_caps(nullptr);
  REQUIRE(s);
  CHECK(s->bounding == 0);
  CHECK(s->effective == 0);
  CHECK(s->permitted == 0);
  CHECK(s->inheritable == 0);
  CHECK(s->ambient == 0);
}

TEST_CASE("prepare_caps: masks, unknown names, unsupported, ambient") {
  spec::Capabilities c;
  c.bounding = std::vector<std::string>{"CAP_CHOWN", "CAP_KILL", "CAP_BPF"};
  c.effective = std::vector<std::string>{"CAP_KILL"};
  c.permitted = std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"};
  c.inheritable = std::vector<std::string>{"CAP_KILL"};
  c.ambient = std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"};

  SUBCASE("all known to the kernel") {
    auto s = prepare_caps(&c, 40);
    REQUIRE(s);
    CHECK(s->bounding == (bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_BPF)));
    CHECK(s->effective == bit(CAP_KILL));
    CHECK(s->permitted == (bit(CAP_KILL) | bit(CAP_CHOWN)));
    // CAP_CHOWN is not inheritable: the kernel would refuse to raise it.
    CHECK(s->ambient == bit(CAP_KILL));
    REQUIRE(s->ambient_dropped.size() == 1);
    CHECK(s->ambient_dropped[0] == "CAP_CHOWN");
    CHECK(s->unsupported.empty());
  }
  SUBCASE("a capability above the kernel's last one is ignored and reported") {
    auto s = prepare_caps(&c, 37);
    REQUIRE(s);
    CHECK(s->bounding == (bit(CAP_CHOWN) | bit(CAP_KILL)));
    REQUIRE(s->unsupported.size() == 1);
    CHECK(s->unsupported[0] == "CAP_BPF");
    CHECK(s->last_cap == 37);
  }
  SUBCASE("a name orun does not know is an error with the field path") {
    c.inheritable = std::vector<std::string>{"CAP_KILL", "CAP_KILL", "CAP_FOO"};
    auto s = prepare_caps(&c, 40);
    REQUIRE(!s);
    CHECK(s.error().message == "process.capabilities.inheritable[2]: unknown capability \"CAP_FOO\"");
  }
  SUBCASE("lower case is not a capability name") {
    c.bounding = std::vector<std::string>{"CAP_KILL", "CAP_CHOWN", "CAP_KILL", "cap_chown"};
    auto s = prepare_caps(&c, 40);
    REQUIRE(!s);
    CHECK(s.error().message == "process.capabilities.bounding[3]: unknown capability \"cap_chown\"");
  }
}

TEST_CASE("caps applied in a child are what /proc/self/status shows") {
  REQUIRE(::getuid() == 0);
  spec::Capabilities c;
  c.bounding = std::vector<std::string>{"CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL"};
  c.effective = std::vector<std::string>{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"};
  c.permitted = std::vector<std::string>{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"};
  c.inheritable = std::vector<std::string>{"CAP_NET_BIND_SERVICE"};
  c.ambient = std::vector<std::string>{"CAP_NET_BIND_SERVICE"};
  auto sets = prepare_caps(&c);
  REQUIRE(sets);

  for (uint32_t uid : {0u, 1000u}) {
    CAPTURE(uid);
    int st = in_child([&] {
      if (auto r = drop_bounding(*sets); !r) return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 10;
      spec::User u;
      u.uid = uid;
      u.gid = uid;
      if (auto r = set_user(u); !r) return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 11;
      if (auto r = apply_caps(*sets); !r) return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 12;
      auto status = read_file("/proc/self/status");
      if (!status) return 13;
      uint64_t nbs = bit(CAP_NET_BIND_SERVICE), chown = bit(CAP_CHOWN), kill = bit(CAP_KILL);
      if (status_mask(*status, "CapBnd") != (nbs | chown | kill)) return 20;
      if (status_mask(*status, "CapEff") != (nbs | chown)) return 21;
      if (status_mask(*status, "CapPrm") != (nbs | chown)) return 22;
      if (status_mask(*status, "CapInh") != nbs) return 23;
      if (status_mask(*status, "CapAmb") != nbs) return 24;
      return 0;
    });
    CHECK(exit_code_of(st) == 0);
  }
}

TEST_CASE("apply_caps fails when asked to raise what is not permitted") {
  CapSets s;
  s.last_cap = kernel_last_cap();
  s.effective = s.permitted = bit(CAP_CHOWN);
  int st = in_child([&] {
    // Drop to nothing first; raising CAP_CHOWN again must then fail.
    CapSets none;
    none.last_cap = s.last_cap;
    if (!apply_caps(none)) return 10;
    auto r = apply_caps(s);
    return !r && r.error().code == EPERM ? 0 : 11;
  });
  CHECK(exit_code_of(st) == 0);
}
