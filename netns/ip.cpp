#include "ip.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace orch::netns {

std::optional<Ip> parse_ip(std::string_view s) {
  if (s.empty() || s.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string z(s);
  unsigned char buf[16];
  if (inet_pton(AF_INET, z.c_str(), buf) == 1) {
    Ip ip{AF_INET, 0};
    for (int i = 0; i < 4; ++i) ip.v = (ip.v << 8) | buf[i];
    return ip;
  }
  if (inet_pton(AF_INET6, z.c_str(), buf) == 1) {
    Ip ip{AF_INET6, 0};
    for (int i = 0; i < 16; ++i) ip.v = (ip.v << 8) | buf[i];
    return ip;
  }
  return std::nullopt;
}

std::optional<Cidr> parse_cidr(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = parse_ip(s.substr(0, slash));
  std::string_view p = s.substr(slash + 1);
  if (!ip || p.empty() || p.size() > 3) return std::nullopt;
  int prefix = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return std::nullopt;
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > ip->bits()) return std::nullopt;
  return Cidr{*ip, prefix};
}

std::string to_string(const Ip& ip) {
  unsigned char buf[16];
  int n = ip.family == AF_INET ? 4 : 16;
  u128 v = ip.v;
  for (int i = n - 1; i >= 0; --i, v >>= 8) buf[i] = static_cast<unsigned char>(v & 0xff);
  char out[INET6_ADDRSTRLEN];
  if (!inet_ntop(ip.family == AF_INET ? AF_INET : AF_INET6, buf, out, sizeof out)) return "?";
  return out;
}

std::string to_string(const Cidr& c) { return to_string(c.ip) + "/" + std::to_string(c.prefix); }

static u128 host_mask(const Cidr& c) {
  int host_bits = c.ip.bits() - c.prefix;
  return host_bits >= 128 ? ~u128(0) : (u128(1) << host_bits) - 1;
}

Ip network_of(const Cidr& c) { return Ip{c.ip.family, c.ip.v & ~host_mask(c)}; }
Ip last_of(const Cidr& c) {
  u128 v = c.ip.v | host_mask(c);
  if (c.ip.family == AF_INET) v &= 0xffffffffu;
  return Ip{c.ip.family, v};
}
bool contains(const Cidr& net, const Ip& ip) {
  return ip.family == net.ip.family && (ip.v & ~host_mask(net)) == network_of(net).v;
}

}  // namespace orch::netns
