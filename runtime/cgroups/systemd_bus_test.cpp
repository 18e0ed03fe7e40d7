// SystemdBus against a stand-in for dbus-daemon and systemd on a socket of the test's own: the
// protocol steps and the rules real peers cannot be made to break (a JobRemoved from another
// sender, a job that fails). The calls against real systemd and dbus-daemon are in tests/vm/systemd.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "base/unix_socket.hpp"
#include "cgroups/dbus_message.hpp"
#include "cgroups/systemd_bus.hpp"

using namespace orun;
using namespace orun::cgroups;

namespace {

// One connection of the stand-in: blocking reads and writes of whole messages.
struct Peer {
  Fd fd;
  std::string in;
  uint32_t serial = 100;

  bool fill() {
    char buf[4096];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) return false;
    in.append(buf, static_cast<size_t>(n));
    return true;
  }
  std::string line() {
    size_t end;
    while ((end = in.find("\r\n")) == std::string::npos)
      if (!fill()) return "";
    std::string l = in.substr(0, end);
    in.erase(0, end + 2);
    return l;
  }
  std::optional<dbus::Message> next() {
    for (;;) {
      if (in.size() >= 16) {
        auto len = dbus::message_length(in);
        if (!len) return std::nullopt;
        if (in.size() >= *len) {
          auto m = dbus::decode(std::string_view(in).substr(0, *len));
          in.erase(0, *len);
          if (!m) return std::nullopt;
          return *m;
        }
      }
      if (!fill()) return std::nullopt;
    }
  }
  void send(dbus::Message m) {
    m.serial = ++serial;
    std::string bytes = dbus::encode(m);
    (void)!::write(fd.get(), bytes.data(), bytes.size());
  }
  void reply(const dbus::Message& call, const std::string& signature = "", const dbus::Writer& body = {}) {
    dbus::Message r;
    r.kind = dbus::Kind::MethodReturn;
    r.reply_serial = call.serial;
    r.sender = ":1.1";  // systemd's unique name on this bus
    r.signature = signature;
    r.body = body.bytes();
    send(r);
  }
  void error(const dbus::Message& call, const std::string& name) {
    dbus::Message r;
    r.kind = dbus::Kind::Error;
    r.reply_serial = call.serial;
    r.sender = ":1.1";
    r.error_name = name;
    dbus::Writer text;
    text.string("Unit not loaded.");
    r.signature = "s";
    r.body = text.bytes();
    send(r);
  }
  void job_removed(const std::string& job, const std::string& result, const std::string& sender) {
    dbus::Writer b;
    b.u32(42);
    b.string(job);
    b.string("x.scope");
    b.string(result);
    dbus::Message s;
    s.kind = dbus::Kind::Signal;
    s.path = "/org/freedesktop/systemd1";
    s.interface = "org.freedesktop.systemd1.Manager";
    s.member = "JobRemoved";
    s.sender = sender;
    s.signature = "uoss";
    s.body = b.bytes();
    send(s);
  }
};

}  // namespace

TEST_CASE("systemd bus: the calls, against a stand-in bus") {
  char dir[] = "/tmp/orun-bus-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  const std::string path = std::string(dir) + "/bus";
  auto listener = unix_listen(path, SOCK_STREAM);
  REQUIRE(listener);
  std::vector<std::string> seen;  // member and object path of each call, in order
  std::string auth;

  std::thread server([&] {
    Peer p;
    p.fd = Fd(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
    auth = p.line();
    (void)!::write(p.fd.get(), "OK 0123456789abcdef0123456789abcdef\r\n", 37);
    if (p.line() != "BEGIN") return;
    while (auto m = p.next()) {
      seen.push_back(m->member + " " + m->path);
      const std::string job = "/org/freedesktop/systemd1/job/42";
      dbus::Writer o;
      o.string(job);
      if (m->member == "Hello") {
        dbus::Writer name;
        name.string(":1.9");
        p.reply(*m, "s", name);
      } else if (m->member == "AddMatch") {
        p.reply(*m);
      } else if (m->member == "StartTransientUnit") {
        // Another peer claims the job is done, before and after systemd's own word; only
        // systemd's counts, and it arrives before its reply (the job was quick).
        p.job_removed(job, "done", ":1.66");
        p.job_removed(job, "failed", ":1.1");
        p.job_removed(job, "done", ":1.66");
        p.reply(*m, "o", o);
      } else if (m->member == "StopUnit" || m->member == "ResetFailedUnit") {
        p.error(*m, "org.freedesktop.systemd1.NoSuchUnit");
      } else if (m->member == "SetUnitProperties") {
        p.reply(*m);
      } else if (m->member == "Get") {
        dbus::Writer v;
        v.signature("s");
        v.string("/system.slice/x.scope");
        p.reply(*m, "v", v);
      }
    }
  });

  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", ("unix:path=" + path).c_str(), 1);
  // No REQUIRE until the server is joined: a failed one would leave the thread running.
  auto bus = SystemdBus::connect();
  CHECK_MESSAGE(bus, (bus ? "" : bus.error().message));
  if (bus) {
    std::vector<UnitProperty> props = {{"Description", std::string("x")}, {"MemoryMax", uint64_t{1} << 30},
                                       {"Delegate", true}, {"PIDs", std::vector<uint32_t>{7}},
                                       {"AllowedCPUs", std::vector<uint8_t>{3}}};
    auto started = bus->start_transient_unit("x.scope", props, std::chrono::seconds(10));
    CHECK((!started && started.error().message == "StartTransientUnit x.scope: the job ended \"failed\""));
    CHECK(bus->stop_unit("x.scope", std::chrono::seconds(10)));  // a unit systemd does not know is stopped
    CHECK(bus->set_unit_properties("x.scope", props));
    CHECK(bus->control_group("x.scope") == "/system.slice/x.scope");
    bus = std::unexpected(Error{});  // closes the connection: the server's loop ends
  }
  ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  server.join();
  ::unlink(path.c_str());
  ::rmdir(dir);

  std::string uid_hex;
  for (char c : std::to_string(::geteuid())) uid_hex += "3" + std::string(1, c);
  CHECK(auth == std::string(1, '\0') + "AUTH EXTERNAL " + uid_hex);
  const std::vector<std::string> want = {
      "Hello /org/freedesktop/DBus",
      "AddMatch /org/freedesktop/DBus",
      "StartTransientUnit /org/freedesktop/systemd1",
      "StopUnit /org/freedesktop/systemd1",
      "ResetFailedUnit /org/freedesktop/systemd1",
      "SetUnitProperties /org/freedesktop/systemd1",
      "Get /org/freedesktop/systemd1/unit/x_2escope",
  };
  CHECK(seen == want);
}
