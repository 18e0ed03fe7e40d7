// Semantic checks. Where runc 1.1.5 accepts what the spec leaves open, so do
// we (relative mount destinations, umask bits above 0777, device nodes outside
// /dev). Where the spec says MUST (hook timeout > 0, duplicate namespaces,
// enum values, id mappings that cannot be applied without a user namespace)
// we enforce it even where runc 1.1.5 does not.
#include "spec/validate.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <array>
#include <set>

#include <sys/stat.h>

#include "base/strings.hpp"
#include "spec/names.hpp"
#include "spec/parse.hpp"

namespace orun::spec {
namespace {

using Path = std::string;

Path member(const Path& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}
Path element(const Path& parent, size_t i) { return parent + "[" + std::to_string(i) + "]"; }
Path map_entry(const Path& parent, std::string_view key) { return parent + "[" + quote(key) + "]"; }

std::unexpected<Error> bad(const Path& path, const std::string& msg) {
  return fail(path.empty() ? msg : path + ": " + msg);
}

template <size_t N>
bool one_of(std::string_view v, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

bool is_abs(std::string_view p) { return !p.empty() && p[0] == '/'; }

bool has_dotdot(std::string_view p) {
  for (const auto& c : split(p, '/'))
    if (c == "..") return true;
  return false;
}

// "0-3,7": comma-separated numbers or ascending ranges (cpuset list format).
bool valid_cpu_list(std::string_view s) {
  if (s.empty()) return true;
  for (const auto& item : split(s, ',')) {
    auto dash = item.find('-');
    if (dash == std::string::npos) {
      if (!parse_uint(item)) return false;
      continue;
    }
    auto lo = parse_uint(std::string_view(item).substr(0, dash));
    auto hi = parse_uint(std::string_view(item).substr(dash + 1));
    if (!lo || !hi || *lo > *hi) return false;
  }
  return true;
}

// SemVer 2.0.0: MAJOR.MINOR.PATCH, numbers without leading zeros, then an
// optional -pre.release and +build of [0-9A-Za-z-] identifiers ("1.0.2-dev").
bool semver(std::string_view v) {
  size_t plus = v.find('+');
  std::string_view build = plus == std::string_view::npos ? std::string_view() : v.substr(plus + 1);
  v = v.substr(0, plus);
  size_t dash = v.find('-');
  std::string_view pre = dash == std::string_view::npos ? std::string_view() : v.substr(dash + 1);
  v = v.substr(0, dash);
  auto idents = [](std::string_view s) {
    if (s.empty()) return false;
    for (const auto& id : split(s, '.')) {
      if (id.empty()) return false;
      for (char c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    return true;
  };
  if ((plus != std::string_view::npos && !idents(build)) || (dash != std::string_view::npos && !idents(pre)))
    return false;
  auto core = split(v, '.');
  if (core.size() != 3) return false;
  for (const auto& n : core)
    if (n.empty() || (n.size() > 1 && n[0] == '0') || !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
  return true;
}

const std::set<std::string_view>& rlimit_names() {
  static const std::set<std::string_view> names{
      "RLIMIT_AS",      "RLIMIT_CORE",   "RLIMIT_CPU",    "RLIMIT_DATA",       "RLIMIT_FSIZE",  "RLIMIT_LOCKS",
      "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE",     "RLIMIT_NPROC",  "RLIMIT_RSS",
      "RLIMIT_RTPRIO",  "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK"};
  return names;
}

constexpr std::array<std::string_view, 9> kPropagations{"",      "private", "rprivate",   "slave",      "rslave",
                                                        "shared", "rshared", "unbindable", "runbindable"};
constexpr std::array<std::string_view, 3> kIoClasses{"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"};
constexpr std::array<std::string_view, 7> kSchedPolicies{"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",      "SCHED_BATCH",
                                                         "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE"};
constexpr std::array<std::string_view, 7> kSchedFlags{
    "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",        "SCHED_FLAG_DL_OVERRUN",     "SCHED_FLAG_KEEP_POLICY",
    "SCHED_FLAG_KEEP_PARAMS",   "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX"};
// Namespaced sysctls that the IPC namespace isolates (besides fs.mqueue.*).
constexpr std::array<std::string_view, 8> kIpcSysctls{"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
                                                      "kernel.sem",    "kernel.shmall", "kernel.shmmax",
                                                      "kernel.shmmni", "kernel.shm_rmid_forced"};

struct NsInfo {
  bool present = false;
  std::string path;
};

class Checker {
 public:
  explicit Checker(const Config& c) : c_(c) {
    if (c.linux)
      for (const auto& ns : c.linux->namespaces) {
        auto& info = ns_[static_cast<size_t>(ns.type)];
        if (!info.present) info = NsInfo{true, ns.path};
      }
  }

  Result<> run() {
    if (c_.oci_version.empty()) return bad("ociVersion", "must not be empty");
    if (!semver(c_.oci_version)) return bad("ociVersion", quote(c_.oci_version) + " is not a SemVer 2.0.0 version");
    for (const auto& [key, value] : c_.annotations)
      if (key.empty()) return bad("annotations", "keys must not be empty");
    if (!c_.root) return bad("root", "required field is missing");
    if (c_.root->path.empty()) return bad("root.path", "must not be empty");
    TRY(mounts());
    if (c_.process) TRY(process(*c_.process));
    if (!c_.hostname.empty() && !has(NamespaceType::uts))
      return bad("hostname", "unable to set hostname without a private UTS namespace");
    if (!c_.domainname.empty() && !has(NamespaceType::uts))
      return bad("domainname", "unable to set domainname without a private UTS namespace");
    if (c_.hooks) TRY(hooks(*c_.hooks));
    if (c_.linux) TRY(linux(*c_.linux));
    return {};
  }

 private:
  const Config& c_;
  std::array<NsInfo, 8> ns_{};

  bool has(NamespaceType t) const { return ns_[static_cast<size_t>(t)].present; }
  bool creates(NamespaceType t) const { return has(t) && ns_[static_cast<size_t>(t)].path.empty(); }

  static Result<> id_maps(const std::vector<IdMapping>& maps, const Path& p) {
    for (size_t i = 0; i < maps.size(); ++i) {
      const auto& m = maps[i];
      Path e = element(p, i);
      if (m.size == 0) return bad(member(e, "size"), "must be greater than zero");
      // The ranges must stay within the 32-bit id space.
      if (uint64_t(m.container_id) + m.size > (uint64_t(1) << 32))
        return bad(e, "containerID + size exceeds the 32-bit id range");
      if (uint64_t(m.host_id) + m.size > (uint64_t(1) << 32))
        return bad(e, "hostID + size exceeds the 32-bit id range");
    }
    return {};
  }

  static std::vector<IdMapping> to_id_mappings(const std::vector<Mount::IdMap>& in) {
    std::vector<IdMapping> out;
    for (const auto& m : in) out.push_back(IdMapping{m.container_id, m.host_id, m.size});
    return out;
  }

  Result<> mounts() {
    for (size_t i = 0; i < c_.mounts.size(); ++i) {
      const auto& m = c_.mounts[i];
      Path p = element("mounts", i);
      // Relative destinations are deprecated but accepted (as relative to /),
      // like runc; ".." is resolved inside the rootfs by the mount code.
      if (m.destination.empty()) return bad(member(p, "destination"), "must not be empty");
      TRY(id_maps(to_id_mappings(m.uid_mappings), member(p, "uidMappings")));
      TRY(id_maps(to_id_mappings(m.gid_mappings), member(p, "gidMappings")));
    }
    return {};
  }

  static Result<> process(const Process& pr) {
    const Path p = "process";
    if (pr.args.empty()) return bad(member(p, "args"), "must not be empty");
    if (pr.cwd.empty()) return bad(member(p, "cwd"), "must not be empty");
    if (!is_abs(pr.cwd)) return bad(member(p, "cwd"), "must be an absolute path, got " + quote(pr.cwd));
    std::set<std::string> seen;
    for (size_t i = 0; i < pr.rlimits.size(); ++i) {
      const auto& r = pr.rlimits[i];
      Path e = element(member(p, "rlimits"), i);
      if (!rlimit_names().contains(r.type)) return bad(member(e, "type"), "unknown rlimit type " + quote(r.type));
      if (!seen.insert(r.type).second) return bad(member(e, "type"), "duplicate rlimit type " + quote(r.type));
      if (r.soft > r.hard)
        return bad(member(e, "soft"), "soft limit " + std::to_string(r.soft) + " exceeds hard limit " +
                                          std::to_string(r.hard));
    }
    if (pr.oom_score_adj && (*pr.oom_score_adj < -1000 || *pr.oom_score_adj > 1000))
      return bad(member(p, "oomScoreAdj"), std::to_string(*pr.oom_score_adj) + " is outside [-1000, 1000]");
    if (pr.io_priority) {
      Path e = member(p, "ioPriority");
      if (!one_of(pr.io_priority->klass, kIoClasses))
        return bad(member(e, "class"), "unknown I/O priority class " + quote(pr.io_priority->klass));
      if (pr.io_priority->priority < 0 || pr.io_priority->priority > 7)
        return bad(member(e, "priority"), std::to_string(pr.io_priority->priority) + " is outside [0, 7]");
    }
    if (pr.scheduler) TRY(scheduler(*pr.scheduler, member(p, "scheduler")));
    if (pr.exec_cpu_affinity) {
      Path e = member(p, "execCPUAffinity");
      if (!valid_cpu_list(pr.exec_cpu_affinity->initial))
        return bad(member(e, "initial"), "invalid CPU list " + quote(pr.exec_cpu_affinity->initial));
      if (!valid_cpu_list(pr.exec_cpu_affinity->final))
        return bad(member(e, "final"), "invalid CPU list " + quote(pr.exec_cpu_affinity->final));
    }
    return {};
  }

  // sched_setattr(2) rules, as runc 1.2 checks them.
  static Result<> scheduler(const Scheduler& s, const Path& p) {
    if (!one_of(s.policy, kSchedPolicies)) return bad(member(p, "policy"), "unknown scheduler policy " + quote(s.policy));
    if (s.nice < -20 || s.nice > 19) return bad(member(p, "nice"), std::to_string(s.nice) + " is outside [-20, 19]");
    if (s.priority != 0 && s.policy != "SCHED_FIFO" && s.policy != "SCHED_RR")
      return bad(member(p, "priority"), "only SCHED_FIFO and SCHED_RR take a priority");
    if (s.policy != "SCHED_DEADLINE" && (s.runtime || s.deadline || s.period))
      return bad(p, "runtime, deadline and period apply to SCHED_DEADLINE only");
    for (size_t i = 0; i < s.flags.size(); ++i)
      if (!one_of(s.flags[i], kSchedFlags))
        return bad(element(member(p, "flags"), i), "unknown scheduler flag " + quote(s.flags[i]));
    return {};
  }

  static Result<> hook_list(const std::vector<Hook>& hs, const Path& p) {
    for (size_t i = 0; i < hs.size(); ++i) {
      Path e = element(p, i);
      if (!is_abs(hs[i].path)) return bad(member(e, "path"), "must be an absolute path, got " + quote(hs[i].path));
      if (hs[i].timeout && *hs[i].timeout <= 0)
        return bad(member(e, "timeout"), "must be greater than zero, got " + std::to_string(*hs[i].timeout));
    }
    return {};
  }

  static Result<> hooks(const Hooks& h) {
    TRY(hook_list(h.prestart, "hooks.prestart"));
    TRY(hook_list(h.create_runtime, "hooks.createRuntime"));
    TRY(hook_list(h.create_container, "hooks.createContainer"));
    TRY(hook_list(h.start_container, "hooks.startContainer"));
    TRY(hook_list(h.poststart, "hooks.poststart"));
    TRY(hook_list(h.poststop, "hooks.poststop"));
    return {};
  }

  Result<> namespaces(const Linux& l) {
    std::set<NamespaceType> seen;
    for (size_t i = 0; i < l.namespaces.size(); ++i)
      if (!seen.insert(l.namespaces[i].type).second)
        return bad(member(element("linux.namespaces", i), "type"),
                   "duplicate namespace type " + quote(to_string(l.namespaces[i].type)));
    // A new user namespace is useless without mappings (runc: "User
    // namespaces enabled, but no uid mappings found"). A joined one has them.
    // Mappings without a user namespace cannot be applied; runc 1.1.5
    // silently drops them, but the spec's create says a property that cannot
    // be applied MUST be an error (runc's own validator says the same).
    if (creates(NamespaceType::user)) {
      if (l.uid_mappings.empty()) return bad("linux.uidMappings", "a new user namespace needs uid mappings");
      if (l.gid_mappings.empty()) return bad("linux.gidMappings", "a new user namespace needs gid mappings");
    } else if (!has(NamespaceType::user)) {
      if (!l.uid_mappings.empty()) return bad("linux.uidMappings", "uid mappings need a user namespace in linux.namespaces");
      if (!l.gid_mappings.empty()) return bad("linux.gidMappings", "gid mappings need a user namespace in linux.namespaces");
    }
    TRY(id_maps(l.uid_mappings, "linux.uidMappings"));
    TRY(id_maps(l.gid_mappings, "linux.gidMappings"));
    if (!l.time_offsets.empty() && !creates(NamespaceType::time))
      return bad("linux.timeOffsets", "time offsets need a new time namespace");
    for (const auto& [clock, off] : l.time_offsets) {
      Path e = map_entry("linux.timeOffsets", clock);
      if (clock != "monotonic" && clock != "boottime") return bad(e, "unknown clock (monotonic or boottime)");
      if (off.nanosecs >= 1000000000u) return bad(member(e, "nanosecs"), "must be below 1000000000");
    }
    if ((!l.masked_paths.empty() || !l.readonly_paths.empty()) && !has(NamespaceType::mount))
      return bad(l.masked_paths.empty() ? "linux.readonlyPaths" : "linux.maskedPaths",
                 "unable to restrict paths without a private mount namespace");
    TRY(joined_mount_namespace(l));
    return {};
  }

  // The spec: a joined namespace is set up already, and the runtime MUST error out if the config
  // specifies anything else related to it. For the mount namespace that is all of the rootfs work.
  Result<> joined_mount_namespace(const Linux& l) {
    if (!has(NamespaceType::mount) || creates(NamespaceType::mount)) return {};
    const std::string why = "must not be set when joining a mount namespace (linux.namespaces: path " +
                            quote(ns_[static_cast<size_t>(NamespaceType::mount)].path) + "), which is set up already";
    if (!c_.mounts.empty()) return bad("mounts", why);
    if (c_.root->readonly) return bad("root.readonly", why);
    if (!l.masked_paths.empty()) return bad("linux.maskedPaths", why);
    if (!l.readonly_paths.empty()) return bad("linux.readonlyPaths", why);
    if (!l.devices.empty()) return bad("linux.devices", why);
    if (!l.rootfs_propagation.empty()) return bad("linux.rootfsPropagation", why);
    if (!l.mount_label.empty()) return bad("linux.mountLabel", why);
    return {};
  }

  // Which sysctls the config's namespaces isolate (runc's validator rules).
  Result<> sysctls(const Linux& l) {
    for (const auto& [key, value] : l.sysctl) {
      Path p = map_entry("linux.sysctl", key);
      auto norm = normalize_sysctl_key(key);
      if (!norm) return bad(p, "invalid sysctl name");
      const std::string& s = *norm;
      if (one_of(s, kIpcSysctls) || s.starts_with("fs.mqueue.")) {
        if (!has(NamespaceType::ipc)) return bad(p, "sysctl needs a private IPC namespace");
        continue;
      }
      if (s.starts_with("net.")) {
        // A joined network namespace may be the host's; that needs a stat
        // and is checked when the sysctl is applied.
        if (!has(NamespaceType::network)) return bad(p, "sysctl needs a private network namespace");
        continue;
      }
      if (has(NamespaceType::uts)) {
        if (s == "kernel.domainname") continue;
        if (s == "kernel.hostname") return bad(p, "conflicts with the \"hostname\" field");
      }
      return bad(p, "sysctl is not in a separate kernel namespace");
    }
    return {};
  }

  static std::string octal(uint32_t mode) {
    char buf[16];
    auto end = std::to_chars(buf, buf + sizeof buf, mode, 8).ptr;
    return "0" + std::string(buf, end);
  }

  static uint32_t file_type_bits(const std::string& type) {
    if (type == "b") return S_IFBLK;
    if (type == "p") return S_IFIFO;
    return S_IFCHR;  // c and u
  }

  static Result<> devices(const Linux& l) {
    for (size_t i = 0; i < l.devices.size(); ++i) {
      const auto& d = l.devices[i];
      Path e = element("linux.devices", i);
      if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p")
        return bad(member(e, "type"), "invalid device type " + quote(d.type) + " (c, b, u or p)");
      if (!is_abs(d.path)) return bad(member(e, "path"), "must be an absolute path, got " + quote(d.path));
      // podman (--device, --privileged) copies the host node's st_mode, file type included: the
      // type bits of `type` are allowed (and ignored: `type` decides), any other is an error.
      if (d.file_mode && (*d.file_mode & ~07777u) && (*d.file_mode & ~07777u) != file_type_bits(d.type))
        return bad(member(e, "fileMode"),
                   "has bits other than the permissions (07777) and the file type of a " + quote(d.type) +
                       " device: " + octal(*d.file_mode));
    }
    return {};
  }

  static Result<> seccomp(const Seccomp& s) {
    const Path p = "linux.seccomp";
    if (s.default_action.empty()) return bad(member(p, "defaultAction"), "must not be empty");
    bool notify = s.default_action == "SCMP_ACT_NOTIFY";
    for (size_t i = 0; i < s.syscalls.size(); ++i) {
      const auto& sc = s.syscalls[i];
      Path e = element(member(p, "syscalls"), i);
      if (sc.names.empty()) return bad(member(e, "names"), "must not be empty");
      for (size_t j = 0; j < sc.names.size(); ++j)
        if (sc.names[j].empty()) return bad(element(member(e, "names"), j), "must not be empty");
      if (sc.action.empty()) return bad(member(e, "action"), "must not be empty");
      notify = notify || sc.action == "SCMP_ACT_NOTIFY";
      for (size_t j = 0; j < sc.args.size(); ++j) {
        Path a = element(member(e, "args"), j);
        if (sc.args[j].index >= 6) return bad(member(a, "index"), "syscalls take at most 6 arguments (0..5)");
        if (sc.args[j].op.empty()) return bad(member(a, "op"), "must not be empty");
      }
    }
    // Without a listener nobody would answer the notifications.
    if (notify && s.listener_path.empty()) return bad(member(p, "listenerPath"), "required by SCMP_ACT_NOTIFY");
    if (!s.listener_metadata.empty() && s.listener_path.empty())
      return bad(member(p, "listenerMetadata"), "must not be set without listenerPath");
    return {};
  }

  Result<> linux(const Linux& l) {
    TRY(namespaces(l));
    for (size_t i = 0; i < l.masked_paths.size(); ++i)
      if (!is_abs(l.masked_paths[i]))
        return bad(element("linux.maskedPaths", i), "must be an absolute path, got " + quote(l.masked_paths[i]));
    for (size_t i = 0; i < l.readonly_paths.size(); ++i)
      if (!is_abs(l.readonly_paths[i]))
        return bad(element("linux.readonlyPaths", i), "must be an absolute path, got " + quote(l.readonly_paths[i]));
    TRY(sysctls(l));
    TRY(devices(l));
    if (has_dotdot(l.cgroups_path)) return bad("linux.cgroupsPath", "must not contain \"..\" components");
    if (l.resources) TRY(validate_resources(*l.resources, "linux.resources"));
    if (!one_of(l.rootfs_propagation, kPropagations))
      return bad("linux.rootfsPropagation", "unsupported propagation " + quote(l.rootfs_propagation));
    if (l.seccomp) TRY(seccomp(*l.seccomp));
    if (l.personality && l.personality->domain != "LINUX" && l.personality->domain != "LINUX32")
      return bad("linux.personality.domain", "must be LINUX or LINUX32, got " + quote(l.personality->domain));
    if (l.intel_rdt) {
      const auto& id = l.intel_rdt->clos_id;
      if (id == "." || id == ".." || id.find('/') != std::string::npos)
        return bad("linux.intelRdt.closID", "invalid CLOS id " + quote(id));
    }
    return {};
  }
};

// "2MB", "1GB", "64KB": the hugetlb file name suffix, so no path characters.
bool valid_page_size(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0 || s.size() != i + 2 || s[i + 1] != 'B') return false;
  return std::string_view("KMGTP").find(s[i]) != std::string_view::npos;
}

}  // namespace

Result<> validate_resources(const Resources& r, const std::string& prefix) {
  for (size_t i = 0; i < r.devices.size(); ++i) {
    const auto& d = r.devices[i];
    Path e = element(member(prefix, "devices"), i);
    if (d.type != "" && d.type != "a" && d.type != "b" && d.type != "c")
      return bad(member(e, "type"), "invalid cgroup device type " + quote(d.type) + " (a, b or c)");
    if (d.access.find_first_not_of("rwm") != std::string::npos)
      return bad(member(e, "access"), "invalid access " + quote(d.access) + " (a subset of \"rwm\")");
    // Device numbers are 32-bit in the kernel; -1 is runc's wildcard.
    for (auto [name, n] : {std::pair{"major", d.major}, std::pair{"minor", d.minor}})
      if (n && (*n < -1 || *n > int64_t{UINT32_MAX}))
        return bad(member(e, name), std::to_string(*n) + " is not a device number (0 to 4294967295, or -1 for any)");
  }
  if (r.memory && r.memory->swappiness && *r.memory->swappiness > 100)
    return bad(member(prefix, "memory.swappiness"), std::to_string(*r.memory->swappiness) + " is outside [0, 100]");
  if (r.cpu) {
    if (!valid_cpu_list(r.cpu->cpus)) return bad(member(prefix, "cpu.cpus"), "invalid CPU list " + quote(r.cpu->cpus));
    if (!valid_cpu_list(r.cpu->mems)) return bad(member(prefix, "cpu.mems"), "invalid node list " + quote(r.cpu->mems));
  }
  for (size_t i = 0; i < r.hugepage_limits.size(); ++i)
    if (!valid_page_size(r.hugepage_limits[i].page_size))
      return bad(member(element(member(prefix, "hugepageLimits"), i), "pageSize"),
                 "invalid page size " + quote(r.hugepage_limits[i].page_size) + " (like \"2MB\")");
  // unified keys name files in the container's cgroup directory. Those that move processes in
  // (any host pid: `delete` would kill it) or change the cgroup's type (which reaches the parent)
  // are refused; the interface files of controllers and cgroup.max.*, cgroup.freeze... are not.
  for (const auto& [key, value] : r.unified) {
    if (key.empty() || key == "." || key == ".." || key.find('/') != std::string::npos ||
        key.find('\0') != std::string::npos)
      return bad(map_entry(member(prefix, "unified"), key), "must be a cgroup file name");
    if (key == "cgroup.procs" || key == "cgroup.threads" || key == "cgroup.type")
      return bad(map_entry(member(prefix, "unified"), key), "moves processes or changes the cgroup type: refused");
  }
  for (const auto& [dev, limits] : r.rdma)
    if (dev.empty() || dev.find_first_of(" \n\t") != std::string::npos)
      return bad(map_entry(member(prefix, "rdma"), dev), "invalid RDMA device name");
  return {};
}

Result<> validate(const Config& config) {
  auto r = Checker(config).run();
  if (!r) return std::unexpected(std::move(r).error().context("config.json"));
  return {};
}

std::optional<std::string> normalize_sysctl_key(std::string_view key) {
  if (key.empty() || key.find('\0') != std::string_view::npos) return std::nullopt;
  std::string s(key);
  auto first = s.find_first_of("./");
  if (first != std::string::npos && s[first] == '/')
    for (char& c : s) c = c == '.' ? '/' : c == '/' ? '.' : c;
  // Each dotted component becomes one file name under /proc/sys.
  for (const auto& comp : split(s, '.')) {
    if (comp.empty() || comp == "/" || comp == "//") return std::nullopt;
  }
  return s;
}

std::string sysctl_relative_path(std::string_view dotted_key) {
  std::string s(dotted_key);
  for (char& c : s) c = c == '.' ? '/' : c == '/' ? '.' : c;
  return s;
}

}  // namespace orun::spec
