// JSON for the runtime's own files: config.json and state.json read into plain values, and
// strings written as JSON literals.
//
// Why not nlohmann-json here (docs/design.md, "JSON on the start path"): every create, run and
// exec parses config.json and writes state.json, and under emulation (the cgroup v2 VM) a process
// pays for each distinct instruction it runs; nlohmann's parser, its tree of std::map objects and
// its serializer were a fifth of orun's code on that path. nlohmann stays for the outputs that
// are not on it (features, events --stats, spec). A differential fuzz target checks this parser
// against nlohmann's (tests/fuzz/json_fuzz.cpp).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace orun::json {

struct Member;

struct Value {
  // Numbers keep nlohmann's and Go's distinctions, which the readers' errors rely on: a
  // non-negative integer literal is unsigned, a negative one signed, anything with a fraction
  // or an exponent, or out of 64-bit range, a float (its value is not kept: no reader takes one).
  enum class Type : uint8_t { null, boolean, integer, unsigned_integer, floating, string, array, object };

  Type type = Type::null;
  bool boolean = false;
  int64_t integer = 0;            // integer
  uint64_t unsigned_integer = 0;  // unsigned_integer
  std::string string;
  std::vector<Value> array;
  std::vector<Member> object;  // in document order

  bool is_null() const { return type == Type::null; }
  bool is_object() const { return type == Type::object; }
  bool is_array() const { return type == Type::array; }
  bool is_string() const { return type == Type::string; }
  // The member named key, the last one if the key repeats (as nlohmann and Go's decoder keep
  // the last); nullptr if absent.
  const Value* find(std::string_view key) const;
};

struct Member {
  std::string key;
  Value value;
};

// Nesting deeper than this is refused: config.json needs 6, and the parser and the tree's
// destructor recurse. (Go's decoder, runc's, stops at 10000.)
constexpr int kMaxDepth = 1000;

// Parses one JSON text (RFC 8259: UTF-8, an optional byte-order mark, nothing but whitespace
// after the value). Errors read "line L, column C: what was wrong".
[[nodiscard]] Result<Value> parse(std::string_view text);

// s as a JSON string literal, quotes included.
std::string quote(std::string_view s);
void append_quoted(std::string& out, std::string_view s);

}  // namespace orun::json
