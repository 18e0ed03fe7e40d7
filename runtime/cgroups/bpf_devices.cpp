#include "cgroups/bpf_devices.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "base/fd.hpp"

namespace orun::cgroups {

namespace {

constexpr uint8_t R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn load_u32(uint8_t dst, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, R1, off, 0); }
bpf_insn mov32_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn alu32_imm(uint8_t op, uint8_t dst, uint32_t imm) {
  return insn(BPF_ALU | op | BPF_K, dst, 0, 0, static_cast<int32_t>(imm));
}
// A 32-bit compare with the jump offset patched once the block's length is known.
bpf_insn jump32_imm(uint8_t op, uint8_t reg, uint32_t imm) {
  return insn(BPF_JMP32 | op | BPF_K, reg, 0, 0, static_cast<int32_t>(imm));
}
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

void append_exception(std::vector<bpf_insn>& prog, const DeviceException& e, bool default_allow) {
  std::vector<bpf_insn> block;
  block.push_back(jump32_imm(BPF_JNE, R2, e.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
  if (e.access != kAllAccess) {
    block.push_back(mov32_reg(R1, R3));
    if (default_allow) {  // a denying exception matches when any requested access is in it
      block.push_back(alu32_imm(BPF_AND, R1, e.access));
      block.push_back(jump32_imm(BPF_JEQ, R1, 0));
    } else {  // an allowing exception matches when every requested access is in it
      block.push_back(alu32_imm(BPF_AND, R1, ~e.access & kAllAccess));
      block.push_back(jump32_imm(BPF_JNE, R1, 0));
    }
  }
  if (e.major) block.push_back(jump32_imm(BPF_JNE, R4, *e.major));
  if (e.minor) block.push_back(jump32_imm(BPF_JNE, R5, *e.minor));
  block.push_back(alu32_imm(BPF_MOV, R0, default_allow ? 0 : 1));
  block.push_back(exit_insn());
  // Every conditional jump leaves the block: to the instruction after it.
  for (size_t i = 0; i < block.size(); ++i)
    if (BPF_CLASS(block[i].code) == BPF_JMP32) block[i].off = static_cast<int16_t>(block.size() - i - 1);
  prog.insert(prog.end(), block.begin(), block.end());
}

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

Result<Fd> load_program(const std::vector<bpf_insn>& prog) {
  static const char license[] = "Apache-2.0";
  auto load = [&](char* log, uint32_t log_size) {
    bpf_attr a{};
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = reinterpret_cast<uintptr_t>(prog.data());
    a.insn_cnt = static_cast<uint32_t>(prog.size());
    a.license = reinterpret_cast<uintptr_t>(license);
    std::strncpy(a.prog_name, "orun_devices", sizeof a.prog_name - 1);
    if (log) {
      a.log_buf = reinterpret_cast<uintptr_t>(log);
      a.log_size = log_size;
      a.log_level = 1;
    }
    return static_cast<int>(bpf(BPF_PROG_LOAD, a));  // bpf fds are always close-on-exec
  };
  int fd = load(nullptr, 0);
  if (fd >= 0) return Fd(fd);
  int err = errno;
  if (err != EINVAL && err != EACCES) return sys_error("loading the eBPF device program", err);
  // Ask again with the verifier's log, which is the only useful explanation.
  std::string log(1 << 16, '\0');
  (void)load(log.data(), static_cast<uint32_t>(log.size()));
  log.resize(std::strlen(log.c_str()));
  while (!log.empty() && log.back() == '\n') log.pop_back();
  if (auto nl = log.rfind('\n'); nl != std::string::npos) log = log.substr(nl + 1);
  return fail("loading the eBPF device program: " + std::string(std::strerror(err)) +
                  (log.empty() ? "" : " (verifier: " + log + ")"),
              err);
}

Result<Fd> open_cgroup(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + dir);
  return Fd(fd);
}

Result<std::vector<uint32_t>> query(const Fd& cgroup, const std::string& dir) {
  std::vector<uint32_t> ids(16);
  for (;;) {
    bpf_attr a{};
    a.query.target_fd = static_cast<uint32_t>(cgroup.get());
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.prog_ids = reinterpret_cast<uintptr_t>(ids.data());
    a.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, a) == 0) {
      ids.resize(a.query.prog_cnt);
      return ids;
    }
    if (errno != ENOSPC) return sys_error("listing the device programs of " + dir);
    ids.resize(a.query.prog_cnt);
  }
}

}  // namespace

std::vector<bpf_insn> device_program(const DevicePolicy& policy) {
  std::vector<bpf_insn> prog = {
      load_u32(R2, offsetof(bpf_cgroup_dev_ctx, access_type)),
      load_u32(R4, offsetof(bpf_cgroup_dev_ctx, major)),
      load_u32(R5, offsetof(bpf_cgroup_dev_ctx, minor)),
      mov32_reg(R3, R2),
      alu32_imm(BPF_RSH, R3, 16),      // access
      alu32_imm(BPF_AND, R2, 0xffff),  // type
  };
  for (const auto& e : policy.exceptions) append_exception(prog, e, policy.default_allow);
  prog.push_back(alu32_imm(BPF_MOV, R0, policy.default_allow ? 1 : 0));
  prog.push_back(exit_insn());
  return prog;
}

Result<std::vector<uint32_t>> attached_device_programs(const std::string& dir) {
  Fd cgroup = TRY(open_cgroup(dir));
  return query(cgroup, dir);
}

Result<> attach_device_filter(const std::string& dir, const DevicePolicy& policy) {
  Fd cgroup = TRY(open_cgroup(dir));
  auto old = TRY(query(cgroup, dir));
  Fd prog = TRY(load_program(device_program(policy)));
  bpf_attr a{};
  a.target_fd = static_cast<uint32_t>(cgroup.get());
  a.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, a) != 0) {
    if (errno == EPERM && !old.empty())
      return fail("attaching the eBPF device program to " + dir +
                      ": another program is attached there without BPF_F_ALLOW_MULTI",
                  EPERM);
    return sys_error("attaching the eBPF device program to " + dir);
  }
  for (uint32_t id : old) {
    bpf_attr g{};
    g.prog_id = id;
    int fd = static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, g));
    if (fd < 0) {
      if (errno == ENOENT) continue;  // detached meanwhile
      return sys_error("detaching the old device program " + std::to_string(id) + " from " + dir);
    }
    Fd old_prog(fd);
    bpf_attr d{};
    d.target_fd = static_cast<uint32_t>(cgroup.get());
    d.attach_bpf_fd = static_cast<uint32_t>(old_prog.get());
    d.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, d) != 0 && errno != ENOENT)
      return sys_error("detaching the old device program " + std::to_string(id) + " from " + dir);
  }
  return {};
}

}  // namespace orun::cgroups
