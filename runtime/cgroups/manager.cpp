#include "cgroups/manager.hpp"

#include <signal.h>

#include "base/strings.hpp"
#include "cgroups/cgfs.hpp"
#include "cgroups/systemd.hpp"
#include "cgroups/v1.hpp"
#include "cgroups/v2.hpp"

namespace orun::cgroups {

namespace {

// linux.cgroupsPath (or the id when it is empty) cleaned: "/a/b" or "a/b".
Result<std::string> normalized(const std::string& cgroups_path, const std::string& id) {
  if (cgroups_path.empty()) {
    if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos)
      return fail("container id " + quote(id) + " cannot name a cgroup");
    return id;
  }
  auto colon = split(cgroups_path, ':');
  if (colon.size() == 3 && (colon[0].empty() || colon[0].ends_with(".slice")))
    return fail("linux.cgroupsPath " + quote(cgroups_path) +
                    ": the \"slice:prefix:name\" form needs the systemd cgroup driver (--systemd-cgroup)",
                ENOTSUP);
  std::vector<std::string> parts;
  for (auto& p : split(cgroups_path, '/')) {
    if (p == "..") return fail("linux.cgroupsPath " + quote(cgroups_path) + ": \"..\" components are not allowed");
    if (p.empty() || p == ".") continue;
    parts.push_back(p);
  }
  if (parts.empty())
    return fail("linux.cgroupsPath " + quote(cgroups_path) + ": names the root cgroup, which cannot hold a container");
  std::string joined = join(parts, "/");
  return cgroups_path.starts_with('/') ? "/" + joined : joined;
}

std::string parent_of(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos || pos == 0) return "/";
  return path.substr(0, pos);
}

}  // namespace

Result<std::string> cgroup_path_in(const Hierarchy& h, bool parent_of_own, const std::string& cgroups_path,
                                   const std::string& id) {
  auto norm = normalized(cgroups_path, id);
  if (!norm) return std::unexpected(norm.error());
  // (Not TRY: GCC 12 warns about a maybe-uninitialized string through it here.)
  if (!norm->empty() && norm->front() == '/') return *norm;
  const std::string& p = *norm;
  std::string base = h.own_path.empty() ? "/" : h.own_path;
  if (parent_of_own) base = parent_of(base);
  return clean_path(base + "/" + p);
}

Result<std::unique_ptr<Manager>> open_manager(const Host& host, const std::string& cgroups_path,
                                              const std::string& id, bool systemd) {
  if (systemd) {
    SystemdUnit unit = TRY(parse_systemd_path(cgroups_path, id));
    // The unit's cgroup is known from its name: the cgroupfs manager of that absolute path.
    auto fs = TRY(open_manager(host, unit.cgroup, id, false));
    return std::make_unique<SystemdManager>(std::move(unit), id, host.layout == Layout::v2, std::move(fs), false);
  }
  if (host.layout == Layout::v2) {
    const Hierarchy& h = *host.unified;
    std::string path = TRY(cgroup_path_in(h, true, cgroups_path, id));
    return std::make_unique<V2Manager>(h.mount_point, h.dir_of(path));
  }
  std::vector<V1Dir> dirs;
  for (auto& h : host.v1) {
    std::string path = TRY(cgroup_path_in(h, false, cgroups_path, id));
    dirs.push_back(V1Dir{h.controllers, h.mount_point, h.dir_of(path)});
  }
  std::optional<V1Dir> unified;
  if (host.unified) {
    std::string path = TRY(cgroup_path_in(*host.unified, false, cgroups_path, id));
    unified = V1Dir{{}, host.unified->mount_point, host.unified->dir_of(path)};
  }
  return std::make_unique<V1Manager>(std::move(dirs), std::move(unified));
}

Result<std::unique_ptr<Manager>> open_manager(const std::string& cgroups_path, const std::string& id, bool systemd) {
  Host host = TRY(detect_host());
  return open_manager(host, cgroups_path, id, systemd);
}

namespace {

Result<std::unique_ptr<Manager>> load_cgroupfs(const Host& host, const std::map<std::string, std::string>& paths) {
  auto below = [](const std::string& dir, const std::string& mount) {
    return dir.size() > mount.size() && dir.starts_with(mount) && dir[mount.size()] == '/';
  };
  std::optional<V1Dir> unified;
  if (auto it = paths.find(""); it != paths.end()) {
    if (!host.unified) return fail("cgroup directory " + it->second + ": this host has no cgroup2 mount");
    if (!below(it->second, host.unified->mount_point))
      return fail("cgroup directory " + it->second + " is not below " + host.unified->mount_point);
    unified = V1Dir{{}, host.unified->mount_point, it->second};
  }
  if (host.layout == Layout::v2) {
    if (!unified) return fail("no cgroup2 directory recorded for this container on a cgroup v2 host");
    return std::make_unique<V2Manager>(unified->mount_point, unified->dir);
  }
  std::vector<V1Dir> dirs;
  for (auto& h : host.v1) {
    for (auto& c : h.controllers) {
      auto it = paths.find(c);
      if (it == paths.end()) continue;
      if (!below(it->second, h.mount_point))
        return fail("cgroup directory " + it->second + " is not below " + h.mount_point);
      dirs.push_back(V1Dir{h.controllers, h.mount_point, it->second});
      break;
    }
  }
  if (dirs.empty() && !unified) return fail("no cgroup directory recorded for this container");
  return std::make_unique<V1Manager>(std::move(dirs), std::move(unified));
}

}  // namespace

Result<std::unique_ptr<Manager>> load_manager(const std::map<std::string, std::string>& paths,
                                              const std::string& systemd_unit) {
  Host host = TRY(detect_mounts());
  auto fs = TRY(load_cgroupfs(host, paths));
  if (systemd_unit.empty()) return fs;
  if (!systemd_unit.ends_with(".scope") && !systemd_unit.ends_with(".slice"))
    return fail("recorded systemd unit " + quote(systemd_unit) + " is neither a scope nor a slice");
  SystemdUnit unit;
  unit.name = systemd_unit;
  return std::make_unique<SystemdManager>(std::move(unit), "", host.layout == Layout::v2, std::move(fs), true);
}

Result<> signal_each_pid(Manager& m, int sig) {
  bool was_frozen = m.frozen().value_or(false);
  bool froze = !was_frozen && m.freeze(true).has_value();  // no freezer: signal anyway
  Result<> r;
  auto pids = m.pids();
  if (!pids) {
    r = std::unexpected(pids.error());
  } else {
    for (pid_t pid : *pids)
      if (::kill(pid, sig) < 0 && errno != ESRCH && r) r = sys_error("kill " + std::to_string(pid));
  }
  if (froze || (was_frozen && sig == SIGKILL)) {
    auto t = m.freeze(false);
    if (!t && r) r = t;
  }
  return r;
}

Result<> kill_and_wait(Manager& m) {
  auto left = TRY(m.pids());
  if (left.empty()) return {};
  TRYC(m.kill_all(SIGKILL), "killing the processes left in the cgroup");
  bool gone = TRY(wait_until([&]() -> Result<bool> { return TRY(m.pids()).empty(); }, std::chrono::seconds(10)));
  if (!gone) return fail("processes remain in the cgroup 10 s after SIGKILL", EBUSY);
  return {};
}

const std::vector<spec::DeviceCgroup>& default_device_rules() {
  static const std::vector<spec::DeviceCgroup> rules = [] {
    auto rule = [](std::string type, std::optional<int64_t> major, std::optional<int64_t> minor,
                   std::string access) {
      spec::DeviceCgroup r;
      r.allow = true;
      r.type = std::move(type);
      r.major = major;
      r.minor = minor;
      r.access = std::move(access);
      return r;
    };
    return std::vector<spec::DeviceCgroup>{
        rule("c", std::nullopt, std::nullopt, "m"),  // mknod of any device; opening is still checked
        rule("b", std::nullopt, std::nullopt, "m"),
        rule("c", 1, 3, "rwm"),                      // /dev/null
        rule("c", 1, 5, "rwm"),                      // /dev/zero
        rule("c", 1, 7, "rwm"),                      // /dev/full
        rule("c", 1, 8, "rwm"),                      // /dev/random
        rule("c", 1, 9, "rwm"),                      // /dev/urandom
        rule("c", 5, 0, "rwm"),                      // /dev/tty
        rule("c", 5, 2, "rwm"),                      // /dev/ptmx
        rule("c", 136, std::nullopt, "rwm"),         // /dev/pts/*
    };
  }();
  return rules;
}

std::vector<spec::DeviceCgroup> device_rules_for(const std::vector<spec::Device>& devices) {
  std::vector<spec::DeviceCgroup> out;
  for (auto& d : devices) {
    if (d.type == "p") continue;  // FIFOs are not device-controlled
    spec::DeviceCgroup r;
    r.allow = true;
    r.type = d.type == "u" ? "c" : d.type;
    r.major = d.major;
    r.minor = d.minor;
    r.access = "rwm";
    out.push_back(std::move(r));
  }
  return out;
}

std::string device_rule_string(const spec::DeviceCgroup& rule) {
  auto num = [](const std::optional<int64_t>& n) { return n && *n >= 0 ? std::to_string(*n) : std::string("*"); };
  std::string type = rule.type.empty() ? "a" : rule.type;
  std::string access = rule.access.empty() ? "rwm" : rule.access;
  return type + " " + num(rule.major) + ":" + num(rule.minor) + " " + access;
}

}  // namespace orun::cgroups
