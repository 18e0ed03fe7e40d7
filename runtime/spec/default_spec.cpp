#include "spec/default_spec.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

namespace orun::spec {
namespace {

// ordered_json keeps members in runc's order, so the output diffs cleanly
// against `runc spec`.
using ojson = nlohmann::ordered_json;

ojson mount(const char* dest, const char* type, const char* source, std::initializer_list<const char*> options) {
  ojson m = {{"destination", dest}, {"type", type}, {"source", source}};
  if (options.size()) {
    ojson opts = ojson::array();
    for (const char* o : options) opts.push_back(o);
    m["options"] = std::move(opts);
  }
  return m;
}

}  // namespace

std::string default_spec_json(bool rootless) {
  const ojson caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  ojson process = {
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", {"sh"}},
      {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
      {"cwd", "/"},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
      {"rlimits", ojson::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
      {"noNewPrivileges", true},
  };

  ojson mounts = ojson::array();
  mounts.push_back(mount("/proc", "proc", "proc", {}));
  mounts.push_back(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  // Rootless: no gid=5, the tty group may not be mapped.
  if (rootless)
    mounts.push_back(mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}));
  else
    mounts.push_back(
        mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  mounts.push_back(mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  mounts.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  // Rootless: a fresh sysfs needs a private network namespace owned by the
  // user namespace; bind the host's instead.
  if (rootless)
    mounts.push_back(mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
  else
    mounts.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  mounts.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));

  ojson linux = ojson::object();
  if (rootless) {
    linux["uidMappings"] = ojson::array({{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}});
    linux["gidMappings"] = ojson::array({{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}});
  } else {
    linux["resources"] = {{"devices", ojson::array({{{"allow", false}, {"access", "rwm"}}})}};
  }
  ojson ns = ojson::array();
  for (const char* t : {"pid", "network", "ipc", "uts", "mount"}) {
    if (rootless && std::string_view(t) == "network") continue;  // rootless keeps the host network
    ns.push_back({{"type", t}});
  }
  if (rootless) ns.push_back({{"type", "user"}});
  linux["namespaces"] = std::move(ns);
  linux["maskedPaths"] = {"/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
                          "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                          "/sys/firmware",       "/proc/scsi"};
  linux["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

  ojson doc = ojson::object();
  doc["ociVersion"] = kOciVersion;
  doc["process"] = std::move(process);
  doc["root"] = {{"path", "rootfs"}, {"readonly", true}};
  doc["hostname"] = "runc";
  doc["mounts"] = std::move(mounts);
  doc["linux"] = std::move(linux);
  return doc.dump(1, '\t');
}

}  // namespace orun::spec
