#include "cgroups/v2.hpp"

#include <signal.h>

#include <algorithm>

#include "base/strings.hpp"
#include "cgroups/bpf_devices.hpp"
#include "cgroups/cgfs.hpp"

namespace orun::cgroups {

uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + ((weight - 10) * 9999) / 990;
}

Result<std::optional<std::string>> swap_max_value(std::optional<int64_t> swap, std::optional<int64_t> limit) {
  int64_t s = swap.value_or(0), l = limit.value_or(0);
  // Unlimited memory with swap unset means both unlimited, as on v1.
  if (l == -1 && s == 0) return std::optional<std::string>("max");
  if (s == -1) return std::optional<std::string>("max");
  if (s == 0) return std::optional<std::string>();
  if (s < 0) return fail("linux.resources.memory.swap: invalid value " + std::to_string(s));
  if (l == 0 || l == -1) return fail("linux.resources.memory.swap: a swap limit needs a memory limit");
  if (l < 0) return fail("linux.resources.memory.limit: invalid value " + std::to_string(l));
  if (s < l)
    return fail("linux.resources.memory.swap: " + std::to_string(s) + " (memory+swap) is below the memory limit " +
                std::to_string(l));
  // OCI swap counts memory plus swap; memory.swap.max counts swap alone.
  return std::optional<std::string>(std::to_string(s - l));
}

std::string rdma_max_line(const std::string& device, const spec::Rdma& limits) {
  auto value = [](const std::optional<uint32_t>& v) { return v ? std::to_string(*v) : std::string("max"); };
  return device + " hca_handle=" + value(limits.hca_handles) + " hca_object=" + value(limits.hca_objects);
}

Result<> write_rdma(const std::string& dir, const std::map<std::string, spec::Rdma>& rdma) {
  for (auto& [device, limits] : rdma) {
    std::string field = "linux.resources.rdma[" + quote(device) + "]";
    auto r = write_value(dir, "rdma.max", rdma_max_line(device, limits));
    if (r) continue;
    // rdma.max lists every RDMA device of the host; the kernel's error for another name is a bare EIO.
    auto known = read_value(dir, "rdma.max");
    bool listed = false;
    std::vector<std::string> names;
    for (auto& line : split(known.value_or(""), '\n')) {
      auto name = line.substr(0, line.find(' '));
      if (name.empty()) continue;
      listed = listed || name == device;
      names.push_back(name);
    }
    if (known && !listed)
      return fail(field + ": no RDMA device of that name on this host (" +
                      (names.empty() ? std::string("it has none") : "it has " + join(names, ", ")) + ")",
                  ENODEV);
    return std::unexpected(r.error().context(field));
  }
  return {};
}

Result<bool> kill_via_cgroup_kill(const std::string& dir) {
  if (!has_file(dir, "cgroup.kill")) return false;
  TRY(write_value(dir, "cgroup.kill", "1"));
  return true;
}

Result<bool> frozen_v2(const std::string& dir) {
  std::string events = TRY(read_value(dir, "cgroup.events"));
  for (auto& line : split(events, '\n'))
    if (line.starts_with("frozen ")) return trim(line.substr(7)) == "1";
  return fail("read " + dir + "/cgroup.events: no \"frozen\" line", ENOTSUP);
}

Result<> freeze_v2(const std::string& dir, bool frozen) {
  if (!has_file(dir, "cgroup.freeze"))
    return fail(dir + "/cgroup.freeze: the kernel has no cgroup v2 freezer (5.2 or later needed)", ENOTSUP);
  TRY(write_value(dir, "cgroup.freeze", frozen ? "1" : "0"));
  // The write only asks; cgroup.events says when every task has stopped.
  bool done = TRY(wait_until([&]() -> Result<bool> { return TRY(frozen_v2(dir)) == frozen; },
                             std::chrono::seconds(10)));
  if (done) return {};
  if (frozen) (void)write_value(dir, "cgroup.freeze", "0");
  return fail(std::string(frozen ? "freezing " : "thawing ") + dir + ": timed out after 10 s", ETIMEDOUT);
}

Result<> V2Manager::create() {
  auto made = TRY(make_dirs(mount_, dir_));
  // Delegate every available controller down to the container's cgroup, as
  // runc does; a level that refuses (it holds processes) is left alone, and the
  // limit that needs the controller fails later, naming its file.
  std::string cur = mount_;
  auto parts = split(std::string_view(dir_).substr(mount_.size()), '/');
  std::erase_if(parts, [](const std::string& p) { return p.empty(); });
  // Only what is missing, in one write: each write of subtree_control re-applies
  // the control of the whole subtree, and after the first container every
  // level usually has them all already (8 writes per create were ~7% of a
  // `run` in the VM, docs/benchmarks.md). One by one only if the batch fails.
  for (size_t i = 0; i < parts.size(); ++i) {
    auto avail = read_value(cur, "cgroup.controllers");
    if (avail) {
      auto enabled = split(read_value(cur, "cgroup.subtree_control").value_or(""), ' ');
      std::vector<std::string> missing;
      for (auto& c : split(*avail, ' '))
        if (!c.empty() && std::find(enabled.begin(), enabled.end(), c) == enabled.end()) missing.push_back("+" + c);
      if (!missing.empty() && !write_value(cur, "cgroup.subtree_control", join(missing, " ")))
        for (auto& c : missing) (void)write_value(cur, "cgroup.subtree_control", c);
    }
    cur += "/" + parts[i];
  }
  return {};
}

Result<> V2Manager::add(pid_t pid) {
  TRYC(write_value(dir_, "cgroup.procs", std::to_string(pid)), "adding pid " + std::to_string(pid) + " to the cgroup");
  return {};
}

namespace {

std::string max_or(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

std::string dev(int64_t major, int64_t minor) { return std::to_string(major) + ":" + std::to_string(minor); }

std::unexpected<Error> unsupported(const std::string& field, const std::string& why) {
  return fail("linux.resources." + field + ": " + why, ENOTSUP);
}

}  // namespace

std::vector<std::string> v2_ignored(const spec::Resources& res) {
  std::vector<std::string> out;
  // v2 has no switch for the OOM killer (memory.oom.group is another thing): runc ignores the field.
  if (res.memory && res.memory->disable_oom_killer.value_or(false))
    out.push_back("linux.resources.memory.disableOOMKiller: ignored: cgroup v2 cannot disable the OOM killer");
  // Leaf weights went with CFQ (kernel 5.0); io.weight has none, and runc ignores them on v2.
  if (res.block_io) {
    if (res.block_io->leaf_weight.value_or(0) != 0)
      out.push_back("linux.resources.blockIO.leafWeight: ignored: cgroup v2 has no leaf weight");
    for (auto& wd : res.block_io->weight_device)
      if (wd.leaf_weight.value_or(0) != 0)
        out.push_back("linux.resources.blockIO.weightDevice.leafWeight: ignored: cgroup v2 has no leaf weight (device " +
                      dev(wd.major, wd.minor) + ")");
  }
  return out;
}

Result<> V2Manager::apply(const spec::Resources& res) {
  // As on v1: deny-all, the config's rules in order, then the devices every container needs.
  std::vector<spec::DeviceCgroup> rules = res.devices;
  rules.insert(rules.end(), default_device_rules().begin(), default_device_rules().end());
  TRYC(attach_device_filter(dir_, TRY(device_policy(rules))), "linux.resources.devices");
  return update(res);
}

Result<> V2Manager::update(const spec::Resources& res) {
  auto put = [&](const std::string& field, const std::string& file, const std::string& value) -> Result<> {
    TRYC(write_value(dir_, file, value), "linux.resources." + field);
    return {};
  };

  TRY(write_rdma(dir_, res.rdma));
  if (res.network && (res.network->class_id || !res.network->priorities.empty()))
    return unsupported("network", "net_cls and net_prio do not exist on cgroup v2");

  if (res.pids && res.pids->limit) TRY(put("pids.limit", "pids.max", max_or(*res.pids->limit <= 0 ? -1 : *res.pids->limit)));

  if (res.memory) {
    const auto& m = *res.memory;
    if (m.kernel_tcp) return unsupported("memory.kernelTCP", "not supported on cgroup v2");
    if (m.swappiness) return unsupported("memory.swappiness", "not supported on cgroup v2");
    if (m.use_hierarchy && !*m.use_hierarchy) return unsupported("memory.useHierarchy", "cgroup v2 is always hierarchical");
    // memory.kernel is deprecated (runtime-spec 1.2) and ignored, as runc does.
    if (m.check_before_update.value_or(false) && m.limit && *m.limit > 0 && has_file(dir_, "memory.current")) {
      auto cur = parse_int(TRY(read_value(dir_, "memory.current")));
      if (cur && *cur > *m.limit)
        return fail("linux.resources.memory.limit: " + std::to_string(*m.limit) + " is below the current usage " +
                    std::to_string(*cur));
    }
    auto swap = TRY(swap_max_value(m.swap, m.limit));
    if (swap) {
      auto r = write_value(dir_, "memory.swap.max", *swap);
      // Without swap accounting there is no swap to limit: "max" and "0" hold anyway.
      if (!r && !(r.error().code == ENOENT && (*swap == "max" || *swap == "0")))
        return std::unexpected(r.error().context("linux.resources.memory.swap"));
    }
    if (m.limit && *m.limit != 0) TRY(put("memory.limit", "memory.max", max_or(*m.limit)));
    if (m.reservation && *m.reservation != 0) TRY(put("memory.reservation", "memory.low", max_or(*m.reservation)));
  }

  if (res.block_io) {
    const auto& b = *res.block_io;
    bool bfq = has_file(dir_, "io.bfq.weight");
    if (b.weight && *b.weight != 0) {
      if (bfq)
        TRY(put("blockIO.weight", "io.bfq.weight", std::to_string(*b.weight)));
      else
        TRY(put("blockIO.weight", "io.weight", std::to_string(blkio_weight_to_io_weight(*b.weight))));
    }
    for (auto& wd : b.weight_device) {
      if (!wd.weight) continue;
      if (bfq)
        TRY(put("blockIO.weightDevice", "io.bfq.weight", dev(wd.major, wd.minor) + " " + std::to_string(*wd.weight)));
      else
        TRY(put("blockIO.weightDevice", "io.weight",
                dev(wd.major, wd.minor) + " " + std::to_string(blkio_weight_to_io_weight(*wd.weight))));
    }
    auto throttle = [&](const char* field, const std::vector<spec::ThrottleDevice>& list, const char* key) -> Result<> {
      for (auto& t : list) TRY(put(field, "io.max", dev(t.major, t.minor) + " " + key + "=" + std::to_string(t.rate)));
      return {};
    };
    TRY(throttle("blockIO.throttleReadBpsDevice", b.throttle_read_bps_device, "rbps"));
    TRY(throttle("blockIO.throttleWriteBpsDevice", b.throttle_write_bps_device, "wbps"));
    TRY(throttle("blockIO.throttleReadIOPSDevice", b.throttle_read_iops_device, "riops"));
    TRY(throttle("blockIO.throttleWriteIOPSDevice", b.throttle_write_iops_device, "wiops"));
  }

  if (res.cpu) {
    const auto& c = *res.cpu;
    if (c.realtime_runtime || c.realtime_period) return unsupported("cpu.realtimeRuntime", "not supported on cgroup v2");
    if (c.shares && *c.shares != 0) TRY(put("cpu.shares", "cpu.weight", std::to_string(shares_to_weight(*c.shares))));
    if (c.idle) TRY(put("cpu.idle", "cpu.idle", std::to_string(*c.idle)));
    if ((c.quota && *c.quota != 0) || (c.period && *c.period != 0)) {
      std::string v = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
      if (c.period && *c.period != 0) v += " " + std::to_string(*c.period);
      TRY(put(c.quota ? "cpu.quota" : "cpu.period", "cpu.max", v));
    }
    if (c.burst) TRY(put("cpu.burst", "cpu.max.burst", std::to_string(*c.burst)));
    if (!c.cpus.empty()) TRY(put("cpu.cpus", "cpuset.cpus", c.cpus));
    if (!c.mems.empty()) TRY(put("cpu.mems", "cpuset.mems", c.mems));
  }

  for (auto& h : res.hugepage_limits)
    TRY(put("hugepageLimits[" + h.page_size + "]", "hugetlb." + h.page_size + ".max", std::to_string(h.limit)));

  for (auto& [key, value] : res.unified) {
    if (key.empty() || key.find('/') != std::string::npos || key == "." || key == "..")
      return fail("linux.resources.unified: invalid file name \"" + key + "\"");
    TRY(put("unified[" + key + "]", key, value));
  }
  return {};
}

Result<std::vector<pid_t>> V2Manager::pids() {
  std::vector<pid_t> out;
  TRY(collect_pids(dir_, out));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<> V2Manager::kill_all(int sig) {
  if (sig == SIGKILL && TRY(kill_via_cgroup_kill(dir_))) return {};
  return signal_each_pid(*this, sig);
}

Result<> V2Manager::freeze(bool frozen) { return freeze_v2(dir_, frozen); }

Result<bool> V2Manager::frozen() { return frozen_v2(dir_); }

Result<> V2Manager::destroy() {
  if (remove_if_empty(dir_)) return {};
  TRY(kill_and_wait(*this));
  TRY(remove_dirs(dir_));
  return {};
}

}  // namespace orun::cgroups
