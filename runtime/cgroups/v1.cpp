#include "cgroups/v1.hpp"

#include <signal.h>

#include <algorithm>

#include "base/strings.hpp"
#include "cgroups/cgfs.hpp"
#include "cgroups/device_policy.hpp"
#include "cgroups/v2.hpp"

namespace orun::cgroups {

std::vector<const V1Dir*> V1Manager::all() const {
  std::vector<const V1Dir*> out;
  for (auto& d : dirs_) out.push_back(&d);
  if (unified_) out.push_back(&*unified_);
  return out;
}

std::optional<std::string> V1Manager::dir_of(const std::string& controller) const {
  for (auto& d : dirs_)
    if (std::find(d.controllers.begin(), d.controllers.end(), controller) != d.controllers.end()) return d.dir;
  return std::nullopt;
}

std::map<std::string, std::string> V1Manager::paths() const {
  std::map<std::string, std::string> out;
  for (auto& d : dirs_)
    for (auto& c : d.controllers) out[c] = d.dir;
  if (unified_) out[""] = unified_->dir;
  return out;
}

namespace {

// A new cpuset cgroup starts with empty cpus and mems, and no task may join it
// until both are set: copy them down from the parent, level by level.
Result<> fill_cpuset(const V1Dir& d) {
  std::string parent = d.mount_point;
  for (auto& part : split(std::string_view(d.dir).substr(d.mount_point.size()), '/')) {
    if (part.empty()) continue;
    std::string cur = parent + "/" + part;
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      if (!TRY(read_value(cur, file)).empty()) continue;
      TRY(write_value(cur, file, TRY(read_value(parent, file))));
    }
    parent = cur;
  }
  return {};
}

}  // namespace

Result<> V1Manager::create() {
  std::vector<std::string> made;
  auto undo = [&] {
    for (auto it = made.rbegin(); it != made.rend(); ++it) (void)remove_dirs(*it, std::chrono::milliseconds(500));
  };
  for (const V1Dir* d : all()) {
    auto r = make_dirs(d->mount_point, d->dir);
    if (!r) {
      undo();
      return std::unexpected(r.error().context("creating the cgroup"));
    }
    made.insert(made.end(), r->begin(), r->end());
    if (std::find(d->controllers.begin(), d->controllers.end(), "cpuset") != d->controllers.end()) {
      auto c = fill_cpuset(*d);
      if (!c) {
        undo();
        return std::unexpected(c.error().context("creating the cgroup"));
      }
    }
  }
  return {};
}

Result<> V1Manager::add(pid_t pid) {
  for (const V1Dir* d : all())
    TRYC(write_value(d->dir, "cgroup.procs", std::to_string(pid)),
         "adding pid " + std::to_string(pid) + " to the cgroup");
  return {};
}

namespace {

std::string dev(int64_t major, int64_t minor) { return std::to_string(major) + ":" + std::to_string(minor); }

std::unexpected<Error> unsupported(const std::string& field, const std::string& why) {
  return fail("linux.resources." + field + ": " + why, ENOTSUP);
}

Result<> put(const std::string& dir, const std::string& field, const std::string& file, const std::string& value) {
  TRYC(write_value(dir, file, value), "linux.resources." + field);
  return {};
}

}  // namespace

Result<std::string> V1Manager::need(const std::string& controller, const std::string& field) const {
  if (auto d = dir_of(controller)) return *d;
  return unsupported(field, "the " + controller + " cgroup controller is not mounted");
}

Result<> V1Manager::apply(const spec::Resources& res) {
  // The spec's default is deny-all; then the config's rules in order; then
  // the devices every container needs. The cgroup is taken from the rules it
  // holds to that end state with the fewest writes: a plain "deny a" first is
  // refused (EINVAL) once the cgroup has children, e.g. on a second apply or
  // for a cgroupsPath that names a populated cgroup.
  std::string d = TRY(need("devices", "devices"));
  std::vector<spec::DeviceCgroup> rules = res.devices;
  rules.insert(rules.end(), default_device_rules().begin(), default_device_rules().end());
  DevicePolicy want = TRY(device_policy(rules));
  DevicePolicy have = TRYC(parse_devices_list(TRY(read_value(d, "devices.list"))), "linux.resources.devices");
  for (auto& rule : device_transition(have, want)) {
    std::string line = device_rule_string(rule);
    TRYC(write_value(d, rule.allow ? "devices.allow" : "devices.deny", line), "linux.resources.devices (" + line + ")");
  }
  return update(res);
}

Result<> V1Manager::update(const spec::Resources& res) {
  if (!res.unified.empty())
    return unsupported("unified", std::string("needs cgroup v2, this host is ") + (unified_ ? "hybrid" : "v1"));

  if (res.cpu && (!res.cpu->cpus.empty() || !res.cpu->mems.empty())) {
    std::string d = TRY(need("cpuset", "cpu.cpus"));
    if (!res.cpu->cpus.empty()) TRY(put(d, "cpu.cpus", "cpuset.cpus", res.cpu->cpus));
    if (!res.cpu->mems.empty()) TRY(put(d, "cpu.mems", "cpuset.mems", res.cpu->mems));
  }

  if (res.memory) {
    const auto& m = *res.memory;
    std::string d = TRY(need("memory", "memory"));
    int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0);
    bool memsw = has_file(d, "memory.memsw.limit_in_bytes");
    // Unlimited memory with swap unset means both unlimited (runc).
    if (limit == -1 && swap == 0 && memsw) swap = -1;
    // swap < limit: the kernel would refuse it too (EINVAL), but only after the limit was written.
    if (limit > 0 && swap > 0) TRY(swap_max_value(swap, limit));
    if (swap != 0 && !memsw) {
      if (swap == -1 || swap == limit)
        swap = 0;  // "no extra swap" holds anyway
      else
        return unsupported("memory.swap",
                           "swap accounting is off on this host (no memory.memsw.limit_in_bytes; boot with swapaccount=1)");
    }
    if (m.check_before_update.value_or(false) && limit > 0) {
      auto cur = parse_int(TRY(read_value(d, "memory.usage_in_bytes")));
      if (cur && *cur > limit)
        return fail("linux.resources.memory.limit: " + std::to_string(limit) + " is below the current usage " +
                    std::to_string(*cur));
    }
    auto set_limit = [&]() -> Result<> {
      if (limit == 0) return {};
      auto r = write_value(d, "memory.limit_in_bytes", std::to_string(limit));
      if (r) return {};
      Error e = r.error().context("linux.resources.memory.limit");
      if (e.code == EBUSY)
        if (auto u = read_value(d, "memory.usage_in_bytes")) e.message += " (current usage " + *u + ")";
      return std::unexpected(e);
    };
    auto set_swap = [&]() -> Result<> {
      if (swap == 0) return {};
      return put(d, "memory.swap", "memory.memsw.limit_in_bytes", std::to_string(swap));
    };
    // The kernel keeps memsw >= limit at every step: when memsw grows, or
    // becomes unlimited, write it first; otherwise the limit first.
    bool swap_first = false;
    if (limit != 0 && swap != 0) {
      auto cur = parse_uint(TRY(read_value(d, "memory.limit_in_bytes")));
      swap_first = swap == -1 || (cur && *cur < static_cast<uint64_t>(swap));
    }
    if (swap_first) {
      TRY(set_swap());
      TRY(set_limit());
    } else {
      TRY(set_limit());
      TRY(set_swap());
    }
    if (m.reservation && *m.reservation != 0)
      TRY(put(d, "memory.reservation", "memory.soft_limit_in_bytes", std::to_string(*m.reservation)));
    // memory.kernel is deprecated (runtime-spec 1.2) and ignored, as runc does.
    if (m.kernel_tcp && *m.kernel_tcp != 0)
      TRY(put(d, "memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernel_tcp)));
    if (m.swappiness) {
      if (*m.swappiness > 100)
        return fail("linux.resources.memory.swappiness: " + std::to_string(*m.swappiness) + " is not in 0..100");
      TRY(put(d, "memory.swappiness", "memory.swappiness", std::to_string(*m.swappiness)));
    }
    if (m.disable_oom_killer)
      TRY(put(d, "memory.disableOOMKiller", "memory.oom_control", *m.disable_oom_killer ? "1" : "0"));
    if (m.use_hierarchy && !*m.use_hierarchy)
      return unsupported("memory.useHierarchy", "false is not supported (the kernel is always hierarchical)");
  }

  if (res.cpu) {
    const auto& c = *res.cpu;
    bool any = c.shares || c.quota || c.period || c.burst || c.realtime_runtime || c.realtime_period || c.idle;
    if (any) {
      std::string d = TRY(need("cpu", "cpu"));
      if (c.realtime_period && *c.realtime_period != 0)
        TRY(put(d, "cpu.realtimePeriod", "cpu.rt_period_us", std::to_string(*c.realtime_period)));
      if (c.realtime_runtime && *c.realtime_runtime != 0)
        TRY(put(d, "cpu.realtimeRuntime", "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime)));
      if (c.shares && *c.shares != 0) {
        TRY(put(d, "cpu.shares", "cpu.shares", std::to_string(*c.shares)));
        // The kernel clamps out-of-range shares silently; report it.
        auto got = parse_uint(TRY(read_value(d, "cpu.shares")));
        if (got && *got != *c.shares)
          return fail("linux.resources.cpu.shares: " + std::to_string(*c.shares) + " is out of range (the kernel set " +
                      std::to_string(*got) + ")");
      }
      // A smaller period can be refused (EINVAL) until the new quota is in:
      // then retry it after the quota, as runc does.
      bool period_later = false;
      if (c.period && *c.period != 0) {
        auto r = write_value(d, "cpu.cfs_period_us", std::to_string(*c.period));
        if (!r) {
          if (r.error().code != EINVAL || !c.quota || *c.quota == 0)
            return std::unexpected(r.error().context("linux.resources.cpu.period"));
          period_later = true;
        }
      }
      if (c.quota && *c.quota != 0) {
        TRY(put(d, "cpu.quota", "cpu.cfs_quota_us", std::to_string(*c.quota)));
        if (period_later) TRY(put(d, "cpu.period", "cpu.cfs_period_us", std::to_string(*c.period)));
      }
      if (c.burst) TRY(put(d, "cpu.burst", "cpu.cfs_burst_us", std::to_string(*c.burst)));
      if (c.idle) TRY(put(d, "cpu.idle", "cpu.idle", std::to_string(*c.idle)));
    }
  }

  if (res.pids && res.pids->limit) {
    std::string d = TRY(need("pids", "pids.limit"));
    int64_t l = *res.pids->limit;
    TRY(put(d, "pids.limit", "pids.max", l <= 0 ? "max" : std::to_string(l)));
  }

  // An empty blockIO object (engines send one) needs no controller.
  if (res.block_io && (res.block_io->weight || res.block_io->leaf_weight || !res.block_io->weight_device.empty() ||
                       !res.block_io->throttle_read_bps_device.empty() || !res.block_io->throttle_write_bps_device.empty() ||
                       !res.block_io->throttle_read_iops_device.empty() ||
                       !res.block_io->throttle_write_iops_device.empty())) {
    const auto& b = *res.block_io;
    std::string d = TRY(need("blkio", "blockIO"));
    // BFQ (blk-mq kernels) has blkio.bfq.*; CFQ (before 5.0) had blkio.weight.
    bool bfq = has_file(d, "blkio.bfq.weight");
    std::string weight_file = bfq ? "blkio.bfq.weight" : "blkio.weight";
    if (b.weight && *b.weight != 0) TRY(put(d, "blockIO.weight", weight_file, std::to_string(*b.weight)));
    if (b.leaf_weight && *b.leaf_weight != 0)
      TRY(put(d, "blockIO.leafWeight", "blkio.leaf_weight", std::to_string(*b.leaf_weight)));
    for (auto& wd : b.weight_device) {
      if (wd.weight)
        TRY(put(d, "blockIO.weightDevice", weight_file + "_device",
                dev(wd.major, wd.minor) + " " + std::to_string(*wd.weight)));
      // 0 is "unset", as for the cgroup's own leafWeight (runc writes neither).
      if (wd.leaf_weight && *wd.leaf_weight != 0)
        TRY(put(d, "blockIO.weightDevice.leafWeight", "blkio.leaf_weight_device",
                dev(wd.major, wd.minor) + " " + std::to_string(*wd.leaf_weight)));
    }
    auto throttle = [&](const char* field, const std::vector<spec::ThrottleDevice>& list, const char* file) -> Result<> {
      for (auto& t : list) TRY(put(d, field, file, dev(t.major, t.minor) + " " + std::to_string(t.rate)));
      return {};
    };
    TRY(throttle("blockIO.throttleReadBpsDevice", b.throttle_read_bps_device, "blkio.throttle.read_bps_device"));
    TRY(throttle("blockIO.throttleWriteBpsDevice", b.throttle_write_bps_device, "blkio.throttle.write_bps_device"));
    TRY(throttle("blockIO.throttleReadIOPSDevice", b.throttle_read_iops_device, "blkio.throttle.read_iops_device"));
    TRY(throttle("blockIO.throttleWriteIOPSDevice", b.throttle_write_iops_device, "blkio.throttle.write_iops_device"));
  }

  if (!res.hugepage_limits.empty()) {
    std::string d = TRY(need("hugetlb", "hugepageLimits"));
    for (auto& h : res.hugepage_limits)
      TRY(put(d, "hugepageLimits[" + h.page_size + "]", "hugetlb." + h.page_size + ".limit_in_bytes",
              std::to_string(h.limit)));
  }

  if (res.network) {
    if (res.network->class_id) {
      std::string d = TRY(need("net_cls", "network.classID"));
      TRY(put(d, "network.classID", "net_cls.classid", std::to_string(*res.network->class_id)));
    }
    if (!res.network->priorities.empty()) {
      std::string d = TRY(need("net_prio", "network.priorities"));
      for (auto& p : res.network->priorities)
        TRY(put(d, "network.priorities", "net_prio.ifpriomap", p.name + " " + std::to_string(p.priority)));
    }
  }

  if (!res.rdma.empty()) TRY(write_rdma(TRY(need("rdma", "rdma")), res.rdma));
  return {};
}

Result<std::vector<pid_t>> V1Manager::pids() {
  std::vector<pid_t> out;
  for (const V1Dir* d : all()) TRY(collect_pids(d->dir, out));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<> V1Manager::kill_all(int sig) {
  if (sig == SIGKILL && unified_ && TRY(kill_via_cgroup_kill(unified_->dir))) {
    // Tasks stopped by the v1 freezer hold the SIGKILL until thawed.
    if (frozen().value_or(false)) TRY(freeze(false));
    return {};
  }
  return signal_each_pid(*this, sig);
}

Result<> V1Manager::freeze(bool want) {
  auto d = dir_of("freezer");
  if (!d) {
    if (unified_) return freeze_v2(unified_->dir, want);
    return fail("freezing: the freezer cgroup controller is not mounted", ENOTSUP);
  }
  const char* state = want ? "FROZEN" : "THAWED";
  // The kernel may stay in FREEZING while tasks are busy; writing FROZEN
  // again retries those it could not stop, so write on every round.
  bool done = TRY(wait_until(
      [&]() -> Result<bool> {
        TRY(write_value(*d, "freezer.state", state));
        return TRY(read_value(*d, "freezer.state")) == state;
      },
      std::chrono::seconds(10)));
  if (done) return {};
  if (want) (void)write_value(*d, "freezer.state", "THAWED");
  return fail(std::string(want ? "freezing " : "thawing ") + *d + ": timed out after 10 s", ETIMEDOUT);
}

Result<bool> V1Manager::frozen() {
  auto d = dir_of("freezer");
  if (!d) {
    if (unified_) return frozen_v2(unified_->dir);
    return fail("the freezer cgroup controller is not mounted", ENOTSUP);
  }
  return TRY(read_value(*d, "freezer.state")) == "FROZEN";
}

Result<> V1Manager::destroy() {
  // Each empty directory goes at once; a busy one sends all through the full way (directories
  // already gone are fine there: no process was in them).
  bool all_gone = true;
  for (const V1Dir* d : all()) all_gone = remove_if_empty(d->dir) && all_gone;
  if (all_gone) return {};
  TRY(kill_and_wait(*this));
  // Remove every hierarchy's directory even when one fails; report the first error.
  Result<> first;
  for (const V1Dir* d : all()) {
    auto r = remove_dirs(d->dir);
    if (!r && first) first = r;
  }
  return first;
}

}  // namespace orun::cgroups
