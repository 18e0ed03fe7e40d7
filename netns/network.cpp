#include "network.hpp"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "addr.hpp"
#include "attachment.hpp"
#include "base/strings.hpp"
#include "link.hpp"
#include "sysctl.hpp"

namespace orch::netns {

using orun::fail;
using orun::quote;

namespace {

// Test hook: ORCH_NETNS_CRASH_AT=<step> kills the process right after that step, to prove
// that DEL cleans up an ADD that died there. It only lets the caller kill its own child.
void crash_point(const char* step) {
  const char* at = std::getenv("ORCH_NETNS_CRASH_AT");
  if (at && std::strcmp(at, step) == 0) ::raise(SIGKILL);
}

std::string net_dir(const NetworkConfig& cfg) { return cfg.data_dir + "/networks/" + cfg.name; }

Result<> check_names(const NetworkConfig& cfg, const ContainerRef& c) {
  if (!valid_name(cfg.name)) return fail("name: invalid network name " + quote(cfg.name));
  if (!valid_name(c.id)) return fail("CNI_CONTAINERID: invalid container id " + quote(c.id));
  if (!valid_ifname(c.ifname)) return fail("CNI_IFNAME: invalid interface name " + quote(c.ifname));
  if (!valid_ifname(cfg.bridge)) return fail("bridge: invalid interface name " + quote(cfg.bridge));
  return {};
}

std::vector<NatSpec> nat_specs(const NetworkConfig& cfg, const Attachment& a) {
  std::vector<NatSpec> out;
  for (const Cidr& addr : a.addresses) {
    NatSpec n{Cidr{network_of(addr), addr.prefix}, addr.ip, a.masquerade, {}};
    for (const PortMap& p : a.ports)
      if (!p.host_ip || p.host_ip->family == addr.ip.family) n.ports.push_back(p);
    (void)cfg;
    out.push_back(std::move(n));
  }
  return out;
}

// Undo whatever of `a` exists. Best effort per step, so one failure does not strand the rest;
// the first error is returned.
Result<> teardown(const NetworkLock& lock, const Attachment& a) {
  Result<> first;
  auto keep = [&](Result<> r) {
    if (!r && first) first = std::unexpected(r.error());
  };
  for (const NatSpec& n : nat_specs(NetworkConfig{}, a)) keep(nat_remove(n));
  auto gone = detach(a.host_veth);
  if (!gone) keep(std::unexpected(gone.error()));
  auto rel = release(lock, a.id, a.ifname);
  if (!rel) keep(std::unexpected(rel.error()));
  if (first) keep(remove_attachment(lock, a.id, a.ifname));
  return first;
}

Result<AddResult> add_steps(const NetworkConfig& cfg, const NetworkLock& lock, Attachment& a, const ContainerRef& c,
                            int netns_fd) {
  AddResult out;
  out.host_veth = a.host_veth;
  a.addresses = TRYC(allocate(lock, cfg.ipam, c.id, c.ifname, c.netns), "ipam");
  TRY(save_attachment(lock, a));
  crash_point("ipam");

  AttachSpec s{cfg.bridge, cfg.mtu, {}, a.host_veth, c.ifname, netns_fd, a.addresses, c.mac, cfg.hairpin, {}};
  if (cfg.is_gateway) {
    // The bridge holds every range's gateway (containers of any range share it); each address's
    // default route goes via the gateway of the range it came from.
    for (const Range& r : cfg.ipam.ranges) {
      Cidr gw{gateway_of(r), r.subnet.prefix};
      if (std::find(s.gateways.begin(), s.gateways.end(), gw) == s.gateways.end()) s.gateways.push_back(gw);
    }
    for (const Cidr& addr : a.addresses) {
      const Range* r = range_of(cfg.ipam, addr.ip);
      if (!r) return fail("ipam: " + to_string(addr) + " is in no configured range");
      s.routes.push_back(gateway_of(*r));
      out.gateways.push_back(gateway_of(*r));
    }
  }
  out.links = TRY(attach(s));
  out.addresses = a.addresses;
  crash_point("attach");

  bool v4_ports = false;
  for (const PortMap& p : a.ports) v4_ports |= !p.host_ip || p.host_ip->family == AF_INET;
  // Published ports on 127.0.0.1: the output chain's DNAT sends such packets to the bridge, which
  // the kernel refuses for a loopback source unless route_localnet is on (docs/networking.md).
  if (v4_ports) TRY(ensure_sysctl("net/ipv4/conf/" + cfg.bridge + "/route_localnet", "1"));
  NetworkLock table = TRYC(lock_network(cfg.data_dir + "/nft"), "nft table lock");
  for (const NatSpec& n : nat_specs(cfg, a)) TRY(nat_add(table, n));
  crash_point("nat");

  a.phase = "ready";
  TRY(save_attachment(lock, a));
  return out;
}

}  // namespace

Result<AddResult> net_add(const NetworkConfig& cfg, const ContainerRef& c) {
  TRY(check_names(cfg, c));
  Fd ns = TRYC(open_netns(c.netns), "CNI_NETNS");
  NetworkLock lock = TRY(lock_network(net_dir(cfg)));
  if (TRY(load_attachment(lock, c.id, c.ifname)))
    return fail("container " + quote(c.id) + " already has " + quote(c.ifname) + " on network " + quote(cfg.name), EEXIST);
  Attachment a{c.id, c.ifname, c.netns, host_veth_name(cfg.name, c.id, c.ifname), "adding", {}, c.ports, cfg.ip_masq};
  TRY(save_attachment(lock, a));
  crash_point("intent");
  auto r = add_steps(cfg, lock, a, c, ns.get());
  if (!r) (void)teardown(lock, a);
  return r;
}

Result<> net_del(const NetworkConfig& cfg, const ContainerRef& c) {
  TRY(check_names(cfg, c));
  NetworkLock lock = TRY(lock_network(net_dir(cfg)));
  auto rec = TRY(load_attachment(lock, c.id, c.ifname));
  Attachment a;
  if (rec) {
    a = std::move(*rec);
  } else {
    // No record (never added, or already deleted): still clean what the name and leases point at.
    a = Attachment{c.id, c.ifname, c.netns, host_veth_name(cfg.name, c.id, c.ifname), "", {}, c.ports, cfg.ip_masq};
    for (const Lease& le : TRY(leases(lock)))
      if (le.id == c.id && le.ifname == c.ifname)
        if (const Range* r = range_of(cfg.ipam, le.ip)) a.addresses.push_back(Cidr{le.ip, r->subnet.prefix});
  }
  a.host_veth = host_veth_name(cfg.name, c.id, c.ifname);  // never trust a name from disk for a delete
  return teardown(lock, a);
}

Result<> net_check(const NetworkConfig& cfg, const ContainerRef& c) {
  TRY(check_names(cfg, c));
  NetworkLock lock = TRY(lock_network(net_dir(cfg)));
  auto rec = TRY(load_attachment(lock, c.id, c.ifname));
  if (!rec || rec->phase != "ready")
    return fail("container " + quote(c.id) + " has no " + quote(c.ifname) + " on network " + quote(cfg.name), ENOENT);
  NlSock host = TRY(nl_open());
  Link veth = TRY(find_link(host.get(), rec->host_veth));
  if (!veth) return fail("host link " + quote(rec->host_veth) + " is missing", ENODEV);
  int br = TRY(ifindex_of(host.get(), cfg.bridge));
  if (rtnl_link_get_master(veth.get()) != br) return fail(quote(rec->host_veth) + " is not on bridge " + quote(cfg.bridge), EINVAL);
  Fd ns = TRYC(open_netns(c.netns), "CNI_NETNS");
  NlSock inside = TRY(nl_open_in(ns.get()));
  int idx = TRY(ifindex_of(inside.get(), c.ifname));
  auto have = TRY(addresses_of(inside.get(), idx));
  for (const Cidr& want : rec->addresses)
    if (std::find(have.begin(), have.end(), want) == have.end())
      return fail("address " + to_string(want) + " is missing from " + quote(c.ifname), EADDRNOTAVAIL);
  for (const NatSpec& n : nat_specs(cfg, *rec)) TRY(nat_check(n));
  return {};
}

Result<std::vector<std::string>> net_gc(const NetworkConfig& cfg) {
  if (!valid_name(cfg.name)) return fail("name: invalid network name " + quote(cfg.name));
  NetworkLock lock = TRY(lock_network(net_dir(cfg)));
  auto gone = [](const std::string& netns) { return netns.empty() || !open_netns(netns); };
  std::vector<std::string> out;
  for (Attachment& a : TRY(list_attachments(lock))) {
    if (!gone(a.netns) || !valid_name(a.id) || !valid_ifname(a.ifname)) continue;
    a.host_veth = host_veth_name(cfg.name, a.id, a.ifname);
    TRY(teardown(lock, a));
    out.push_back(a.id);
  }
  // Leases without a record (a crash before the record was written cannot happen, but a
  // hand-edited store can): the same rule.
  for (const Lease& le : TRY(collect(lock, [&](const Lease& le) { return !gone(le.netns); }))) out.push_back(le.id);
  return out;
}

}  // namespace orch::netns
