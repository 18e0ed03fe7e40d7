// config.json reader: base/json.hpp parses the document into plain values, and
// the walk below checks every type itself.
#include "spec/parse.hpp"

#include <concepts>
#include <cstdio>
#include <limits>

#include "base/file.hpp"
#include "base/json.hpp"
#include "spec/names.hpp"

namespace orun::spec {

namespace {

using json::Value;
using Type = Value::Type;
using Path = std::string;  // "linux.namespaces[2].type"; empty for the document itself

Path member(const Path& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}
Path element(const Path& parent, size_t i) { return parent + "[" + std::to_string(i) + "]"; }
Path map_entry(const Path& parent, std::string_view key) { return parent + "[" + quote(key) + "]"; }

std::unexpected<Error> bad(const Path& path, const std::string& msg) {
  return fail(path.empty() ? msg : path + ": " + msg);
}

// ---- scalars ----

Result<> read(const Value& v, const Path& p, std::string& out) {
  if (!v.is_string()) return bad(p, "expected a string");
  out = v.string;
  return {};
}

Result<> read(const Value& v, const Path& p, bool& out) {
  if (v.type != Type::boolean) return bad(p, "expected a boolean");
  out = v.boolean;
  return {};
}

template <std::integral T>
const char* int_kind() {
  if constexpr (std::is_same_v<T, uint16_t>) return "an unsigned 16-bit integer";
  if constexpr (std::is_same_v<T, uint32_t>) return "an unsigned 32-bit integer";
  if constexpr (std::is_same_v<T, uint64_t>) return "an unsigned 64-bit integer";
  if constexpr (std::is_same_v<T, int32_t>) return "a 32-bit integer";
  return "a 64-bit integer";
}

// Integers only: floats (even 1.0) and out-of-range values are errors, as
// with Go's decoder; non-negative literals are unsigned (base/json.hpp).
template <std::integral T>
  requires(!std::is_same_v<T, bool>)
Result<> read(const Value& v, const Path& p, T& out) {
  if (v.type == Type::unsigned_integer) {
    uint64_t u = v.unsigned_integer;
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) return bad(p, std::string("expected ") + int_kind<T>());
    out = static_cast<T>(u);
    return {};
  }
  if (v.type == Type::integer) {
    int64_t i = v.integer;
    if constexpr (std::is_unsigned_v<T>) {
      if (i < 0) return bad(p, std::string("expected ") + int_kind<T>());
    } else {
      if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          i > static_cast<int64_t>(std::numeric_limits<T>::max()))
        return bad(p, std::string("expected ") + int_kind<T>());
    }
    out = static_cast<T>(i);
    return {};
  }
  return bad(p, std::string("expected ") + int_kind<T>());
}

Result<> expect_object(const Value& v, const Path& p) {
  if (!v.is_object()) return bad(p, "expected an object");
  return {};
}

// ---- structs (declared first so the templates below find them) ----

Result<> read(const Value& v, const Path& p, Root& out);
Result<> read(const Value& v, const Path& p, Mount& out);
Result<> read(const Value& v, const Path& p, Mount::IdMap& out);
Result<> read(const Value& v, const Path& p, Process& out);
Result<> read(const Value& v, const Path& p, ConsoleSize& out);
Result<> read(const Value& v, const Path& p, User& out);
Result<> read(const Value& v, const Path& p, Capabilities& out);
Result<> read(const Value& v, const Path& p, Rlimit& out);
Result<> read(const Value& v, const Path& p, IoPriority& out);
Result<> read(const Value& v, const Path& p, Scheduler& out);
Result<> read(const Value& v, const Path& p, ExecCpuAffinity& out);
Result<> read(const Value& v, const Path& p, Hooks& out);
Result<> read(const Value& v, const Path& p, Hook& out);
Result<> read(const Value& v, const Path& p, Linux& out);
Result<> read(const Value& v, const Path& p, Namespace& out);
Result<> read(const Value& v, const Path& p, IdMapping& out);
Result<> read(const Value& v, const Path& p, TimeOffset& out);
Result<> read(const Value& v, const Path& p, Device& out);
Result<> read(const Value& v, const Path& p, Resources& out);
Result<> read(const Value& v, const Path& p, DeviceCgroup& out);
Result<> read(const Value& v, const Path& p, Memory& out);
Result<> read(const Value& v, const Path& p, Cpu& out);
Result<> read(const Value& v, const Path& p, Pids& out);
Result<> read(const Value& v, const Path& p, BlockIo& out);
Result<> read(const Value& v, const Path& p, WeightDevice& out);
Result<> read(const Value& v, const Path& p, ThrottleDevice& out);
Result<> read(const Value& v, const Path& p, HugepageLimit& out);
Result<> read(const Value& v, const Path& p, Network& out);
Result<> read(const Value& v, const Path& p, NetworkPriority& out);
Result<> read(const Value& v, const Path& p, Rdma& out);
Result<> read(const Value& v, const Path& p, Seccomp& out);
Result<> read(const Value& v, const Path& p, SeccompSyscall& out);
Result<> read(const Value& v, const Path& p, SeccompArg& out);
Result<> read(const Value& v, const Path& p, Personality& out);
Result<> read(const Value& v, const Path& p, IntelRdt& out);

// ---- containers ----

template <typename T>
Result<> read(const Value& v, const Path& p, std::vector<T>& out) {
  if (!v.is_array()) {
    if constexpr (std::is_same_v<T, std::string>) return bad(p, "expected an array of strings");
    return bad(p, "expected an array");
  }
  out.clear();
  out.reserve(v.array.size());
  for (size_t i = 0; i < v.array.size(); ++i) {
    T item{};
    TRY(read(v.array[i], element(p, i), item));
    out.push_back(std::move(item));
  }
  return {};
}

template <typename T>
Result<> read(const Value& v, const Path& p, std::map<std::string, T>& out) {
  if (!v.is_object()) {
    if constexpr (std::is_same_v<T, std::string>) return bad(p, "expected an object of strings");
    return bad(p, "expected an object");
  }
  out.clear();
  for (const json::Member& m : v.object) {
    if (v.find(m.key) != &m.value) continue;  // a repeated key: the last one counts
    T item{};
    TRY(read(m.value, map_entry(p, m.key), item));
    out.emplace(m.key, std::move(item));
  }
  return {};
}

template <typename T>
Result<> read(const Value& v, const Path& p, std::optional<T>& out) {
  T item{};
  TRY(read(v, p, item));
  out = std::move(item);
  return {};
}

// obj[key] when present and not null (null is absent, as for Go's decoder).
const Value* find(const Value& obj, const char* key) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return nullptr;
  return v;
}

// Optional member: absent leaves out untouched.
template <typename T>
Result<> opt(const Value& obj, const Path& p, const char* key, T& out) {
  const Value* v = find(obj, key);
  if (!v) return {};
  return read(*v, member(p, key), out);
}

// Required member (REQUIRED in the spec, with no meaningful zero value).
template <typename T>
Result<> req(const Value& obj, const Path& p, const char* key, T& out) {
  const Value* v = find(obj, key);
  if (!v) return bad(member(p, key), "required field is missing");
  return read(*v, member(p, key), out);
}

// ---- struct readers ----

Result<> read(const Value& v, const Path& p, Root& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "path", out.path));  // emptiness is validate()'s call
  TRY(opt(v, p, "readonly", out.readonly));
  return {};
}

Result<> read(const Value& v, const Path& p, Mount::IdMap& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "containerID", out.container_id));
  TRY(req(v, p, "hostID", out.host_id));
  TRY(req(v, p, "size", out.size));
  return {};
}

Result<> read(const Value& v, const Path& p, Mount& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "destination", out.destination));
  TRY(opt(v, p, "type", out.type));
  TRY(opt(v, p, "source", out.source));
  TRY(opt(v, p, "options", out.options));
  TRY(opt(v, p, "uidMappings", out.uid_mappings));
  TRY(opt(v, p, "gidMappings", out.gid_mappings));
  return {};
}

Result<> read(const Value& v, const Path& p, ConsoleSize& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "height", out.height));
  TRY(req(v, p, "width", out.width));
  return {};
}

Result<> read(const Value& v, const Path& p, User& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "uid", out.uid));
  TRY(opt(v, p, "gid", out.gid));
  TRY(opt(v, p, "umask", out.umask));
  TRY(opt(v, p, "additionalGids", out.additional_gids));
  TRY(opt(v, p, "username", out.username));
  return {};
}

Result<> read(const Value& v, const Path& p, Capabilities& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "bounding", out.bounding));
  TRY(opt(v, p, "effective", out.effective));
  TRY(opt(v, p, "inheritable", out.inheritable));
  TRY(opt(v, p, "permitted", out.permitted));
  TRY(opt(v, p, "ambient", out.ambient));
  return {};
}

Result<> read(const Value& v, const Path& p, Rlimit& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "type", out.type));
  TRY(req(v, p, "hard", out.hard));
  TRY(req(v, p, "soft", out.soft));
  return {};
}

Result<> read(const Value& v, const Path& p, IoPriority& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "class", out.klass));
  TRY(opt(v, p, "priority", out.priority));
  return {};
}

Result<> read(const Value& v, const Path& p, Scheduler& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "policy", out.policy));
  TRY(opt(v, p, "nice", out.nice));
  TRY(opt(v, p, "priority", out.priority));
  TRY(opt(v, p, "flags", out.flags));
  TRY(opt(v, p, "runtime", out.runtime));
  TRY(opt(v, p, "deadline", out.deadline));
  TRY(opt(v, p, "period", out.period));
  return {};
}

Result<> read(const Value& v, const Path& p, ExecCpuAffinity& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "initial", out.initial));
  TRY(opt(v, p, "final", out.final));
  return {};
}

Result<> read(const Value& v, const Path& p, Process& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "terminal", out.terminal));
  TRY(opt(v, p, "consoleSize", out.console_size));
  TRY(opt(v, p, "user", out.user));
  TRY(opt(v, p, "args", out.args));
  TRY(opt(v, p, "commandLine", out.command_line));
  TRY(opt(v, p, "env", out.env));
  TRY(opt(v, p, "cwd", out.cwd));
  TRY(opt(v, p, "capabilities", out.capabilities));
  TRY(opt(v, p, "rlimits", out.rlimits));
  TRY(opt(v, p, "noNewPrivileges", out.no_new_privileges));
  TRY(opt(v, p, "apparmorProfile", out.apparmor_profile));
  TRY(opt(v, p, "oomScoreAdj", out.oom_score_adj));
  TRY(opt(v, p, "selinuxLabel", out.selinux_label));
  TRY(opt(v, p, "ioPriority", out.io_priority));
  TRY(opt(v, p, "scheduler", out.scheduler));
  TRY(opt(v, p, "execCPUAffinity", out.exec_cpu_affinity));
  return {};
}

Result<> read(const Value& v, const Path& p, Hook& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "path", out.path));
  TRY(opt(v, p, "args", out.args));
  TRY(opt(v, p, "env", out.env));
  TRY(opt(v, p, "timeout", out.timeout));
  return {};
}

Result<> read(const Value& v, const Path& p, Hooks& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "prestart", out.prestart));
  TRY(opt(v, p, "createRuntime", out.create_runtime));
  TRY(opt(v, p, "createContainer", out.create_container));
  TRY(opt(v, p, "startContainer", out.start_container));
  TRY(opt(v, p, "poststart", out.poststart));
  TRY(opt(v, p, "poststop", out.poststop));
  return {};
}

Result<> read(const Value& v, const Path& p, Namespace& out) {
  TRY(expect_object(v, p));
  std::string type;
  TRY(req(v, p, "type", type));
  auto t = namespace_type_from_string(type);
  if (!t) return bad(member(p, "type"), "unknown namespace type " + quote(type));
  out.type = *t;
  TRY(opt(v, p, "path", out.path));
  return {};
}

Result<> read(const Value& v, const Path& p, IdMapping& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "containerID", out.container_id));
  TRY(req(v, p, "hostID", out.host_id));
  TRY(req(v, p, "size", out.size));
  return {};
}

Result<> read(const Value& v, const Path& p, TimeOffset& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "secs", out.secs));
  TRY(opt(v, p, "nanosecs", out.nanosecs));
  return {};
}

Result<> read(const Value& v, const Path& p, Device& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "type", out.type));
  TRY(req(v, p, "path", out.path));
  // The spec makes major/minor REQUIRED unless the device is a FIFO.
  if (out.type == "p") {
    TRY(opt(v, p, "major", out.major));
    TRY(opt(v, p, "minor", out.minor));
  } else {
    TRY(req(v, p, "major", out.major));
    TRY(req(v, p, "minor", out.minor));
  }
  TRY(opt(v, p, "fileMode", out.file_mode));
  TRY(opt(v, p, "uid", out.uid));
  TRY(opt(v, p, "gid", out.gid));
  return {};
}

Result<> read(const Value& v, const Path& p, DeviceCgroup& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "allow", out.allow));
  TRY(opt(v, p, "type", out.type));
  TRY(opt(v, p, "major", out.major));
  TRY(opt(v, p, "minor", out.minor));
  TRY(opt(v, p, "access", out.access));
  return {};
}

Result<> read(const Value& v, const Path& p, Memory& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "limit", out.limit));
  TRY(opt(v, p, "reservation", out.reservation));
  TRY(opt(v, p, "swap", out.swap));
  TRY(opt(v, p, "kernel", out.kernel));
  TRY(opt(v, p, "kernelTCP", out.kernel_tcp));
  TRY(opt(v, p, "swappiness", out.swappiness));
  TRY(opt(v, p, "disableOOMKiller", out.disable_oom_killer));
  TRY(opt(v, p, "useHierarchy", out.use_hierarchy));
  TRY(opt(v, p, "checkBeforeUpdate", out.check_before_update));
  return {};
}

Result<> read(const Value& v, const Path& p, Cpu& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "shares", out.shares));
  TRY(opt(v, p, "quota", out.quota));
  TRY(opt(v, p, "burst", out.burst));
  TRY(opt(v, p, "period", out.period));
  TRY(opt(v, p, "realtimeRuntime", out.realtime_runtime));
  TRY(opt(v, p, "realtimePeriod", out.realtime_period));
  TRY(opt(v, p, "cpus", out.cpus));
  TRY(opt(v, p, "mems", out.mems));
  TRY(opt(v, p, "idle", out.idle));
  return {};
}

Result<> read(const Value& v, const Path& p, Pids& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "limit", out.limit));
  return {};
}

Result<> read(const Value& v, const Path& p, WeightDevice& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "major", out.major));
  TRY(req(v, p, "minor", out.minor));
  TRY(opt(v, p, "weight", out.weight));
  TRY(opt(v, p, "leafWeight", out.leaf_weight));
  return {};
}

Result<> read(const Value& v, const Path& p, ThrottleDevice& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "major", out.major));
  TRY(req(v, p, "minor", out.minor));
  TRY(req(v, p, "rate", out.rate));
  return {};
}

Result<> read(const Value& v, const Path& p, BlockIo& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "weight", out.weight));
  TRY(opt(v, p, "leafWeight", out.leaf_weight));
  TRY(opt(v, p, "weightDevice", out.weight_device));
  TRY(opt(v, p, "throttleReadBpsDevice", out.throttle_read_bps_device));
  TRY(opt(v, p, "throttleWriteBpsDevice", out.throttle_write_bps_device));
  TRY(opt(v, p, "throttleReadIOPSDevice", out.throttle_read_iops_device));
  TRY(opt(v, p, "throttleWriteIOPSDevice", out.throttle_write_iops_device));
  return {};
}

Result<> read(const Value& v, const Path& p, HugepageLimit& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "pageSize", out.page_size));
  TRY(req(v, p, "limit", out.limit));
  return {};
}

Result<> read(const Value& v, const Path& p, NetworkPriority& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "name", out.name));
  TRY(req(v, p, "priority", out.priority));
  return {};
}

Result<> read(const Value& v, const Path& p, Network& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "classID", out.class_id));
  TRY(opt(v, p, "priorities", out.priorities));
  return {};
}

Result<> read(const Value& v, const Path& p, Rdma& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "hcaHandles", out.hca_handles));
  TRY(opt(v, p, "hcaObjects", out.hca_objects));
  return {};
}

Result<> read(const Value& v, const Path& p, Resources& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "devices", out.devices));
  TRY(opt(v, p, "memory", out.memory));
  TRY(opt(v, p, "cpu", out.cpu));
  TRY(opt(v, p, "pids", out.pids));
  TRY(opt(v, p, "blockIO", out.block_io));
  TRY(opt(v, p, "hugepageLimits", out.hugepage_limits));
  TRY(opt(v, p, "network", out.network));
  TRY(opt(v, p, "rdma", out.rdma));
  TRY(opt(v, p, "unified", out.unified));
  return {};
}

Result<> read(const Value& v, const Path& p, SeccompArg& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "index", out.index));
  TRY(req(v, p, "value", out.value));
  TRY(opt(v, p, "valueTwo", out.value_two));
  TRY(req(v, p, "op", out.op));
  return {};
}

Result<> read(const Value& v, const Path& p, SeccompSyscall& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "names", out.names));
  TRY(req(v, p, "action", out.action));
  TRY(opt(v, p, "errnoRet", out.errno_ret));
  TRY(opt(v, p, "args", out.args));
  return {};
}

Result<> read(const Value& v, const Path& p, Seccomp& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "defaultAction", out.default_action));
  TRY(opt(v, p, "defaultErrnoRet", out.default_errno_ret));
  TRY(opt(v, p, "architectures", out.architectures));
  TRY(opt(v, p, "flags", out.flags));
  TRY(opt(v, p, "listenerPath", out.listener_path));
  TRY(opt(v, p, "listenerMetadata", out.listener_metadata));
  TRY(opt(v, p, "syscalls", out.syscalls));
  return {};
}

Result<> read(const Value& v, const Path& p, Personality& out) {
  TRY(expect_object(v, p));
  TRY(req(v, p, "domain", out.domain));
  TRY(opt(v, p, "flags", out.flags));
  return {};
}

Result<> read(const Value& v, const Path& p, IntelRdt& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "closID", out.clos_id));
  TRY(opt(v, p, "l3CacheSchema", out.l3_cache_schema));
  TRY(opt(v, p, "memBwSchema", out.mem_bw_schema));
  TRY(opt(v, p, "enableCMT", out.enable_cmt));
  TRY(opt(v, p, "enableMBM", out.enable_mbm));
  return {};
}

Result<> read(const Value& v, const Path& p, Linux& out) {
  TRY(expect_object(v, p));
  TRY(opt(v, p, "namespaces", out.namespaces));
  TRY(opt(v, p, "uidMappings", out.uid_mappings));
  TRY(opt(v, p, "gidMappings", out.gid_mappings));
  TRY(opt(v, p, "timeOffsets", out.time_offsets));
  TRY(opt(v, p, "devices", out.devices));
  TRY(opt(v, p, "cgroupsPath", out.cgroups_path));
  TRY(opt(v, p, "resources", out.resources));
  TRY(opt(v, p, "rootfsPropagation", out.rootfs_propagation));
  TRY(opt(v, p, "seccomp", out.seccomp));
  TRY(opt(v, p, "sysctl", out.sysctl));
  TRY(opt(v, p, "maskedPaths", out.masked_paths));
  TRY(opt(v, p, "readonlyPaths", out.readonly_paths));
  TRY(opt(v, p, "mountLabel", out.mount_label));
  TRY(opt(v, p, "personality", out.personality));
  TRY(opt(v, p, "intelRdt", out.intel_rdt));
  return {};
}

Result<> read_config(const Value& v, Config& out) {
  if (!v.is_object()) return fail("expected a JSON object");
  TRY(req(v, "", "ociVersion", out.oci_version));
  TRY(opt(v, "", "root", out.root));
  TRY(opt(v, "", "mounts", out.mounts));
  TRY(opt(v, "", "process", out.process));
  TRY(opt(v, "", "hostname", out.hostname));
  TRY(opt(v, "", "domainname", out.domainname));
  TRY(opt(v, "", "hooks", out.hooks));
  TRY(opt(v, "", "annotations", out.annotations));
  TRY(opt(v, "", "linux", out.linux));
  return {};
}

// Parse text and run reader on the document.
template <typename T, typename Reader>
Result<T> parse_with(std::string_view text, Reader reader) {
  auto doc = json::parse(text);
  if (!doc) return fail("invalid JSON: " + doc.error().message);
  T out{};
  TRY(reader(*doc, out));
  return out;
}

}  // namespace

Result<Config> parse_config(std::string_view text) {
  auto r = parse_with<Config>(text, [](const Value& doc, Config& out) { return read_config(doc, out); });
  if (!r) return std::unexpected(std::move(r).error().context("config.json"));
  return r;
}

Result<Config> load_config(const std::string& bundle_dir) {
  std::string dir = bundle_dir.empty() ? "." : bundle_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::string path = (dir == "/" ? "" : dir) + "/config.json";
  std::string text = TRY(read_file(path));  // its error names the path
  auto r = parse_with<Config>(text, [](const Value& doc, Config& out) { return read_config(doc, out); });
  if (!r) return std::unexpected(std::move(r).error().context(path));
  return r;
}

Result<Resources> parse_resources(std::string_view text) {
  return parse_with<Resources>(text, [](const Value& doc, Resources& out) {
    if (!doc.is_object()) return Result<>(fail("expected a JSON object"));
    return read(doc, "", out);
  });
}

Result<Process> parse_process(std::string_view text) {
  return parse_with<Process>(text, [](const Value& doc, Process& out) {
    if (!doc.is_object()) return Result<>(fail("expected a JSON object"));
    return read(doc, "", out);
  });
}

}  // namespace orun::spec
