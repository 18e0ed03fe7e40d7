#include "cgroups/systemd.hpp"

namespace orun::cgroups {

namespace {

// How long a start or stop job may take (runc waits 30 s too).
constexpr std::chrono::seconds kJobTimeout{30};

}  // namespace

Result<SystemdBus*> SystemdManager::bus() {
  if (!bus_) bus_ = TRYC(SystemdBus::connect(), "--systemd-cgroup");
  return &*bus_;
}

Result<> SystemdManager::create() {
  // Nothing to make before the first process exists; but fail now, before anything is forked,
  // when systemd cannot be reached.
  TRY(bus());
  return {};
}

Result<> SystemdManager::apply(const spec::Resources& res) {
  if (started_) {
    TRY(set_properties(res));
    return fs_->apply(res);
  }
  TRY(resource_properties(res, v2_));  // refuse now what the unit could not take
  resources_ = res;
  return {};
}

Result<> SystemdManager::add(pid_t pid) {
  if (started_) return fs_->add(pid);
  const spec::Resources res = resources_.value_or(spec::Resources{});
  auto props = TRY(start_properties(unit_, id_, pid, res, v2_));
  SystemdBus* b = TRY(bus());
  // From here on destroy() must stop the unit, whatever the outcome of the call.
  started_ = true;
  TRYC(b->start_transient_unit(unit_.name, props, kJobTimeout), "--systemd-cgroup");
  std::string cgroup = TRYC(b->control_group(unit_.name), "--systemd-cgroup");
  // The cgroupfs directories were derived from the name (and recorded) before the start.
  if (cgroup != unit_.cgroup)
    return fail("--systemd-cgroup: systemd placed " + unit_.name + " in cgroup " + cgroup + ", expected " +
                unit_.cgroup);
  bus_.reset();  // not needed again until update or destroy
  // The rest of the limits (devices, io.max, ...), the hierarchies systemd leaves alone (v1).
  TRY(fs_->create());
  TRY(fs_->apply(res));
  return fs_->add(pid);
}

Result<> SystemdManager::set_properties(const spec::Resources& res) {
  auto props = TRY(resource_properties(res, v2_));
  // systemd rewrites the files of its properties whenever it realizes the unit again: the unit
  // must hold the new values, not only the files.
  if (!props.empty()) TRYC(TRY(bus())->set_unit_properties(unit_.name, props), "--systemd-cgroup");
  return {};
}

Result<> SystemdManager::update(const spec::Resources& res) {
  TRY(set_properties(res));
  return fs_->update(res);
}

Result<> SystemdManager::destroy() {
  // Kill first: StopUnit would send SIGTERM and wait up to the unit's stop timeout (90 s) for
  // processes that ignore it. Once the scope is empty systemd stops it by itself.
  TRY(kill_and_wait(*fs_));
  if (started_) TRYC(TRY(bus())->stop_unit(unit_.name, kJobTimeout), "--systemd-cgroup");
  bus_.reset();
  // What systemd does not remove: the hierarchies it does not manage (v1), a slice's leftovers.
  return fs_->destroy();
}

}  // namespace orun::cgroups
