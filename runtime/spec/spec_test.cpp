#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>

#include "base/file.hpp"
#include "spec/default_spec.hpp"
#include "spec/names.hpp"
#include "spec/parse.hpp"
#include "spec/validate.hpp"

using namespace orun;
using namespace orun::spec;
using json = nlohmann::json;

namespace {

// Every member of config.hpp, with values that differ from the defaults.
const char* kFull = R"({
  "ociVersion": "1.2.0",
  "root": {"path": "rootfs", "readonly": true},
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "none", "source": "/srv/data", "options": ["rbind", "ro"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1000}]}
  ],
  "process": {
    "terminal": true,
    "consoleSize": {"height": 25, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 4294967295], "username": "bob"},
    "args": ["sh", "-c", "echo hi"],
    "commandLine": "cmd.exe /c",
    "env": ["PATH=/bin", "TERM=xterm"],
    "cwd": "/home",
    "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"], "inheritable": [],
                     "permitted": ["CAP_KILL", "CAP_CHOWN"], "ambient": ["CAP_CHOWN"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 1024},
                {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}],
    "noNewPrivileges": true,
    "apparmorProfile": "docker-default",
    "oomScoreAdj": -999,
    "selinuxLabel": "system_u:system_r:svirt_lxc_net_t:s0:c124,c675",
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
    "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 0, "flags": ["SCHED_FLAG_RESET_ON_FORK"],
                  "runtime": 100, "deadline": 200, "period": 300},
    "execCPUAffinity": {"initial": "0-1", "final": "0-3,7"}
  },
  "hostname": "box",
  "domainname": "example.org",
  "hooks": {
    "prestart": [{"path": "/bin/pre", "args": ["pre", "a"], "env": ["A=1"], "timeout": 5}],
    "createRuntime": [{"path": "/bin/cr"}],
    "createContainer": [{"path": "/bin/cc"}],
    "startContainer": [{"path": "/bin/sc"}],
    "poststart": [{"path": "/bin/ps1"}, {"path": "/bin/ps2"}],
    "poststop": [{"path": "/bin/pstop", "timeout": 1}]
  },
  "annotations": {"org.example.key": "value", "x": ""},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"}, {"type": "mount"},
                   {"type": "ipc"}, {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1000}, {"containerID": 1000, "hostID": 300000, "size": 1}],
    "timeOffsets": {"monotonic": {"secs": -86400, "nanosecs": 500}, "boottime": {"secs": 7}},
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
                {"type": "p", "path": "/dev/fifo"}],
    "cgroupsPath": "/orch/box",
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}],
      "memory": {"limit": 536870912, "reservation": 1024, "swap": -1, "kernel": 2048, "kernelTCP": 4096,
                 "swappiness": 60, "disableOOMKiller": true, "useHierarchy": false, "checkBeforeUpdate": true},
      "cpu": {"shares": 1024, "quota": 50000, "burst": 1000, "period": 100000, "realtimeRuntime": 950,
              "realtimePeriod": 1000, "cpus": "0-3", "mems": "0", "idle": 1},
      "pids": {"limit": 100},
      "blockIO": {"weight": 500, "leafWeight": 300,
                  "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 200}, {"major": 8, "minor": 16}],
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                  "throttleWriteBpsDevice": [{"major": 8, "minor": 1, "rate": 2}],
                  "throttleReadIOPSDevice": [{"major": 8, "minor": 2, "rate": 3}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 3, "rate": 4}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
      "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
      "unified": {"memory.high": "max", "io.weight": "default 100"}
    },
    "rootfsPropagation": "rslave",
    "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "architectures": ["SCMP_ARCH_X86_64"],
                "flags": ["SECCOMP_FILTER_FLAG_LOG"], "listenerPath": "/run/seccomp.sock", "listenerMetadata": "meta",
                "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                             {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                              "args": [{"index": 0, "value": 255, "valueTwo": 7, "op": "SCMP_CMP_MASKED_EQ"}]}]},
    "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "1000", "kernel.domainname": "d"},
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys", "/proc/bus"],
    "mountLabel": "system_u:object_r:svirt_sandbox_file_t:s0:c1,c2",
    "personality": {"domain": "LINUX32", "flags": ["F"]},
    "intelRdt": {"closID": "guaranteed", "l3CacheSchema": "L3:0=7f0", "memBwSchema": "MB:0=20",
                 "enableCMT": true, "enableMBM": true}
  },
  "someFutureField": {"ignored": [1, 2, 3]}
})";

// A small valid config, edited by the error tests one field at a time.
json base_doc() { return json::parse(default_spec_json(false)); }

// parse_config(doc) must succeed and validate() must fail; its message.
std::string validate_error(const json& doc) {
  auto r = parse_config(doc.dump());
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  auto v = validate(*r);
  REQUIRE_FALSE(v.has_value());
  return v.error().message;
}

bool valid(const json& doc) {
  auto r = parse_config(doc.dump());
  if (!r) return false;
  return validate(*r).has_value();
}

}  // namespace

TEST_CASE("names: namespace type table round-trips with clone flags") {
  CHECK(all_namespace_types().size() == 8);
  for (auto t : all_namespace_types()) CHECK(namespace_type_from_string(to_string(t)) == t);
  CHECK(to_string(NamespaceType::network) == "network");
  CHECK(to_string(NamespaceType::mount) == "mount");
  CHECK(clone_flag(NamespaceType::network) == CLONE_NEWNET);
  CHECK(clone_flag(NamespaceType::mount) == CLONE_NEWNS);
  CHECK(clone_flag(NamespaceType::user) == CLONE_NEWUSER);
  CHECK(clone_flag(NamespaceType::cgroup) == CLONE_NEWCGROUP);
  CHECK(clone_flag(NamespaceType::time) == 0x80);
  CHECK_FALSE(namespace_type_from_string("net").has_value());
  CHECK_FALSE(namespace_type_from_string("").has_value());
}

TEST_CASE("parse: a config with every field") {
  auto r = parse_config(kFull);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  const Config& c = *r;
  CHECK(c.oci_version == "1.2.0");
  REQUIRE(c.root);
  CHECK(c.root->path == "rootfs");
  CHECK(c.root->readonly);

  REQUIRE(c.mounts.size() == 2);
  CHECK(c.mounts[0].destination == "/proc");
  CHECK(c.mounts[0].type == "proc");
  CHECK(c.mounts[0].source == "proc");
  CHECK(c.mounts[0].options.empty());
  CHECK(c.mounts[1].options == std::vector<std::string>{"rbind", "ro"});
  REQUIRE(c.mounts[1].uid_mappings.size() == 1);
  CHECK(c.mounts[1].uid_mappings[0].container_id == 0);
  CHECK(c.mounts[1].uid_mappings[0].host_id == 100000);
  CHECK(c.mounts[1].uid_mappings[0].size == 65536);
  REQUIRE(c.mounts[1].gid_mappings.size() == 1);
  CHECK(c.mounts[1].gid_mappings[0].host_id == 200000);
  CHECK(c.mounts[1].gid_mappings[0].size == 1000);

  REQUIRE(c.process);
  const Process& p = *c.process;
  CHECK(p.terminal);
  REQUIRE(p.console_size);
  CHECK(p.console_size->height == 25);
  CHECK(p.console_size->width == 80);
  CHECK(p.user.uid == 1000);
  CHECK(p.user.gid == 1001);
  CHECK(p.user.umask == 18u);
  CHECK(p.user.additional_gids == std::vector<uint32_t>{5, 4294967295u});
  CHECK(p.user.username == "bob");
  CHECK(p.args == std::vector<std::string>{"sh", "-c", "echo hi"});
  CHECK(p.command_line == "cmd.exe /c");
  CHECK(p.env == std::vector<std::string>{"PATH=/bin", "TERM=xterm"});
  CHECK(p.cwd == "/home");
  REQUIRE(p.capabilities);
  CHECK(p.capabilities->bounding == std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"});
  CHECK(p.capabilities->effective == std::vector<std::string>{"CAP_KILL"});
  REQUIRE(p.capabilities->inheritable);
  CHECK(p.capabilities->inheritable->empty());
  CHECK(p.capabilities->permitted == std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"});
  CHECK(p.capabilities->ambient == std::vector<std::string>{"CAP_CHOWN"});
  REQUIRE(p.rlimits.size() == 2);
  CHECK(p.rlimits[0].type == "RLIMIT_NOFILE");
  CHECK(p.rlimits[0].hard == UINT64_MAX);
  CHECK(p.rlimits[0].soft == 1024);
  CHECK(p.rlimits[1].type == "RLIMIT_CORE");
  CHECK(p.no_new_privileges);
  CHECK(p.apparmor_profile == "docker-default");
  CHECK(p.oom_score_adj == -999);
  CHECK(p.selinux_label == "system_u:system_r:svirt_lxc_net_t:s0:c124,c675");
  REQUIRE(p.io_priority);
  CHECK(p.io_priority->klass == "IOPRIO_CLASS_BE");
  CHECK(p.io_priority->priority == 4);
  REQUIRE(p.scheduler);
  CHECK(p.scheduler->policy == "SCHED_DEADLINE");
  CHECK(p.scheduler->nice == -5);
  CHECK(p.scheduler->priority == 0);
  CHECK(p.scheduler->flags == std::vector<std::string>{"SCHED_FLAG_RESET_ON_FORK"});
  CHECK(p.scheduler->runtime == 100);
  CHECK(p.scheduler->deadline == 200);
  CHECK(p.scheduler->period == 300);
  REQUIRE(p.exec_cpu_affinity);
  CHECK(p.exec_cpu_affinity->initial == "0-1");
  CHECK(p.exec_cpu_affinity->final == "0-3,7");

  CHECK(c.hostname == "box");
  CHECK(c.domainname == "example.org");
  REQUIRE(c.hooks);
  REQUIRE(c.hooks->prestart.size() == 1);
  CHECK(c.hooks->prestart[0].path == "/bin/pre");
  CHECK(c.hooks->prestart[0].args == std::vector<std::string>{"pre", "a"});
  CHECK(c.hooks->prestart[0].env == std::vector<std::string>{"A=1"});
  CHECK(c.hooks->prestart[0].timeout == 5);
  REQUIRE(c.hooks->create_runtime.size() == 1);
  CHECK(c.hooks->create_runtime[0].path == "/bin/cr");
  CHECK_FALSE(c.hooks->create_runtime[0].timeout.has_value());
  REQUIRE(c.hooks->create_container.size() == 1);
  CHECK(c.hooks->create_container[0].path == "/bin/cc");
  REQUIRE(c.hooks->start_container.size() == 1);
  CHECK(c.hooks->start_container[0].path == "/bin/sc");
  REQUIRE(c.hooks->poststart.size() == 2);
  CHECK(c.hooks->poststart[1].path == "/bin/ps2");
  REQUIRE(c.hooks->poststop.size() == 1);
  CHECK(c.hooks->poststop[0].timeout == 1);
  CHECK(c.annotations == std::map<std::string, std::string>{{"org.example.key", "value"}, {"x", ""}});

  REQUIRE(c.linux);
  const Linux& l = *c.linux;
  REQUIRE(l.namespaces.size() == 8);
  CHECK(l.namespaces[0].type == NamespaceType::pid);
  CHECK(l.namespaces[0].path.empty());
  CHECK(l.namespaces[1].type == NamespaceType::network);
  CHECK(l.namespaces[1].path == "/var/run/netns/x");
  CHECK(l.namespaces[2].type == NamespaceType::mount);
  CHECK(l.namespaces[3].type == NamespaceType::ipc);
  CHECK(l.namespaces[4].type == NamespaceType::uts);
  CHECK(l.namespaces[5].type == NamespaceType::user);
  CHECK(l.namespaces[6].type == NamespaceType::cgroup);
  CHECK(l.namespaces[7].type == NamespaceType::time);
  REQUIRE(l.uid_mappings.size() == 1);
  CHECK(l.uid_mappings[0].container_id == 0);
  CHECK(l.uid_mappings[0].host_id == 100000);
  CHECK(l.uid_mappings[0].size == 65536);
  REQUIRE(l.gid_mappings.size() == 2);
  CHECK(l.gid_mappings[1].container_id == 1000);
  CHECK(l.gid_mappings[1].host_id == 300000);
  CHECK(l.gid_mappings[1].size == 1);
  REQUIRE(l.time_offsets.size() == 2);
  CHECK(l.time_offsets.at("monotonic").secs == -86400);
  CHECK(l.time_offsets.at("monotonic").nanosecs == 500);
  CHECK(l.time_offsets.at("boottime").secs == 7);
  CHECK(l.time_offsets.at("boottime").nanosecs == 0);
  REQUIRE(l.devices.size() == 2);
  CHECK(l.devices[0].type == "c");
  CHECK(l.devices[0].path == "/dev/fuse");
  CHECK(l.devices[0].major == 10);
  CHECK(l.devices[0].minor == 229);
  CHECK(l.devices[0].file_mode == 0666u);
  CHECK(l.devices[0].uid == 0u);
  CHECK(l.devices[0].gid == 0u);
  CHECK(l.devices[1].type == "p");
  CHECK_FALSE(l.devices[1].file_mode.has_value());
  CHECK(l.cgroups_path == "/orch/box");

  REQUIRE(l.resources);
  const Resources& res = *l.resources;
  REQUIRE(res.devices.size() == 2);
  CHECK_FALSE(res.devices[0].allow);
  CHECK(res.devices[0].type.empty());
  CHECK_FALSE(res.devices[0].major.has_value());
  CHECK(res.devices[0].access == "rwm");
  CHECK(res.devices[1].allow);
  CHECK(res.devices[1].type == "c");
  CHECK(res.devices[1].major == 10);
  CHECK(res.devices[1].minor == 229);
  CHECK(res.devices[1].access == "rw");
  REQUIRE(res.memory);
  CHECK(res.memory->limit == 536870912);
  CHECK(res.memory->reservation == 1024);
  CHECK(res.memory->swap == -1);
  CHECK(res.memory->kernel == 2048);
  CHECK(res.memory->kernel_tcp == 4096);
  CHECK(res.memory->swappiness == 60u);
  CHECK(res.memory->disable_oom_killer == true);
  CHECK(res.memory->use_hierarchy == false);
  CHECK(res.memory->check_before_update == true);
  REQUIRE(res.cpu);
  CHECK(res.cpu->shares == 1024u);
  CHECK(res.cpu->quota == 50000);
  CHECK(res.cpu->burst == 1000u);
  CHECK(res.cpu->period == 100000u);
  CHECK(res.cpu->realtime_runtime == 950);
  CHECK(res.cpu->realtime_period == 1000u);
  CHECK(res.cpu->cpus == "0-3");
  CHECK(res.cpu->mems == "0");
  CHECK(res.cpu->idle == 1);
  REQUIRE(res.pids);
  CHECK(res.pids->limit == 100);
  REQUIRE(res.block_io);
  CHECK(res.block_io->weight == 500);
  CHECK(res.block_io->leaf_weight == 300);
  REQUIRE(res.block_io->weight_device.size() == 2);
  CHECK(res.block_io->weight_device[0].major == 8);
  CHECK(res.block_io->weight_device[0].minor == 0);
  CHECK(res.block_io->weight_device[0].weight == 600);
  CHECK(res.block_io->weight_device[0].leaf_weight == 200);
  CHECK(res.block_io->weight_device[1].minor == 16);
  CHECK_FALSE(res.block_io->weight_device[1].weight.has_value());
  REQUIRE(res.block_io->throttle_read_bps_device.size() == 1);
  CHECK(res.block_io->throttle_read_bps_device[0].rate == 1048576);
  REQUIRE(res.block_io->throttle_write_bps_device.size() == 1);
  CHECK(res.block_io->throttle_write_bps_device[0].minor == 1);
  CHECK(res.block_io->throttle_write_bps_device[0].rate == 2);
  REQUIRE(res.block_io->throttle_read_iops_device.size() == 1);
  CHECK(res.block_io->throttle_read_iops_device[0].rate == 3);
  REQUIRE(res.block_io->throttle_write_iops_device.size() == 1);
  CHECK(res.block_io->throttle_write_iops_device[0].rate == 4);
  REQUIRE(res.hugepage_limits.size() == 1);
  CHECK(res.hugepage_limits[0].page_size == "2MB");
  CHECK(res.hugepage_limits[0].limit == 209715200);
  REQUIRE(res.network);
  CHECK(res.network->class_id == 1048577u);
  REQUIRE(res.network->priorities.size() == 1);
  CHECK(res.network->priorities[0].name == "eth0");
  CHECK(res.network->priorities[0].priority == 500);
  REQUIRE(res.rdma.count("mlx5_1"));
  CHECK(res.rdma.at("mlx5_1").hca_handles == 3u);
  CHECK(res.rdma.at("mlx5_1").hca_objects == 10000u);
  CHECK(res.unified == std::map<std::string, std::string>{{"memory.high", "max"}, {"io.weight", "default 100"}});

  CHECK(l.rootfs_propagation == "rslave");
  REQUIRE(l.seccomp);
  const Seccomp& s = *l.seccomp;
  CHECK(s.default_action == "SCMP_ACT_ERRNO");
  CHECK(s.default_errno_ret == 38u);
  CHECK(s.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64"});
  CHECK(s.flags == std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"});
  CHECK(s.listener_path == "/run/seccomp.sock");
  CHECK(s.listener_metadata == "meta");
  REQUIRE(s.syscalls.size() == 2);
  CHECK(s.syscalls[0].names == std::vector<std::string>{"read", "write"});
  CHECK(s.syscalls[0].action == "SCMP_ACT_ALLOW");
  CHECK_FALSE(s.syscalls[0].errno_ret.has_value());
  CHECK(s.syscalls[1].errno_ret == 1u);
  REQUIRE(s.syscalls[1].args.size() == 1);
  CHECK(s.syscalls[1].args[0].index == 0);
  CHECK(s.syscalls[1].args[0].value == 255);
  CHECK(s.syscalls[1].args[0].value_two == 7);
  CHECK(s.syscalls[1].args[0].op == "SCMP_CMP_MASKED_EQ");
  CHECK(l.sysctl.size() == 3);
  CHECK(l.sysctl.at("net.ipv4.ip_forward") == "1");
  CHECK(l.masked_paths == std::vector<std::string>{"/proc/kcore"});
  CHECK(l.readonly_paths == std::vector<std::string>{"/proc/sys", "/proc/bus"});
  CHECK(l.mount_label == "system_u:object_r:svirt_sandbox_file_t:s0:c1,c2");
  REQUIRE(l.personality);
  CHECK(l.personality->domain == "LINUX32");
  CHECK(l.personality->flags == std::vector<std::string>{"F"});
  REQUIRE(l.intel_rdt);
  CHECK(l.intel_rdt->clos_id == "guaranteed");
  CHECK(l.intel_rdt->l3_cache_schema == "L3:0=7f0");
  CHECK(l.intel_rdt->mem_bw_schema == "MB:0=20");
  CHECK(l.intel_rdt->enable_cmt);
  CHECK(l.intel_rdt->enable_mbm);

  auto v = validate(c);
  CHECK_MESSAGE(v.has_value(), (v ? "" : v.error().message));
}

TEST_CASE("parse: minimal config leaves optional members empty; null is absent") {
  auto r = parse_config(R"({"ociVersion": "1.2.0", "process": null, "hostname": null})");
  REQUIRE(r.has_value());
  CHECK_FALSE(r->root.has_value());
  CHECK_FALSE(r->process.has_value());
  CHECK_FALSE(r->linux.has_value());
  CHECK_FALSE(r->hooks.has_value());
  CHECK(r->mounts.empty());
  CHECK(r->hostname.empty());
  // Linux requires root: validate says so, parse does not.
  auto v = validate(*r);
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().message == "config.json: root: required field is missing");
}

TEST_CASE("parse: type and range errors name the field path") {
  struct Case {
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {R"({})", "config.json: ociVersion: required field is missing"},
      {R"([])", "config.json: expected a JSON object"},
      {R"({"ociVersion": 1})", "config.json: ociVersion: expected a string"},
      {R"({"ociVersion": "1", "process": {"args": "sh"}})", "config.json: process.args: expected an array of strings"},
      {R"({"ociVersion": "1", "process": {"args": ["sh", 1]}})", "config.json: process.args[1]: expected a string"},
      {R"({"ociVersion": "1", "process": {"user": {"uid": -1}}})",
       "config.json: process.user.uid: expected an unsigned 32-bit integer"},
      {R"({"ociVersion": "1", "process": {"user": {"uid": 4294967296}}})",
       "config.json: process.user.uid: expected an unsigned 32-bit integer"},
      {R"({"ociVersion": "1", "process": {"user": {"uid": 1.0}}})",
       "config.json: process.user.uid: expected an unsigned 32-bit integer"},
      {R"({"ociVersion": "1", "process": {"user": {"gid": "0"}}})",
       "config.json: process.user.gid: expected an unsigned 32-bit integer"},
      {R"({"ociVersion": "1", "process": {"user": {"additionalGids": [1, -2]}}})",
       "config.json: process.user.additionalGids[1]: expected an unsigned 32-bit integer"},
      {R"({"ociVersion": "1", "process": {"terminal": "yes"}})", "config.json: process.terminal: expected a boolean"},
      {R"({"ociVersion": "1", "process": {"oomScoreAdj": 2147483648}})",
       "config.json: process.oomScoreAdj: expected a 32-bit integer"},
      {R"({"ociVersion": "1", "process": {"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1}]}})",
       "config.json: process.rlimits[0].soft: required field is missing"},
      {R"({"ociVersion": "1", "process": {"rlimits": {}}})", "config.json: process.rlimits: expected an array"},
      {R"({"ociVersion": "1", "process": {"consoleSize": {"height": 1, "width": -3}}})",
       "config.json: process.consoleSize.width: expected an unsigned 32-bit integer"},
      {R"({"ociVersion": "1", "root": "rootfs"})", "config.json: root: expected an object"},
      {R"({"ociVersion": "1", "mounts": [{"type": "tmpfs"}]})",
       "config.json: mounts[0].destination: required field is missing"},
      {R"({"ociVersion": "1", "annotations": {"a": 1}})", "config.json: annotations[\"a\"]: expected a string"},
      {R"({"ociVersion": "1", "annotations": []})", "config.json: annotations: expected an object of strings"},
      {R"({"ociVersion": "1", "hooks": {"poststop": [{"path": "/x", "timeout": "5"}]}})",
       "config.json: hooks.poststop[0].timeout: expected a 32-bit integer"},
      {R"({"ociVersion": "1", "linux": {"namespaces": [{"type": "pid"}, {"type": "uts"}, {"type": "foo"}]}})",
       "config.json: linux.namespaces[2].type: unknown namespace type \"foo\""},
      {R"({"ociVersion": "1", "linux": {"namespaces": [{"path": "/x"}]}})",
       "config.json: linux.namespaces[0].type: required field is missing"},
      {R"({"ociVersion": "1", "linux": {"uidMappings": [{"containerID": 0, "hostID": 1}]}})",
       "config.json: linux.uidMappings[0].size: required field is missing"},
      {R"({"ociVersion": "1", "linux": {"devices": [{"type": "c", "path": "/dev/x", "major": 1}]}})",
       "config.json: linux.devices[0].minor: required field is missing"},
      {R"({"ociVersion": "1", "linux": {"devices": [{"type": "c", "path": "/dev/x", "major": 1, "minor": 1, "fileMode": -1}]}})",
       "config.json: linux.devices[0].fileMode: expected an unsigned 32-bit integer"},
      {R"({"ociVersion": "1", "linux": {"resources": {"memory": {"limit": "1G"}}}})",
       "config.json: linux.resources.memory.limit: expected a 64-bit integer"},
      {R"({"ociVersion": "1", "linux": {"resources": {"memory": {"swappiness": -1}}}})",
       "config.json: linux.resources.memory.swappiness: expected an unsigned 64-bit integer"},
      {R"({"ociVersion": "1", "linux": {"resources": {"blockIO": {"weight": 65536}}}})",
       "config.json: linux.resources.blockIO.weight: expected an unsigned 16-bit integer"},
      {R"({"ociVersion": "1", "linux": {"resources": {"cpu": {"quota": 9223372036854775808}}}})",
       "config.json: linux.resources.cpu.quota: expected a 64-bit integer"},
      {R"({"ociVersion": "1", "linux": {"resources": {"devices": [{"access": "rwm"}]}}})",
       "config.json: linux.resources.devices[0].allow: required field is missing"},
      {R"({"ociVersion": "1", "linux": {"resources": {"rdma": {"mlx": {"hcaHandles": true}}}}})",
       "config.json: linux.resources.rdma[\"mlx\"].hcaHandles: expected an unsigned 32-bit integer"},
      {R"({"ociVersion": "1", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ", "valueTwo": -1}]}]}}})",
       "config.json: linux.seccomp.syscalls[0].args[0].valueTwo: expected an unsigned 64-bit integer"},
      {R"({"ociVersion": "1", "linux": {"timeOffsets": {"monotonic": {"nanosecs": -1}}}})",
       "config.json: linux.timeOffsets[\"monotonic\"].nanosecs: expected an unsigned 32-bit integer"},
      {R"({"ociVersion": "1", "linux": {"sysctl": {"a\u0001b": 1}}})",
       "config.json: linux.sysctl[\"a\\x01b\"]: expected a string"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.json);
    auto r = parse_config(c.json);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message == c.message);
  }
}

TEST_CASE("parse: malformed JSON is an error with a position, never an exception") {
  auto r = parse_config("{\n  \"ociVersion\": \"1\",\n  \"root\": {\"path\": }\n}");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message.starts_with("config.json: invalid JSON: line 3, column "));
  for (const char* bad : {"", "{", "nul", "{\"a\":1,}", "[1e400]", "\"\xff\"", "{\"ociVersion\": \"1\"} x"}) {
    CAPTURE(bad);
    auto e = parse_config(bad);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().message.starts_with("config.json: invalid JSON: "));
    CHECK(e.error().message.find('\n') == std::string::npos);
  }
  // Deep nesting must not blow the stack: refused past 1000 levels (base/json.hpp), with the
  // position.
  auto nested = [](size_t n) {
    return "{\"ociVersion\": \"1\", \"x\": " + std::string(n, '[') + std::string(n, ']') + "}";
  };
  CHECK(parse_config(nested(999)).has_value());
  auto deep = parse_config(nested(100000));
  REQUIRE_FALSE(deep.has_value());
  CHECK(deep.error().message == "config.json: invalid JSON: line 1, column 1025: nested deeper than 1000");
}

TEST_CASE("parse: unknown members are ignored") {
  auto doc = base_doc();
  doc["future"] = {1, 2};
  doc["process"]["future"] = "x";
  doc["linux"]["resources"]["future"] = json::object();
  CHECK(valid(doc));
}

TEST_CASE("validate: each error class names its field path") {
  struct Case {
    const char* name;
    std::function<void(json&)> edit;
    const char* message;
  };
  const Case cases[] = {
      {"root absent", [](json& d) { d.erase("root"); }, "config.json: root: required field is missing"},
      {"root path empty", [](json& d) { d["root"]["path"] = ""; }, "config.json: root.path: must not be empty"},
      {"ociVersion empty", [](json& d) { d["ociVersion"] = ""; }, "config.json: ociVersion: must not be empty"},
      {"args empty", [](json& d) { d["process"]["args"] = json::array(); },
       "config.json: process.args: must not be empty"},
      {"cwd relative", [](json& d) { d["process"]["cwd"] = "tmp"; },
       "config.json: process.cwd: must be an absolute path, got \"tmp\""},
      {"cwd empty", [](json& d) { d["process"]["cwd"] = ""; }, "config.json: process.cwd: must not be empty"},
      {"mount destination empty", [](json& d) { d["mounts"][2]["destination"] = ""; },
       "config.json: mounts[2].destination: must not be empty"},
      {"duplicate namespace", [](json& d) { d["linux"]["namespaces"].push_back({{"type", "ipc"}}); },
       "config.json: linux.namespaces[5].type: duplicate namespace type \"ipc\""},
      {"user ns without uid mappings", [](json& d) { d["linux"]["namespaces"].push_back({{"type", "user"}}); },
       "config.json: linux.uidMappings: a new user namespace needs uid mappings"},
      {"user ns without gid mappings",
       [](json& d) {
         d["linux"]["namespaces"].push_back({{"type", "user"}});
         d["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
       },
       "config.json: linux.gidMappings: a new user namespace needs gid mappings"},
      {"ociVersion not semver", [](json& d) { d["ociVersion"] = "1.0"; },
       "config.json: ociVersion: \"1.0\" is not a SemVer 2.0.0 version"},
      {"empty annotation key", [](json& d) { d["annotations"] = {{"", "x"}}; },
       "config.json: annotations: keys must not be empty"},
      {"listenerMetadata without listenerPath",
       [](json& d) { d["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"listenerMetadata", "m"}}; },
       "config.json: linux.seccomp.listenerMetadata: must not be set without listenerPath"},
      {"uid mappings without user ns",
       [](json& d) { d["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}; },
       "config.json: linux.uidMappings: uid mappings need a user namespace in linux.namespaces"},
      {"gid mappings without user ns",
       [](json& d) { d["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}; },
       "config.json: linux.gidMappings: gid mappings need a user namespace in linux.namespaces"},
      {"mapping of size 0",
       [](json& d) {
         d["linux"]["namespaces"].push_back({{"type", "user"}});
         d["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 0}}};
         d["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
       },
       "config.json: linux.uidMappings[0].size: must be greater than zero"},
      {"mapping past 2^32",
       [](json& d) {
         d["linux"]["namespaces"].push_back({{"type", "user"}});
         d["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
         d["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 4294967295u}, {"size", 2}}};
       },
       "config.json: linux.gidMappings[0]: hostID + size exceeds the 32-bit id range"},
      {"hostname without uts",
       [](json& d) { d["linux"]["namespaces"] = {{{"type", "pid"}}, {{"type", "mount"}}}; },
       "config.json: hostname: unable to set hostname without a private UTS namespace"},
      {"domainname without uts",
       [](json& d) {
         d.erase("hostname");
         d["domainname"] = "x";
         d["linux"]["namespaces"] = {{{"type", "mount"}}};
       },
       "config.json: domainname: unable to set domainname without a private UTS namespace"},
      {"net sysctl without netns",
       [](json& d) {
         d["linux"]["namespaces"] = {{{"type", "mount"}}, {{"type", "uts"}}};
         d["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
       },
       "config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: sysctl needs a private network namespace"},
      {"ipc sysctl without ipc ns",
       [](json& d) {
         d["linux"]["namespaces"] = {{{"type", "mount"}}, {{"type", "uts"}}};
         d["linux"]["sysctl"] = {{"fs.mqueue.msg_max", "10"}};
       },
       "config.json: linux.sysctl[\"fs.mqueue.msg_max\"]: sysctl needs a private IPC namespace"},
      {"non-namespaced sysctl", [](json& d) { d["linux"]["sysctl"] = {{"vm.swappiness", "10"}}; },
       "config.json: linux.sysctl[\"vm.swappiness\"]: sysctl is not in a separate kernel namespace"},
      {"kernel.hostname sysctl", [](json& d) { d["linux"]["sysctl"] = {{"kernel.hostname", "x"}}; },
       "config.json: linux.sysctl[\"kernel.hostname\"]: conflicts with the \"hostname\" field"},
      {"sysctl with ..", [](json& d) { d["linux"]["sysctl"] = {{"net/../../x", "1"}}; },
       "config.json: linux.sysctl[\"net/../../x\"]: invalid sysctl name"},
      {"sysctl with empty component", [](json& d) { d["linux"]["sysctl"] = {{"net..ipv4", "1"}}; },
       "config.json: linux.sysctl[\"net..ipv4\"]: invalid sysctl name"},
      {"timeOffsets without time ns",
       [](json& d) { d["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 1}}}}; },
       "config.json: linux.timeOffsets: time offsets need a new time namespace"},
      {"timeOffsets bad clock",
       [](json& d) {
         d["linux"]["namespaces"].push_back({{"type", "time"}});
         d["linux"]["timeOffsets"] = {{"realtime", {{"secs", 1}}}};
       },
       "config.json: linux.timeOffsets[\"realtime\"]: unknown clock (monotonic or boottime)"},
      {"maskedPaths without mount ns",
       [](json& d) { d["linux"]["namespaces"] = {{{"type", "pid"}}, {{"type", "uts"}}}; },
       "config.json: linux.maskedPaths: unable to restrict paths without a private mount namespace"},
      {"maskedPaths relative", [](json& d) { d["linux"]["maskedPaths"][1] = "proc/x"; },
       "config.json: linux.maskedPaths[1]: must be an absolute path, got \"proc/x\""},
      {"rootfsPropagation", [](json& d) { d["linux"]["rootfsPropagation"] = "foo"; },
       "config.json: linux.rootfsPropagation: unsupported propagation \"foo\""},
      {"device type",
       [](json& d) { d["linux"]["devices"] = {{{"type", "x"}, {"path", "/dev/x"}, {"major", 1}, {"minor", 1}}}; },
       "config.json: linux.devices[0].type: invalid device type \"x\" (c, b, u or p)"},
      {"device path relative",
       [](json& d) { d["linux"]["devices"] = {{{"type", "c"}, {"path", "dev/x"}, {"major", 1}, {"minor", 1}}}; },
       "config.json: linux.devices[0].path: must be an absolute path, got \"dev/x\""},
      {"device fileMode",
       [](json& d) {
         d["linux"]["devices"] = {{{"type", "c"}, {"path", "/dev/x"}, {"major", 1}, {"minor", 1}, {"fileMode", 010000}}};
       },
       "config.json: linux.devices[0].fileMode: has bits other than the permissions (07777) and the file type "
       "of a \"c\" device: 010000"},
      {"hook relative", [](json& d) { d["hooks"]["prestart"] = {{{"path", "true"}}}; },
       "config.json: hooks.prestart[0].path: must be an absolute path, got \"true\""},
      {"hook timeout zero", [](json& d) { d["hooks"]["poststop"] = {{{"path", "/bin/true"}, {"timeout", 0}}}; },
       "config.json: hooks.poststop[0].timeout: must be greater than zero, got 0"},
      {"rlimit unknown", [](json& d) { d["process"]["rlimits"][0]["type"] = "NOFILE"; },
       "config.json: process.rlimits[0].type: unknown rlimit type \"NOFILE\""},
      {"rlimit soft > hard", [](json& d) { d["process"]["rlimits"][0]["soft"] = 2048; },
       "config.json: process.rlimits[0].soft: soft limit 2048 exceeds hard limit 1024"},
      {"rlimit duplicate",
       [](json& d) { d["process"]["rlimits"].push_back({{"type", "RLIMIT_NOFILE"}, {"hard", 1}, {"soft", 1}}); },
       "config.json: process.rlimits[1].type: duplicate rlimit type \"RLIMIT_NOFILE\""},
      {"cgroupsPath ..", [](json& d) { d["linux"]["cgroupsPath"] = "/a/../../b"; },
       "config.json: linux.cgroupsPath: must not contain \"..\" components"},
      {"seccomp defaultAction", [](json& d) { d["linux"]["seccomp"] = {{"defaultAction", ""}}; },
       "config.json: linux.seccomp.defaultAction: must not be empty"},
      {"seccomp names empty",
       [](json& d) {
         d["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", {{{"names", json::array()}, {"action", "SCMP_ACT_ERRNO"}}}}};
       },
       "config.json: linux.seccomp.syscalls[0].names: must not be empty"},
      {"seccomp arg index",
       [](json& d) {
         d["linux"]["seccomp"] = {
             {"defaultAction", "SCMP_ACT_ALLOW"},
             {"syscalls",
              {{{"names", {"x"}},
                {"action", "SCMP_ACT_ERRNO"},
                {"args", {{{"index", 6}, {"value", 0}, {"op", "SCMP_CMP_EQ"}}}}}}}};
       },
       "config.json: linux.seccomp.syscalls[0].args[0].index: syscalls take at most 6 arguments (0..5)"},
      {"seccomp notify without listener",
       [](json& d) {
         d["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                  {"syscalls", {{{"names", {"mount"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
       },
       "config.json: linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY"},
      {"personality", [](json& d) { d["linux"]["personality"] = {{"domain", "LINUX64"}}; },
       "config.json: linux.personality.domain: must be LINUX or LINUX32, got \"LINUX64\""},
      {"ioPriority class", [](json& d) { d["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_NONE"}}; },
       "config.json: process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\""},
      {"ioPriority priority",
       [](json& d) { d["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 8}}; },
       "config.json: process.ioPriority.priority: 8 is outside [0, 7]"},
      {"scheduler policy", [](json& d) { d["process"]["scheduler"] = {{"policy", "SCHED_FAST"}}; },
       "config.json: process.scheduler.policy: unknown scheduler policy \"SCHED_FAST\""},
      {"scheduler nice", [](json& d) { d["process"]["scheduler"] = {{"policy", "SCHED_OTHER"}, {"nice", 20}}; },
       "config.json: process.scheduler.nice: 20 is outside [-20, 19]"},
      {"scheduler priority",
       [](json& d) { d["process"]["scheduler"] = {{"policy", "SCHED_OTHER"}, {"priority", 5}}; },
       "config.json: process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a priority"},
      {"scheduler deadline fields",
       [](json& d) { d["process"]["scheduler"] = {{"policy", "SCHED_RR"}, {"runtime", 5}}; },
       "config.json: process.scheduler: runtime, deadline and period apply to SCHED_DEADLINE only"},
      {"scheduler flag",
       [](json& d) { d["process"]["scheduler"] = {{"policy", "SCHED_OTHER"}, {"flags", {"SCHED_FLAG_X"}}}; },
       "config.json: process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_X\""},
      {"oomScoreAdj", [](json& d) { d["process"]["oomScoreAdj"] = 1001; },
       "config.json: process.oomScoreAdj: 1001 is outside [-1000, 1000]"},
      {"execCPUAffinity", [](json& d) { d["process"]["execCPUAffinity"] = {{"initial", "3-1"}}; },
       "config.json: process.execCPUAffinity.initial: invalid CPU list \"3-1\""},
      {"intelRdt closID", [](json& d) { d["linux"]["intelRdt"] = {{"closID", "../x"}}; },
       "config.json: linux.intelRdt.closID: invalid CLOS id \"../x\""},
      {"resources device type",
       [](json& d) { d["linux"]["resources"]["devices"][0]["type"] = "x"; },
       "config.json: linux.resources.devices[0].type: invalid cgroup device type \"x\" (a, b or c)"},
      {"resources device access",
       [](json& d) { d["linux"]["resources"]["devices"][0]["access"] = "rwx"; },
       "config.json: linux.resources.devices[0].access: invalid access \"rwx\" (a subset of \"rwm\")"},
      {"joined mount namespace with mounts",
       [](json& d) {
         d["linux"]["namespaces"] = {{{"type", "mount"}, {"path", "/proc/1/ns/mnt"}}, {{"type", "uts"}}};
         d["mounts"] = {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}}};
       },
       "config.json: mounts: must not be set when joining a mount namespace (linux.namespaces: path "
       "\"/proc/1/ns/mnt\"), which is set up already"},
      {"joined mount namespace with maskedPaths",
       [](json& d) {
         d["linux"]["namespaces"] = {{{"type", "mount"}, {"path", "/proc/1/ns/mnt"}}, {{"type", "uts"}}};
         d["mounts"] = json::array();
         d["root"]["readonly"] = false;
         d["linux"]["maskedPaths"] = {"/proc/kcore"};
       },
       "config.json: linux.maskedPaths: must not be set when joining a mount namespace (linux.namespaces: path "
       "\"/proc/1/ns/mnt\"), which is set up already"},
      {"resources device major",
       [](json& d) { d["linux"]["resources"]["devices"][0]["major"] = 4294967296; },
       "config.json: linux.resources.devices[0].major: 4294967296 is not a device number (0 to 4294967295, or -1 for any)"},
      {"resources device minor",
       [](json& d) { d["linux"]["resources"]["devices"][0]["minor"] = -2; },
       "config.json: linux.resources.devices[0].minor: -2 is not a device number (0 to 4294967295, or -1 for any)"},
      {"swappiness", [](json& d) { d["linux"]["resources"]["memory"] = {{"swappiness", 101}}; },
       "config.json: linux.resources.memory.swappiness: 101 is outside [0, 100]"},
      {"hugepage size",
       [](json& d) { d["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "../2MB"}, {"limit", 1}}}; },
       "config.json: linux.resources.hugepageLimits[0].pageSize: invalid page size \"../2MB\" (like \"2MB\")"},
      {"unified key", [](json& d) { d["linux"]["resources"]["unified"] = {{"../memory.max", "1"}}; },
       "config.json: linux.resources.unified[\"../memory.max\"]: must be a cgroup file name"},
      {"cpus list", [](json& d) { d["linux"]["resources"]["cpu"] = {{"cpus", "0-a"}}; },
       "config.json: linux.resources.cpu.cpus: invalid CPU list \"0-a\""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    json doc = base_doc();
    c.edit(doc);
    CHECK(validate_error(doc) == c.message);
  }
}

TEST_CASE("validate: what runc accepts is accepted") {
  struct Case {
    const char* name;
    std::function<void(json&)> edit;
  };
  const Case cases[] = {
      {"relative mount destination",
       [](json& d) { d["mounts"].push_back({{"destination", "tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"}}); }},
      {"pre-release ociVersion (runc spec writes 1.0.2-dev)", [](json& d) { d["ociVersion"] = "1.0.2-dev"; }},
      {"ociVersion with build metadata", [](json& d) { d["ociVersion"] = "1.2.0-rc.1+b.7"; }},
      {"joined user ns without mappings",
       [](json& d) { d["linux"]["namespaces"].push_back({{"type", "user"}, {"path", "/proc/1/ns/user"}}); }},
      {"consoleSize without terminal",
       [](json& d) {
         d["process"]["terminal"] = false;
         d["process"]["consoleSize"] = {{"height", 1}, {"width", 2}};
       }},
      {"slash sysctl in netns", [](json& d) { d["linux"]["sysctl"] = {{"net/ipv4/conf/eth0.100/rp_filter", "1"}}; }},
      {"ipc sysctls",
       [](json& d) { d["linux"]["sysctl"] = {{"kernel.shmmax", "1"}, {"kernel.sem", "1 2 3 4"}, {"fs.mqueue.x", "1"}}; }},
      {"kernel.domainname with uts", [](json& d) { d["linux"]["sysctl"] = {{"kernel.domainname", "x"}}; }},
      {"umask above 0777", [](json& d) { d["process"]["user"]["umask"] = 4095; }},
      {"device outside /dev",
       [](json& d) { d["linux"]["devices"] = {{{"type", "c"}, {"path", "/tmp/null"}, {"major", 1}, {"minor", 3}}}; }},
      {"fifo without major/minor", [](json& d) { d["linux"]["devices"] = {{{"type", "p"}, {"path", "/dev/f"}}}; }},
      {"device fileMode with its file type bits (podman --device copies st_mode)",
       [](json& d) {
         d["linux"]["devices"] = {
             {{"type", "c"}, {"path", "/dev/c"}, {"major", 1}, {"minor", 3}, {"fileMode", 020666}},
             {{"type", "b"}, {"path", "/dev/b"}, {"major", 7}, {"minor", 0}, {"fileMode", 060660}},
             {{"type", "p"}, {"path", "/dev/p"}, {"fileMode", 010600}}};
       }},
      {"no process", [](json& d) { d.erase("process"); }},
      {"systemd cgroupsPath", [](json& d) { d["linux"]["cgroupsPath"] = "system.slice:orch:abc"; }},
      {"time ns with offsets",
       [](json& d) {
         d["linux"]["namespaces"].push_back({{"type", "time"}});
         d["linux"]["timeOffsets"] = {{"boottime", {{"secs", -5}, {"nanosecs", 999999999}}}};
       }},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    json doc = base_doc();
    c.edit(doc);
    auto r = parse_config(doc.dump());
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    auto v = validate(*r);
    CHECK_MESSAGE(v.has_value(), (v ? "" : v.error().message));
  }
}

TEST_CASE("sysctl key normalization") {
  CHECK(normalize_sysctl_key("net.ipv4.ip_forward") == "net.ipv4.ip_forward");
  CHECK(normalize_sysctl_key("net/ipv4/ip_forward") == "net.ipv4.ip_forward");
  CHECK(normalize_sysctl_key("net/ipv4/conf/eno2.100/rp_filter") == "net.ipv4.conf.eno2/100.rp_filter");
  CHECK(sysctl_relative_path("net.ipv4.conf.eno2/100.rp_filter") == "net/ipv4/conf/eno2.100/rp_filter");
  CHECK_FALSE(normalize_sysctl_key("").has_value());
  CHECK_FALSE(normalize_sysctl_key("net..x").has_value());
  CHECK_FALSE(normalize_sysctl_key(".net").has_value());
  CHECK_FALSE(normalize_sysctl_key("net/../x").has_value());  // ".." becomes a component
  CHECK_FALSE(normalize_sysctl_key("net/./x").has_value());
  CHECK_FALSE(normalize_sysctl_key("net.//.x").has_value());
}

TEST_CASE("default spec: same document as runc spec, parses and validates") {
  for (bool rootless : {false, true}) {
    CAPTURE(rootless);
    std::string text = default_spec_json(rootless);
    CHECK(text.find("\n\t\"process\": {") != std::string::npos);  // tab-indented like runc
    CHECK(text.back() == '}');
    auto r = parse_config(text);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    auto v = validate(*r);
    CHECK_MESSAGE(v.has_value(), (v ? "" : v.error().message));
    const Config& c = *r;
    CHECK(c.oci_version == kOciVersion);
    REQUIRE(c.process);
    CHECK(c.process->terminal);
    CHECK(c.process->args == std::vector<std::string>{"sh"});
    CHECK(c.process->cwd == "/");
    CHECK(c.process->no_new_privileges);
    std::vector<std::string> caps{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    REQUIRE(c.process->capabilities);
    CHECK(c.process->capabilities->bounding == caps);
    CHECK(c.process->capabilities->ambient == caps);
    CHECK_FALSE(c.process->capabilities->inheritable.has_value());
    REQUIRE(c.process->rlimits.size() == 1);
    CHECK(c.process->rlimits[0].type == "RLIMIT_NOFILE");
    CHECK(c.process->rlimits[0].hard == 1024);
    REQUIRE(c.root);
    CHECK(c.root->path == "rootfs");
    CHECK(c.root->readonly);
    CHECK(c.hostname == "runc");
    REQUIRE(c.mounts.size() == 7);
    CHECK(c.mounts[6].destination == "/sys/fs/cgroup");
    REQUIRE(c.linux);
    CHECK(c.linux->masked_paths.size() == 10);
    CHECK(c.linux->readonly_paths.size() == 5);
    std::vector<NamespaceType> ns;
    for (const auto& n : c.linux->namespaces) ns.push_back(n.type);
    if (rootless) {
      CHECK(ns == std::vector<NamespaceType>{NamespaceType::pid, NamespaceType::ipc, NamespaceType::uts,
                                             NamespaceType::mount, NamespaceType::user});
      REQUIRE(c.linux->uid_mappings.size() == 1);
      CHECK(c.linux->uid_mappings[0].host_id == ::geteuid());
      CHECK(c.linux->gid_mappings[0].host_id == ::getegid());
      CHECK_FALSE(c.linux->resources.has_value());
      CHECK(c.mounts[5].type == "none");
      CHECK(c.mounts[5].options[0] == "rbind");
      CHECK(c.mounts[2].options.back() == "mode=0620");
    } else {
      CHECK(ns == std::vector<NamespaceType>{NamespaceType::pid, NamespaceType::network, NamespaceType::ipc,
                                             NamespaceType::uts, NamespaceType::mount});
      CHECK(c.linux->uid_mappings.empty());
      REQUIRE(c.linux->resources);
      REQUIRE(c.linux->resources->devices.size() == 1);
      CHECK_FALSE(c.linux->resources->devices[0].allow);
      CHECK(c.linux->resources->devices[0].access == "rwm");
      CHECK(c.mounts[5].type == "sysfs");
      CHECK(c.mounts[2].options.back() == "gid=5");
    }
  }
}

TEST_CASE("default spec matches runc's output byte for byte, ociVersion aside") {
  // Only where runc is installed (the dev machines and CI have it).
  if (::access("/usr/sbin/runc", X_OK) != 0) return;
  for (bool rootless : {false, true}) {
    CAPTURE(rootless);
    char dir[] = "/tmp/orun-spec-test-XXXXXX";
    REQUIRE(::mkdtemp(dir));
    std::string cmd = std::string("cd ") + dir + " && /usr/sbin/runc spec" + (rootless ? " --rootless" : "");
    REQUIRE(std::system(cmd.c_str()) == 0);
    auto theirs = read_file(std::string(dir) + "/config.json");
    REQUIRE(theirs.has_value());
    json doc = json::parse(*theirs);
    std::string version = doc["ociVersion"];
    std::string ours = default_spec_json(rootless);
    auto pos = ours.find(kOciVersion);
    REQUIRE(pos != std::string::npos);
    ours.replace(pos, std::string_view(kOciVersion).size(), version);
    CHECK(ours == *theirs);
    (void)std::system((std::string("rm -rf ") + dir).c_str());
  }
}

TEST_CASE("parse_resources: the linux.resources object alone") {
  auto r = parse_resources(R"({"memory": {"limit": 1048576, "swap": -1}, "cpu": {"shares": 512, "cpus": "0"},
                               "pids": {"limit": 10}, "unified": {"pids.max": "5"}})");
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  REQUIRE(r->memory);
  CHECK(r->memory->limit == 1048576);
  CHECK(r->memory->swap == -1);
  CHECK_FALSE(r->memory->reservation.has_value());
  REQUIRE(r->cpu);
  CHECK(r->cpu->shares == 512u);
  CHECK(r->cpu->cpus == "0");
  CHECK_FALSE(r->cpu->quota.has_value());
  CHECK(r->pids->limit == 10);
  CHECK(r->unified.at("pids.max") == "5");
  CHECK_FALSE(r->block_io.has_value());
  CHECK(validate_resources(*r).has_value());

  auto e = parse_resources(R"({"memory": {"limit": "1G"}})");
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().message == "memory.limit: expected a 64-bit integer");
  e = parse_resources(R"({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0}]}})");
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().message == "blockIO.throttleReadBpsDevice[0].rate: required field is missing");
  e = parse_resources("[]");
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().message == "expected a JSON object");
  e = parse_resources("{");
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().message.starts_with("invalid JSON: "));

  auto bad = parse_resources(R"({"memory": {"swappiness": 200}})");
  REQUIRE(bad.has_value());
  auto v = validate_resources(*bad);
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().message == "memory.swappiness: 200 is outside [0, 100]");
}

TEST_CASE("load_config: reads bundle/config.json, errors name the file") {
  char dir[] = "/tmp/orun-spec-load-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string bundle = dir;
  auto missing = load_config(bundle);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find(bundle + "/config.json") != std::string::npos);
  CHECK(missing.error().code == ENOENT);

  REQUIRE(write_file(bundle + "/config.json", default_spec_json(false)).has_value());
  auto ok = load_config(bundle + "/");
  REQUIRE_MESSAGE(ok.has_value(), (ok ? "" : ok.error().message));
  CHECK(ok->process->args == std::vector<std::string>{"sh"});

  REQUIRE(write_file(bundle + "/config.json", R"({"ociVersion": "1", "process": {"args": "sh"}})").has_value());
  auto bad = load_config(bundle);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message == bundle + "/config.json: process.args: expected an array of strings");
  (void)std::system(("rm -rf " + bundle).c_str());
}

TEST_CASE("quote escapes control and non-ASCII bytes") {
  CHECK(quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(quote(std::string_view("\n\xff", 2)) == "\"\\x0a\\xff\"");
}
