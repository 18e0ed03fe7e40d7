// netns_test: addresses, names and the link layer in private network namespaces.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "ip.hpp"
#include "link.hpp"
#include "network.hpp"

using namespace orch::netns;

TEST_CASE("addresses parse, print and compare") {
  auto a = parse_cidr("10.88.3.4/16");
  REQUIRE(a);
  CHECK(to_string(network_of(*a)) == "10.88.0.0");
  CHECK(to_string(last_of(*a)) == "10.88.255.255");
  CHECK(contains(*a, *parse_ip("10.88.200.1")));
  CHECK_FALSE(contains(*a, *parse_ip("10.89.0.1")));
  CHECK_FALSE(contains(*a, *parse_ip("fd00::1")));
  auto b = parse_cidr("fd00:1::5/64");
  REQUIRE(b);
  CHECK(to_string(network_of(*b)) == "fd00:1::");
  CHECK(to_string(last_of(*b)) == "fd00:1::ffff:ffff:ffff:ffff");
  CHECK(to_string(*parse_cidr("::/0")) == "::/0");
  for (const char* bad : {"", "10.0.0.1", "10.0.0.1/33", "10.0.0.1/", "10.0.0.1/-1", "10.0.0.1/1a", "fd00::/129",
                          "10.0.0/8", "x/8", "10.0.0.1/008x", " 10.0.0.1/8"})
    CHECK_MESSAGE(!parse_cidr(bad), bad);
}

TEST_CASE("names: container ids, networks and interfaces") {
  CHECK(valid_name("abc-1_2.3"));
  for (const char* bad : {"", ".", "..", "a/b", "a b", "a:b", "a\n"}) CHECK_MESSAGE(!valid_name(bad), bad);
  CHECK(valid_ifname("eth0"));
  for (const char* bad : {"", "a/b", "a:b", "sixteen-chars-xx", "a b", "."}) CHECK_MESSAGE(!valid_ifname(bad), bad);
}

TEST_CASE("host veth names are short, stable and distinct") {
  std::string a = host_veth_name("net", "c1", "eth0");
  CHECK(a.size() == 15);
  CHECK(valid_ifname(a));
  CHECK(a == host_veth_name("net", "c1", "eth0"));
  CHECK(a != host_veth_name("net", "c2", "eth0"));
  CHECK(a != host_veth_name("net", "c1", "eth1"));
  CHECK(host_veth_name("n", "ab", "c") != host_veth_name("n", "a", "bc"));
}
