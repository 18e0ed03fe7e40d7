// The D-Bus wire format orun speaks to systemd (dbus_message.hpp) and the bits of systemd's
// naming the bus client needs. The calls themselves are tested against systemd and dbus-daemon
// in tests/vm/systemd.
#include <doctest/doctest.h>

#include <functional>

#include "cgroups/dbus_message.hpp"
#include "cgroups/systemd_bus.hpp"

using namespace orun;
using namespace orun::cgroups;
using namespace std::string_literals;

namespace {

// A message whose header fields are written by `fields` (each an aligned struct of code and
// variant), little-endian, with `body`.
std::string raw_message(dbus::Kind kind, uint32_t serial, const std::function<void(dbus::Writer&)>& fields,
                        const std::string& body) {
  dbus::Writer h;
  h.byte('l');
  h.byte(static_cast<uint8_t>(kind));
  h.byte(0);
  h.byte(1);
  h.u32(static_cast<uint32_t>(body.size()));
  h.u32(serial);
  auto a = h.begin_array(8);
  fields(h);
  h.end_array(a);
  h.begin_struct();
  return h.bytes() + body;
}

void field(dbus::Writer& w, uint8_t code, const char* type, const std::string& value) {
  w.begin_struct();
  w.byte(code);
  w.signature(type);
  if (type[0] == 'g') w.signature(value);
  else if (type[0] == 'u') w.u32(static_cast<uint32_t>(std::stoul(value)));
  else w.string(value);
}

std::string error_of(std::string_view bytes) {
  auto m = dbus::decode(bytes);
  REQUIRE_FALSE(m);
  return m.error().message;
}

}  // namespace

TEST_CASE("dbus: values are aligned from the start, array lengths leave out the padding") {
  dbus::Writer w;
  w.string("a");
  auto props = w.begin_array(8);
  w.begin_struct();
  w.string("B");
  w.signature("b");
  w.boolean(true);
  w.end_array(props);
  auto empty = w.begin_array(8);
  w.end_array(empty);
  const std::string want =
      "\x01\0\0\0a\0\0\0"s         // "a", padded to the array's length
      "\x10\0\0\0\0\0\0\0"s        // 16 bytes of structs, then padding to 8 that is not counted
      "\x01\0\0\0B\0\x01" "b"s     // "B", signature "b"
      "\0\0\0\0\x01\0\0\0"s        // padding to 4, true
      "\0\0\0\0\0\0\0\0"s;         // the empty array: length 0, its padding all the same
  CHECK(w.bytes() == want);
}

TEST_CASE("dbus: a method call starts as libdbus writes one") {
  dbus::Message m;
  m.serial = 1;
  m.path = "/org/freedesktop/DBus";
  m.member = "Hello";
  std::string bytes = dbus::encode(m);
  // Fixed header, then the PATH field: code 1, signature "o", the string.
  CHECK(bytes.substr(0, 4) == "l\x01\0\x01"s);
  CHECK(bytes.substr(4, 8) == "\0\0\0\0\x01\0\0\0"s);
  CHECK(bytes.substr(16, 8) == "\x01\x01o\0\x15\0\0\0"s);
  CHECK(bytes.size() % 8 == 0);
  CHECK(dbus::message_length(bytes) == bytes.size());
}

TEST_CASE("dbus: what encode writes, decode reads back") {
  dbus::Writer body;
  body.u32(42);
  body.string("/org/freedesktop/systemd1/job/42");
  body.string("x.scope");
  body.string("done");
  dbus::Message m;
  m.kind = dbus::Kind::Signal;
  m.serial = 7;
  m.path = "/org/freedesktop/systemd1";
  m.interface = "org.freedesktop.systemd1.Manager";
  m.member = "JobRemoved";
  m.sender = ":1.5";
  m.destination = ":1.9";
  m.signature = "uoss";
  m.body = body.bytes();
  auto d = dbus::decode(dbus::encode(m));
  REQUIRE(d);
  CHECK(d->kind == dbus::Kind::Signal);
  CHECK(d->serial == 7);
  CHECK(d->path == m.path);
  CHECK(d->interface == m.interface);
  CHECK(d->member == m.member);
  CHECK(d->sender == ":1.5");
  CHECK(d->destination == ":1.9");
  CHECK(d->signature == "uoss");
  dbus::Reader r(*d);
  CHECK(r.u32() == 42u);
  CHECK(r.string() == "/org/freedesktop/systemd1/job/42");
  CHECK(r.string() == "x.scope");
  CHECK(r.string() == "done");
  CHECK(r.at_end());
  CHECK_FALSE(r.string());  // nothing left: an error, not a read past the end
}

TEST_CASE("dbus: a big-endian method return") {
  const std::string be =
      "B\x02\0\x01" "\0\0\0\x04" "\0\0\0\x01" "\0\0\0\x0f"s  // return, body 4, serial 1, fields 15
      "\x05\x01u\0" "\0\0\0\x09"s                           // REPLY_SERIAL 9
      "\x08\x01g\0\x01u\0" "\0"s                            // SIGNATURE "u", padding
      "\x01\x02\x03\x04"s;
  auto m = dbus::decode(be);
  REQUIRE(m);
  CHECK(m->big_endian);
  CHECK(m->kind == dbus::Kind::MethodReturn);
  CHECK(m->reply_serial == 9u);
  CHECK(dbus::Reader(*m).u32() == 0x01020304u);
}

TEST_CASE("dbus: header fields this reader does not know are skipped, whatever their type") {
  dbus::Writer body;
  body.string("x");
  auto bytes = raw_message(
      dbus::Kind::MethodReturn, 3,
      [](dbus::Writer& w) {
        w.begin_struct();
        w.byte(200);
        w.signature("a{sv}");
        auto dict = w.begin_array(8);
        w.begin_struct();
        w.string("k");
        w.signature("(yt)");
        w.begin_struct();
        w.byte(1);
        w.u64(2);
        w.end_array(dict);
        field(w, 5, "u", "3");
        w.begin_struct();
        w.byte(9);  // UNIX_FDS
        w.signature("u");
        w.u32(0);
        field(w, 8, "g", "s");
      },
      body.bytes());
  auto m = dbus::decode(bytes);
  REQUIRE_MESSAGE(m, m.error().message);
  CHECK(m->reply_serial == 3u);
  CHECK(dbus::Reader(*m).string() == "x");
}

TEST_CASE("dbus: malformed messages are refused, saying why") {
  dbus::Message ok;
  ok.serial = 1;
  ok.path = "/";
  ok.member = "M";
  const std::string good = dbus::encode(ok);
  REQUIRE(dbus::decode(good));

  CHECK(error_of(good.substr(0, 10)).find("shorter than 16") != std::string::npos);
  CHECK(error_of(good.substr(0, good.size() - 1)).find("where the header says") != std::string::npos);
  CHECK(error_of(good + "x").find("where the header says") != std::string::npos);
  std::string bad = good;
  bad[0] = 'x';
  CHECK(error_of(bad).find("byte order") != std::string::npos);
  bad = good;
  bad[3] = 2;
  CHECK(error_of(bad).find("protocol version 2") != std::string::npos);
  bad = good;
  bad[8] = 0;  // serial 0
  CHECK(error_of(bad).find("serial 0") != std::string::npos);
  bad = good;
  bad[12] = bad[13] = bad[14] = '\x7f';  // a field array far larger than the message
  CHECK(error_of(bad).find("larger than") != std::string::npos);

  auto fields_only = [](const std::function<void(dbus::Writer&)>& f) {
    return error_of(raw_message(dbus::Kind::MethodCall, 1, f, ""));
  };
  CHECK(fields_only([](dbus::Writer& w) {
          field(w, 1, "s", "/");  // PATH must be an object path
          field(w, 3, "s", "M");
        }).find("header field 1 has type \"s\"") != std::string::npos);
  CHECK(fields_only([](dbus::Writer& w) { field(w, 3, "s", "M"); }).find("without path and member") !=
        std::string::npos);
  CHECK(fields_only([](dbus::Writer& w) {
          field(w, 1, "o", "/");
          field(w, 3, "s", "M");
          w.begin_struct();
          w.byte(77);
          w.signature(std::string(70, 'a') + "y");  // deeper than 64
          w.u32(0);
        }).find("nests too deeply") != std::string::npos);
  CHECK(fields_only([](dbus::Writer& w) {
          field(w, 1, "o", "/");
          w.begin_struct();
          w.byte(77);
          w.signature("(y");
        }).find("unclosed struct") != std::string::npos);
  CHECK(fields_only([](dbus::Writer& w) {
          w.begin_struct();
          w.byte(1);
          w.signature("o");
          w.u32(1);
          w.byte('/');
          w.byte('x');  // no NUL where the string should end
        }).find("NUL") != std::string::npos);

  // A body with no SIGNATURE field.
  auto no_sig = raw_message(dbus::Kind::MethodReturn, 2, [](dbus::Writer& w) { field(w, 5, "u", "1"); },
                            "\x01\0\0\0"s);
  CHECK(error_of(no_sig).find("without a signature") != std::string::npos);
  // Padding that is not zero.
  std::string padded = raw_message(dbus::Kind::MethodReturn, 2,
                                   [](dbus::Writer& w) {
                                     field(w, 5, "u", "1");
                                     field(w, 6, "s", "ab");  // ends at 35: 5 bytes of padding follow
                                   },
                                   "");
  padded[padded.size() - 1] = 1;
  CHECK(error_of(padded).find("padding") != std::string::npos);
}

TEST_CASE("dbus: skipping a variant of every kind of type") {
  dbus::Writer w;
  w.signature("(ybutsoga{sv}ay)");
  w.begin_struct();
  w.byte(1);
  w.boolean(true);
  w.u32(3);
  w.u64(4);
  w.string("s");
  w.string("/o");
  w.signature("g");
  auto dict = w.begin_array(8);
  w.begin_struct();
  w.string("k");
  w.signature("s");
  w.string("v");
  w.end_array(dict);
  auto bytes = w.begin_array(1);
  w.byte(9);
  w.end_array(bytes);
  w.u32(0xfeedu);  // what follows the variant
  dbus::Reader r(w.bytes(), 0, false);
  REQUIRE(r.skip("v"));
  CHECK(r.u32() == 0xfeedu);
  CHECK(r.at_end());

  dbus::Reader truncated(std::string_view(w.bytes()).substr(0, 20), 0, false);
  auto e = truncated.skip("v");
  REQUIRE_FALSE(e);
  CHECK(e.error().message.find("truncated") != std::string::npos);
}

TEST_CASE("systemd bus: unit object paths are escaped as sd-bus does") {
  CHECK(unit_object_path("orun-abc.scope") == "/org/freedesktop/systemd1/unit/orun_2dabc_2escope");
  CHECK(unit_object_path("1x.slice") == "/org/freedesktop/systemd1/unit/_31x_2eslice");
  CHECK(unit_object_path("a1") == "/org/freedesktop/systemd1/unit/a1");
  CHECK(unit_object_path("") == "/org/freedesktop/systemd1/unit/_");
}

TEST_CASE("systemd bus: the system bus address") {
  CHECK(system_bus_path(nullptr) == "/run/dbus/system_bus_socket");
  CHECK(system_bus_path("") == "/run/dbus/system_bus_socket");
  CHECK(system_bus_path("unix:path=/run/x%20y/bus,guid=1234") == "/run/x y/bus");
  CHECK(system_bus_path("tcp:host=a,port=1;unix:path=/b") == "/b");
  auto e = system_bus_path("tcp:host=a,port=1");
  REQUIRE_FALSE(e);
  CHECK(e.error().message.find("DBUS_SYSTEM_BUS_ADDRESS=tcp:host=a,port=1") != std::string::npos);
}
