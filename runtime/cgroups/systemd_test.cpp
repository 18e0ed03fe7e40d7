// The pure half of the systemd driver: cgroupsPath parsing, slice expansion, and the unit
// properties made from linux.resources. (The D-Bus half is tested against systemd itself in
// tests/vm/systemd.)
#include <doctest/doctest.h>

#include <algorithm>

#include "cgroups/hierarchy.hpp"
#include "cgroups/manager.hpp"
#include "cgroups/systemd_unit.hpp"

using namespace orun;
using namespace orun::cgroups;

namespace {

// The value of property `name`, which must be there once.
UnitProperty::Value prop(const std::vector<UnitProperty>& props, const std::string& name) {
  auto n = std::count_if(props.begin(), props.end(), [&](const UnitProperty& p) { return p.name == name; });
  REQUIRE_MESSAGE(n == 1, name << " appears " << n << " times");
  return std::find_if(props.begin(), props.end(), [&](const UnitProperty& p) { return p.name == name; })->value;
}

bool has(const std::vector<UnitProperty>& props, const std::string& name) {
  return std::any_of(props.begin(), props.end(), [&](const UnitProperty& p) { return p.name == name; });
}

std::vector<std::string> names(const std::vector<UnitProperty>& props) {
  std::vector<std::string> out;
  for (auto& p : props) out.push_back(p.name);
  return out;
}

}  // namespace

TEST_CASE("expand_slice: nested slices as systemd lays them out") {
  CHECK(expand_slice("system.slice").value() == "/system.slice");
  CHECK(expand_slice("a-b.slice").value() == "/a.slice/a-b.slice");
  CHECK(expand_slice("kubepods-besteffort-pod12_3.slice").value() ==
        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12_3.slice");
  CHECK(expand_slice("-.slice").value() == "/");
  for (const char* bad : {"system", "a--b.slice", "-a.slice", "a-.slice", ".slice", "a/b.slice", "../x.slice",
                          "a b.slice", "a..b.slice", "x.slice/"})
    CHECK_MESSAGE(!expand_slice(bad), bad);
  CHECK_FALSE(expand_slice(std::string(250, 'a') + ".slice"));
}

TEST_CASE("parse_systemd_path: runc's slice:prefix:name") {
  auto u = parse_systemd_path("system.slice:libpod:abc123", "id").value();
  CHECK(u.slice == "system.slice");
  CHECK(u.name == "libpod-abc123.scope");
  CHECK(u.cgroup == "/system.slice/libpod-abc123.scope");
  CHECK_FALSE(u.is_slice());

  // Empty slice: system.slice. Empty prefix: no dash.
  u = parse_systemd_path(":cri-containerd:c1", "id").value();
  CHECK(u.cgroup == "/system.slice/cri-containerd-c1.scope");
  u = parse_systemd_path("machine.slice::c1", "id").value();
  CHECK(u.name == "c1.scope");
  CHECK(u.cgroup == "/machine.slice/c1.scope");

  // An empty cgroupsPath: orun-<id>.scope in system.slice.
  u = parse_systemd_path("", "ctr1").value();
  CHECK(u.name == "orun-ctr1.scope");
  CHECK(u.slice == "system.slice");
  CHECK(u.cgroup == "/system.slice/orun-ctr1.scope");

  // Nested slices expand; kubelet's layout.
  u = parse_systemd_path("kubepods-burstable-podx.slice:cri-containerd:c2", "id").value();
  CHECK(u.cgroup == "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podx.slice/cri-containerd-c2.scope");
  // The root slice.
  CHECK(parse_systemd_path("-.slice:p:n", "id").value().cgroup == "/p-n.scope");

  // A name that is a slice is a slice unit, placed by its own name.
  u = parse_systemd_path("system.slice:ignored:a-b.slice", "id").value();
  CHECK(u.is_slice());
  CHECK(u.name == "a-b.slice");
  CHECK(u.cgroup == "/a.slice/a-b.slice");
}

TEST_CASE("parse_systemd_path: hostile or malformed paths name linux.cgroupsPath") {
  for (const char* bad : {
           "/a/b", "a/b", "system.slice:x", "a:b:c:d", "system.slice:x:", "nota:x:y", "system.slice:../x:y",
           "system.slice:x:../../etc", "system.slice:x:a/b", "system.slice:x/y:z", "a--b.slice:x:y", "-a.slice:x:y",
           "system.slice:x y:z", "system.slice:x:a\\x2db", "system.slice:x:..", "../system.slice:x:y",
           "system.slice:x:..slice", "system.slice:x:-.slice", "system.slice:x:\n"}) {
    auto r = parse_systemd_path(bad, "id");
    CHECK_MESSAGE(!r, bad);
    if (!r) CHECK_MESSAGE(r.error().message.starts_with("linux.cgroupsPath "), r.error().message);
  }
  auto r = parse_systemd_path("a:b:c:d", "id");
  CHECK(r.error().message.find("slice:prefix:name") != std::string::npos);
  CHECK_FALSE(parse_systemd_path("system.slice:p:" + std::string(250, 'n'), "id"));
  // An empty path falls back on the id, which must be a valid name too.
  CHECK_FALSE(parse_systemd_path("", "a/b"));
}

TEST_CASE("open_manager: the systemd driver's cgroupfs directories are the unit's") {
  const char* mountinfo =
      "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
  Host v2 = detect(mountinfo, "0::/user.slice/session-3.scope\n").value();
  auto m = open_manager(v2, "a-b.slice:orun:c1", "c1", true).value();
  CHECK(m->systemd_unit() == "orun-c1.scope");
  CHECK(m->starts_with_process());
  CHECK(m->paths() == std::map<std::string, std::string>{{"", "/sys/fs/cgroup/a.slice/a-b.slice/orun-c1.scope"}});
  // Without the flag the systemd form is refused, and with it a cgroupfs path.
  CHECK_FALSE(open_manager(v2, "a-b.slice:orun:c1", "c1", false));
  auto fs_path = open_manager(v2, "/a/b", "c1", true);
  REQUIRE_FALSE(fs_path);
  CHECK(fs_path.error().message.find("linux.cgroupsPath") == 0);
  auto fs = open_manager(v2, "/a/b", "c1", false).value();
  CHECK_FALSE(fs->starts_with_process());
  CHECK(fs->systemd_unit().empty());
}

TEST_CASE("cpu_list_mask: AllowedCPUs bytes, bit j of byte i is CPU 8i+j") {
  CHECK(cpu_list_mask("0", "f").value() == std::vector<uint8_t>{0x01});
  CHECK(cpu_list_mask("0-3", "f").value() == std::vector<uint8_t>{0x0f});
  CHECK(cpu_list_mask("1,3", "f").value() == std::vector<uint8_t>{0x0a});
  CHECK(cpu_list_mask("7-9", "f").value() == std::vector<uint8_t>{0x80, 0x03});
  CHECK(cpu_list_mask(" 0 , 16 ", "f").value() == std::vector<uint8_t>{0x01, 0x00, 0x01});
  for (const char* bad : {"", "a", "3-1", "1-", "-1", "0-99999999", "1;2"}) {
    auto r = cpu_list_mask(bad, "linux.resources.cpu.cpus");
    CHECK_MESSAGE(!r, bad);
    if (!r) CHECK(r.error().message.starts_with("linux.resources.cpu.cpus: "));
  }
}

TEST_CASE("resource_properties: cgroup v2 names and conversions") {
  spec::Resources res;
  res.memory = spec::Memory{};
  res.memory->limit = 64 << 20;
  res.memory->reservation = 32 << 20;
  res.memory->swap = 96 << 20;
  res.cpu = spec::Cpu{};
  res.cpu->shares = 1024;
  res.cpu->quota = 50000;
  res.cpu->period = 100000;
  res.cpu->cpus = "0-1";
  res.cpu->mems = "0";
  res.pids = spec::Pids{64};
  res.block_io = spec::BlockIo{};
  res.block_io->weight = 500;
  auto p = resource_properties(res, true).value();
  CHECK(std::get<uint64_t>(prop(p, "MemoryMax")) == 64u << 20);
  CHECK(std::get<uint64_t>(prop(p, "MemoryLow")) == 32u << 20);
  CHECK(std::get<uint64_t>(prop(p, "MemorySwapMax")) == 32u << 20);  // memory+swap less memory
  CHECK(std::get<uint64_t>(prop(p, "CPUWeight")) == 39);             // the v2 manager's conversion
  CHECK(std::get<uint64_t>(prop(p, "CPUQuotaPerSecUSec")) == 500000);
  CHECK(std::get<uint64_t>(prop(p, "CPUQuotaPeriodUSec")) == 100000);
  CHECK(std::get<std::vector<uint8_t>>(prop(p, "AllowedCPUs")) == std::vector<uint8_t>{0x03});
  CHECK(std::get<std::vector<uint8_t>>(prop(p, "AllowedMemoryNodes")) == std::vector<uint8_t>{0x01});
  CHECK(std::get<uint64_t>(prop(p, "TasksMax")) == 64);
  CHECK(std::get<uint64_t>(prop(p, "IOWeight")) == 4950);
  for (const char* v1only : {"MemoryLimit", "CPUShares", "BlockIOWeight"}) CHECK_FALSE(has(p, v1only));
  CHECK(std::string(signature(prop(p, "AllowedCPUs"))) == "ay");
  CHECK(std::string(signature(prop(p, "TasksMax"))) == "t");
}

TEST_CASE("resource_properties: cgroup v1 names (runc's v1 systemd driver)") {
  spec::Resources res;
  res.memory = spec::Memory{};
  res.memory->limit = 64 << 20;
  res.memory->swap = 128 << 20;
  res.cpu = spec::Cpu{};
  res.cpu->shares = 512;
  res.cpu->cpus = "0";
  res.block_io = spec::BlockIo{};
  res.block_io->weight = 300;
  auto p = resource_properties(res, false).value();
  CHECK(std::get<uint64_t>(prop(p, "MemoryLimit")) == 64u << 20);
  CHECK(std::get<uint64_t>(prop(p, "CPUShares")) == 512);
  CHECK(std::get<uint64_t>(prop(p, "BlockIOWeight")) == 300);
  // systemd has no v1 equivalent of these: the cgroupfs manager writes them.
  for (const char* v2only : {"MemoryMax", "MemorySwapMax", "MemoryLow", "CPUWeight", "IOWeight", "AllowedCPUs"})
    CHECK_FALSE(has(p, v2only));
}

TEST_CASE("resource_properties: unlimited, unset and only what is given") {
  spec::Resources none;
  CHECK(resource_properties(none, true).value().empty());

  spec::Resources res;
  res.memory = spec::Memory{};
  res.memory->limit = -1;
  res.pids = spec::Pids{-1};
  res.cpu = spec::Cpu{};
  res.cpu->quota = -1;
  auto p = resource_properties(res, true).value();
  CHECK(std::get<uint64_t>(prop(p, "MemoryMax")) == kInfinity);
  CHECK(std::get<uint64_t>(prop(p, "MemorySwapMax")) == kInfinity);  // limit -1, swap unset: both unlimited
  CHECK(std::get<uint64_t>(prop(p, "TasksMax")) == kInfinity);
  CHECK(std::get<uint64_t>(prop(p, "CPUQuotaPerSecUSec")) == kInfinity);
  CHECK_FALSE(has(p, "CPUQuotaPeriodUSec"));

  // 0 means unset, as for the cgroupfs managers.
  spec::Resources zero;
  zero.memory = spec::Memory{};
  zero.memory->limit = 0;
  zero.cpu = spec::Cpu{};
  zero.cpu->shares = 0;
  zero.cpu->quota = 0;
  CHECK(resource_properties(zero, true).value().empty());

  // A period alone: no quota (infinity) with that period, as `update --cpu-period` means.
  spec::Resources period;
  period.cpu = spec::Cpu{};
  period.cpu->period = 50000;
  p = resource_properties(period, true).value();
  CHECK(std::get<uint64_t>(prop(p, "CPUQuotaPeriodUSec")) == 50000);
  CHECK(std::get<uint64_t>(prop(p, "CPUQuotaPerSecUSec")) == kInfinity);
}

TEST_CASE("resource_properties: the quota per second rounds up, so systemd writes at least the quota") {
  spec::Resources res;
  res.cpu = spec::Cpu{};
  res.cpu->quota = 1;
  res.cpu->period = 3;  // 333333.3 us per second
  auto p = resource_properties(res, true).value();
  uint64_t per_sec = std::get<uint64_t>(prop(p, "CPUQuotaPerSecUSec"));
  CHECK(per_sec == 333334);
  CHECK(per_sec * 3 / 1000000 >= 1);  // systemd: cpu.max quota = per_sec * period / 1 s
  // Without a period, the kernel's default 100 ms.
  res.cpu->period.reset();
  res.cpu->quota = 25000;
  p = resource_properties(res, true).value();
  CHECK(std::get<uint64_t>(prop(p, "CPUQuotaPerSecUSec")) == 250000);
  res.cpu->quota = std::numeric_limits<int64_t>::max();
  CHECK_FALSE(resource_properties(res, true));
}

TEST_CASE("resource_properties: values the cgroupfs managers refuse are refused, naming the field") {
  spec::Resources swap_below;
  swap_below.memory = spec::Memory{};
  swap_below.memory->limit = 64 << 20;
  swap_below.memory->swap = 32 << 20;
  auto r = resource_properties(swap_below, true);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.starts_with("linux.resources.memory.swap"));

  spec::Resources bad_limit;
  bad_limit.memory = spec::Memory{};
  bad_limit.memory->limit = -5;
  CHECK(resource_properties(bad_limit, true).error().message.starts_with("linux.resources.memory.limit"));

  spec::Resources bad_cpus;
  bad_cpus.cpu = spec::Cpu{};
  bad_cpus.cpu->cpus = "0-";
  CHECK(resource_properties(bad_cpus, true).error().message.starts_with("linux.resources.cpu.cpus"));
}

TEST_CASE("start_properties: a delegated scope holding the pid, accounting on, TasksMax pinned") {
  SystemdUnit scope = parse_systemd_path("a-b.slice:orun:c1", "c1").value();
  spec::Resources res;
  res.memory = spec::Memory{};
  res.memory->limit = 1 << 30;
  auto p = start_properties(scope, "c1", 4242, res, true).value();
  CHECK(std::get<std::string>(prop(p, "Slice")) == "a-b.slice");
  CHECK(std::get<bool>(prop(p, "Delegate")) == true);
  CHECK(std::get<bool>(prop(p, "DefaultDependencies")) == false);
  CHECK(std::get<std::vector<uint32_t>>(prop(p, "PIDs")) == std::vector<uint32_t>{4242});
  CHECK(std::get<std::string>(prop(p, "Description")).find("c1") != std::string::npos);
  for (const char* a : {"MemoryAccounting", "CPUAccounting", "IOAccounting", "TasksAccounting"})
    CHECK(std::get<bool>(prop(p, a)) == true);
  // No pids limit in the config: unlimited, not systemd's DefaultTasksMax.
  CHECK(std::get<uint64_t>(prop(p, "TasksMax")) == kInfinity);
  CHECK(std::get<uint64_t>(prop(p, "MemoryMax")) == 1u << 30);

  res.pids = spec::Pids{10};
  p = start_properties(scope, "c1", 4242, res, false).value();
  CHECK(std::get<uint64_t>(prop(p, "TasksMax")) == 10);  // once: the config's
  CHECK(has(p, "BlockIOAccounting"));
  CHECK_FALSE(has(p, "IOAccounting"));

  // A slice unit takes no pid and no Delegate; the process is moved in through cgroupfs.
  SystemdUnit slice = parse_systemd_path(":x:a-b.slice", "c1").value();
  p = start_properties(slice, "c1", 4242, {}, true).value();
  for (const char* absent : {"PIDs", "Delegate", "Slice"}) CHECK_MESSAGE(!has(p, absent), absent);
  CHECK(names(p).front() == "Description");
}
