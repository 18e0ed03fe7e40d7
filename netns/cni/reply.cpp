#include "reply.hpp"

#include <nlohmann/json.hpp>

namespace orch::cni {

using json = nlohmann::json;

namespace {
// Paths and messages may hold bytes that are not UTF-8 (CNI_NETNS is the caller's); replace
// keeps dump() from throwing on them.
std::string dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"; }
}  // namespace

std::string add_result(const Request& req, const netns::AddResult& r) {
  bool pre_1 = req.cni_version != "1.0.0";  // 0.3.x and 0.4.0 name each address's version
  json ifs = json::array({{{"name", req.net.bridge}, {"mac", r.links.bridge_mac}},
                          {{"name", r.host_veth}, {"mac", r.links.host_mac}},
                          {{"name", req.container.ifname}, {"mac", r.links.container_mac}, {"sandbox", req.container.netns}}});
  json ips = json::array(), routes = json::array();
  for (size_t i = 0; i < r.addresses.size(); ++i) {
    const netns::Cidr& a = r.addresses[i];
    json ip = {{"address", netns::to_string(a)}, {"interface", 2}};
    if (pre_1) ip["version"] = a.ip.family == AF_INET ? "4" : "6";
    if (i < r.gateways.size()) {
      ip["gateway"] = netns::to_string(r.gateways[i]);
      routes.push_back({{"dst", a.ip.family == AF_INET ? "0.0.0.0/0" : "::/0"}, {"gw", netns::to_string(r.gateways[i])}});
    }
    ips.push_back(ip);
  }
  json dns = json::object();
  if (!req.dns.nameservers.empty()) dns["nameservers"] = req.dns.nameservers;
  if (!req.dns.domain.empty()) dns["domain"] = req.dns.domain;
  if (!req.dns.search.empty()) dns["search"] = req.dns.search;
  if (!req.dns.options.empty()) dns["options"] = req.dns.options;
  json out = {{"cniVersion", req.cni_version}, {"interfaces", ifs}, {"ips", ips}, {"dns", dns}};
  if (!routes.empty()) out["routes"] = routes;
  return dump(out);
}

std::string version_result(const std::string& cni_version) {
  json v = json::array();
  for (const char* s : kSupportedVersions) v.push_back(s);
  return dump(json{{"cniVersion", cni_version.empty() ? "1.0.0" : cni_version}, {"supportedVersions", v}});
}

std::string error_result(const std::string& cni_version, const CniError& e) {
  json out = {{"cniVersion", cni_version.empty() ? "1.0.0" : cni_version}, {"code", e.code}, {"msg", e.msg}};
  if (!e.details.empty()) out["details"] = e.details;
  return dump(out);
}

}  // namespace orch::cni
