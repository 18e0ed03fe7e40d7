#include "process_attrs.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "base/file.hpp"
#include "base/strings.hpp"

namespace orun::linux {

namespace {

template <typename T>
struct Named {
  const char* name;
  T value;
};

// The kernel's struct sched_attr (SCHED_ATTR_SIZE_VER1); glibc 2.36 has neither
// the struct nor a sched_setattr wrapper.
struct KernelSchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
  uint32_t sched_util_min, sched_util_max;
};

constexpr std::array<Named<uint32_t>, 7> kPolicies{{
    {"SCHED_OTHER", 0},
    {"SCHED_FIFO", 1},
    {"SCHED_RR", 2},
    {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},  // reserved by the kernel; sched_setattr refuses it
    {"SCHED_IDLE", 5},
    {"SCHED_DEADLINE", 6},
}};

constexpr std::array<Named<uint64_t>, 7> kSchedFlags{{
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},
    {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},
    {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
}};

// <linux/ioprio.h> is not in every libc-dev; the ABI is fixed.
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioClassShift = 13;
constexpr std::array<Named<int>, 3> kIoClasses{{
    {"IOPRIO_CLASS_RT", 1},
    {"IOPRIO_CLASS_BE", 2},
    {"IOPRIO_CLASS_IDLE", 3},
}};

constexpr std::array<Named<unsigned long>, 2> kDomains{{
    {"LINUX", PER_LINUX},
    {"LINUX32", PER_LINUX32},
}};

constexpr std::array<Named<unsigned long>, 11> kPersonaFlags{{
    {"UNAME26", UNAME26},
    {"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
    {"FDPIC_FUNCPTRS", FDPIC_FUNCPTRS},
    {"MMAP_PAGE_ZERO", MMAP_PAGE_ZERO},
    {"ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT},
    {"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC},
    {"ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT},
    {"SHORT_INODE", SHORT_INODE},
    {"WHOLE_SECONDS", WHOLE_SECONDS},
    {"STICKY_TIMEOUTS", STICKY_TIMEOUTS},
    {"ADDR_LIMIT_3GB", ADDR_LIMIT_3GB},
}};

template <typename T, size_t N>
std::optional<T> lookup(const std::array<Named<T>, N>& table, std::string_view name) {
  for (const auto& e : table)
    if (name == e.name) return e.value;
  return std::nullopt;
}

std::string idx(const char* field, size_t i) { return std::string(field) + "[" + std::to_string(i) + "]"; }

// Write a whole value to a /proc attribute file in one write(2): the kernel
// parses each write on its own.
Result<> write_proc_attr(const char* path, std::string_view value) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return sys_error(std::string("open ") + path);
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (n < 0) return sys_error(std::string("write ") + path, err);
  if (static_cast<size_t>(n) != value.size()) return fail(std::string("short write to ") + path, EIO);
  return {};
}

}  // namespace

// ---- user

Result<> set_user(const spec::User& user) {
  // No copy in the child: the spec's uint32_t gids are gid_t.
  static_assert(sizeof(gid_t) == sizeof(uint32_t));
  const auto& gids = user.additional_gids;
  if (::setgroups(gids.size(), reinterpret_cast<const gid_t*>(gids.data())) < 0) {
    int err = errno;
    // In a user namespace with setgroups "deny" the call is refused; runc
    // skips it then (the groups cannot be changed by anyone).
    bool denied = false;
    if (err == EPERM) {
      auto s = read_file("/proc/self/setgroups");
      denied = s && trim(*s) == "deny";
    }
    if (!denied) return sys_error("setgroups (process.user.additionalGids)", err);
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return sys_error("prctl(PR_SET_KEEPCAPS)");
  if (::setresgid(user.gid, user.gid, user.gid) < 0) {
    // EINVAL: the gid has no mapping in the user namespace.
    return sys_error("setresgid " + std::to_string(user.gid) + " (process.user.gid)");
  }
  if (::setresuid(user.uid, user.uid, user.uid) < 0)
    return sys_error("setresuid " + std::to_string(user.uid) + " (process.user.uid)");
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return sys_error("prctl(PR_SET_KEEPCAPS)");
  ::umask(user.umask ? static_cast<mode_t>(*user.umask) : 022);
  return {};
}

Result<> set_no_new_privs() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return sys_error("prctl(PR_SET_NO_NEW_PRIVS)");
  return {};
}

// ---- scheduler

Result<SchedAttr> prepare_scheduler(const spec::Scheduler& s) {
  SchedAttr a;
  auto policy = lookup(kPolicies, s.policy);
  if (!policy) return fail("process.scheduler.policy: unknown policy \"" + s.policy + "\"");
  a.policy = *policy;
  for (size_t i = 0; i < s.flags.size(); ++i) {
    auto f = lookup(kSchedFlags, s.flags[i]);
    if (!f) return fail(idx("process.scheduler.flags", i) + ": unknown flag \"" + s.flags[i] + "\"");
    a.flags |= *f;
  }
  if (s.nice < -20 || s.nice > 19) return fail("process.scheduler.nice: " + std::to_string(s.nice) + " is not in -20..19");
  bool realtime = a.policy == 1 || a.policy == 2;
  if (realtime ? (s.priority < 1 || s.priority > 99) : s.priority != 0)
    return fail("process.scheduler.priority: " + std::to_string(s.priority) +
                (realtime ? " is not in 1..99 for " : " must be 0 for ") + s.policy);
  if (a.policy != 6 && (s.runtime || s.deadline || s.period))
    return fail("process.scheduler: runtime, deadline and period are for SCHED_DEADLINE only");
  a.nice = s.nice;
  a.priority = static_cast<uint32_t>(s.priority);
  a.runtime = s.runtime;
  a.deadline = s.deadline;
  a.period = s.period;
  return a;
}

Result<> apply_scheduler(const SchedAttr& a, pid_t pid) {
  KernelSchedAttr k{};
  k.size = sizeof k;
  k.sched_policy = a.policy;
  k.sched_flags = a.flags;
  k.sched_nice = a.nice;
  k.sched_priority = a.priority;
  k.sched_runtime = a.runtime;
  k.sched_deadline = a.deadline;
  k.sched_period = a.period;
  if (::syscall(SYS_sched_setattr, pid, &k, 0) < 0) return sys_error("sched_setattr (process.scheduler)");
  return {};
}

// ---- I/O priority

Result<int> prepare_io_priority(const spec::IoPriority& p) {
  auto c = lookup(kIoClasses, p.klass);
  if (!c) return fail("process.ioPriority.class: unknown class \"" + p.klass + "\"");
  if (p.priority < 0 || p.priority > 7)
    return fail("process.ioPriority.priority: " + std::to_string(p.priority) + " is not in 0..7");
  return (*c << kIoprioClassShift) | p.priority;
}

Result<> apply_io_priority(int ioprio, pid_t pid) {
  if (::syscall(SYS_ioprio_set, kIoprioWhoProcess, pid, ioprio) < 0) return sys_error("ioprio_set (process.ioPriority)");
  return {};
}

// ---- CPU affinity

Result<cpu_set_t> parse_cpu_list(std::string_view list, const std::string& field) {
  cpu_set_t set;
  CPU_ZERO(&set);
  auto bad = [&](const std::string& why) { return fail(field + ": invalid cpu list \"" + std::string(list) + "\": " + why); };
  if (trim(list).empty()) return bad("empty");
  for (const auto& item : split(list, ',')) {
    std::string_view part = trim(item);
    if (part.empty()) return bad("empty element");
    size_t dash = part.find('-');
    auto lo = parse_uint(trim(part.substr(0, dash)));
    auto hi = dash == std::string_view::npos ? lo : parse_uint(trim(part.substr(dash + 1)));
    if (!lo || !hi) return bad("\"" + std::string(part) + "\" is not a cpu number or range");
    if (*lo > *hi) return bad("range \"" + std::string(part) + "\" is reversed");
    if (*hi >= CPU_SETSIZE) return bad("cpu " + std::to_string(*hi) + " is above " + std::to_string(CPU_SETSIZE - 1));
    for (uint64_t c = *lo; c <= *hi; ++c) CPU_SET(c, &set);
  }
  return set;
}

Result<> apply_cpu_affinity(const cpu_set_t& cpus, pid_t pid) {
  if (::sched_setaffinity(pid, sizeof cpus, &cpus) < 0) return sys_error("sched_setaffinity (process.execCPUAffinity)");
  return {};
}

// ---- personality

Result<unsigned long> prepare_personality(const spec::Personality& p) {
  auto d = lookup(kDomains, p.domain);
  if (!d) return fail("linux.personality.domain: unknown domain \"" + p.domain + "\"");
  unsigned long persona = *d;
  for (size_t i = 0; i < p.flags.size(); ++i) {
    auto f = lookup(kPersonaFlags, p.flags[i]);
    if (!f) return fail(idx("linux.personality.flags", i) + ": unknown flag \"" + p.flags[i] + "\"");
    persona |= *f;
  }
  return persona;
}

Result<> apply_personality(unsigned long persona) {
  if (::personality(persona) < 0) return sys_error("personality (linux.personality)");
  return {};
}

// ---- OOM score and LSM labels

Result<> apply_oom_score_adj(int score) {
  char buf[16];
  int n = std::snprintf(buf, sizeof buf, "%d", score);
  auto r = write_proc_attr("/proc/self/oom_score_adj", std::string_view(buf, static_cast<size_t>(n)));
  if (!r) return std::unexpected(std::move(r).error().context("process.oomScoreAdj"));
  return {};
}

bool apparmor_enabled() {
  auto s = read_file("/sys/module/apparmor/parameters/enabled");
  return s && !s->empty() && (*s)[0] == 'Y';
}

bool selinux_enabled() { return path_exists("/sys/fs/selinux/enforce"); }

Result<> check_apparmor(const std::string& profile) {
  if (!profile.empty() && !apparmor_enabled())
    return fail("process.apparmorProfile: profile \"" + profile + "\" requested but AppArmor is not enabled on this host");
  return {};
}

Result<> check_selinux(const std::string& label) {
  if (!label.empty() && !selinux_enabled())
    return fail("process.selinuxLabel: label \"" + label + "\" requested but SELinux is not enabled on this host");
  return {};
}

Result<> apply_apparmor(const std::string& profile) {
  if (profile.empty()) return {};
  std::string cmd = "exec " + profile;
  auto r = write_proc_attr("/proc/thread-self/attr/apparmor/exec", cmd);
  // Kernels before 5.8 have only the shared attr/exec file.
  if (!r && r.error().code == ENOENT) r = write_proc_attr("/proc/thread-self/attr/exec", cmd);
  if (!r) return std::unexpected(std::move(r).error().context("process.apparmorProfile \"" + profile + "\""));
  return {};
}

Result<> apply_selinux_label(const std::string& label) {
  if (label.empty()) return {};
  auto r = write_proc_attr("/proc/thread-self/attr/exec", label);
  if (!r) return std::unexpected(std::move(r).error().context("process.selinuxLabel \"" + label + "\""));
  return {};
}

Result<ProcessAttrs> prepare_process_attrs(const spec::Process& p, const spec::Linux* linux) {
  ProcessAttrs a;
  if (p.scheduler) a.scheduler = TRY(prepare_scheduler(*p.scheduler));
  if (p.io_priority) a.io_priority = TRY(prepare_io_priority(*p.io_priority));
  if (p.exec_cpu_affinity) {
    if (!p.exec_cpu_affinity->initial.empty())
      a.cpus_initial = TRY(parse_cpu_list(p.exec_cpu_affinity->initial, "process.execCPUAffinity.initial"));
    if (!p.exec_cpu_affinity->final.empty())
      a.cpus_final = TRY(parse_cpu_list(p.exec_cpu_affinity->final, "process.execCPUAffinity.final"));
  }
  if (linux && linux->personality) a.personality = TRY(prepare_personality(*linux->personality));
  a.oom_score_adj = p.oom_score_adj;
  if (a.oom_score_adj && (*a.oom_score_adj < -1000 || *a.oom_score_adj > 1000))
    return fail("process.oomScoreAdj: " + std::to_string(*a.oom_score_adj) + " is not in -1000..1000");
  TRY(check_apparmor(p.apparmor_profile));
  TRY(check_selinux(p.selinux_label));
  a.apparmor_profile = p.apparmor_profile;
  a.selinux_label = p.selinux_label;
  return a;
}

// ---- execve

Result<ExecEnv> prepare_exec_env(const spec::Process& p) {
  ExecEnv e;
  if (p.args.empty()) return fail("process.args: must name the program to run");
  if (p.args[0].empty()) return fail("process.args[0]: empty");
  for (size_t i = 0; i < p.args.size(); ++i)
    if (p.args[i].find('\0') != std::string::npos) return fail(idx("process.args", i) + ": contains a NUL byte");
  e.args = p.args;
  for (size_t i = 0; i < p.env.size(); ++i) {
    const std::string& kv = p.env[i];
    size_t eq = kv.find('=');
    if (eq == std::string::npos) return fail(idx("process.env", i) + ": \"" + kv + "\" has no '='");
    if (eq == 0) return fail(idx("process.env", i) + ": empty variable name");
    if (kv.find('\0') != std::string::npos) return fail(idx("process.env", i) + ": contains a NUL byte");
    std::string_view key(kv.data(), eq + 1);  // "KEY="
    bool replaced = false;
    for (auto& old : e.env) {
      if (std::string_view(old).starts_with(key)) {
        old = kv;  // later value wins, first position stays (as runc's os.Setenv)
        replaced = true;
        break;
      }
    }
    if (!replaced) e.env.push_back(kv);
  }
  e.path = kDefaultPath;
  for (const auto& kv : e.env)
    if (kv.starts_with("PATH=")) e.path = kv.substr(5);
  return e;
}

std::string home_of(uint32_t uid, const std::string& passwd) {
  auto text = read_file(passwd);
  if (!text) return "/";
  for (const auto& line : split(*text, '\n')) {
    // name:password:uid:gid:gecos:home:shell
    auto f = split(line, ':');
    if (f.size() < 7) continue;
    auto u = parse_uint(f[2]);
    if (u && *u == uid) return f[5].empty() ? "/" : f[5];
  }
  return "/";
}

void ensure_home(ExecEnv& env, const std::string& home) {
  for (const auto& kv : env.env)
    if (kv.starts_with("HOME=")) return;
  env.env.push_back("HOME=" + home);
}

// 0 when path is a file we may execute, else ENOENT, EISDIR or EACCES.
static int check_executable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) return errno == EACCES ? EACCES : ENOENT;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  // AT_EACCESS: the effective ids execve will use; also EACCES on noexec mounts.
  if (::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) < 0) return EACCES;
  return 0;
}

Result<std::string> find_executable(std::string_view name, std::string_view path_var) {
  if (name.empty()) return fail("process.args[0]: empty", ENOENT);
  std::string n(name);
  if (n.find('/') != std::string::npos) {
    int err = check_executable(n);
    if (err == ENOENT) return fail("exec: \"" + n + "\": no such file or directory", ENOENT);
    if (err == EISDIR) return fail("exec: \"" + n + "\": is a directory", EACCES);
    if (err) return fail("exec: \"" + n + "\": permission denied", EACCES);
    return n;
  }
  bool denied = false;
  // A PATH search skips directories, as a shell does; an empty PATH finds nothing.
  for (const auto& dir : path_var.empty() ? std::vector<std::string>{} : split(path_var, ':')) {
    std::string candidate = dir.empty() ? n : dir + "/" + n;
    int err = check_executable(candidate);
    if (err == 0) return candidate;
    denied = denied || err == EACCES;
  }
  // Found but not executable anywhere: a shell reports 126, not 127.
  if (denied) return fail("exec: \"" + n + "\": permission denied", EACCES);
  return fail("exec: \"" + n + "\": executable file not found in $PATH", ENOENT);
}

Result<> exec_process(const std::string& path, const ExecEnv& env) {
  std::vector<char*> argv, envp;
  argv.reserve(env.args.size() + 1);
  envp.reserve(env.env.size() + 1);
  for (const auto& a : env.args) argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env.env) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  ::execve(path.c_str(), argv.data(), envp.data());
  return sys_error("exec \"" + path + "\"");
}

}  // namespace orun::linux
