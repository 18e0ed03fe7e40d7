// D-Bus messages on the wire (the D-Bus specification, "Message Protocol"), for the systemd
// driver's calls to systemd's manager. orun speaks the protocol itself rather than loading
// libsystemd, so that it can be one static binary (docs/design.md, "D-Bus without libsystemd").
// Messages are written little-endian and read in either byte order. A received message is
// another process's input: every length is checked against what arrived, nesting is bounded,
// and errors say what is malformed.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace orun::cgroups::dbus {

enum class Kind : uint8_t { MethodCall = 1, MethodReturn = 2, Error = 3, Signal = 4 };

// Largest message accepted (the specification allows 128 MiB; systemd's answers to the
// driver are a few hundred bytes, and its broadcasts a few KiB).
inline constexpr size_t kMaxMessage = 4 << 20;

// Values appended in wire order, each aligned to its size from the start of the buffer. A body
// starts 8-aligned in the message, so its alignment is the same whether counted from the body
// or from the message.
class Writer {
 public:
  void byte(uint8_t v);
  void boolean(bool v) { u32(v ? 1 : 0); }
  void u32(uint32_t v);
  void u64(uint64_t v);
  void string(std::string_view s);     // s and o
  void signature(std::string_view s);  // g, and the type of a variant
  // An array whose elements align to `align`: end_array fills in the length of what was
  // appended since begin_array.
  struct Array {
    size_t length_at, start;
  };
  [[nodiscard]] Array begin_array(size_t align);
  void end_array(Array a);
  void begin_struct() { pad(8); }  // a struct or a dict entry
  const std::string& bytes() const { return buf_; }

 private:
  void pad(size_t align);
  std::string buf_;
};

struct Message {
  Kind kind = Kind::MethodCall;
  uint32_t serial = 0;
  uint32_t reply_serial = 0;  // of a method return or an error
  std::string path, interface, member, error_name, destination, sender;
  std::string signature;  // of the body
  std::string body;       // marshalled as if it started at offset 0 (Writer::bytes())
  bool big_endian = false;
};

// The message as bytes: the header fields that are not empty, then the body.
[[nodiscard]] std::string encode(const Message& m);
// The total length of the message whose first 16 bytes are `head`, so that a reader knows how
// much more to read; an error when the header is not D-Bus or the message is too large.
[[nodiscard]] Result<size_t> message_length(std::string_view head);
// One whole message (exactly message_length() bytes).
[[nodiscard]] Result<Message> decode(std::string_view bytes);

// Reads a message's body value by value. Types are not checked here: the caller compares the
// message's signature with the one it expects first.
class Reader {
 public:
  explicit Reader(const Message& m) : data_(m.body), big_endian_(m.big_endian) {}
  Reader(std::string_view data, size_t pos, bool big_endian) : data_(data), pos_(pos), big_endian_(big_endian) {}
  [[nodiscard]] Result<uint8_t> byte();
  [[nodiscard]] Result<uint32_t> u32();
  [[nodiscard]] Result<std::string> string();     // s and o
  [[nodiscard]] Result<std::string> signature();  // g, and the type of a variant
  // Skips one value of the single complete type `type` (a variant's content, an unknown field).
  [[nodiscard]] Result<> skip(std::string_view type);
  [[nodiscard]] Result<> align(size_t a);
  size_t pos() const { return pos_; }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  [[nodiscard]] Result<std::string_view> take(size_t n);
  [[nodiscard]] Result<uint64_t> fixed(size_t size);
  // `len` bytes and the NUL that must follow them (strings and signatures).
  [[nodiscard]] Result<std::string> terminated(size_t len, const char* what);
  [[nodiscard]] Result<size_t> skip_one(std::string_view sig, size_t i, int depth);
  std::string_view data_;
  size_t pos_ = 0;
  bool big_endian_ = false;
};

// The end of the single complete type starting at sig[i], or an error for a malformed
// signature (one that nests deeper than the specification's 64 levels, too).
[[nodiscard]] Result<size_t> type_end(std::string_view sig, size_t i, int depth = 0);

}  // namespace orun::cgroups::dbus
