// The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a transient unit that
// systemd owns, a scope with Delegate=yes (or a slice), started over sd-bus with the limits
// systemd can express as properties; then the cgroupfs manager of the unit's directory writes the
// full limits (devices included) and does everything else, as runc's systemd driver does.
//
//   create()            connect to systemd (nothing is made yet)
//   apply(res)          keep res: the unit's properties
//   add(stage-1 pid)    StartTransientUnit(PIDs=[pid], properties), wait for the job, check
//                       ControlGroup, then fs create/apply/add; the bus is closed again
//   update(res)         SetUnitProperties(runtime) + fs update
//   pids, kill_all, freeze, frozen: the fs manager alone (no D-Bus)
//   destroy()           kill what is left (fs), StopUnit + ResetFailedUnit, fs destroy
#pragma once
#include <memory>
#include <optional>

#include "cgroups/manager.hpp"
#include "cgroups/systemd_bus.hpp"
#include "cgroups/systemd_unit.hpp"

namespace orun::cgroups {

class SystemdManager : public Manager {
 public:
  // `fs`: the cgroupfs manager of the unit's directories (every hierarchy). `started`: the unit
  // exists already (a manager loaded for a later command).
  SystemdManager(SystemdUnit unit, std::string id, bool v2, std::unique_ptr<Manager> fs, bool started)
      : unit_(std::move(unit)), id_(std::move(id)), v2_(v2), fs_(std::move(fs)), started_(started) {}
  Result<> create() override;
  Result<> add(pid_t pid) override;
  Result<> apply(const spec::Resources& res) override;
  Result<> update(const spec::Resources& res) override;
  Result<std::vector<pid_t>> pids() override { return fs_->pids(); }
  Result<> kill_all(int sig) override { return fs_->kill_all(sig); }
  Result<> freeze(bool frozen) override { return fs_->freeze(frozen); }
  Result<bool> frozen() override { return fs_->frozen(); }
  Result<> destroy() override;
  std::map<std::string, std::string> paths() const override { return fs_->paths(); }
  bool starts_with_process() const override { return !started_; }
  std::string systemd_unit() const override { return unit_.name; }
  std::vector<std::string> ignored(const spec::Resources& res) const override { return fs_->ignored(res); }

 private:
  Result<SystemdBus*> bus();
  // SetUnitProperties for the fields of res systemd knows (nothing to send: no call).
  Result<> set_properties(const spec::Resources& res);

  SystemdUnit unit_;
  std::string id_;
  bool v2_;
  std::unique_ptr<Manager> fs_;
  bool started_;
  std::optional<spec::Resources> resources_;  // from apply() until the unit starts
  std::optional<SystemdBus> bus_;
};

}  // namespace orun::cgroups
