#include "link.hpp"

#include <linux/if.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>

#include "base/strings.hpp"

namespace orch::netns {

using orun::fail;
using orun::quote;

Result<Link> find_link(nl_sock* sk, const std::string& name) {
  if (!valid_ifname(name)) return fail("invalid interface name " + quote(name));
  rtnl_link* l = nullptr;
  int err = rtnl_link_get_kernel(sk, 0, name.c_str(), &l);
  if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) return Link();
  if (err < 0) return nl_fail("looking up link " + quote(name), err);
  return Link(l);
}

Result<int> ifindex_of(nl_sock* sk, const std::string& name) {
  Link l = TRY(find_link(sk, name));
  if (!l) return fail("no link " + quote(name), ENODEV);
  return rtnl_link_get_ifindex(l.get());
}

Result<> set_up(nl_sock* sk, int ifindex) {
  Link orig(rtnl_link_alloc()), change(rtnl_link_alloc());
  if (!orig || !change) return fail("out of memory", ENOMEM);
  rtnl_link_set_ifindex(orig.get(), ifindex);
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sk, orig.get(), change.get(), 0); err < 0)
    return nl_fail("setting link " + std::to_string(ifindex) + " up", err);
  return {};
}

Result<int> ensure_bridge(nl_sock* sk, const std::string& name, unsigned mtu) {
  Link l = TRY(find_link(sk, name));
  if (!l) {
    Link b(rtnl_link_alloc());
    if (!b) return fail("out of memory", ENOMEM);
    rtnl_link_set_name(b.get(), name.c_str());
    if (int err = rtnl_link_set_type(b.get(), "bridge"); err < 0) return nl_fail("bridge type", err);
    if (mtu) rtnl_link_set_mtu(b.get(), mtu);
    int err = rtnl_link_add(sk, b.get(), NLM_F_CREATE | NLM_F_EXCL);
    // Another ADD may have made it meanwhile (they are serialised per network, not per bridge).
    if (err < 0 && err != -NLE_EXIST) return nl_fail("creating bridge " + quote(name), err);
    l = TRY(find_link(sk, name));
    if (!l) return fail("bridge " + quote(name) + " vanished after creation", ENODEV);
  }
  const char* type = rtnl_link_get_type(l.get());
  if (!type || std::string(type) != "bridge") return fail("link " + quote(name) + " exists and is not a bridge", EEXIST);
  int idx = rtnl_link_get_ifindex(l.get());
  if (!(rtnl_link_get_flags(l.get()) & IFF_UP)) TRY(set_up(sk, idx));
  return idx;
}

static Result<> parse_mac(const std::string& mac, NlAddr& out) {
  nl_addr* a = nullptr;
  if (mac.size() != 17 || nl_addr_parse(mac.c_str(), AF_LLC, &a) < 0) return fail("invalid MAC address " + quote(mac));
  out.reset(a);
  return {};
}

Result<> create_veth(nl_sock* sk, const VethSpec& s) {
  Link host(rtnl_link_veth_alloc());
  if (!host) return fail("out of memory", ENOMEM);
  Link peer(rtnl_link_veth_get_peer(host.get()));
  rtnl_link_set_name(host.get(), s.host_name.c_str());
  rtnl_link_set_name(peer.get(), s.peer_name.c_str());
  if (s.mtu) {
    rtnl_link_set_mtu(host.get(), s.mtu);
    rtnl_link_set_mtu(peer.get(), s.mtu);
  }
  if (s.master) rtnl_link_set_master(host.get(), s.master);
  rtnl_link_set_ns_fd(peer.get(), s.peer_netns_fd);
  NlAddr mac;
  if (s.peer_mac) {
    TRY(parse_mac(*s.peer_mac, mac));
    rtnl_link_set_addr(peer.get(), mac.get());
  }
  int err = rtnl_link_add(sk, host.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0) return nl_fail("creating veth " + quote(s.host_name) + " with peer " + quote(s.peer_name), err);
  return {};
}

Result<> set_hairpin(nl_sock* sk, int ifindex) {
  Link orig(rtnl_link_alloc()), change(rtnl_link_alloc());
  if (!orig || !change) return fail("out of memory", ENOMEM);
  rtnl_link_set_ifindex(orig.get(), ifindex);
  rtnl_link_set_family(orig.get(), AF_BRIDGE);
  rtnl_link_set_family(change.get(), AF_BRIDGE);
  if (int err = rtnl_link_bridge_set_flags(change.get(), RTNL_BRIDGE_HAIRPIN_MODE); err < 0)
    return nl_fail("hairpin flag", err);
  if (int err = rtnl_link_change(sk, orig.get(), change.get(), 0); err < 0)
    return nl_fail("setting hairpin mode on link " + std::to_string(ifindex), err);
  return {};
}

Result<bool> delete_link(nl_sock* sk, const std::string& name) {
  Link l = TRY(find_link(sk, name));
  if (!l) return false;
  int err = rtnl_link_delete(sk, l.get());
  if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) return false;
  if (err < 0) return nl_fail("deleting link " + quote(name), err);
  return true;
}

Result<std::string> mac_of(nl_sock* sk, const std::string& name) {
  Link l = TRY(find_link(sk, name));
  if (!l) return fail("no link " + quote(name), ENODEV);
  nl_addr* a = rtnl_link_get_addr(l.get());
  if (!a) return std::string();
  char buf[64];
  return std::string(nl_addr2str(a, buf, sizeof buf));
}

}  // namespace orch::netns
