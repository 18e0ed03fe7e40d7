#include "ipam.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/file.hpp"
#include "base/strings.hpp"

namespace orch::netns {

using json = nlohmann::json;
using orun::fail;

namespace {

struct Db {
  std::vector<Lease> leases;
  std::vector<Ip> last;  // the address handed out last, per family (round robin, as host-local)
};

std::string db_path(const NetworkLock& l) { return l.dir() + "/leases.json"; }

Result<std::string> str_field(const json& o, const char* key, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) return fail(where + ": \"" + key + "\" missing or not a string");
  return it->get<std::string>();
}

// The file is ours, but a half-written or edited one must give an error, never a reuse.
Result<Db> load(const NetworkLock& l) {
  Db db;
  std::string path = db_path(l);
  if (!orun::path_exists(path)) return db;
  std::string text = TRY(orun::read_file(path));
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return fail(path + ": not a JSON object", EIO);
  auto ls = doc.find("leases");
  if (ls == doc.end() || !ls->is_array()) return fail(path + ": \"leases\" is not an array", EIO);
  for (const json& e : *ls) {
    if (!e.is_object()) return fail(path + ": a lease is not an object", EIO);
    Lease le;
    auto ip = parse_ip(TRY(str_field(e, "ip", path)));
    if (!ip) return fail(path + ": bad lease address", EIO);
    le.ip = *ip;
    le.id = TRY(str_field(e, "id", path));
    le.ifname = TRY(str_field(e, "ifname", path));
    le.netns = TRY(str_field(e, "netns", path));
    db.leases.push_back(std::move(le));
  }
  if (auto la = doc.find("last"); la != doc.end() && la->is_array())
    for (const json& s : *la)
      if (s.is_string())
        if (auto ip = parse_ip(s.get<std::string>())) db.last.push_back(*ip);
  return db;
}

Result<> save(const NetworkLock& l, const Db& db) {
  json doc = {{"version", 1}, {"leases", json::array()}, {"last", json::array()}};
  for (const Lease& le : db.leases)
    doc["leases"].push_back({{"ip", to_string(le.ip)}, {"id", le.id}, {"ifname", le.ifname}, {"netns", le.netns}});
  for (const Ip& ip : db.last) doc["last"].push_back(to_string(ip));
  return orun::write_file_atomic(db_path(l), doc.dump(1) + "\n", 0600);
}

Result<Ip> field_ip(const std::optional<Ip>& v, const Range& r, const std::string& field) {
  if (!contains(r.subnet, *v)) return fail(field + ": " + to_string(*v) + " is outside the subnet " + to_string(r.subnet));
  return *v;
}

}  // namespace

Ip gateway_of(const Range& r) { return *r.gateway; }

const Range* range_of(const IpamConfig& cfg, const Ip& ip) {
  for (const Range& r : cfg.ranges)
    if (contains(r.subnet, ip)) return &r;
  return nullptr;
}

namespace {

std::string field_of(const Range& r) {
  std::string p = "ranges[" + std::to_string(r.set) + "]";
  return r.index < 0 ? p : p + "[" + std::to_string(r.index) + "]";
}

bool overlap(const Cidr& a, const Cidr& b) { return contains(a, b.ip) || contains(b, a.ip); }

// The next free address of `r` after the last one it handed out (wrapping once, so that a freed
// address is not reused at once); records it as the range's last.
std::optional<Ip> next_free(Db& db, const std::set<Ip>& taken, const Range& r) {
  auto last = std::find_if(db.last.begin(), db.last.end(),
                           [&](const Ip& ip) { return ip.family == r.start->family && ip >= *r.start && ip <= *r.end; });
  Ip from = (last != db.last.end() && *last < *r.end) ? Ip{r.start->family, last->v + 1} : *r.start;
  for (Ip ip = from;;) {
    if (!taken.count(ip)) {
      if (last != db.last.end()) *last = ip; else db.last.push_back(ip);
      return ip;
    }
    ip = ip == *r.end ? *r.start : Ip{ip.family, ip.v + 1};
    if (ip == from) return std::nullopt;
  }
}

}  // namespace

Result<IpamConfig> resolve(IpamConfig cfg) {
  if (cfg.ranges.empty()) return fail("ranges: at least one range is needed");
  std::map<unsigned, int> set_family;
  std::set<int> families;
  for (size_t i = 0; i < cfg.ranges.size(); ++i) {
    Range& r = cfg.ranges[i];
    std::string p = field_of(r);
    int family = r.subnet.ip.family;
    auto [set, fresh] = set_family.emplace(r.set, family);
    if (fresh && !families.insert(family).second) return fail(p + ".subnet: only one range set per address family");
    if (!fresh && set->second != family) return fail(p + ".subnet: not of the address family of its set");
    int host_bits = r.subnet.ip.bits() - r.subnet.prefix;
    if (host_bits < 2) return fail(p + ".subnet: " + to_string(r.subnet) + " has no room for a gateway and a container");
    if (r.subnet.ip != network_of(r.subnet))
      return fail(p + ".subnet: " + to_string(r.subnet) + " has host bits set (the network is " + to_string(network_of(r.subnet)) + ")");
    Ip net = network_of(r.subnet), last = last_of(r.subnet);
    if (!r.gateway) r.gateway = Ip{net.family, net.v + 1};
    if (!r.start) r.start = Ip{net.family, net.v + 1};
    if (!r.end) r.end = Ip{net.family, net.family == AF_INET ? last.v - 1 : last.v};
    TRY(field_ip(r.gateway, r, p + ".gateway"));
    TRY(field_ip(r.start, r, p + ".rangeStart"));
    TRY(field_ip(r.end, r, p + ".rangeEnd"));
    if (*r.start > *r.end) return fail(p + ".rangeStart: after rangeEnd");
    if (r.start->v == net.v) return fail(p + ".rangeStart: the network address cannot be handed out");
    if (net.family == AF_INET && r.end->v == last.v) return fail(p + ".rangeEnd: the broadcast address cannot be handed out");
    // Ranges of a set share a subnet or lie in disjoint ones (an address's prefix must be
    // unambiguous), and never hand out the same address.
    for (size_t j = 0; j < i; ++j) {
      const Range& o = cfg.ranges[j];
      if (o.set != r.set) continue;
      if (o.subnet != r.subnet && overlap(o.subnet, r.subnet))
        return fail(p + ".subnet: " + to_string(r.subnet) + " overlaps " + field_of(o) + "'s " + to_string(o.subnet));
      if (*r.start <= *o.end && *o.start <= *r.end) return fail(p + ": its addresses overlap those of " + field_of(o));
    }
  }
  return cfg;
}

Result<std::vector<Cidr>> allocate(const NetworkLock& lock, const IpamConfig& cfg, const std::string& id,
                                   const std::string& ifname, const std::string& netns) {
  Db db = TRY(load(lock));
  std::vector<Cidr> out;
  std::set<Ip> taken(cfg.reserved.begin(), cfg.reserved.end());
  for (const Lease& le : db.leases) taken.insert(le.ip);
  for (const Range& r : cfg.ranges) taken.insert(*r.gateway);
  for (size_t first = 0, end = 0; first < cfg.ranges.size(); first = end) {
    // [first, end): one range set
    for (end = first; end < cfg.ranges.size() && cfg.ranges[end].set == cfg.ranges[first].set;) ++end;
    auto in_set = [&](const Ip& ip) -> const Range* {
      for (size_t k = first; k < end; ++k)
        if (contains(cfg.ranges[k].subnet, ip)) return &cfg.ranges[k];
      return nullptr;
    };
    auto mine = std::find_if(db.leases.begin(), db.leases.end(),
                             [&](const Lease& le) { return le.id == id && le.ifname == ifname && in_set(le.ip); });
    if (mine != db.leases.end()) {
      out.push_back(Cidr{mine->ip, in_set(mine->ip)->subnet.prefix});
      continue;
    }
    std::optional<Cidr> got;
    for (size_t k = first; k < end && !got; ++k)
      if (auto ip = next_free(db, taken, cfg.ranges[k])) got = Cidr{*ip, cfg.ranges[k].subnet.prefix};
    if (!got) return fail("no free address in " + field_of(cfg.ranges[first]) + " (" + to_string(cfg.ranges[first].subnet) +
                              (end - first > 1 ? " and the rest of its set)" : ")"), ENOSPC);
    db.leases.push_back(Lease{got->ip, id, ifname, netns});
    taken.insert(got->ip);
    out.push_back(*got);
  }
  TRYC(save(lock, db), "saving leases");
  return out;
}

Result<int> release(const NetworkLock& lock, const std::string& id, const std::string& ifname) {
  Db db = TRY(load(lock));
  size_t before = db.leases.size();
  std::erase_if(db.leases, [&](const Lease& le) { return le.id == id && le.ifname == ifname; });
  int n = static_cast<int>(before - db.leases.size());
  if (n) TRYC(save(lock, db), "saving leases");
  return n;
}

Result<std::vector<Lease>> leases(const NetworkLock& lock) { return TRY(load(lock)).leases; }

Result<std::vector<Lease>> collect(const NetworkLock& lock, const std::function<bool(const Lease&)>& alive) {
  Db db = TRY(load(lock));
  std::vector<Lease> dropped;
  std::erase_if(db.leases, [&](const Lease& le) {
    if (alive(le)) return false;
    dropped.push_back(le);
    return true;
  });
  if (!dropped.empty()) TRYC(save(lock, db), "saving leases");
  return dropped;
}

}  // namespace orch::netns
