#include "attach.hpp"

#include "addr.hpp"
#include "link.hpp"
#include "sysctl.hpp"

namespace orch::netns {

static Result<> setup_container_side(const AttachSpec& s, Attached& out) {
  NlSock sk = TRYC(nl_open_in(s.netns_fd), "container namespace");
  TRY(set_up(sk.get(), TRY(ifindex_of(sk.get(), "lo"))));
  int idx = TRY(ifindex_of(sk.get(), s.ifname));
  for (const Cidr& a : s.addresses) TRY(add_address(sk.get(), idx, a, true));
  TRY(set_up(sk.get(), idx));
  for (const Ip& gw : s.routes) TRY(add_default_route(sk.get(), idx, gw));
  out.container_mac = TRY(mac_of(sk.get(), s.ifname));
  return {};
}

static Result<Attached> attach_steps(nl_sock* sk, const AttachSpec& s) {
  Attached out;
  bool v4 = false, v6 = false;
  for (const Cidr& a : s.addresses) (a.ip.family == AF_INET ? v4 : v6) = true;
  if (v4) TRY(ensure_sysctl("net/ipv4/ip_forward", "1"));
  if (v6) TRY(ensure_sysctl("net/ipv6/conf/all/forwarding", "1"));

  int br = TRY(ensure_bridge(sk, s.bridge, s.mtu));
  for (const Cidr& g : s.gateways) TRY(add_address(sk, br, g, true));
  out.bridge_mac = TRY(mac_of(sk, s.bridge));

  TRY(create_veth(sk, VethSpec{s.host_veth, s.ifname, s.netns_fd, br, s.mtu, s.mac}));
  int host = TRY(ifindex_of(sk, s.host_veth));
  if (s.hairpin) TRY(set_hairpin(sk, host));
  TRY(set_up(sk, host));
  out.host_mac = TRY(mac_of(sk, s.host_veth));

  TRY(setup_container_side(s, out));
  return out;
}

Result<Attached> attach(const AttachSpec& s) {
  NlSock sk = TRY(nl_open());
  auto r = attach_steps(sk.get(), s);
  if (!r) (void)detach(s.host_veth);
  return r;
}

Result<bool> detach(const std::string& host_veth) {
  NlSock sk = TRY(nl_open());
  return delete_link(sk.get(), host_veth);
}

}  // namespace orch::netns
