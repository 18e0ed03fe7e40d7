#include "addr.hpp"

#include <linux/if_addr.h>
#include <netlink/cache.h>
#include <netlink/route/nexthop.h>

namespace orch::netns {

using orun::fail;

Result<NlAddr> to_nl(const Ip& ip, int prefix) {
  unsigned char buf[16];
  int n = ip.family == AF_INET ? 4 : 16;
  u128 v = ip.v;
  for (int i = n - 1; i >= 0; --i, v >>= 8) buf[i] = static_cast<unsigned char>(v & 0xff);
  NlAddr a(nl_addr_build(ip.family, buf, n));
  if (!a) return fail("out of memory", ENOMEM);
  nl_addr_set_prefixlen(a.get(), prefix);
  return a;
}

Result<> add_address(nl_sock* sk, int ifindex, const Cidr& c, bool nodad) {
  Addr a(rtnl_addr_alloc());
  if (!a) return fail("out of memory", ENOMEM);
  NlAddr local = TRY(to_nl(c.ip, c.prefix));
  rtnl_addr_set_ifindex(a.get(), ifindex);
  rtnl_addr_set_family(a.get(), c.ip.family);
  if (int err = rtnl_addr_set_local(a.get(), local.get()); err < 0) return nl_fail("address", err);
  if (nodad && c.ip.family == AF_INET6) rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
  int err = rtnl_addr_add(sk, a.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err == -NLE_EXIST) return {};
  if (err < 0) return nl_fail("adding address " + to_string(c), err);
  return {};
}

Result<std::vector<Cidr>> addresses_of(nl_sock* sk, int ifindex) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(sk, &raw); err < 0) return nl_fail("listing addresses", err);
  NlCache cache(raw);
  std::vector<Cidr> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != ifindex) continue;
    nl_addr* local = rtnl_addr_get_local(a);
    if (!local) continue;
    int fam = nl_addr_get_family(local);
    if (fam != AF_INET && fam != AF_INET6) continue;
    Ip ip{fam, 0};
    auto* bytes = static_cast<const unsigned char*>(nl_addr_get_binary_addr(local));
    for (unsigned i = 0; i < nl_addr_get_len(local); ++i) ip.v = (ip.v << 8) | bytes[i];
    out.push_back(Cidr{ip, static_cast<int>(rtnl_addr_get_prefixlen(a))});
  }
  return out;
}

Result<> add_default_route(nl_sock* sk, int ifindex, const Ip& gw) {
  Route r(rtnl_route_alloc());
  if (!r) return fail("out of memory", ENOMEM);
  NlAddr dst = TRY(to_nl(Ip{gw.family, 0}, 0));
  NlAddr via = TRY(to_nl(gw, gw.bits()));
  rtnl_route_set_family(r.get(), static_cast<uint8_t>(gw.family));
  if (int err = rtnl_route_set_dst(r.get(), dst.get()); err < 0) return nl_fail("route destination", err);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();  // owned by the route once added to it
  if (!nh) return fail("out of memory", ENOMEM);
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_nh_set_gateway(nh, via.get());
  rtnl_route_add_nexthop(r.get(), nh);
  int err = rtnl_route_add(sk, r.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0) return nl_fail("adding default route via " + to_string(gw), err);
  return {};
}

}  // namespace orch::netns
