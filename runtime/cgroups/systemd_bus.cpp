#include "cgroups/systemd_bus.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <variant>

#include "base/unix_socket.hpp"

namespace orun::cgroups {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kCallTimeout{25};  // sd-bus's default for a method call
constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr const char* kPrivate = "/run/systemd/private";
constexpr const char* kNoSuchUnit = "org.freedesktop.systemd1.NoSuchUnit";

dbus::Message method_call(std::string path, std::string interface, const char* member, const char* signature,
                          const dbus::Writer& args, std::string destination = kService) {
  dbus::Message m;
  m.destination = std::move(destination);
  m.path = std::move(path);
  m.interface = std::move(interface);
  m.member = member;
  m.signature = signature;
  m.body = args.bytes();
  return m;
}

// "<message> (<name>)", as systemctl shows a bus error.
std::string error_text(const dbus::Message& e) {
  std::string text;
  if (e.signature.starts_with('s')) {
    dbus::Reader r(e);
    if (auto s = r.string()) text = *s;
  }
  return text.empty() ? e.error_name : text + " (" + e.error_name + ")";
}

int error_code(const std::string& name) {
  if (name == kNoSuchUnit) return ENOENT;
  if (name == "org.freedesktop.systemd1.UnitExists") return EEXIST;
  if (name == "org.freedesktop.DBus.Error.AccessDenied") return EACCES;
  return EIO;
}

void append_properties(dbus::Writer& w, const std::vector<UnitProperty>& props) {
  auto all = w.begin_array(8);
  for (const auto& p : props) {
    w.begin_struct();
    w.string(p.name);
    w.signature(signature(p.value));
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) {
            w.boolean(v);
          } else if constexpr (std::is_same_v<T, uint64_t>) {
            w.u64(v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            w.string(v);
          } else if constexpr (std::is_same_v<T, std::vector<uint32_t>>) {
            auto a = w.begin_array(4);
            for (uint32_t x : v) w.u32(x);
            w.end_array(a);
          } else {
            auto a = w.begin_array(1);
            for (uint8_t x : v) w.byte(x);
            w.end_array(a);
          }
        },
        p.value);
  }
  w.end_array(all);
}

// `name` and the job mode every call here uses.
dbus::Writer name_and_mode(const std::string& name) {
  dbus::Writer w;
  w.string(name);
  w.string("replace");
  return w;
}

}  // namespace

Result<std::string> system_bus_path(const char* address) {
  if (!address || !*address) return std::string("/run/dbus/system_bus_socket");
  std::string_view all = address;
  while (!all.empty()) {
    std::string_view entry = all.substr(0, all.find(';'));
    all.remove_prefix(std::min(all.size(), entry.size() + 1));
    if (!entry.starts_with("unix:")) continue;
    entry.remove_prefix(5);
    while (!entry.empty()) {
      std::string_view kv = entry.substr(0, entry.find(','));
      entry.remove_prefix(std::min(entry.size(), kv.size() + 1));
      if (!kv.starts_with("path=")) continue;
      // Bytes other than [-0-9A-Za-z_/.\*] are escaped as %XX.
      std::string path;
      for (size_t i = 5; i < kv.size(); ++i) {
        if (kv[i] == '%' && i + 2 < kv.size() && std::isxdigit(static_cast<unsigned char>(kv[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(kv[i + 2]))) {
          path += static_cast<char>(std::strtol(std::string(kv.substr(i + 1, 2)).c_str(), nullptr, 16));
          i += 2;
        } else {
          path += kv[i];
        }
      }
      if (!path.empty()) return path;
    }
  }
  return fail(std::string("DBUS_SYSTEM_BUS_ADDRESS=") + address + ": no unix:path= address (the only transport orun speaks)");
}

std::string unit_object_path(const std::string& name) {
  std::string out = "/org/freedesktop/systemd1/unit/";
  if (name.empty()) return out + "_";
  constexpr const char* kHex = "0123456789abcdef";
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool digit = c >= '0' && c <= '9';
    if (alpha || (digit && i > 0)) {
      out += static_cast<char>(c);
    } else {
      out += '_';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<SystemdBus> SystemdBus::connect() {
  auto bus_path = system_bus_path(std::getenv("DBUS_SYSTEM_BUS_ADDRESS"));
  std::string why;
  if (bus_path) {
    auto bus = open(*bus_path, false);
    if (bus) return bus;
    why = "system bus: " + bus.error().message;
  } else {
    why = bus_path.error().message;
  }
  // systemd's own socket answers peers directly, without dbus-daemon (systemctl uses it as root).
  auto direct = open(kPrivate, true);
  if (direct) return direct;
  return fail("cannot connect to systemd: " + why + "; " + direct.error().message, direct.error().code);
}

Result<SystemdBus> SystemdBus::open(const std::string& path, bool direct) {
  auto deadline = Clock::now() + kCallTimeout;
  SystemdBus b(TRY(unix_connect(path, SOCK_STREAM)), direct);
  TRYC(b.authenticate(deadline), path);
  if (!direct) {
    // The bus answers nothing else before Hello.
    dbus::Message hello = method_call("/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", "", dbus::Writer(),
                                      "org.freedesktop.DBus");
    dbus::Message reply = TRYC(b.call(std::move(hello), deadline), path + ": Hello");
    if (reply.kind != dbus::Kind::MethodReturn) return fail(path + ": Hello: " + error_text(reply), EPROTO);
  }
  return b;
}

// SASL EXTERNAL: the bus knows our uid from the socket's credentials.
Result<> SystemdBus::authenticate(Deadline deadline) {
  std::string uid = std::to_string(::geteuid()), hex;
  for (char c : uid) hex += "3" + std::string(1, c);  // the hex of an ASCII digit
  TRY(write(std::string(1, '\0') + "AUTH EXTERNAL " + hex + "\r\n", "AUTH"));
  size_t end;
  while ((end = in_.find("\r\n")) == std::string::npos) {
    if (in_.size() > 512) return fail("authentication: an over-long answer", EPROTO);
    TRYC(fill(deadline), "authentication");
  }
  std::string line = in_.substr(0, end);
  in_.erase(0, end + 2);
  if (!line.starts_with("OK ")) return fail("authentication refused: \"" + line.substr(0, 100) + "\"", EACCES);
  return write("BEGIN\r\n", "BEGIN");
}

// Reads what has arrived (waiting for something until the deadline) into in_.
Result<> SystemdBus::fill(Deadline deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return fail("no answer from systemd in time", ETIMEDOUT);
    pollfd p{sock_.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("poll");
    if (n == 0) continue;  // the deadline check above ends it
    char buf[16384];
    ssize_t got = ::recv(sock_.get(), buf, sizeof buf, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return sys_error("recv");
    if (got == 0) return fail("systemd closed the connection", ECONNRESET);
    in_.append(buf, static_cast<size_t>(got));
    return {};
  }
}

Result<> SystemdBus::write(std::string_view bytes, const std::string& what) {
  while (!bytes.empty()) {
    ssize_t n = ::send(sock_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);  // no SIGPIPE if the peer is gone
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("sending " + what);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<> SystemdBus::send(dbus::Message& m) {
  m.serial = ++serial_;
  return write(dbus::encode(m), m.member);
}

Result<dbus::Message> SystemdBus::receive(Deadline deadline) {
  for (;;) {
    if (in_.size() >= 16) {
      size_t len = TRY(dbus::message_length(in_));
      if (in_.size() >= len) {
        auto m = dbus::decode(std::string_view(in_).substr(0, len));
        in_.erase(0, len);
        return m;
      }
    }
    TRY(fill(deadline));
  }
}

Result<dbus::Message> SystemdBus::call(dbus::Message m, Deadline deadline) {
  TRY(send(m));
  for (;;) {
    dbus::Message in = TRY(receive(deadline));
    if (in.kind == dbus::Kind::Signal) note_signal(in);
    if ((in.kind == dbus::Kind::MethodReturn || in.kind == dbus::Kind::Error) && in.reply_serial == m.serial) return in;
  }
}

void SystemdBus::note_signal(const dbus::Message& m) {
  if (m.kind != dbus::Kind::Signal || m.member != "JobRemoved" || m.interface != kManager || m.path != kPath ||
      m.signature != "uoss")
    return;
  dbus::Reader r(m);
  auto id = r.u32();
  auto job = r.string(), unit = r.string(), result = r.string();
  if (id && job && unit && result) removed_[{*job, m.sender}] = *result;
}

Result<> SystemdBus::call_and_wait(const char* member, const std::string& unit, const dbus::Writer& args,
                                   const char* signature, std::chrono::seconds timeout, bool missing_ok) {
  const std::string what = std::string(member) + " " + unit;
  auto deadline = Clock::now() + timeout;
  // Subscribe before calling: the job may finish before the reply is read. On the private
  // socket systemd sends every signal unasked.
  if (!direct_ && !subscribed_) {
    dbus::Writer rule;
    rule.string(std::string("type='signal',sender='") + kService + "',path='" + kPath + "',interface='" + kManager +
                "',member='JobRemoved'");
    dbus::Message reply = TRYC(call(method_call("/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s",
                                                rule, "org.freedesktop.DBus"),
                                    deadline),
                               what + ": subscribing to JobRemoved");
    if (reply.kind != dbus::Kind::MethodReturn)
      return fail(what + ": subscribing to JobRemoved: " + error_text(reply), error_code(reply.error_name));
    subscribed_ = true;
  }
  removed_.clear();
  dbus::Message reply = TRYC(call(method_call(kPath, kManager, member, signature, args), deadline), what);
  if (reply.kind == dbus::Kind::Error) {
    if (missing_ok && (reply.error_name == kNoSuchUnit || reply.error_name == "org.freedesktop.systemd1.LoadFailed"))
      return {};
    return fail(what + ": " + error_text(reply), error_code(reply.error_name));
  }
  if (reply.signature != "o") return fail(what + ": the answer is \"" + reply.signature + "\", not a job", EBADMSG);
  std::string job = TRYC(dbus::Reader(reply).string(), what);
  // Only the sender of the reply (systemd; nobody on the private socket) can end the job: another
  // peer on the bus could send us a JobRemoved of its own, before or after systemd's.
  std::map<std::pair<std::string, std::string>, std::string>::iterator it;
  while ((it = removed_.find({job, reply.sender})) == removed_.end()) {
    auto in = receive(deadline);
    if (!in && in.error().code == ETIMEDOUT)
      return fail(what + ": job " + job + " did not finish within " + std::to_string(timeout.count()) + " s", ETIMEDOUT);
    if (!in) return std::unexpected(in.error().context(what + ": waiting for job " + job));
    note_signal(*in);
  }
  if (it->second != "done") return fail(what + ": the job ended \"" + it->second + "\"", EIO);
  return {};
}

Result<> SystemdBus::call_unit(const char* member, const std::string& unit, const dbus::Writer& args,
                               const char* signature) {
  const std::string what = std::string(member) + " " + unit;
  dbus::Message reply =
      TRYC(call(method_call(kPath, kManager, member, signature, args), Clock::now() + kCallTimeout), what);
  if (reply.kind == dbus::Kind::Error) return fail(what + ": " + error_text(reply), error_code(reply.error_name));
  return {};
}

Result<> SystemdBus::reset_failed(const std::string& name) {
  dbus::Writer unit;
  unit.string(name);
  return call_unit("ResetFailedUnit", name, unit, "s");
}

Result<> SystemdBus::start_transient_unit(const std::string& name, const std::vector<UnitProperty>& props,
                                          std::chrono::seconds timeout) {
  dbus::Writer args = name_and_mode(name);
  append_properties(args, props);
  args.end_array(args.begin_array(8));  // no auxiliary units
  constexpr const char* kSignature = "ssa(sv)a(sa(sv))";
  auto r = call_and_wait("StartTransientUnit", name, args, kSignature, timeout, false);
  if (r || r.error().code != EEXIST) return r;
  // A unit of that name that ended failed stays loaded until reset; an active one does not
  // go away, and the retry reports that it exists.
  (void)reset_failed(name);
  return call_and_wait("StartTransientUnit", name, args, kSignature, timeout, false);
}

Result<> SystemdBus::stop_unit(const std::string& name, std::chrono::seconds timeout) {
  TRY(call_and_wait("StopUnit", name, name_and_mode(name), "ss", timeout, true));
  auto r = reset_failed(name);
  if (!r && r.error().code != ENOENT) return r;
  return {};
}

Result<> SystemdBus::set_unit_properties(const std::string& name, const std::vector<UnitProperty>& props) {
  dbus::Writer args;
  args.string(name);
  args.boolean(true);  // runtime: not persisted, the unit is transient anyway
  append_properties(args, props);
  return call_unit("SetUnitProperties", name, args, "sba(sv)");
}

Result<std::string> SystemdBus::control_group(const std::string& name) {
  const std::string what = "reading ControlGroup of " + name;
  dbus::Writer args;
  args.string(name.ends_with(".slice") ? "org.freedesktop.systemd1.Slice" : "org.freedesktop.systemd1.Scope");
  args.string("ControlGroup");
  dbus::Message reply = TRYC(call(method_call(unit_object_path(name), "org.freedesktop.DBus.Properties", "Get", "ss", args),
                                  Clock::now() + kCallTimeout),
                             what);
  if (reply.kind == dbus::Kind::Error) return fail(what + ": " + error_text(reply), error_code(reply.error_name));
  dbus::Reader r(reply);
  if (reply.signature != "v" || TRYC(r.signature(), what) != "s")
    return fail(what + ": the answer is not a string", EBADMSG);
  return TRYC(r.string(), what);
}

}  // namespace orun::cgroups
