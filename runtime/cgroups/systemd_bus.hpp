// The calls the systemd cgroup driver makes to systemd's manager (org.freedesktop.systemd1),
// over D-Bus spoken by orun itself (dbus_message.hpp): no libsystemd, no thread. The
// connection lives in the parent only, after stage-1 is forked; its socket is close-on-exec.
#pragma once
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "base/fd.hpp"
#include "base/result.hpp"
#include "cgroups/dbus_message.hpp"
#include "cgroups/systemd_unit.hpp"

namespace orun::cgroups {

// The system bus socket a DBUS_SYSTEM_BUS_ADDRESS value names: its first unix:path= (as sd-bus
// and libdbus read it); null or empty: /run/dbus/system_bus_socket. Other transports are not spoken.
[[nodiscard]] Result<std::string> system_bus_path(const char* address);
// The object path of unit `name` (sd_bus_path_encode's escaping: every byte but ASCII letters,
// and digits after the first byte, becomes _XX).
[[nodiscard]] std::string unit_object_path(const std::string& name);

class SystemdBus {
 public:
  // The system bus ($DBUS_SYSTEM_BUS_ADDRESS when it names a unix:path=, else
  // /run/dbus/system_bus_socket), else systemd's private socket /run/systemd/private (no
  // dbus-daemon, as in a minimal VM or an early-boot system). Error: "cannot connect to systemd: ...".
  [[nodiscard]] static Result<SystemdBus> connect();

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
  using Deadline = std::chrono::steady_clock::time_point;
  SystemdBus(Fd sock, bool direct) : sock_(std::move(sock)), direct_(direct) {}
  [[nodiscard]] static Result<SystemdBus> open(const std::string& path, bool direct);
  [[nodiscard]] Result<> authenticate(Deadline deadline);
  [[nodiscard]] Result<> fill(Deadline deadline);
  [[nodiscard]] Result<> write(std::string_view bytes, const std::string& what);
  [[nodiscard]] Result<> send(dbus::Message& m);  // numbers it
  [[nodiscard]] Result<dbus::Message> receive(Deadline deadline);
  // Sends m and returns its method return or error; signals read meanwhile are noted.
  [[nodiscard]] Result<dbus::Message> call(dbus::Message m, Deadline deadline);
  // A manager method on `unit` that returns a job: call it (`args` is the whole body, of type
  // `signature`) and wait for the job's JobRemoved. `missing_ok`: a unit systemd does not know
  // counts as done.
  [[nodiscard]] Result<> call_and_wait(const char* member, const std::string& unit, const dbus::Writer& args,
                                       const char* signature, std::chrono::seconds timeout, bool missing_ok);
  // A manager method on `unit` that returns nothing of interest; NoSuchUnit is ENOENT.
  [[nodiscard]] Result<> call_unit(const char* member, const std::string& unit, const dbus::Writer& args,
                                   const char* signature);
  [[nodiscard]] Result<> reset_failed(const std::string& name);
  void note_signal(const dbus::Message& m);

  Fd sock_;
  bool direct_ = false;  // the private socket: no bus, messages carry no sender
  uint32_t serial_ = 0;
  std::string in_;  // bytes received and not yet taken as a message
  bool subscribed_ = false;
  // JobRemoved seen during the current wait: (job path, sender) -> result.
  std::map<std::pair<std::string, std::string>, std::string> removed_;
};

}  // namespace orun::cgroups
