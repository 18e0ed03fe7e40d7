#include "base/json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace orun::json {

const Value* Value::find(std::string_view key) const {
  for (auto it = object.rbegin(); it != object.rend(); ++it)
    if (it->key == key) return &it->value;
  return nullptr;
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<Value> document() {
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    Value v;
    TRY(value(v, 0));
    skip_space();
    if (pos_ != s_.size()) return error("unexpected text after the value");
    return v;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;

  std::unexpected<Error> error(const std::string& what) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return fail("line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + what);
  }

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }

  void skip_space() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  Result<> value(Value& v, int depth) {
    skip_space();
    if (at_end()) return error("unexpected end of input; expected a value");
    switch (s_[pos_]) {
      case '{': return object(v, depth + 1);
      case '[': return array(v, depth + 1);
      case '"':
        v.type = Value::Type::string;
        return string(v.string);
      case 't': return literal(v, "true", Value::Type::boolean, true);
      case 'f': return literal(v, "false", Value::Type::boolean, false);
      case 'n': return literal(v, "null", Value::Type::null, false);
      default:
        if (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) return number(v);
        return error("unexpected character; expected a value");
    }
  }

  Result<> literal(Value& v, std::string_view word, Value::Type type, bool b) {
    if (s_.substr(pos_, word.size()) != word) return error("invalid literal");
    pos_ += word.size();
    v.type = type;
    v.boolean = b;
    return {};
  }

  // Skips whitespace, then c if it comes next.
  bool take(char c) {
    skip_space();
    if (peek() != c) return false;
    ++pos_;
    return true;
  }

  Result<> object(Value& v, int depth) {
    if (depth > kMaxDepth) return error("nested deeper than " + std::to_string(kMaxDepth));
    v.type = Value::Type::object;
    ++pos_;  // '{'
    if (take('}')) return {};
    do {
      skip_space();
      if (peek() != '"') return error("expected a member name in double quotes");
      Member& m = v.object.emplace_back();
      TRY(string(m.key));
      if (!take(':')) return error("expected ':' after a member name");
      TRY(value(m.value, depth));
    } while (take(','));
    if (!take('}')) return error("expected ',' or '}' in an object");
    return {};
  }

  Result<> array(Value& v, int depth) {
    if (depth > kMaxDepth) return error("nested deeper than " + std::to_string(kMaxDepth));
    v.type = Value::Type::array;
    ++pos_;  // '['
    if (take(']')) return {};
    do {
      TRY(value(v.array.emplace_back(), depth));
    } while (take(','));
    if (!take(']')) return error("expected ',' or ']' in an array");
    return {};
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  Result<> number(Value& v) {
    const size_t start = pos_;
    const bool negative = peek() == '-';
    if (negative) ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (digit(peek())) {
      while (digit(peek())) ++pos_;
    } else {
      return error("invalid number; expected a digit");
    }
    const size_t int_end = pos_;
    bool floating = false;
    if (peek() == '.') {
      ++pos_;
      if (!digit(peek())) return error("invalid number; expected a digit after '.'");
      while (digit(peek())) ++pos_;
      floating = true;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!digit(peek())) return error("invalid number; expected a digit in the exponent");
      while (digit(peek())) ++pos_;
      floating = true;
    }
    // Accumulate in uint64_t; a literal past 64 bits is a float, as in nlohmann.
    uint64_t magnitude = 0;
    for (size_t i = start + (negative ? 1 : 0); i < int_end && !floating; ++i) {
      uint64_t d = static_cast<uint64_t>(s_[i] - '0');
      if (magnitude > (UINT64_MAX - d) / 10) floating = true;
      magnitude = magnitude * 10 + d;
    }
    if (negative && magnitude > static_cast<uint64_t>(INT64_MAX) + 1) floating = true;
    if (floating) {
      v.type = Value::Type::floating;
      // Out of double's range is an error, as in nlohmann (Go's decoder too refuses 1e400).
      std::string token(s_.substr(start, pos_ - start));
      if (!std::isfinite(std::strtod(token.c_str(), nullptr))) {
        pos_ = start;
        return error("number out of range");
      }
      return {};
    }
    if (!negative) {
      v.type = Value::Type::unsigned_integer;
      v.unsigned_integer = magnitude;
    } else {
      v.type = Value::Type::integer;
      v.integer = magnitude == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(magnitude);
    }
    return {};
  }

  Result<unsigned> hex4() {
    if (s_.size() - pos_ < 4) return error("invalid string: '\\u' must be followed by 4 hex digits");
    unsigned cp = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      cp <<= 4;
      if (c >= '0' && c <= '9') cp |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') cp |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') cp |= static_cast<unsigned>(c - 'A' + 10);
      else return error("invalid string: '\\u' must be followed by 4 hex digits");
    }
    return cp;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  Result<> escape(std::string& out) {
    ++pos_;  // '\\'
    if (at_end()) return error("invalid string: unfinished escape");
    char c = s_[pos_++];
    switch (c) {
      case '"': out += '"'; return {};
      case '\\': out += '\\'; return {};
      case '/': out += '/'; return {};
      case 'b': out += '\b'; return {};
      case 'f': out += '\f'; return {};
      case 'n': out += '\n'; return {};
      case 'r': out += '\r'; return {};
      case 't': out += '\t'; return {};
      case 'u': break;
      default: --pos_; return error("invalid string: unknown escape");
    }
    unsigned cp = TRY(hex4());
    if (cp >= 0xDC00 && cp <= 0xDFFF) return error("invalid string: a low surrogate without a high one");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (s_.substr(pos_, 2) != "\\u") return error("invalid string: a high surrogate without a low one");
      pos_ += 2;
      unsigned low = TRY(hex4());
      if (low < 0xDC00 || low > 0xDFFF) return error("invalid string: a high surrogate without a low one");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
    return {};
  }

  // One UTF-8 sequence starting at pos_ (its first byte >= 0x80), copied to out if well-formed:
  // no overlong form, no surrogate, nothing past U+10FFFF.
  Result<> utf8(std::string& out) {
    auto byte = [&](size_t i) { return static_cast<unsigned char>(s_[i]); };
    unsigned char c = byte(pos_);
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return error("invalid string: ill-formed UTF-8");
    }
    if (s_.size() - pos_ < len || byte(pos_ + 1) < lo || byte(pos_ + 1) > hi)
      return error("invalid string: ill-formed UTF-8");
    for (size_t i = 2; i < len; ++i)
      if (byte(pos_ + i) < 0x80 || byte(pos_ + i) > 0xBF) return error("invalid string: ill-formed UTF-8");
    out.append(s_.substr(pos_, len));
    pos_ += len;
    return {};
  }

  Result<> string(std::string& out) {
    ++pos_;  // '"'
    for (;;) {
      size_t run = pos_;  // copy plain bytes in one go
      while (run < s_.size() && s_[run] != '"' && s_[run] != '\\' && static_cast<unsigned char>(s_[run]) >= 0x20 &&
             static_cast<unsigned char>(s_[run]) < 0x80)
        ++run;
      out.append(s_.substr(pos_, run - pos_));
      pos_ = run;
      if (at_end()) return error("invalid string: missing closing quote");
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return {};
      }
      if (c == '\\') {
        TRY(escape(out));
      } else if (c < 0x20) {
        return error("invalid string: control character U+00" + std::string(1, "0123456789ABCDEF"[c >> 4]) +
                     "0123456789ABCDEF"[c & 15] + " must be escaped");
      } else {
        TRY(utf8(out));
      }
    }
  }
};

}  // namespace

Result<Value> parse(std::string_view text) { return Parser(text).document(); }

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_quoted(out, s);
  return out;
}

}  // namespace orun::json
