#include "attachment.hpp"

#include <dirent.h>

#include <nlohmann/json.hpp>

#include "base/file.hpp"
#include "base/strings.hpp"

namespace orch::netns {

using json = nlohmann::json;
using orun::fail;

namespace {

std::string dir_of(const NetworkLock& l) { return l.dir() + "/containers"; }
std::string path_of(const NetworkLock& l, const std::string& id, const std::string& ifname) {
  return dir_of(l) + "/" + id + ":" + ifname + ".json";
}

json to_json(const Attachment& a) {
  json j = {{"id", a.id}, {"ifname", a.ifname}, {"netns", a.netns}, {"hostVeth", a.host_veth},
            {"phase", a.phase}, {"masquerade", a.masquerade}, {"addresses", json::array()}, {"ports", json::array()}};
  for (const Cidr& c : a.addresses) j["addresses"].push_back(to_string(c));
  for (const PortMap& p : a.ports) {
    json pj = {{"protocol", p.protocol}, {"hostPort", p.host_port}, {"containerPort", p.container_port}};
    if (p.host_ip) pj["hostIP"] = to_string(*p.host_ip);
    j["ports"].push_back(pj);
  }
  return j;
}

std::string str(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
uint16_t port(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_number_unsigned() && it->get<uint64_t>() <= 65535 ? static_cast<uint16_t>(it->get<uint64_t>()) : 0;
}

// Our own file, read defensively: a damaged record must not make DEL fail or act on junk.
Result<Attachment> from_json(const std::string& path, const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(path + ": not a JSON object", EIO);
  Attachment a{str(j, "id"), str(j, "ifname"), str(j, "netns"), str(j, "hostVeth"), str(j, "phase"), {}, {}, false};
  if (auto m = j.find("masquerade"); m != j.end() && m->is_boolean()) a.masquerade = m->get<bool>();
  if (auto as = j.find("addresses"); as != j.end() && as->is_array())
    for (const json& s : *as)
      if (s.is_string())
        if (auto c = parse_cidr(s.get<std::string>())) a.addresses.push_back(*c);
  if (auto ps = j.find("ports"); ps != j.end() && ps->is_array())
    for (const json& p : *ps) {
      if (!p.is_object()) continue;
      PortMap pm{str(p, "protocol"), port(p, "hostPort"), port(p, "containerPort"), std::nullopt};
      if (auto ip = parse_ip(str(p, "hostIP"))) pm.host_ip = *ip;
      if ((pm.protocol == "tcp" || pm.protocol == "udp") && pm.host_port && pm.container_port) a.ports.push_back(pm);
    }
  return a;
}

}  // namespace

Result<> save_attachment(const NetworkLock& l, const Attachment& a) {
  TRY(orun::mkdir_p(dir_of(l), 0700));
  return orun::write_file_atomic(path_of(l, a.id, a.ifname), to_json(a).dump(1) + "\n", 0600);
}

Result<std::optional<Attachment>> load_attachment(const NetworkLock& l, const std::string& id, const std::string& ifname) {
  std::string path = path_of(l, id, ifname);
  if (!orun::path_exists(path)) return std::optional<Attachment>();
  std::string text = TRY(orun::read_file(path));
  return std::optional<Attachment>(TRY(from_json(path, text)));
}

Result<> remove_attachment(const NetworkLock& l, const std::string& id, const std::string& ifname) {
  std::string path = path_of(l, id, ifname);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return orun::sys_error("removing " + path);
  return {};
}

Result<std::vector<Attachment>> list_attachments(const NetworkLock& l) {
  std::vector<Attachment> out;
  DIR* d = ::opendir(dir_of(l).c_str());
  if (!d) return out;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.ends_with(".json")) names.push_back(n);
  }
  ::closedir(d);
  for (const std::string& n : names) {
    std::string path = dir_of(l) + "/" + n;
    auto text = orun::read_file(path);
    if (!text) continue;
    if (auto a = from_json(path, *text); a && !a->id.empty()) out.push_back(std::move(*a));
  }
  return out;
}

}  // namespace orch::netns
