#include "namespaces.hpp"

#include <fcntl.h>
#include <sched.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "base/file.hpp"
#include "base/strings.hpp"
#include "spec/names.hpp"

namespace orun::linux {

bool NamespacePlan::has(spec::NamespaceType t) const {
  return std::find(present.begin(), present.end(), t) != present.end();
}

bool NamespacePlan::is_new(spec::NamespaceType t) const {
  return std::find(created.begin(), created.end(), t) != created.end();
}

// The user namespace first (it grants the rights to the others), the mount
// namespace last (entering it changes what paths mean).
static int join_rank(spec::NamespaceType t) {
  switch (t) {
    case spec::NamespaceType::user: return 0;
    case spec::NamespaceType::mount: return 9;
    default: return 5;
  }
}

Result<NamespacePlan> plan_namespaces(const spec::Linux& linux) {
  NamespacePlan plan;
  for (size_t i = 0; i < linux.namespaces.size(); ++i) {
    const auto& ns = linux.namespaces[i];
    std::string field = "linux.namespaces[" + std::to_string(i) + "]";
    int flag = spec::clone_flag(ns.type);
    plan.present.push_back(ns.type);
    if (ns.path.empty()) {
      plan.created.push_back(ns.type);
      if (ns.type == spec::NamespaceType::user) plan.new_user = true;
      else plan.unshare_flags |= flag;
      continue;
    }
    int fd = ::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sys_error(field + ".path: open " + ns.path);
    Fd owned(fd);
    // setns would refuse a file of the wrong kind; checking now names the
    // field before anything is created.
    int type = ::ioctl(fd, NS_GET_NSTYPE);
    if (type < 0) return sys_error(field + ".path: " + ns.path + " is not a namespace file");
    if (type != flag)
      return fail(field + ".path: " + ns.path + " is not a " + std::string(spec::to_string(ns.type)) + " namespace");
    plan.join.push_back(JoinNs{ns.type, flag, std::move(owned), ns.path});
  }
  std::stable_sort(plan.join.begin(), plan.join.end(),
                   [](const JoinNs& a, const JoinNs& b) { return join_rank(a.type) < join_rank(b.type); });
  return plan;
}

Result<> join_namespaces(const NamespacePlan& plan) {
  for (const auto& j : plan.join) {
    if (::setns(j.fd.get(), j.clone_flag) < 0)
      return sys_error("setns " + std::string(spec::to_string(j.type)) + " namespace " + j.path);
  }
  return {};
}

static std::string map_text(const std::vector<spec::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps)
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  return out;
}

Result<> write_id_maps(pid_t pid, const spec::Linux& linux) {
  std::string base = "/proc/" + std::to_string(pid) + "/";
  if (!linux.uid_mappings.empty()) TRYC(write_file(base + "uid_map", map_text(linux.uid_mappings)), "linux.uidMappings");
  if (!linux.gid_mappings.empty()) TRYC(write_file(base + "gid_map", map_text(linux.gid_mappings)), "linux.gidMappings");
  return {};
}

Result<> write_time_offsets(const spec::Linux& linux) {
  std::string text;
  for (const auto& [clock, off] : linux.time_offsets)
    text += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
  if (text.empty()) return {};
  // The kernel takes one line per write.
  for (const auto& line : split(text, '\n')) {
    if (line.empty()) continue;
    TRYC(write_file("/proc/self/timens_offsets", line + "\n"), "linux.timeOffsets");
  }
  return {};
}

Result<> loopback_up() {
  Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return sys_error("network namespace: socket");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) return sys_error("network namespace: lo flags");
  ifr.ifr_flags |= IFF_UP;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) return sys_error("network namespace: bringing lo up");
  return {};
}

}  // namespace orun::linux
