// libFuzzer target: arbitrary bytes as a message from the bus (what orun's systemd driver
// reads from dbus-daemon or systemd). Any crash or sanitizer report is a bug; a message that is
// refused must say why, and one that is accepted must have a body its signature walks exactly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cgroups/dbus_message.hpp"

using namespace orun::cgroups;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto len = dbus::message_length(bytes); len && *len > size) return 0;
  auto m = dbus::decode(bytes);
  if (!m) {
    if (m.error().message.find("malformed D-Bus message: ") != 0) __builtin_trap();
    return 0;
  }
  // Walk the body as the signature says, one complete type at a time.
  dbus::Reader r(*m);
  for (size_t i = 0; i < m->signature.size();) {
    auto end = dbus::type_end(m->signature, i);
    if (!end) return 0;
    if (!r.skip(std::string_view(m->signature).substr(i, *end - i))) return 0;
    i = *end;
  }
  return 0;
}
