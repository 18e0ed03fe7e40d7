// IPv4/IPv6 addresses and prefixes as plain values (parse, print, arithmetic for IPAM).
#pragma once
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace orch::netns {

using u128 = unsigned __int128;

struct Ip {
  int family = 0;  // AF_INET or AF_INET6; 0 when unset
  u128 v = 0;      // host order, IPv4 in the low 32 bits
  bool operator==(const Ip&) const = default;
  auto operator<=>(const Ip&) const = default;
  int bits() const { return family == AF_INET ? 32 : 128; }
};

struct Cidr {
  Ip ip;          // an address inside the prefix (not necessarily its first)
  int prefix = 0;
  bool operator==(const Cidr&) const = default;
};

std::optional<Ip> parse_ip(std::string_view s);
// "a.b.c.d/n" or "x::y/n"; the prefix is required.
std::optional<Cidr> parse_cidr(std::string_view s);
std::string to_string(const Ip& ip);
std::string to_string(const Cidr& c);

Ip network_of(const Cidr& c);
Ip last_of(const Cidr& c);  // the broadcast address for IPv4
bool contains(const Cidr& net, const Ip& ip);
// The same address with another prefix: (10.0.0.5, /24 of 10.0.0.0/24) -> 10.0.0.5/24.
inline Cidr with_prefix(const Ip& ip, int prefix) { return Cidr{ip, prefix}; }

}  // namespace orch::netns
