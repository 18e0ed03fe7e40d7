#include "cgroups/sdbus.hpp"

#include <dlfcn.h>
#include <systemd/sd-bus.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <variant>

#include "base/fd.hpp"

namespace orun::cgroups {

namespace {

// The libsystemd functions used, each resolved by name once (libsystemd.so.0's ABI is stable).
#define ORUN_SD_FUNCTIONS(X)                                                                                  \
  X(sd_bus_open_system) X(sd_bus_new) X(sd_bus_set_address) X(sd_bus_start) X(sd_bus_flush_close_unref)       \
  X(sd_bus_message_new_method_call) X(sd_bus_message_append_basic) X(sd_bus_message_append_array)              \
  X(sd_bus_message_open_container) X(sd_bus_message_close_container) X(sd_bus_message_unref)                  \
  X(sd_bus_message_read) X(sd_bus_call) X(sd_bus_error_free) X(sd_bus_error_has_name) X(sd_bus_match_signal)  \
  X(sd_bus_slot_unref) X(sd_bus_process) X(sd_bus_wait) X(sd_bus_path_encode) X(sd_bus_get_property_string)

struct Lib {
#define ORUN_SD_MEMBER(f) decltype(&::f) f = nullptr;
  ORUN_SD_FUNCTIONS(ORUN_SD_MEMBER)
#undef ORUN_SD_MEMBER
};

Result<const Lib*> lib() {
  static Lib l;
  static std::string error;
  static bool tried = false;
  if (!tried) {
    tried = true;
    void* h = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      error = std::string("cannot load libsystemd.so.0: ") + ::dlerror();
    } else {
#define ORUN_SD_LOAD(f)                                                         \
  if (error.empty()) {                                                          \
    l.f = reinterpret_cast<decltype(&::f)>(::dlsym(h, #f));                     \
    if (!l.f) error = "libsystemd.so.0 has no " #f " (systemd 240 or later needed)"; \
  }
      ORUN_SD_FUNCTIONS(ORUN_SD_LOAD)
#undef ORUN_SD_LOAD
    }
  }
  if (!error.empty()) return fail(error, ENOSYS);
  return &l;
}

// Loaded already whenever a SystemdBus exists.
const Lib& L() { return **lib(); }

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";

using Message = Handle<sd_bus_message*, [](sd_bus_message* m) { L().sd_bus_message_unref(m); }>;
using Slot = Handle<sd_bus_slot*, [](sd_bus_slot* s) { L().sd_bus_slot_unref(s); }>;

struct BusError {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  ~BusError() { L().sd_bus_error_free(&e); }
  bool is(const char* name) const { return L().sd_bus_error_has_name(&e, name) > 0; }
  // "<message> (<name>)", or strerror(-r) when the bus gave no error.
  std::string text(int r) const {
    if (e.message) return std::string(e.message) + (e.name ? std::string(" (") + e.name + ")" : "");
    return std::strerror(-r);
  }
};

std::unexpected<Error> bus_fail(const std::string& what, int r) { return fail(what + ": " + std::strerror(-r), -r); }

Result<Message> method_call(sd_bus* bus, const char* member) {
  sd_bus_message* m = nullptr;
  int r = L().sd_bus_message_new_method_call(bus, &m, kService, kPath, kManager, member);
  if (r < 0) return bus_fail(member, r);
  return Message(m);
}

Result<> append_properties(sd_bus_message* m, const std::vector<UnitProperty>& props) {
  const Lib& l = L();
  auto check = [](int r) -> Result<> {
    if (r < 0) return bus_fail("building the unit properties", r);
    return {};
  };
  TRY(check(l.sd_bus_message_open_container(m, 'a', "(sv)")));
  for (const auto& p : props) {
    TRY(check(l.sd_bus_message_open_container(m, 'r', "sv")));
    TRY(check(l.sd_bus_message_append_basic(m, 's', p.name.c_str())));
    TRY(check(l.sd_bus_message_open_container(m, 'v', signature(p.value))));
    int r = std::visit(
        [&](const auto& v) -> int {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) {
            int b = v;
            return l.sd_bus_message_append_basic(m, 'b', &b);
          } else if constexpr (std::is_same_v<T, uint64_t>) {
            return l.sd_bus_message_append_basic(m, 't', &v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            return l.sd_bus_message_append_basic(m, 's', v.c_str());
          } else if constexpr (std::is_same_v<T, std::vector<uint32_t>>) {
            return l.sd_bus_message_append_array(m, 'u', v.data(), v.size() * sizeof(uint32_t));
          } else {
            return l.sd_bus_message_append_array(m, 'y', v.data(), v.size());
          }
        },
        p.value);
    TRY(check(r));
    TRY(check(l.sd_bus_message_close_container(m)));
    TRY(check(l.sd_bus_message_close_container(m)));
  }
  TRY(check(l.sd_bus_message_close_container(m)));
  return {};
}

// JobRemoved(id, job, unit, result) signals seen so far: job path -> result.
int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
  uint32_t id;
  const char *job, *unit, *result;
  if (L().sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0)
    (*static_cast<std::map<std::string, std::string>*>(userdata))[job] = result;
  return 0;
}

}  // namespace

Result<SystemdBus> SystemdBus::connect() {
  auto loaded = lib();
  if (!loaded) return std::unexpected(loaded.error().context("cannot connect to systemd"));
  const Lib& l = **loaded;
  sd_bus* bus = nullptr;
  int r = l.sd_bus_open_system(&bus);
  if (r >= 0) return SystemdBus(bus, false);
  std::string why = std::string("system bus: ") + std::strerror(-r);
  // systemd's own socket answers peers directly, without dbus-daemon (systemctl uses it as root).
  constexpr const char* kPrivate = "/run/systemd/private";
  r = l.sd_bus_new(&bus);
  if (r >= 0) {
    SystemdBus b(bus, true);
    r = l.sd_bus_set_address(bus, (std::string("unix:path=") + kPrivate).c_str());
    if (r >= 0) r = l.sd_bus_start(bus);
    if (r >= 0) return b;
  }
  return fail("cannot connect to systemd: " + why + "; " + kPrivate + ": " + std::strerror(-r), -r);
}

SystemdBus::SystemdBus(SystemdBus&& o) noexcept
    : bus_(std::exchange(o.bus_, nullptr)), direct_(o.direct_) {}

SystemdBus& SystemdBus::operator=(SystemdBus&& o) noexcept {
  if (this != &o) {
    if (bus_) L().sd_bus_flush_close_unref(bus_);
    bus_ = std::exchange(o.bus_, nullptr);
    direct_ = o.direct_;
  }
  return *this;
}

SystemdBus::~SystemdBus() {
  if (bus_) L().sd_bus_flush_close_unref(bus_);
}

namespace {

// Call `member` (built by `fill`) and wait for the job it returns. `missing_ok`: a unit that
// systemd does not know counts as done (stopping what is gone).
Result<> call_and_wait(sd_bus* bus, bool direct, const char* member, const std::string& unit,
                       const std::function<Result<>(sd_bus_message*)>& fill, std::chrono::seconds timeout,
                       bool missing_ok) {
  const Lib& l = L();
  const std::string what = std::string(member) + " " + unit;
  // Subscribe before calling: the job may finish before the reply is read.
  std::map<std::string, std::string> removed;
  sd_bus_slot* slot_ptr = nullptr;
  // On the private socket signals carry no sender; on the bus only systemd's count.
  int r = l.sd_bus_match_signal(bus, &slot_ptr, direct ? nullptr : kService, kPath, kManager, "JobRemoved",
                                on_job_removed, &removed);
  if (r < 0) return bus_fail(what + ": subscribing to JobRemoved", r);
  Slot slot(slot_ptr);

  Message call = TRY(method_call(bus, member));
  TRY(fill(call.get()));
  BusError err;
  sd_bus_message* reply_ptr = nullptr;
  r = l.sd_bus_call(bus, call.get(), 0, &err.e, &reply_ptr);
  Message reply(reply_ptr);
  if (r < 0) {
    if (missing_ok && (err.is("org.freedesktop.systemd1.NoSuchUnit") || err.is("org.freedesktop.systemd1.LoadFailed")))
      return {};
    return fail(what + ": " + err.text(r), -r);
  }
  const char* job = nullptr;
  r = l.sd_bus_message_read(reply.get(), "o", &job);
  if (r < 0) return bus_fail(what + ": reading the job", r);
  std::string job_path = job;

  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!removed.count(job_path)) {
    r = l.sd_bus_process(bus, nullptr);
    if (r < 0) return bus_fail(what + ": waiting for job " + job_path, r);
    if (r > 0) continue;
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return fail(what + ": job " + job_path + " did not finish within " + std::to_string(timeout.count()) + " s",
                  ETIMEDOUT);
    r = l.sd_bus_wait(bus, static_cast<uint64_t>(left.count()));
    if (r < 0 && r != -EINTR) return bus_fail(what + ": waiting for job " + job_path, r);
  }
  if (removed[job_path] != "done") return fail(what + ": the job ended \"" + removed[job_path] + "\"", EIO);
  return {};
}

// A simple call without a job; NoSuchUnit is returned as ENOENT.
Result<> call_unit(sd_bus* bus, const char* member, const std::string& unit,
                   const std::function<Result<>(sd_bus_message*)>& fill) {
  Message call = TRY(method_call(bus, member));
  if (L().sd_bus_message_append_basic(call.get(), 's', unit.c_str()) < 0) return fail("building " + std::string(member));
  TRY(fill(call.get()));
  BusError err;
  sd_bus_message* reply = nullptr;
  int r = L().sd_bus_call(bus, call.get(), 0, &err.e, &reply);
  Message owned(reply);
  if (r < 0)
    return fail(std::string(member) + " " + unit + ": " + err.text(r),
                err.is("org.freedesktop.systemd1.NoSuchUnit") ? ENOENT : -r);
  return {};
}

Result<> append_name_mode(sd_bus_message* m, const std::string& name) {
  if (L().sd_bus_message_append_basic(m, 's', name.c_str()) < 0 ||
      L().sd_bus_message_append_basic(m, 's', "replace") < 0)
    return fail("building the call for " + name);
  return {};
}

}  // namespace

Result<> SystemdBus::start_transient_unit(const std::string& name, const std::vector<UnitProperty>& props,
                                          std::chrono::seconds timeout) {
  auto fill = [&](sd_bus_message* m) -> Result<> {
    TRY(append_name_mode(m, name));
    TRY(append_properties(m, props));
    // No auxiliary units.
    if (L().sd_bus_message_open_container(m, 'a', "(sa(sv))") < 0 || L().sd_bus_message_close_container(m) < 0)
      return fail("building StartTransientUnit");
    return {};
  };
  auto r = call_and_wait(bus_, direct_, "StartTransientUnit", name, fill, timeout, false);
  if (r || r.error().message.find("org.freedesktop.systemd1.UnitExists") == std::string::npos) return r;
  // A unit of that name that ended failed stays loaded until reset; an active one does not
  // go away, and the retry reports that it exists.
  (void)call_unit(bus_, "ResetFailedUnit", name, [](sd_bus_message*) -> Result<> { return {}; });
  return call_and_wait(bus_, direct_, "StartTransientUnit", name, fill, timeout, false);
}

Result<> SystemdBus::stop_unit(const std::string& name, std::chrono::seconds timeout) {
  TRY(call_and_wait(bus_, direct_, "StopUnit", name, [&](sd_bus_message* m) { return append_name_mode(m, name); },
                    timeout, true));
  auto r = call_unit(bus_, "ResetFailedUnit", name, [](sd_bus_message*) -> Result<> { return {}; });
  if (!r && r.error().code != ENOENT) return r;
  return {};
}

Result<> SystemdBus::set_unit_properties(const std::string& name, const std::vector<UnitProperty>& props) {
  return call_unit(bus_, "SetUnitProperties", name, [&](sd_bus_message* m) -> Result<> {
    int runtime = 1;  // not persisted: the unit is transient anyway
    if (L().sd_bus_message_append_basic(m, 'b', &runtime) < 0) return fail("building SetUnitProperties");
    return append_properties(m, props);
  });
}

Result<std::string> SystemdBus::control_group(const std::string& name) {
  const Lib& l = L();
  char* path = nullptr;
  int r = l.sd_bus_path_encode("/org/freedesktop/systemd1/unit", name.c_str(), &path);
  if (r < 0) return bus_fail("encoding the object path of " + name, r);
  std::string object = path;
  ::free(path);
  const char* iface = name.ends_with(".slice") ? "org.freedesktop.systemd1.Slice" : "org.freedesktop.systemd1.Scope";
  BusError err;
  char* value = nullptr;
  r = l.sd_bus_get_property_string(bus_, kService, object.c_str(), iface, "ControlGroup", &err.e, &value);
  if (r < 0) return fail("reading ControlGroup of " + name + ": " + err.text(r), -r);
  std::string out = value;
  ::free(value);
  return out;
}

}  // namespace orun::cgroups
