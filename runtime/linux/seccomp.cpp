#include "seccomp.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cctype>
#include <cstring>

#include "base/file.hpp"
#include "base/json.hpp"
#include "base/unix_socket.hpp"

namespace orun::linux {

namespace {

using FilterCtx = Handle<scmp_filter_ctx, seccomp_release>;

struct OpName {
  const char* name;
  scmp_compare op;
};
constexpr std::array<OpName, 7> kOps{{
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
}};

constexpr std::array<const char*, 9> kActions{
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",        "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY",
};

// The OCI names of libseccomp's architectures; seccomp_archs() keeps those the
// installed library resolves.
constexpr std::array<const char*, 22> kArchs{
    "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",  "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",     "SCMP_ARCH_SH",
};

struct FlagName {
  const char* name;
  unsigned flag;
};
constexpr std::array<FlagName, 4> kFlags{{
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1U << 5},  // Linux 5.19; older headers lack it
}};
constexpr unsigned kWaitKillableRecv = 1U << 5;

// Does the kernel accept this seccomp(2) flag? With a NULL program a known
// flag fails with EFAULT while copying it in, an unknown one with EINVAL;
// nothing is installed either way.
bool kernel_knows_flag(unsigned flag) {
  if (flag & kWaitKillableRecv) flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;  // required with it
  long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, nullptr);
  return r < 0 && errno == EFAULT;
}

uint32_t arch_token(const std::string& oci) {
  if (!oci.starts_with("SCMP_ARCH_")) return 0;
  std::string lower = oci.substr(10);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return seccomp_arch_resolve_name(lower.c_str());
}

// An action name and its optional errno into a libseccomp action value. An
// errno on an action that takes none is an error: the spec's MUST, which runc
// 1.1 does not enforce (it ignores the errno).
Result<uint32_t> parse_action(const std::string& name, std::optional<uint32_t> errno_ret, const std::string& field,
                              const std::string& errno_field) {
  if (name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE") {
    uint32_t e = errno_ret.value_or(EPERM);
    if (e > 0xffff) return fail(errno_field + ": " + std::to_string(e) + " is above 65535");
    return name == "SCMP_ACT_ERRNO" ? SCMP_ACT_ERRNO(e) : SCMP_ACT_TRACE(e);
  }
  static const std::pair<const char*, uint32_t> others[] = {
      {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD}, {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
      {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS}, {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
      {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW}, {"SCMP_ACT_LOG", SCMP_ACT_LOG}, {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY}};
  for (auto& [known, value] : others) {
    if (name != known) continue;
    if (errno_ret)
      return fail(errno_field + ": set, but " + name + " takes no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)");
    return value;
  }
  return fail(field + ": unknown action \"" + name + "\"");
}

Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx ctx) {
  int mfd = ::memfd_create("orun-seccomp", MFD_CLOEXEC);
  if (mfd < 0) return sys_error("memfd_create");
  Fd fd(mfd);
  if (int rc = seccomp_export_bpf(ctx, fd.get()); rc < 0) return sys_error("seccomp_export_bpf", -rc);
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) return sys_error("lseek");
  std::string raw = TRY(read_fd(fd.get()));
  if (raw.size() % sizeof(sock_filter) != 0) return fail("seccomp_export_bpf: odd program size", EIO);
  std::vector<sock_filter> bpf(raw.size() / sizeof(sock_filter));
  std::memcpy(bpf.data(), raw.data(), raw.size());
  return bpf;
}

// The -ENOSYS stub runc prepends (its patchbpf): for each architecture listed
// in linux.seccomp.architectures, a system call numbered above the highest
// one the profile names returns ENOSYS instead of the default action, so
// that a libc probing a syscall newer than the profile (clone3, faccessat2)
// falls back instead of failing with EPERM. Only for a non-permissive
// default action that is not already ENOSYS, as runc.
struct ArchMax {
  uint32_t audit = 0;                    // AUDIT_ARCH_* seen in seccomp_data.arch
  uint32_t native = 0xffffffff, x32 = 0xffffffff;  // highest syscall; 0xffffffff: none (never ENOSYS)
};

constexpr uint32_t kX32Bit = 0x40000000;

sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return sock_filter{code, jt, jf, k}; }

std::vector<sock_filter> enosys_stub(const spec::Seccomp& sc, uint32_t default_action) {
  std::vector<sock_filter> out;
  if (default_action == SCMP_ACT_ALLOW || default_action == SCMP_ACT_LOG || default_action == SCMP_ACT_ERRNO(ENOSYS))
    return out;
  std::vector<ArchMax> archs;
  for (const auto& name : sc.architectures) {
    uint32_t token = arch_token(name);
    if (token == 0) continue;
    bool is_x32 = token == SCMP_ARCH_X32;
    // SCMP_ARCH_X32 is a libseccomp-only value: x32 calls arrive as x86_64
    // with bit 30 set in the number.
    uint32_t audit = is_x32 ? SCMP_ARCH_X86_64 : token;
    int highest = -1;
    for (const auto& rule : sc.syscalls)
      for (const auto& sys : rule.names) highest = std::max(highest, seccomp_syscall_resolve_name_arch(token, sys.c_str()));
    if (highest <= 0) continue;
    ArchMax* slot = nullptr;
    for (auto& a : archs)
      if (a.audit == audit) slot = &a;
    if (!slot) slot = &archs.emplace_back(ArchMax{audit});
    (is_x32 ? slot->x32 : slot->native) = static_cast<uint32_t>(highest);
  }
  const uint16_t ld = BPF_LD | BPF_W | BPF_ABS;
  const uint32_t enosys = SECCOMP_RET_ERRNO | ENOSYS;
  for (const auto& a : archs) {
    // Each block falls through to the next one, the last into libseccomp's filter.
    out.push_back(stmt(ld, offsetof(seccomp_data, arch)));
    if (a.audit == SCMP_ARCH_X86_64) {
      out.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, a.audit, 0, 5));
      out.push_back(stmt(ld, offsetof(seccomp_data, nr)));
      out.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 0, 1));
      out.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, a.x32, 1, 2));
      out.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, a.native, 0, 1));
    } else {
      out.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, a.audit, 0, 3));
      out.push_back(stmt(ld, offsetof(seccomp_data, nr)));
      out.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, a.native, 0, 1));
    }
    out.push_back(stmt(BPF_RET | BPF_K, enosys));
  }
  return out;
}

}  // namespace

std::vector<std::string> seccomp_actions() { return {kActions.begin(), kActions.end()}; }

std::vector<std::string> seccomp_operators() {
  std::vector<std::string> out;
  for (const auto& o : kOps) out.emplace_back(o.name);
  return out;
}

std::vector<std::string> seccomp_archs() {
  std::vector<std::string> out;
  for (const char* a : kArchs)
    if (arch_token(a) != 0) out.emplace_back(a);
  return out;
}

std::vector<std::string> seccomp_flags() {
  std::vector<std::string> out;
  for (const auto& f : kFlags)
    if (kernel_knows_flag(f.flag)) out.emplace_back(f.name);
  return out;
}

Result<std::optional<SeccompProgram>> prepare_seccomp(const spec::Seccomp* sc) {
  if (!sc) return std::nullopt;
  const std::string base = "linux.seccomp";
  SeccompProgram prog;
  prog.listener_path = sc->listener_path;
  prog.listener_metadata = sc->listener_metadata;

  uint32_t def = TRY(parse_action(sc->default_action, sc->default_errno_ret, base + ".defaultAction",
                                  base + ".defaultErrnoRet"));
  // The notify listener is handed on after the filter is loaded; a default
  // NOTIFY would catch that very step (runc refuses it too).
  if (def == SCMP_ACT_NOTIFY) return fail(base + ".defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

  for (size_t i = 0; i < sc->flags.size(); ++i) {
    std::string field = base + ".flags[" + std::to_string(i) + "]";
    const FlagName* found = nullptr;
    for (const auto& f : kFlags)
      if (sc->flags[i] == f.name) found = &f;
    if (!found) return fail(field + ": unknown flag \"" + sc->flags[i] + "\"");
    // TSYNC is meaningless for the single-threaded init (and excludes
    // NEW_LISTENER on older kernels): accepted, not passed.
    if (found->flag == SECCOMP_FILTER_FLAG_TSYNC) continue;
    if (!kernel_knows_flag(found->flag)) return fail(field + ": " + found->name + " is not supported by this kernel");
    prog.flags |= found->flag;
  }

  FilterCtx ctx(seccomp_init(def));
  if (!ctx) return fail(base + ".defaultAction: seccomp_init failed");

  for (size_t i = 0; i < sc->architectures.size(); ++i) {
    const std::string& a = sc->architectures[i];
    uint32_t token = arch_token(a);
    std::string field = base + ".architectures[" + std::to_string(i) + "]";
    if (token == 0) return fail(field + ": unknown architecture \"" + a + "\"");
    int rc = seccomp_arch_add(ctx.get(), token);
    if (rc < 0 && rc != -EEXIST) return sys_error(field + ": adding " + a, -rc);
  }

  for (size_t i = 0; i < sc->syscalls.size(); ++i) {
    const auto& s = sc->syscalls[i];
    std::string field = base + ".syscalls[" + std::to_string(i) + "]";
    uint32_t act = TRY(parse_action(s.action, s.errno_ret, field + ".action", field + ".errnoRet"));
    if (act == SCMP_ACT_NOTIFY) {
      prog.notify = true;
      for (const auto& n : s.names)
        if (n == "write" || n == "sendmsg" || n == "sendto")
          return fail(field + ".action: SCMP_ACT_NOTIFY cannot be used for \"" + n +
                      "\" (orun needs it to hand the listener on)");
    }

    std::vector<scmp_arg_cmp> conds;
    std::array<int, 6> per_index{};
    for (size_t j = 0; j < s.args.size(); ++j) {
      const auto& a = s.args[j];
      std::string af = field + ".args[" + std::to_string(j) + "]";
      if (a.index > 5) return fail(af + ".index: " + std::to_string(a.index) + " is above 5");
      const OpName* op = nullptr;
      for (const auto& o : kOps)
        if (a.op == o.name) op = &o;
      if (!op) return fail(af + ".op: unknown operator \"" + a.op + "\"");
      conds.push_back(scmp_arg_cmp{a.index, op->op, a.value, a.value_two});
      per_index[a.index]++;
    }
    if (act == def) continue;  // libseccomp refuses a rule equal to the default
    bool repeated = false;
    for (int c : per_index) repeated = repeated || c > 1;

    for (const auto& name : s.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown to libseccomp: skipped, as runc does
      auto add = [&](const scmp_arg_cmp* c, unsigned n) -> Result<> {
        int rc = seccomp_rule_add_array(ctx.get(), act, nr, n, c);
        if (rc < 0) return sys_error(field + ": adding a rule for \"" + name + "\"", -rc);
        return {};
      };
      if (repeated) {
        // Several conditions on one argument cannot be ANDed by libseccomp:
        // one rule per condition (ORed), as runc does.
        for (const auto& c : conds) TRY(add(&c, 1));
      } else {
        TRY(add(conds.data(), static_cast<unsigned>(conds.size())));
      }
    }
  }

  if (prog.notify && prog.listener_path.empty())
    return fail(base + ".listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
  // WAIT_KILLABLE_RECV concerns the notify listener only; without one the
  // kernel refuses the flag.
  if (!prog.notify) prog.flags &= ~kWaitKillableRecv;

  prog.bpf = enosys_stub(*sc, def);
  auto filter = TRYC(export_bpf(ctx.get()), base);
  prog.bpf.insert(prog.bpf.end(), filter.begin(), filter.end());
  if (prog.bpf.size() > BPF_MAXINSNS)
    return fail(base + ": the filter has " + std::to_string(prog.bpf.size()) + " instructions, the kernel allows " +
                std::to_string(BPF_MAXINSNS), E2BIG);
  return prog;
}

Result<Fd> load_seccomp(const SeccompProgram& prog) {
  sock_fprog fprog{static_cast<unsigned short>(prog.bpf.size()), const_cast<sock_filter*>(prog.bpf.data())};
  unsigned flags = prog.flags | (prog.notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
  long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (r < 0) return sys_error("loading the seccomp filter (linux.seccomp)");
  // The kernel opens the listener close-on-exec.
  return prog.notify ? Fd(static_cast<int>(r)) : Fd();
}

Result<Fd> connect_listener(const std::string& path) {
  return TRYC(unix_connect(path, SOCK_STREAM), "linux.seccomp.listenerPath");
}

std::string container_process_state(std::string_view state_json, pid_t pid, std::string_view metadata) {
  std::string out = R"({"ociVersion":"1.2.0","fds":["seccompFd"],"pid":)";
  out += std::to_string(pid);
  if (!metadata.empty()) {
    out += R"(,"metadata":)";
    json::append_quoted(out, metadata);
  }
  out += R"(,"state":)";
  out += state_json.empty() ? std::string_view("{}") : state_json;
  out += '}';
  return out;
}

Result<> send_seccomp_listener(int sock, int listener_fd, std::string_view json) {
  if (json.empty()) return fail("send_seccomp_listener: empty state");
  TRYC(send_with_fd(sock, json, listener_fd), "sending the seccomp listener (linux.seccomp.listenerPath)");
  return {};
}

}  // namespace orun::linux
