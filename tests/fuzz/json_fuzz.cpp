// libFuzzer target, differential: bytes -> orun::json::parse (runtime/base/json.cpp) and
// nlohmann::json::parse (strict, no comments, no callback), which it replaced for config.json.
// Both must accept or both refuse; what both accept must be the same tree (types and values;
// objects with the last of a repeated key, as nlohmann keeps it; a floating number only as a
// float, since orun keeps no value for it). Two differences are allowed: orun refuses nesting
// deeper than json::kMaxDepth, which nlohmann accepts, and any NUL byte, which nlohmann reads as the
// end of the input (the comparison stops there). Then the bytes as a string: when they
// are valid UTF-8, json::quote(s) must parse back to s through nlohmann and through orun; when
// they are not, both parsers must refuse it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/json.hpp"

namespace json = orun::json;
using njson = nlohmann::json;

namespace {

[[noreturn]] void fail(std::string_view why, std::string_view input) {
  std::fprintf(stderr, "json_fuzz: %.*s\ninput (%zu bytes): \"", static_cast<int>(why.size()), why.data(),
               input.size());
  for (unsigned char c : input) {
    if (c == '"' || c == '\\') std::fprintf(stderr, "\\%c", c);
    else if (c >= 0x20 && c < 0x7f) std::fputc(c, stderr);
    else std::fprintf(stderr, "\\x%02x", c);
  }
  std::fprintf(stderr, "\"\n");
  std::abort();
}

// Nesting depth of a JSON text (containers open at once), with strings skipped; only used on
// texts nlohmann accepted, so brackets and quotes are well-formed.
int depth_of(std::string_view s) {
  int depth = 0, max = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) max = depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max;
}

// orun's value as nlohmann would hold it. Floating numbers keep no value in orun: they become
// NaN here, and same() accepts any float for them.
njson to_nlohmann(const json::Value& v) {
  switch (v.type) {
    case json::Value::Type::null: return nullptr;
    case json::Value::Type::boolean: return v.boolean;
    case json::Value::Type::integer: return v.integer;
    case json::Value::Type::unsigned_integer: return v.unsigned_integer;
    case json::Value::Type::floating: return std::nan("");
    case json::Value::Type::string: return v.string;
    case json::Value::Type::array: {
      njson a = njson::array();
      for (const auto& e : v.array) a.push_back(to_nlohmann(e));
      return a;
    }
    case json::Value::Type::object: {
      njson o = njson::object();
      for (const auto& m : v.object) o[m.key] = to_nlohmann(m.value);  // the last duplicate wins
      return o;
    }
  }
  __builtin_trap();
}

bool same(const njson& ours, const njson& theirs) {
  if (ours.type() != theirs.type()) return false;
  switch (ours.type()) {
    case njson::value_t::number_float: return true;  // orun keeps no value (and ours is NaN)
    case njson::value_t::array:
      if (ours.size() != theirs.size()) return false;
      for (size_t i = 0; i < ours.size(); ++i)
        if (!same(ours[i], theirs[i])) return false;
      return true;
    case njson::value_t::object: {
      if (ours.size() != theirs.size()) return false;
      for (auto it = ours.begin(); it != ours.end(); ++it) {
        auto other = theirs.find(it.key());
        if (other == theirs.end() || !same(*it, *other)) return false;
      }
      return true;
    }
    default: return ours == theirs;
  }
}

// Value::find(key) must be the last member named key, for every key of every object.
bool finds_last(const json::Value& v) {
  for (const auto& e : v.array)
    if (!finds_last(e)) return false;
  for (size_t i = 0; i < v.object.size(); ++i) {
    const json::Value* last = &v.object[i].value;
    for (size_t j = i + 1; j < v.object.size(); ++j)
      if (v.object[j].key == v.object[i].key) last = &v.object[j].value;
    if (v.find(v.object[i].key) != last || !finds_last(v.object[i].value)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);

  // nlohmann's lexer takes a NUL byte for the end of the input (for C string literals), so it
  // accepts "{}\0junk"; RFC 8259 (and Go's decoder, runc's) allow no NUL outside a string, and
  // none unescaped inside one. orun must refuse any NUL; the comparison runs on what comes before.
  const size_t nul = bytes.find('\0');
  if (nul != std::string::npos && json::parse(bytes)) fail("orun accepted a NUL byte", bytes);
  const std::string input = bytes.substr(0, nul);

  auto ours = json::parse(input);
  njson theirs;
  bool theirs_ok = true;
  try {
    theirs = njson::parse(input);
  } catch (const njson::exception&) {
    theirs_ok = false;
  }
  if (ours && !theirs_ok) fail("orun accepted what nlohmann refuses", input);
  if (!ours) {
    if (ours.error().message.compare(0, 5, "line ") != 0) fail("error without a position: " + ours.error().message, input);
    if (theirs_ok) {
      const int depth = depth_of(input);
      if (depth <= json::kMaxDepth)
        fail("orun refused what nlohmann accepts (depth " + std::to_string(depth) + "): " + ours.error().message,
             input);
      if (ours.error().message.find("nested deeper than") == std::string::npos)
        fail("too deep, but refused for another reason: " + ours.error().message, input);
    }
  } else if (!same(to_nlohmann(*ours), theirs)) {
    fail("different values: orun " + to_nlohmann(*ours).dump() + ", nlohmann " + theirs.dump(), input);
  } else if (!finds_last(*ours)) {
    fail("find() is not the last member of that name", input);
  }

  // All the bytes as a string value: quote() must round-trip valid UTF-8 (NUL included). nlohmann's
  // dump() is the independent UTF-8 check (it throws type_error 316 on invalid UTF-8).
  bool valid_utf8 = true;
  try {
    (void)njson(bytes).dump();
  } catch (const njson::type_error&) {
    valid_utf8 = false;
  }
  const std::string quoted = json::quote(bytes);
  auto back = json::parse(quoted);
  njson nback;
  bool nback_ok = true;
  try {
    nback = njson::parse(quoted);
  } catch (const njson::exception&) {
    nback_ok = false;
  }
  if (valid_utf8) {
    if (!nback_ok || !nback.is_string() || nback.get_ref<const std::string&>() != bytes)
      fail("quote() does not round-trip through nlohmann", bytes);
    if (!back || !back->is_string() || back->string != bytes) fail("quote() does not round-trip through orun", bytes);
  } else {
    if (nback_ok) fail("nlohmann accepted a quoted string with invalid UTF-8", bytes);
    if (back) fail("orun accepted a quoted string with invalid UTF-8", bytes);
  }
  return 0;
}
