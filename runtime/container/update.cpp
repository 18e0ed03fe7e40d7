// `orun update`: change the limits of a live container, as runc does.
//
//   --resources FILE|-  or runc's flags  ->  delta (linux.resources JSON, given fields only)
//   delta + saved config.json            ->  Manager::update(delta with paired fields filled)
//                                        ->  config.json in the state dir, delta merged in
#include <nlohmann/json.hpp>

#include "base/file.hpp"
#include "base/strings.hpp"
#include "cgroups/manager.hpp"
#include "container/container.hpp"
#include "spec/parse.hpp"
#include "spec/validate.hpp"

namespace orun::container {
namespace {

using nlohmann::json;

enum class Kind { uint, sint, bytes, text };

struct FlagField {
  const char* flag;
  const char* group;  // linux.resources member
  const char* key;
  Kind kind;
};

// runc's update flags and the linux.resources fields they set.
constexpr FlagField kFlags[] = {
    {"blkio-weight", "blockIO", "weight", Kind::uint},
    {"cpu-period", "cpu", "period", Kind::uint},
    {"cpu-quota", "cpu", "quota", Kind::sint},
    {"cpu-burst", "cpu", "burst", Kind::uint},
    {"cpu-share", "cpu", "shares", Kind::uint},
    {"cpu-rt-period", "cpu", "realtimePeriod", Kind::uint},
    {"cpu-rt-runtime", "cpu", "realtimeRuntime", Kind::sint},
    {"cpuset-cpus", "cpu", "cpus", Kind::text},
    {"cpuset-mems", "cpu", "mems", Kind::text},
    {"cpu-idle", "cpu", "idle", Kind::sint},
    {"memory", "memory", "limit", Kind::bytes},
    {"memory-reservation", "memory", "reservation", Kind::bytes},
    {"memory-swap", "memory", "swap", Kind::bytes},
    {"pids-limit", "pids", "limit", Kind::sint},
};

Result<json> delta_from_flags(const std::map<std::string, std::string>& flags,
                              const std::function<void(const std::string&)>& warn) {
  json delta = json::object();
  for (auto& [name, value] : flags) {
    if (name == "kernel-memory" || name == "kernel-memory-tcp") {
      warn("--" + name + " is obsolete and ignored (as by runc)");
      continue;
    }
    if (name == "l3-cache-schema" || name == "mem-bw-schema")
      return fail("--" + name + ": Intel RDT is not supported by orun", ENOTSUP);
    const FlagField* f = nullptr;
    for (auto& c : kFlags)
      if (name == c.flag) f = &c;
    if (!f) return fail("--" + name + ": unknown update flag");
    json& slot = delta[f->group][f->key];
    auto bad = [&](const char* what) { return fail("--" + name + ": invalid value " + spec::quote(value) + " (" + what + ")"); };
    switch (f->kind) {
      case Kind::uint: {
        auto v = parse_uint(value);
        if (!v) return bad("expected a non-negative integer");
        slot = *v;
        break;
      }
      case Kind::sint: {
        auto v = parse_int(value);
        if (!v) return bad("expected an integer");
        slot = *v;
        break;
      }
      case Kind::bytes: {
        auto v = value == "-1" ? std::optional<int64_t>(-1) : parse_ram_bytes(value);
        if (!v) return bad("expected bytes with an optional unit, as 512m or 1g, or -1");
        slot = *v;
        break;
      }
      case Kind::text:
        slot = value;
        break;
    }
  }
  return delta;
}

// Fields whose 0 (or "") means "leave alone" in runc's update: they are
// dropped so that neither the cgroup nor the saved config changes.
void drop_unset(json& delta) {
  auto drop = [&](const char* group, std::initializer_list<const char*> keys) {
    if (!delta.contains(group) || !delta[group].is_object()) return;
    json& g = delta[group];
    for (const char* k : keys)
      if (g.contains(k) && ((g[k].is_number() && g[k] == 0) || (g[k].is_string() && g[k] == ""))) g.erase(k);
    if (g.empty()) delta.erase(group);
  };
  drop("memory", {"limit", "reservation", "swap"});
  drop("cpu", {"shares", "quota", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems"});
  drop("pids", {"limit"});
  drop("blockIO", {"weight", "leafWeight"});
}

// Deep merge for the saved config: objects merge member by member, anything
// else (numbers, strings, device lists) is replaced.
void merge_into(json& target, const json& patch) {
  if (!target.is_object() || !patch.is_object()) {
    target = patch;
    return;
  }
  for (auto& [k, v] : patch.items()) merge_into(target[k], v);
}

// Values that the kernel checks against each other need both halves: a new
// swap needs the limit it is above, a new period the quota (one cpu.max on v2).
void fill_pair(json& delta, const json& saved, const char* group, const char* a, const char* b) {
  if (!delta.contains(group) || !saved.contains(group) || !saved[group].is_object()) return;
  json& d = delta[group];
  const json& s = saved[group];
  for (auto [have, want] : {std::pair{a, b}, std::pair{b, a}})
    if (d.contains(have) && !d.contains(want) && s.contains(want) && s[want].is_number() && s[want] != 0)
      d[want] = s[want];
}

// nlohmann throws; nothing may escape into the runtime.
Result<json> parse_json(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    return fail(what + ": invalid JSON");
  }
}

}  // namespace

Result<> update(const Globals& g, const std::string& id, const UpdateOptions& opt) {
  json delta;
  if (!opt.resources.empty()) {
    // As runc: with --resources, the individual flags are ignored.
    std::string text = opt.resources == "-" ? TRYC(read_fd(0), "--resources: reading stdin")
                                            : TRYC(read_file(opt.resources), "--resources");
    auto parsed = TRYC(spec::parse_resources(text), "--resources");  // errors name the field
    TRYC(spec::validate_resources(parsed), "--resources");
    delta = TRY(parse_json(text, "--resources"));
  } else {
    delta = TRY(delta_from_flags(opt.flags, g.warn));
  }
  // runc's update cannot change these: device rules stay as created (a v1
  // rewrite would pass through deny-all), the rest is fixed at create.
  for (const char* k : {"devices", "hugepageLimits", "network", "rdma"}) delta.erase(k);
  if (delta.contains("memory") && delta["memory"].is_object())
    for (const char* k : {"kernel", "kernelTCP"}) delta["memory"].erase(k);  // obsolete, ignored as by runc
  drop_unset(delta);

  Fd lock = TRY(lock_container(g.root, id));
  State st = TRY(load_state(g.root, id));
  Status status = live_status(g.root, st);
  if (status == Status::stopped || status == Status::creating)
    return fail("cannot update container \"" + id + "\": it is " + to_string(status), EINVAL);

  std::string config_path = state_dir(g.root, id) + "/config.json";
  json config = TRY(parse_json(TRY(read_file(config_path)), config_path));
  if (!config.is_object()) return fail(config_path + ": not a JSON object");
  json& linux = config["linux"];
  if (!linux.is_object()) return fail(config_path + ": linux: missing");
  json saved = linux.contains("resources") && linux["resources"].is_object() ? linux["resources"] : json::object();

  json applied = delta;
  fill_pair(applied, saved, "memory", "limit", "swap");
  fill_pair(applied, saved, "cpu", "quota", "period");
  spec::Resources res = TRYC(spec::parse_resources(applied.dump(-1, ' ', false, json::error_handler_t::replace)), "--resources");
  auto cg = TRY(cgroups::load_manager(st.cgroup_paths, st.systemd_unit));
  TRY(cg->update(res));
  for (auto& w : cg->ignored(res)) g.warn(w);

  merge_into(saved, delta);
  linux["resources"] = saved;
  TRYC(write_file_atomic(config_path, config.dump(2, ' ', false, json::error_handler_t::replace), 0600), "saving the new resources");
  return {};
}

}  // namespace orun::container
