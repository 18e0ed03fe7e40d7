// The calls the systemd cgroup driver makes to systemd's manager (org.freedesktop.systemd1) over
// sd-bus. libsystemd is loaded with dlopen on the first connect: linked, it would bring libsystemd,
// libgcrypt, liblzma, libzstd, liblz4 and libgpg-error into every orun process, a cost paid at each
// of the two execs of every `run` for code that only --systemd-cgroup uses (docs/design.md).
//
// sd-bus starts no thread; the connection lives in the parent only, after stage-1 is forked,
// and its socket is close-on-exec.
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "cgroups/systemd_unit.hpp"

typedef struct sd_bus sd_bus;

namespace orun::cgroups {

class SystemdBus {
 public:
  // The system bus, else systemd's private socket /run/systemd/private (no dbus-daemon, as in a
  // minimal VM or an early-boot system). Error: "cannot connect to systemd: ...".
  [[nodiscard]] static Result<SystemdBus> connect();

  SystemdBus(SystemdBus&& o) noexcept;
  SystemdBus& operator=(SystemdBus&& o) noexcept;
  ~SystemdBus();

  // StartTransientUnit(name, "replace", props, []), then wait for its job to be removed with
  // result "done" (within `timeout`). A failed unit of the same name left from an earlier
  // container is reset first, as runc does.
  [[nodiscard]] Result<> start_transient_unit(const std::string& name, const std::vector<UnitProperty>& props,
                                              std::chrono::seconds timeout);
  // StopUnit(name, "replace") and wait for its job; a unit systemd does not know is fine. Then
  // ResetFailedUnit, so that a unit that ended failed (an OOM kill) is unloaded too.
  [[nodiscard]] Result<> stop_unit(const std::string& name, std::chrono::seconds timeout);
  // SetUnitProperties(name, runtime=true, props).
  [[nodiscard]] Result<> set_unit_properties(const std::string& name, const std::vector<UnitProperty>& props);
  // The unit's ControlGroup property (its cgroup as systemd sees it, e.g. "/system.slice/x.scope").
  [[nodiscard]] Result<std::string> control_group(const std::string& name);

 private:
  SystemdBus(sd_bus* bus, bool direct) : bus_(bus), direct_(direct) {}
  sd_bus* bus_ = nullptr;
  bool direct_ = false;  // the private socket: messages carry no sender
};

}  // namespace orun::cgroups
