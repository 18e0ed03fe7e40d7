// The table, per family F (ip / ip6), A its address type:
//
//   set nets      { type A; flags interval; }    subnets of orch networks (kept with the bridge)
//   set masq      { type A; }                     containers whose outbound traffic is masqueraded
//   map ports     { inet_proto . inet_service : A . inet_service }         any local address
//   map hostports { A . inet_proto . inet_service : A . inet_service }     one host address
//   prerouting/output (nat): fib daddr type local -> dnat through hostports, then ports
//   postrouting (nat): DNATed traffic from a subnet (hairpin) or from 127/8 is masqueraded,
//                      masq members going outside the subnets are masqueraded
//   input (filter, ip only): drop non-loopback traffic to 127/8 that was not DNATed, the guard
//                      that route_localnet needs (CVE-2020-8558)
#include "nat.hpp"

#include <nftables/libnftables.h>

#include "base/fd.hpp"
#include "base/strings.hpp"

namespace orch::netns {

using orun::fail;
using NftCtx = orun::Handle<nft_ctx*, nft_ctx_free>;

namespace {

struct Fam {
  const char* name;   // ip, ip6
  const char* type;   // ipv4_addr, ipv6_addr
};
Fam fam_of(int family) { return family == AF_INET ? Fam{"ip", "ipv4_addr"} : Fam{"ip6", "ipv6_addr"}; }

std::string table_text(int family) {
  Fam f = fam_of(family);
  std::string F = f.name, A = f.type;
  std::string dnat = "    fib daddr type local dnat " + F + " to " + F + " daddr . meta l4proto . th dport map @hostports\n"
                     "    fib daddr type local dnat " + F + " to meta l4proto . th dport map @ports\n";
  std::string t = "table " + F + " orch {\n"
    "  set nets { type " + A + "; flags interval; }\n"
    "  set masq { type " + A + "; }\n"
    "  map ports { type inet_proto . inet_service : " + A + " . inet_service; }\n"
    "  map hostports { type " + A + " . inet_proto . inet_service : " + A + " . inet_service; }\n"
    "  chain prerouting { type nat hook prerouting priority -100; policy accept;\n" + dnat + "  }\n"
    "  chain output { type nat hook output priority -100; policy accept;\n" + dnat + "  }\n"
    "  chain postrouting { type nat hook postrouting priority 100; policy accept;\n"
    "    ct status dnat " + F + " saddr @nets " + F + " daddr @nets masquerade\n";
  if (family == AF_INET) t += "    ct status dnat ip saddr 127.0.0.0/8 masquerade\n";
  t += "    " + F + " saddr @masq " + F + " daddr != @nets masquerade\n  }\n";
  if (family == AF_INET)
    t += "  chain input { type filter hook input priority 0; policy accept;\n"
         "    iif != \"lo\" ip daddr 127.0.0.0/8 ct status ! dnat drop\n  }\n";
  return t + "}\n";
}

class Nft {
 public:
  Result<> init() {
    ctx_.reset(nft_ctx_new(NFT_CTX_DEFAULT));
    if (!ctx_) return fail("nftables: cannot create a context", ENOMEM);
    nft_ctx_buffer_output(ctx_.get());
    nft_ctx_buffer_error(ctx_.get());
    return {};
  }
  // Run one command; on failure the error names it and carries nft's first error line.
  Result<std::string> run(const std::string& cmd) {
    if (nft_run_cmd_from_buffer(ctx_.get(), cmd.c_str()) != 0) {
      std::string err = nft_ctx_get_error_buffer(ctx_.get());
      auto first = orun::split(err, '\n');
      return fail("nft: " + (first.empty() ? std::string("failed") : first[0]), EIO);
    }
    return std::string(nft_ctx_get_output_buffer(ctx_.get()));
  }

 private:
  NftCtx ctx_;
};

struct Elem {
  std::string set;    // masq, ports, hostports
  std::string key;
  std::string value;  // empty for a set
};

std::vector<Elem> elems_of(const NatSpec& s) {
  std::vector<Elem> out;
  std::string cip = to_string(s.container);
  if (s.masquerade) out.push_back({"masq", cip, ""});
  for (const PortMap& p : s.ports) {
    std::string kv = p.protocol + " . " + std::to_string(p.host_port);
    std::string val = cip + " . " + std::to_string(p.container_port);
    if (p.host_ip) out.push_back({"hostports", to_string(*p.host_ip) + " . " + kv, val});
    else out.push_back({"ports", kv, val});
  }
  return out;
}

std::string elem_text(const Elem& e, bool with_value) {
  return "{ " + e.key + (with_value && !e.value.empty() ? " : " + e.value : "") + " }";
}

std::string where(int family, const std::string& set) { return std::string(fam_of(family).name) + " orch " + set; }

// Whether the element exists and (for a map) points at our container.
bool ours(Nft& nft, int family, const Elem& e) {
  auto out = nft.run("get element " + where(family, e.set) + " " + elem_text(e, false));
  if (!out) return false;
  return e.value.empty() || out->find(": " + e.value) != std::string::npos;
}

}  // namespace

Result<> nat_add(const NetworkLock& table_lock, const NatSpec& s) {
  (void)table_lock;  // its holder serialises table creation across networks
  Nft nft;
  TRY(nft.init());
  int fam = s.container.family;
  if (!nft.run(std::string("list table ") + fam_of(fam).name + " orch"))
    TRYC(nft.run(table_text(fam)), "creating the orch table");
  TRY(nft.run("add element " + where(fam, "nets") + " { " + to_string(s.subnet) + " }"));
  std::vector<Elem> done;
  for (const Elem& e : elems_of(s)) {
    // create, not add, for ports: a host port that another container holds must be refused.
    std::string verb = e.set == "masq" ? "add" : "create";
    auto r = nft.run(verb + " element " + where(fam, e.set) + " " + elem_text(e, true));
    if (!r) {
      for (const Elem& d : done) (void)nft.run("delete element " + where(fam, d.set) + " " + elem_text(d, false));
      if (e.set != "masq") return fail("host port " + e.key + " is already published (" + r.error().message + ")", EEXIST);
      return std::unexpected(r.error());
    }
    done.push_back(e);
  }
  return {};
}

Result<> nat_remove(const NatSpec& s) {
  Nft nft;
  TRY(nft.init());
  int fam = s.container.family;
  for (const Elem& e : elems_of(s))
    if (ours(nft, fam, e)) (void)nft.run("delete element " + where(fam, e.set) + " " + elem_text(e, false));
  return {};
}

Result<> nat_check(const NatSpec& s) {
  Nft nft;
  TRY(nft.init());
  for (const Elem& e : elems_of(s))
    if (!ours(nft, s.container.family, e))
      return fail("nft element " + e.key + " missing from " + where(s.container.family, e.set), ENOENT);
  return {};
}

}  // namespace orch::netns
