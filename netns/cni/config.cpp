// The network configuration is root input from whoever can write the runtime's config: every
// type is checked before use, no throwing accessor is called on a wrong type, and an unknown
// key is refused with its name (a typo would otherwise silently change the network).
#include "config.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/strings.hpp"
#include "names.hpp"

namespace orch::cni {

using json = nlohmann::json;
using netns::Cidr;
using netns::Ip;
using orun::quote;

namespace {

std::unexpected<CniError> bad(const std::string& field, const std::string& why, int code = kInvalidConfig) {
  return std::unexpected(CniError{code, field + ": " + why, ""});
}

CniResult<> known_keys(const json& obj, const std::string& where, std::initializer_list<const char*> keys) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (const char* k : keys) ok |= it.key() == k;
    if (!ok) return bad(where + (where.empty() ? "" : ".") + it.key(), "unknown field", kUnsupportedField);
  }
  return {};
}

// Optional member of type T: absent leaves `out` as it is.
CniResult<bool> get_string(const json& o, const char* key, const std::string& field, std::string& out) {
  auto it = o.find(key);
  if (it == o.end()) return false;
  if (!it->is_string()) return bad(field, "expected a string");
  out = it->get<std::string>();
  return true;
}
CniResult<> get_bool(const json& o, const char* key, const std::string& field, bool& out) {
  auto it = o.find(key);
  if (it == o.end()) return {};
  if (!it->is_boolean()) return bad(field, "expected true or false");
  out = it->get<bool>();
  return {};
}
CniResult<bool> get_uint(const json& o, const char* key, const std::string& field, uint64_t lo, uint64_t hi, uint64_t& out) {
  auto it = o.find(key);
  if (it == o.end()) return false;
  if (!it->is_number_unsigned() || it->get<uint64_t>() < lo || it->get<uint64_t>() > hi)
    return bad(field, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  out = it->get<uint64_t>();
  return true;
}
CniResult<std::optional<Ip>> get_ip(const json& o, const char* key, const std::string& field) {
  std::string s;
  bool present = TRY(get_string(o, key, field, s));
  if (!present) return std::optional<Ip>();
  auto ip = netns::parse_ip(s);
  if (!ip) return bad(field, quote(s) + " is not an IP address");
  return std::optional<Ip>(*ip);
}

// A resolv.conf word: it ends up in a file that splits on white space and lines.
bool resolv_word(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (unsigned char c : s)
    if (c <= ' ' || c == 0x7f) return false;
  return true;
}

CniResult<std::vector<std::string>> get_words(const json& o, const char* key, const std::string& field) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end()) return out;
  if (!it->is_array()) return bad(field, "expected an array of strings");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& w = (*it)[i];
    std::string f = field + "[" + std::to_string(i) + "]";
    if (!w.is_string()) return bad(f, "expected a string");
    if (!resolv_word(w.get<std::string>())) return bad(f, quote(w.get<std::string>()) + ": expected one word, no spaces or control characters");
    out.push_back(w.get<std::string>());
  }
  return out;
}

CniResult<Dns> parse_dns(const json& o) {
  if (!o.is_object()) return bad("dns", "expected an object");
  TRY(known_keys(o, "dns", {"nameservers", "domain", "search", "options"}));
  Dns d;
  d.nameservers = TRY(get_words(o, "nameservers", "dns.nameservers"));
  for (size_t i = 0; i < d.nameservers.size(); ++i)
    if (!netns::parse_ip(d.nameservers[i]))
      return bad("dns.nameservers[" + std::to_string(i) + "]", quote(d.nameservers[i]) + " is not an IP address");
  if (TRY(get_string(o, "domain", "dns.domain", d.domain)) && !resolv_word(d.domain))
    return bad("dns.domain", quote(d.domain) + ": expected one word, no spaces or control characters");
  d.search = TRY(get_words(o, "search", "dns.search"));
  d.options = TRY(get_words(o, "options", "dns.options"));
  return d;
}

CniResult<netns::Range> parse_range(const json& r, const std::string& p) {
  if (!r.is_object()) return bad(p, "expected an object");
  TRY(known_keys(r, p, {"subnet", "rangeStart", "rangeEnd", "gateway"}));
  std::string subnet;
  if (!TRY(get_string(r, "subnet", p + ".subnet", subnet))) return bad(p + ".subnet", "missing");
  auto c = netns::parse_cidr(subnet);
  if (!c) return bad(p + ".subnet", quote(subnet) + " is not an address/prefix");
  netns::Range out{*c, TRY(get_ip(r, "rangeStart", p + ".rangeStart")), TRY(get_ip(r, "rangeEnd", p + ".rangeEnd")),
                   TRY(get_ip(r, "gateway", p + ".gateway")), 0, -1};
  using Field = std::pair<std::optional<Ip>, const char*>;
  for (const Field& f : {Field{out.start, "rangeStart"}, Field{out.end, "rangeEnd"}, Field{out.gateway, "gateway"}})
    if (f.first && f.first->family != c->ip.family) return bad(p + "." + f.second, "not of the subnet's address family");
  return out;
}

CniResult<netns::IpamConfig> parse_ipam(const json& o) {
  if (!o.is_object()) return bad("ipam", "expected an object");
  TRY(known_keys(o, "ipam", {"type", "ranges", "reserved"}));
  std::string type;
  if (TRY(get_string(o, "type", "ipam.type", type)) && type != "orch")
    return bad("ipam.type", quote(type) + ": only the built-in \"orch\" IPAM is supported", kUnsupportedField);
  netns::IpamConfig cfg;
  auto rs = o.find("ranges");
  if (rs == o.end() || !rs->is_array() || rs->empty()) return bad("ipam.ranges", "expected a non-empty array");
  for (size_t i = 0; i < rs->size(); ++i) {
    std::string p = "ipam.ranges[" + std::to_string(i) + "]";
    const json& r = (*rs)[i];
    // host-local's form: a list of range sets, one address from each, taken from the first of
    // the set's ranges with a free one. A plain object is a set of that one range.
    if (r.is_array()) {
      if (r.empty()) return bad(p, "expected a non-empty array of ranges");
      for (size_t j = 0; j < r.size(); ++j) {
        netns::Range range = TRY(parse_range(r[j], p + "[" + std::to_string(j) + "]"));
        range.set = static_cast<unsigned>(i);
        range.index = static_cast<int>(j);
        cfg.ranges.push_back(range);
      }
    } else {
      netns::Range range = TRY(parse_range(r, p));
      range.set = static_cast<unsigned>(i);
      cfg.ranges.push_back(range);
    }
  }
  if (auto res = o.find("reserved"); res != o.end()) {
    if (!res->is_array()) return bad("ipam.reserved", "expected an array of addresses");
    for (size_t i = 0; i < res->size(); ++i) {
      const json& s = (*res)[i];
      auto ip = s.is_string() ? netns::parse_ip(s.get<std::string>()) : std::nullopt;
      if (!ip) return bad("ipam.reserved[" + std::to_string(i) + "]", "expected an IP address");
      cfg.reserved.push_back(*ip);
    }
  }
  auto resolved = netns::resolve(std::move(cfg));
  if (!resolved) return std::unexpected(CniError{kInvalidConfig, "ipam." + resolved.error().message, ""});
  return *resolved;
}

CniResult<netns::PortMap> parse_port(const json& p, const std::string& f) {
  if (!p.is_object()) return bad(f, "expected an object");
  TRY(known_keys(p, f, {"hostPort", "containerPort", "protocol", "hostIP"}));
  netns::PortMap m;
  uint64_t v = 0;
  if (!TRY(get_uint(p, "hostPort", f + ".hostPort", 1, 65535, v))) return bad(f + ".hostPort", "missing");
  m.host_port = static_cast<uint16_t>(v);
  if (!TRY(get_uint(p, "containerPort", f + ".containerPort", 1, 65535, v))) return bad(f + ".containerPort", "missing");
  m.container_port = static_cast<uint16_t>(v);
  m.protocol = "tcp";
  TRY(get_string(p, "protocol", f + ".protocol", m.protocol));
  for (char& c : m.protocol) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  if (m.protocol != "tcp" && m.protocol != "udp") return bad(f + ".protocol", "expected \"tcp\" or \"udp\"");
  std::string host;
  if (TRY(get_string(p, "hostIP", f + ".hostIP", host)) && !host.empty() && host != "0.0.0.0" && host != "::") {
    auto ip = netns::parse_ip(host);
    if (!ip) return bad(f + ".hostIP", quote(host) + " is not an IP address");
    m.host_ip = *ip;
  }
  return m;
}

CniResult<> parse_runtime_config(const json& rc, Request& req) {
  if (!rc.is_object()) return bad("runtimeConfig", "expected an object");
  if (auto pm = rc.find("portMappings"); pm != rc.end()) {
    if (!pm->is_array()) return bad("runtimeConfig.portMappings", "expected an array");
    for (size_t i = 0; i < pm->size(); ++i)
      req.container.ports.push_back(TRY(parse_port((*pm)[i], "runtimeConfig.portMappings[" + std::to_string(i) + "]")));
    for (size_t i = 0; i < req.container.ports.size(); ++i)
      for (size_t j = 0; j < i; ++j) {
        const auto &a = req.container.ports[i], &b = req.container.ports[j];
        if (a.protocol == b.protocol && a.host_port == b.host_port && a.host_ip == b.host_ip)
          return bad("runtimeConfig.portMappings[" + std::to_string(i) + "]", "host port published twice");
      }
  }
  std::string mac;
  if (TRY(get_string(rc, "mac", "runtimeConfig.mac", mac))) {
    bool ok = mac.size() == 17;
    for (size_t i = 0; ok && i < 17; ++i) ok = (i % 3 == 2) ? mac[i] == ':' : isxdigit(static_cast<unsigned char>(mac[i]));
    if (!ok) return bad("runtimeConfig.mac", quote(mac) + " is not a MAC address (aa:bb:cc:dd:ee:ff)");
    // A multicast MAC on eth0 would be refused by the kernel; say so here, by field.
    if (std::strtol(mac.substr(0, 2).c_str(), nullptr, 16) & 1) return bad("runtimeConfig.mac", "a multicast address");
    req.container.mac = mac;
  }
  return {};
}

CniResult<std::string> env_get(const std::map<std::string, std::string>& env, const char* name, bool required) {
  auto it = env.find(name);
  if (it == env.end() || it->second.empty()) {
    if (required) return std::unexpected(CniError{kInvalidEnv, std::string(name) + ": missing", ""});
    return std::string();
  }
  return it->second;
}

CniResult<Command> parse_command(const std::string& s) {
  if (s == "ADD") return Command::Add;
  if (s == "DEL") return Command::Del;
  if (s == "CHECK") return Command::Check;
  if (s == "VERSION") return Command::Version;
  if (s == "GC") return Command::Gc;
  return std::unexpected(CniError{kInvalidEnv, "CNI_COMMAND: unknown command " + quote(s), ""});
}

CniResult<> parse_network(const json& doc, Request& req) {
  TRY(known_keys(doc, "", {"cniVersion", "name", "type", "bridge", "mtu", "isGateway", "isDefaultGateway", "ipMasq",
                           "hairpinMode", "dataDir", "ipam", "runtimeConfig", "capabilities", "args", "prevResult", "dns",
                           "cni.dev/valid-attachments"}));
  auto& net = req.net;
  if (!TRY(get_string(doc, "name", "name", net.name))) return bad("name", "missing");
  if (!netns::valid_name(net.name)) return bad("name", quote(net.name) + ": letters, digits, '_', '-' and '.' only");
  std::string type;
  if (!TRY(get_string(doc, "type", "type", type))) return bad("type", "missing");
  TRY(get_string(doc, "bridge", "bridge", net.bridge));
  if (!netns::valid_ifname(net.bridge)) return bad("bridge", quote(net.bridge) + " is not a valid interface name");
  uint64_t mtu = 0;
  if (TRY(get_uint(doc, "mtu", "mtu", 68, 65535, mtu))) net.mtu = static_cast<unsigned>(mtu);
  TRY(get_bool(doc, "isGateway", "isGateway", net.is_gateway));
  bool default_gw = true;  // the reference bridge plugin's name for the routes through the gateway
  TRY(get_bool(doc, "isDefaultGateway", "isDefaultGateway", default_gw));
  if (!default_gw) net.is_gateway = false;
  TRY(get_bool(doc, "ipMasq", "ipMasq", net.ip_masq));
  TRY(get_bool(doc, "hairpinMode", "hairpinMode", net.hairpin));
  if (TRY(get_string(doc, "dataDir", "dataDir", net.data_dir)) &&
      (net.data_dir.empty() || net.data_dir[0] != '/' || orun::clean_path(net.data_dir) != net.data_dir || net.data_dir == "/"))
    return bad("dataDir", quote(net.data_dir) + " is not a clean absolute path");
  auto ipam = doc.find("ipam");
  if (ipam == doc.end()) return bad("ipam", "missing");
  net.ipam = TRY(parse_ipam(*ipam));
  if (auto rc = doc.find("runtimeConfig"); rc != doc.end()) TRY(parse_runtime_config(*rc, req));
  if (auto dns = doc.find("dns"); dns != doc.end()) req.dns = TRY(parse_dns(*dns));
  return {};
}

}  // namespace

CniResult<Request> parse_request(const std::map<std::string, std::string>& env, std::string_view text) {
  Request req;
  req.command = TRY(parse_command(TRY(env_get(env, "CNI_COMMAND", true))));
  if (text.size() > kMaxConfigBytes) return bad("stdin", "configuration larger than 1 MiB", kDecodeFailure);
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return bad("stdin", std::string("not JSON: ") + e.what(), kDecodeFailure);
  }
  if (!doc.is_object()) return bad("stdin", "expected a JSON object", kDecodeFailure);
  if (!TRY(get_string(doc, "cniVersion", "cniVersion", req.cni_version))) return bad("cniVersion", "missing");
  bool known = false;
  for (const char* v : kSupportedVersions) known |= req.cni_version == v;
  if (!known) return bad("cniVersion", quote(req.cni_version) + " is not supported", kIncompatibleVersion);
  if (req.command == Command::Version) return req;
  if (req.command == Command::Check && (req.cni_version == "0.3.0" || req.cni_version == "0.3.1"))
    return bad("cniVersion", "CHECK needs 0.4.0 or later", kIncompatibleVersion);

  TRY(parse_network(doc, req));
  if (req.command == Command::Gc) return req;
  auto& c = req.container;
  c.id = TRY(env_get(env, "CNI_CONTAINERID", true));
  if (!netns::valid_name(c.id))
    return std::unexpected(CniError{kInvalidEnv, "CNI_CONTAINERID: " + quote(c.id) + ": letters, digits, '_', '-' and '.' only", ""});
  c.ifname = TRY(env_get(env, "CNI_IFNAME", true));
  if (!netns::valid_ifname(c.ifname))
    return std::unexpected(CniError{kInvalidEnv, "CNI_IFNAME: " + quote(c.ifname) + " is not a valid interface name", ""});
  // DEL may come after the namespace is gone; ADD and CHECK need it.
  c.netns = TRY(env_get(env, "CNI_NETNS", req.command != Command::Del));
  if (!c.netns.empty() && c.netns[0] != '/')
    return std::unexpected(CniError{kInvalidEnv, "CNI_NETNS: " + quote(c.netns) + " is not an absolute path", ""});
  return req;
}

}  // namespace orch::cni
