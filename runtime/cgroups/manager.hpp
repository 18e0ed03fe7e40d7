// cgroups::Manager: one container's cgroups, behind one interface for cgroup v2,
// v1 and hybrid hosts, through cgroupfs or through systemd.
//
//   open_manager(cgroupsPath, id, systemd) --detect_host()--> V2Manager  (pure v2)
//                                                         \-> V1Manager  (v1; hybrid adds the cgroup2 dir)
//                                           --systemd------> SystemdManager (a transient unit) over one of those
//   create() -> apply(resources) -> add(init pid) -> ... freeze/kill_all/pids ... -> destroy()
#pragma once
#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "cgroups/hierarchy.hpp"
#include "spec/config.hpp"

namespace orun::cgroups {

class Manager {
 public:
  virtual ~Manager() = default;
  // mkdir the cgroup in every hierarchy; idempotent; on failure removes what it made.
  [[nodiscard]] virtual Result<> create() = 0;
  // Move a process into the cgroup of every hierarchy.
  [[nodiscard]] virtual Result<> add(pid_t pid) = 0;
  // Write the limits. Absent values are left alone; a set value this code
  // cannot apply is an error "linux.resources.X: ...", never skipped.
  // Devices (v1): always "deny all", then `res.devices` in order, then the
  // default devices every container gets (default_device_rules()).
  [[nodiscard]] virtual Result<> apply(const spec::Resources& res) = 0;
  // The same for a live container (`orun update`): only the fields given are
  // written, and device rules are left as they are (runc's update cannot
  // change them either; v1 apply() would start again from deny-all).
  [[nodiscard]] virtual Result<> update(const spec::Resources& res) = 0;
  // Every process in the container's cgroup(s), sub-cgroups included, sorted, unique.
  [[nodiscard]] virtual Result<std::vector<pid_t>> pids() = 0;
  // SIGKILL through cgroup.kill when the kernel has it, else signal each pid
  // (with the cgroup frozen meanwhile, so that forks cannot escape).
  [[nodiscard]] virtual Result<> kill_all(int sig) = 0;
  // Freeze or thaw, returning once the kernel reports the new state.
  [[nodiscard]] virtual Result<> freeze(bool frozen) = 0;
  [[nodiscard]] virtual Result<bool> frozen() = 0;
  // SIGKILL what is left, wait, rmdir (children first). Missing dirs are fine.
  // Parent directories that create() made for a nested cgroupsPath stay (runc does the same).
  [[nodiscard]] virtual Result<> destroy() = 0;
  // controller -> directory ("" for the cgroup2 tree, "name=systemd" for named
  // v1 hierarchies; co-mounted controllers each appear with the same directory).
  virtual std::map<std::string, std::string> paths() const = 0;
  // true: the cgroup comes into being with its first process (a systemd scope cannot start
  // empty). create() and apply() then only prepare, and add() of the first process (stage-1,
  // waiting) makes the cgroup and writes the limits: nothing may join it before.
  virtual bool starts_with_process() const { return false; }
  // The systemd unit that owns the cgroup ("" with cgroupfs): kept in the state, for load_manager().
  virtual std::string systemd_unit() const { return {}; }
  // Fields of `res` that apply()/update() leave alone on this host although they are set, as
  // runc does (v2 has no knob for them): one "linux.resources.X: ..." line each, for the caller
  // to log as warnings.
  virtual std::vector<std::string> ignored(const spec::Resources& res) const {
    (void)res;
    return {};
  }
};

// The manager for linux.cgroupsPath on this host (see docs/cgroups.md):
//  ""          -> "<id>" relative, as runc's cgroupfs driver does;
//  "/a/b"      -> /a/b from each hierarchy's root;
//  "a/b"       -> below the caller's own cgroup in each hierarchy (on pure v2
//                 below its parent, as runc: the caller's cgroup holds processes,
//                 so it cannot delegate controllers).
//  "x.slice:prefix:name" and ".." components are refused.
// `systemd` (--systemd-cgroup): "slice:prefix:name" (or "") names a transient unit instead
// (systemd_unit.hpp); its cgroupfs directories are those of the unit's cgroup.
[[nodiscard]] Result<std::unique_ptr<Manager>> open_manager(const std::string& cgroups_path, const std::string& id,
                                                            bool systemd = false);
// The same on an explicit Host (tests; callers that detected already).
[[nodiscard]] Result<std::unique_ptr<Manager>> open_manager(const Host& host, const std::string& cgroups_path,
                                                            const std::string& id, bool systemd = false);
// Re-open a container's cgroups from the directories paths() returned and the unit
// systemd_unit() named (kept in state.json): later commands may run in another cgroup than
// create. Only update() and destroy() of a systemd unit talk to systemd.
[[nodiscard]] Result<std::unique_ptr<Manager>> load_manager(const std::map<std::string, std::string>& paths,
                                                            const std::string& systemd_unit = "");

// The cgroup path (absolute, from the hierarchy root) for linux.cgroupsPath in
// hierarchy `h`. `parent_of_own`: resolve relative paths against the parent of
// the caller's cgroup (pure v2).
[[nodiscard]] Result<std::string> cgroup_path_in(const Hierarchy& h, bool parent_of_own,
                                                 const std::string& cgroups_path, const std::string& id);

// For the managers: signal each pid with the cgroup frozen meanwhile (so that
// forks cannot escape), thawing afterwards when it was not frozen before, and
// always for SIGKILL (a task frozen by the v1 freezer does not die).
[[nodiscard]] Result<> signal_each_pid(Manager& m, int sig);
// For the managers: kill_all(SIGKILL), then wait until pids() is empty.
[[nodiscard]] Result<> kill_and_wait(Manager& m);

// The device rules every container gets after its own (runc's list, less
// /dev/net/tun which runc 1.2 dropped): mknod of any device, and rwm on
// null, zero, full, random, urandom, tty, ptmx and /dev/pts/*.
const std::vector<spec::DeviceCgroup>& default_device_rules();
// Allow rules ("rwm") for the devices of linux.devices, which the caller
// appends to resources.devices so that the container can open them.
std::vector<spec::DeviceCgroup> device_rules_for(const std::vector<spec::Device>& devices);
// "c 1:3 rwm" for one rule ('*' for an absent number, "a" for an empty type).
std::string device_rule_string(const spec::DeviceCgroup& rule);

}  // namespace orun::cgroups
