#include "cgroups/dbus_message.hpp"

#include <cstring>

namespace orun::cgroups::dbus {

namespace {

constexpr size_t kMaxArray = 64 << 20;  // the specification's limit
constexpr int kMaxDepth = 64;           // arrays, structs and variants nested, as the specification allows

std::unexpected<Error> malformed(const std::string& why) { return fail("malformed D-Bus message: " + why, EBADMSG); }

size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

size_t alignment(char type) {
  switch (type) {
    case 'n': case 'q': return 2;
    case 'b': case 'i': case 'u': case 'h': case 's': case 'o': case 'a': return 4;
    case 'x': case 't': case 'd': case '(': case '{': return 8;
    default: return 1;  // y, g, v
  }
}

bool basic(char type) { return std::strchr("ybnqiuxtdhsog", type) != nullptr && type != '\0'; }

// Header field codes and the type each must have.
enum Field : uint8_t { Path = 1, Interface, Member, ErrorName, ReplySerial, Destination, Sender, Signature, UnixFds };
const char* field_type(uint8_t code) {
  switch (code) {
    case Path: return "o";
    case Interface: case Member: case ErrorName: case Destination: case Sender: return "s";
    case ReplySerial: case UnixFds: return "u";
    case Signature: return "g";
    default: return nullptr;
  }
}

uint32_t get_u32(std::string_view b, size_t at, bool big_endian) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    auto byte = static_cast<uint8_t>(b[at + (big_endian ? i : 3 - i)]);
    v = v << 8 | byte;
  }
  return v;
}

}  // namespace

void Writer::pad(size_t align) { buf_.resize(align_up(buf_.size(), align), '\0'); }

void Writer::byte(uint8_t v) { buf_.push_back(static_cast<char>(v)); }

void Writer::u32(uint32_t v) {
  pad(4);
  for (int i = 0; i < 4; ++i) buf_.push_back(static_cast<char>(v >> (8 * i)));
}

void Writer::u64(uint64_t v) {
  pad(8);
  for (int i = 0; i < 8; ++i) buf_.push_back(static_cast<char>(v >> (8 * i)));
}

void Writer::string(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  buf_.append(s);
  buf_.push_back('\0');
}

void Writer::signature(std::string_view s) {
  byte(static_cast<uint8_t>(s.size()));
  buf_.append(s);
  buf_.push_back('\0');
}

Writer::Array Writer::begin_array(size_t align) {
  u32(0);
  size_t length_at = buf_.size() - 4;
  pad(align);  // present even when the array is empty, and not counted in its length
  return {length_at, buf_.size()};
}

void Writer::end_array(Array a) {
  auto len = static_cast<uint32_t>(buf_.size() - a.start);
  for (int i = 0; i < 4; ++i) buf_[a.length_at + i] = static_cast<char>(len >> (8 * i));
}

std::string encode(const Message& m) {
  Writer w;
  w.byte('l');
  w.byte(static_cast<uint8_t>(m.kind));
  w.byte(0);  // flags: a reply is wanted
  w.byte(1);  // protocol version
  w.u32(static_cast<uint32_t>(m.body.size()));
  w.u32(m.serial);
  Writer::Array fields = w.begin_array(8);
  auto field = [&](Field code, const std::string& value) {
    if (value.empty()) return;
    w.begin_struct();
    w.byte(code);
    w.signature(field_type(code));
    if (code == Signature) w.signature(value);
    else w.string(value);
  };
  field(Path, m.path);
  field(Interface, m.interface);
  field(Member, m.member);
  field(ErrorName, m.error_name);
  if (m.reply_serial) {
    w.begin_struct();
    w.byte(ReplySerial);
    w.signature("u");
    w.u32(m.reply_serial);
  }
  field(Destination, m.destination);
  field(Sender, m.sender);
  field(Signature, m.signature);
  w.end_array(fields);
  w.begin_struct();  // the body starts 8-aligned
  return w.bytes() + m.body;
}

Result<size_t> message_length(std::string_view head) {
  if (head.size() < 16) return malformed("header shorter than 16 bytes");
  if (head[0] != 'l' && head[0] != 'B') return malformed("byte order '" + std::string(1, head[0]) + "'");
  if (head[3] != 1) return malformed("protocol version " + std::to_string(static_cast<uint8_t>(head[3])));
  bool be = head[0] == 'B';
  size_t body = get_u32(head, 4, be), fields = get_u32(head, 12, be);
  if (body > kMaxMessage || fields > kMaxMessage || align_up(16 + fields, 8) + body > kMaxMessage)
    return malformed("larger than " + std::to_string(kMaxMessage) + " bytes");
  return align_up(16 + fields, 8) + body;
}

Result<Message> decode(std::string_view bytes) {
  size_t total = TRY(message_length(bytes));
  if (total != bytes.size())
    return malformed(std::to_string(bytes.size()) + " bytes where the header says " + std::to_string(total));
  Message m;
  m.big_endian = bytes[0] == 'B';
  m.kind = static_cast<Kind>(bytes[1]);
  Reader r(bytes, 4, m.big_endian);
  size_t body_len = TRY(r.u32());
  m.serial = TRY(r.u32());
  if (m.serial == 0) return malformed("serial 0");
  size_t fields_end = 16 + TRY(r.u32());
  while (r.pos() < fields_end) {
    TRY(r.align(8));
    uint8_t code = TRY(r.byte());
    std::string type = TRY(r.signature());
    const char* want = field_type(code);
    if (want && type != want)
      return malformed("header field " + std::to_string(code) + " has type \"" + type + "\", not \"" + want + "\"");
    switch (code) {
      case Path: m.path = TRY(r.string()); break;
      case Interface: m.interface = TRY(r.string()); break;
      case Member: m.member = TRY(r.string()); break;
      case ErrorName: m.error_name = TRY(r.string()); break;
      case ReplySerial: m.reply_serial = TRY(r.u32()); break;
      case Destination: m.destination = TRY(r.string()); break;
      case Sender: m.sender = TRY(r.string()); break;
      case Signature: m.signature = TRY(r.signature()); break;
      default: TRY(r.skip(type)); break;  // UNIX_FDS and fields this reader does not know
    }
    if (r.pos() > fields_end) return malformed("header field " + std::to_string(code) + " overruns the header");
  }
  TRY(r.align(8));
  if (r.pos() + body_len != bytes.size()) return malformed("header fields do not end where the body starts");
  m.body = bytes.substr(r.pos());
  if (!m.body.empty() && m.signature.empty()) return malformed("a body without a signature");
  auto need = [&](bool ok, const char* what) -> Result<> {
    if (!ok) return malformed("message of type " + std::to_string(bytes[1]) + " without " + what);
    return {};
  };
  switch (m.kind) {
    case Kind::MethodCall: TRY(need(!m.path.empty() && !m.member.empty(), "path and member")); break;
    case Kind::MethodReturn: TRY(need(m.reply_serial != 0, "reply serial")); break;
    case Kind::Error: TRY(need(m.reply_serial != 0 && !m.error_name.empty(), "reply serial and error name")); break;
    case Kind::Signal:
      TRY(need(!m.path.empty() && !m.interface.empty() && !m.member.empty(), "path, interface and member"));
      break;
  }
  return m;
}

Result<std::string_view> Reader::take(size_t n) {
  if (n > data_.size() - pos_) return malformed("truncated value at byte " + std::to_string(pos_));
  std::string_view s = data_.substr(pos_, n);
  pos_ += n;
  return s;
}

Result<> Reader::align(size_t a) {
  size_t to = align_up(pos_, a);
  if (to > data_.size()) return malformed("truncated padding at byte " + std::to_string(pos_));
  for (; pos_ < to; ++pos_)
    if (data_[pos_] != '\0') return malformed("padding that is not zero at byte " + std::to_string(pos_));
  return {};
}

Result<uint64_t> Reader::fixed(size_t size) {
  TRY(align(size));
  std::string_view b = TRY(take(size));
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) v = v << 8 | static_cast<uint8_t>(b[big_endian_ ? i : size - 1 - i]);
  return v;
}

Result<uint8_t> Reader::byte() { return static_cast<uint8_t>(TRY(fixed(1))); }

Result<uint32_t> Reader::u32() { return static_cast<uint32_t>(TRY(fixed(4))); }

Result<std::string> Reader::terminated(size_t len, const char* what) {
  std::string_view s = TRY(take(len));
  std::string_view nul = TRY(take(1));
  if (nul[0] != '\0' || s.find('\0') != std::string_view::npos)
    return malformed(std::string(what) + " with a NUL byte inside or none after it");
  return std::string(s);
}

Result<std::string> Reader::string() { return terminated(TRY(u32()), "string"); }

Result<std::string> Reader::signature() { return terminated(TRY(byte()), "signature"); }

Result<size_t> type_end(std::string_view sig, size_t i, int depth) {
  if (depth > kMaxDepth) return malformed("signature \"" + std::string(sig) + "\" nests too deeply");
  if (i >= sig.size()) return malformed("signature \"" + std::string(sig) + "\" ends inside a type");
  char c = sig[i];
  if (basic(c) || c == 'v') return i + 1;
  if (c == 'a') return type_end(sig, i + 1, depth + 1);
  if (c == '(') {
    size_t j = i + 1;
    if (j < sig.size() && sig[j] == ')') return malformed("empty struct in signature \"" + std::string(sig) + "\"");
    while (j < sig.size() && sig[j] != ')') j = TRY(type_end(sig, j, depth + 1));
    if (j >= sig.size()) return malformed("unclosed struct in signature \"" + std::string(sig) + "\"");
    return j + 1;
  }
  if (c == '{') {
    if (i + 1 >= sig.size() || !basic(sig[i + 1]))
      return malformed("dict entry without a basic key in signature \"" + std::string(sig) + "\"");
    size_t j = TRY(type_end(sig, i + 2, depth + 1));
    if (j >= sig.size() || sig[j] != '}') return malformed("dict entry not closed in signature \"" + std::string(sig) + "\"");
    return j + 1;
  }
  return malformed("unknown type '" + std::string(1, c) + "' in signature \"" + std::string(sig) + "\"");
}

Result<size_t> Reader::skip_one(std::string_view sig, size_t i, int depth) {
  size_t end = TRY(type_end(sig, i, depth));
  char c = sig[i];
  switch (c) {
    case 's': case 'o': TRY(string()); break;
    case 'g': TRY(signature()); break;
    case 'v': {
      std::string inner = TRY(signature());
      if (TRY(type_end(inner, 0, depth + 1)) != inner.size())
        return malformed("variant type \"" + inner + "\" is not one complete type");
      TRY(skip_one(inner, 0, depth + 1));
      break;
    }
    case 'a': {
      uint32_t len = TRY(u32());
      if (len > kMaxArray) return malformed("array of " + std::to_string(len) + " bytes");
      TRY(align(alignment(sig[i + 1])));
      TRY(take(len));
      break;
    }
    case '(': case '{':
      TRY(align(8));
      for (size_t j = i + 1; j < end - 1;) j = TRY(skip_one(sig, j, depth + 1));
      break;
    default: TRY(fixed(alignment(c))); break;  // y b n q i u x t d h
  }
  return end;
}

Result<> Reader::skip(std::string_view type) {
  if (TRY(type_end(type, 0)) != type.size()) return malformed("\"" + std::string(type) + "\" is not one complete type");
  TRY(skip_one(type, 0, 0));
  return {};
}

}  // namespace orun::cgroups::dbus
