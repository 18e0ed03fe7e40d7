#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdint>

#include "child.hpp"
#include "fd.hpp"
#include "file.hpp"
#include "json.hpp"
#include "log.hpp"
#include "result.hpp"
#include "strings.hpp"

using namespace orun;

static Result<int> half(int v) {
  if (v % 2) return fail("odd: " + std::to_string(v));
  return v / 2;
}

static Result<int> quarter(int v) {
  int h = TRYC(half(v), "first half");
  return TRY(half(h));
}

TEST_CASE("TRY propagates errors with context") {
  CHECK(quarter(8).value() == 2);
  auto r = quarter(6);
  REQUIRE(!r);
  CHECK(r.error().message == "odd: 3");
  auto r2 = quarter(5);
  CHECK(r2.error().message == "first half: odd: 5");
  CHECK(r2.error().code == EINVAL);
}

TEST_CASE("sys_error names the operation and errno") {
  auto e = sys_error("open /x", ENOENT).error();
  CHECK(e.code == ENOENT);
  CHECK(e.message == "open /x: No such file or directory");
}

TEST_CASE("Fd closes on destruction and moves") {
  int raw;
  {
    Fd a(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    raw = a.get();
    Fd b(std::move(a));
    CHECK(!a.valid());
    CHECK(b.get() == raw);
  }
  CHECK(::fcntl(raw, F_GETFD) == -1);
}

TEST_CASE("strings") {
  CHECK(split("a:b::c", ':') == std::vector<std::string>{"a", "b", "", "c"});
  CHECK(trim("  x y \n") == "x y");
  CHECK(parse_int("-12").value() == -12);
  CHECK(!parse_int("12x"));
  CHECK(!parse_uint("-1"));
  CHECK(!parse_int(""));
  CHECK(clean_path("/a/./b//../c") == "/a/c");
  CHECK(clean_path("/../..") == "/");
  CHECK(path_join("/root/", "../../etc/passwd") == "/root/etc/passwd");
  CHECK(path_join("/r", "/") == "/r");
}

TEST_CASE("sizes in runc's units") {
  CHECK(parse_ram_bytes("512").value() == 512);
  CHECK(parse_ram_bytes("512m").value() == 512ll << 20);
  CHECK(parse_ram_bytes("512M").value() == 512ll << 20);
  CHECK(parse_ram_bytes("1g").value() == 1ll << 30);
  CHECK(parse_ram_bytes("64 KiB").value() == 64ll << 10);
  CHECK(parse_ram_bytes("2GB").value() == 2ll << 30);
  CHECK(parse_ram_bytes("1.5k").value() == 1536);
  CHECK(parse_ram_bytes("10b").value() == 10);
  CHECK(!parse_ram_bytes(""));
  CHECK(!parse_ram_bytes("m"));
  CHECK(!parse_ram_bytes("-1"));
  CHECK(!parse_ram_bytes("12x"));
  CHECK(!parse_ram_bytes("1.g"));
  CHECK(!parse_ram_bytes("99999999999p"));
}

TEST_CASE("durations in Go's syntax") {
  using namespace std::chrono;
  CHECK(parse_duration("5s").value() == seconds(5));
  CHECK(parse_duration("100ms").value() == milliseconds(100));
  CHECK(parse_duration("1m30s").value() == seconds(90));
  CHECK(parse_duration("1.5h").value() == minutes(90));
  CHECK(parse_duration("250us").value() == microseconds(250));
  CHECK(parse_duration("0").value() == nanoseconds(0));
  CHECK(!parse_duration(""));
  CHECK(!parse_duration("5"));
  CHECK(!parse_duration("-5s"));
  CHECK(!parse_duration("5x"));
  CHECK(!parse_duration("1..5s"));
  CHECK(!parse_duration("9999999999h"));
}

TEST_CASE("atomic write, read, mkdir_p, remove_tree") {
  char tmpl[] = "/tmp/orun-base-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  REQUIRE(mkdir_p(dir + "/a/b/c"));
  REQUIRE(write_file_atomic(dir + "/a/b/c/f", "hello"));
  CHECK(read_file(dir + "/a/b/c/f").value() == "hello");
  CHECK(!path_exists(dir + "/a/b/c/f.tmp"));
  // Over an existing file (exchanged, then the old one unlinked), a symlink, a directory.
  REQUIRE(write_file_atomic(dir + "/a/b/c/f", "again"));
  CHECK(read_file(dir + "/a/b/c/f").value() == "again");
  CHECK(!path_exists(dir + "/a/b/c/f.tmp"));
  REQUIRE(::symlink("f", (dir + "/a/b/c/l").c_str()) == 0);
  REQUIRE(write_file_atomic(dir + "/a/b/c/l", "replaces the link"));
  CHECK(read_file(dir + "/a/b/c/f").value() == "again");
  CHECK(read_file(dir + "/a/b/c/l").value() == "replaces the link");
  CHECK(!write_file_atomic(dir + "/a/b", "not over a directory"));
  CHECK(path_exists(dir + "/a/b/c/f"));
  CHECK(!path_exists(dir + "/a/b.tmp"));
  REQUIRE(write_file(dir + "/a/g", "x"));
  REQUIRE(::symlink("/etc", (dir + "/a/link").c_str()) == 0);
  REQUIRE(remove_tree(dir));
  CHECK(!path_exists(dir));
  CHECK(path_exists("/etc/hostname") == (::access("/etc/hostname", F_OK) == 0));
  CHECK(!read_file(dir + "/nope"));
}

TEST_CASE("ChildPid kills and reaps") {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  { ChildPid c(pid); }
  CHECK(::kill(pid, 0) == -1);
  pid = ::fork();
  if (pid == 0) ::_exit(3);
  ChildPid c(pid);
  CHECK(exit_code_of(c.wait()) == 3);
}

TEST_CASE("json: quote") {
  CHECK(json::quote("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\u0001\"");
}

#include "signals.hpp"

TEST_CASE("signals by name or number") {
  CHECK(parse_signal("9").value() == SIGKILL);
  CHECK(parse_signal("KILL").value() == SIGKILL);
  CHECK(parse_signal("SIGTERM").value() == SIGTERM);
  CHECK(parse_signal("sigusr1").value() == SIGUSR1);
  CHECK(parse_signal("RTMIN+2").value() == SIGRTMIN + 2);
  CHECK(parse_signal("SIGRTMAX-1").value() == SIGRTMAX - 1);
  CHECK(!parse_signal("0"));
  CHECK(!parse_signal("65"));
  CHECK(!parse_signal("BOGUS"));
  CHECK(!parse_signal("RTMIN+99"));
  CHECK(parse_signal("FOO").error().message == "invalid signal \"FOO\"");
}

TEST_CASE("rfc3339 agrees with gmtime") {
  for (time_t s : {time_t{0}, time_t{951782400} /* 2000-02-29 */, time_t{1795921925}, time_t{4102444799}}) {
    struct tm tm;
    gmtime_r(&s, &tm);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.000000042Z", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    CHECK(rfc3339({s, 42}) == want);
  }
  CHECK(now_rfc3339().size() == 30);
}

namespace {

using JType = json::Value::Type;

// The parse error's message, or "accepted".
std::string json_error(std::string_view text) {
  auto r = json::parse(text);
  return r ? std::string("accepted") : r.error().message;
}

// The string value text parses to; "<refused: message>" if it does not parse to a string.
std::string json_string(std::string_view text) {
  auto r = json::parse(text);
  if (!r) return "<refused: " + r.error().message + ">";
  if (r->type != JType::string) return "<not a string>";
  return r->string;
}

std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string nested_objects(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"k\":";
  s += "1";
  return s + std::string(depth, '}');
}

}  // namespace

TEST_CASE("json: every value type, members in document order") {
  auto v = json::parse(R"({"n": null, "t": true, "f": false, "i": -5, "u": 7, "x": 1.5,
                           "s": "str", "a": [1, "two", []], "o": {"k": {}}})");
  REQUIRE(v);
  REQUIRE(v->type == JType::object);
  std::vector<std::string> keys;
  for (const auto& m : v->object) keys.push_back(m.key);
  CHECK(keys == std::vector<std::string>{"n", "t", "f", "i", "u", "x", "s", "a", "o"});
  CHECK(v->find("n")->type == JType::null);
  CHECK(v->find("n")->is_null());
  CHECK(v->find("t")->type == JType::boolean);
  CHECK(v->find("t")->boolean == true);
  CHECK(v->find("f")->type == JType::boolean);
  CHECK(v->find("f")->boolean == false);
  CHECK(v->find("i")->type == JType::integer);
  CHECK(v->find("i")->integer == -5);
  CHECK(v->find("u")->type == JType::unsigned_integer);
  CHECK(v->find("u")->unsigned_integer == 7);
  CHECK(v->find("x")->type == JType::floating);
  CHECK(v->find("s")->is_string());
  CHECK(v->find("s")->string == "str");
  const json::Value* a = v->find("a");
  REQUIRE(a->is_array());
  REQUIRE(a->array.size() == 3);
  CHECK(a->array[0].type == JType::unsigned_integer);
  CHECK(a->array[0].unsigned_integer == 1);
  CHECK(a->array[1].string == "two");
  CHECK(a->array[2].is_array());
  CHECK(a->array[2].array.empty());
  const json::Value* o = v->find("o");
  REQUIRE(o->is_object());
  REQUIRE(o->object.size() == 1);
  CHECK(o->find("k")->is_object());
  CHECK(o->find("k")->object.empty());
  CHECK(v->find("missing") == nullptr);
  CHECK(v->find("") == nullptr);

  // Scalars at the top, whitespace around.
  CHECK(json::parse(" \t\r\nnull \n")->is_null());
  CHECK(json::parse("true")->boolean);
  CHECK(json::parse("\"\"")->is_string());
  CHECK(json::parse("{}")->is_object());
  CHECK(json::parse("[ ]")->is_array());
  CHECK(json_error("nul") == "line 1, column 1: invalid literal");
  CHECK(json_error("True") == "line 1, column 1: unexpected character; expected a value");
  CHECK(json_error("[1,]") == "line 1, column 4: unexpected character; expected a value");
  CHECK(json_error("[1 2]") == "line 1, column 4: expected ',' or ']' in an array");
  CHECK(json_error("{\"a\":1,}") == "line 1, column 8: expected a member name in double quotes");
  CHECK(json_error("{a:1}") == "line 1, column 2: expected a member name in double quotes");
  CHECK(json_error("{\"a\" 1}") == "line 1, column 6: expected ':' after a member name");
  CHECK(json_error("{\"a\":1 \"b\":2}") == "line 1, column 8: expected ',' or '}' in an object");
  CHECK(json_error("{\"a\":}") == "line 1, column 6: unexpected character; expected a value");
  CHECK(json_error("[") == "line 1, column 2: unexpected end of input; expected a value");
  CHECK(json_error("{") == "line 1, column 2: expected a member name in double quotes");
  CHECK(json_error("\"abc") == "line 1, column 5: invalid string: missing closing quote");
}

TEST_CASE("json: escapes, \\u with surrogate pairs, lone surrogates refused") {
  CHECK(json_string(R"("\" \\ \/ \b \f \n \r \t")") == "\" \\ / \b \f \n \r \t");
  CHECK(json_string(R"("\u0041\u00e9\u20AC\ud83d\ude00")") == "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  CHECK(json_string(R"("\u0000")") == std::string(1, '\0'));
  CHECK(json_string(R"("\u007f\u0080\u07FF\u0800\uFFFF")") == "\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF");
  CHECK(json_string(R"("\uD800\uDC00")") == "\xF0\x90\x80\x80");
  CHECK(json_string(R"("\uDBFF\uDFFF")") == "\xF4\x8F\xBF\xBF");
  CHECK(json_string(R"("a\u0022b")") == "a\"b");

  CHECK(json_error(R"("\ud800")") == "line 1, column 8: invalid string: a high surrogate without a low one");
  CHECK(json_error(R"("\ud800x")") == "line 1, column 8: invalid string: a high surrogate without a low one");
  CHECK(json_error(R"("\ud800\n")") == "line 1, column 8: invalid string: a high surrogate without a low one");
  CHECK(json_error(R"("\ud800\u0041")") == "line 1, column 14: invalid string: a high surrogate without a low one");
  CHECK(json_error(R"("\ud800\ud800")") == "line 1, column 14: invalid string: a high surrogate without a low one");
  CHECK(json_error(R"("\udc00")") == "line 1, column 8: invalid string: a low surrogate without a high one");
  CHECK(json_error(R"("\uDFFF\uD800")") == "line 1, column 8: invalid string: a low surrogate without a high one");
  CHECK(json_error(R"("\x")") == "line 1, column 3: invalid string: unknown escape");
  CHECK(json_error(R"("\U0041")") == "line 1, column 3: invalid string: unknown escape");
  CHECK(json_error(R"("\u12G4")") == "line 1, column 7: invalid string: '\\u' must be followed by 4 hex digits");
  CHECK(json_error(R"("\u12")") == "line 1, column 4: invalid string: '\\u' must be followed by 4 hex digits");
  CHECK(json_error(R"("\ud800\u12")") == "line 1, column 10: invalid string: '\\u' must be followed by 4 hex digits");
  CHECK(json_error("\"\\") == "line 1, column 3: invalid string: unfinished escape");
  // Escapes in member names too.
  auto v = json::parse(R"({"\u006b\ud83d\ude00": 1})");
  REQUIRE(v);
  CHECK(v->object.at(0).key == "k\xF0\x9F\x98\x80");
  CHECK(json_error(R"({"\udc00": 1})") == "line 1, column 9: invalid string: a low surrogate without a high one");
}

TEST_CASE("json: control characters in strings must be escaped") {
  const char* hex = "0123456789ABCDEF";
  for (int c = 0; c < 0x20; ++c) {
    CAPTURE(c);
    std::string text = "\"a" + std::string(1, static_cast<char>(c)) + "\"";
    // The position is the character's own: a raw newline is still on line 1.
    CHECK(json_error(text) == std::string("line 1, column 3: invalid string: control character U+00") + hex[c >> 4] +
                                  hex[c & 15] + " must be escaped");
    CHECK(json_error("{\"" + std::string(1, static_cast<char>(c)) + "\": 1}") != "accepted");
  }
  CHECK(json_string("\"\x7F\"") == "\x7F");
  CHECK(json_string("\" ~\"") == " ~");
}

TEST_CASE("json: UTF-8 validated strictly") {
  for (std::string bad : {
           "\x80", "\xBF",                                      // continuation bytes alone
           "\xC0\x80", "\xC1\xBF",                              // overlong 2-byte (U+0000, U+007F)
           "\xE0\x80\x80", "\xE0\x9F\xBF",                      // overlong 3-byte
           "\xED\xA0\x80", "\xED\xBF\xBF",                      // encoded surrogates U+D800, U+DFFF
           "\xF0\x80\x80\x80", "\xF0\x8F\xBF\xBF",              // overlong 4-byte
           "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xF7\xBF\xBF\xBF",  // past U+10FFFF
           "\xF8\x88\x80\x80\x80", "\xFE", "\xFF",              // never in UTF-8
           "\xC3", "\xE2\x82", "\xF0\x9F\x98",                  // truncated by the closing quote
           "\xC3x", "\xE2\x82x", "\xF0\x9F\x98x", "\xE2x\xAC",  // truncated by ASCII
           "\xC3\xC3\xA9",                                      // a continuation byte too few
       }) {
    CAPTURE(bad);
    CHECK(json_error("\"" + bad + "\"") == "line 1, column 2: invalid string: ill-formed UTF-8");
    CHECK(json_error("{\"" + bad + "\": 0}") == "line 1, column 3: invalid string: ill-formed UTF-8");
  }
  // A continuation byte too many: the character before it is fine.
  CHECK(json_error("\"\xE2\x82\xAC\xAC\"") == "line 1, column 5: invalid string: ill-formed UTF-8");
  // Truncated by the end of the input.
  CHECK(json_error("\"\xE2\x82") == "line 1, column 2: invalid string: ill-formed UTF-8");
  CHECK(json_error("\"\xF0") == "line 1, column 2: invalid string: ill-formed UTF-8");
  // ... where the view ends, not where the buffer does.
  CHECK(json_error(std::string_view("\"\xE2\x82\xAC\"", 3)) == "line 1, column 2: invalid string: ill-formed UTF-8");
  CHECK(json_error(std::string_view("\"\\u0041\"", 5)) ==
        "line 1, column 4: invalid string: '\\u' must be followed by 4 hex digits");
  CHECK(json_error(std::string_view("truex", 3)) == "line 1, column 1: invalid literal");
  CHECK(json_error(std::string_view("123", 2)) == "accepted");
  // Outside a string.
  CHECK(json_error("\xC3\xA9") == "line 1, column 1: unexpected character; expected a value");
  for (std::string good : {
           "\xC2\x80", "\xDF\xBF",                  // U+0080, U+07FF
           "\xE0\xA0\x80", "\xED\x9F\xBF",          // U+0800, U+D7FF
           "\xEE\x80\x80", "\xEF\xBF\xBF",          // U+E000, U+FFFF
           "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF",  // U+10000, U+10FFFF
           "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87",
       }) {
    CAPTURE(good);
    CHECK(json_string("\"" + good + "\"") == good);
  }
}

TEST_CASE("json: numbers") {
  auto num = [](std::string_view text) {
    auto r = json::parse(text);
    REQUIRE_MESSAGE(r, text);
    return *r;
  };
  CHECK(num("-0").type == JType::integer);
  CHECK(num("-0").integer == 0);
  CHECK(num("0").type == JType::unsigned_integer);
  CHECK(num("0").unsigned_integer == 0);
  CHECK(num("42").unsigned_integer == 42);
  CHECK(num("-42").integer == -42);
  CHECK(num("18446744073709551615").type == JType::unsigned_integer);
  CHECK(num("18446744073709551615").unsigned_integer == UINT64_MAX);
  CHECK(num("18446744073709551616").type == JType::floating);
  CHECK(num("99999999999999999999").type == JType::floating);
  CHECK(num("9223372036854775808").type == JType::unsigned_integer);
  CHECK(num("9223372036854775808").unsigned_integer == 9223372036854775808ull);
  CHECK(num("-9223372036854775807").integer == -INT64_MAX);
  CHECK(num("-9223372036854775808").type == JType::integer);
  CHECK(num("-9223372036854775808").integer == INT64_MIN);
  CHECK(num("-9223372036854775809").type == JType::floating);
  CHECK(num("-18446744073709551616").type == JType::floating);
  for (const char* f : {"1.5", "-1.5", "0.0", "-0.0", "1e5", "1E5", "1e+5", "1e-5", "-2.5E-3", "0e0", "1e-400",
                        "1.7976931348623157e308"}) {
    CAPTURE(f);
    CHECK(num(f).type == JType::floating);
  }
  CHECK(json_error("1e400") == "line 1, column 1: number out of range");
  CHECK(json_error("-1e400") == "line 1, column 1: number out of range");
  CHECK(json_error("[0, 1.8e308]") == "line 1, column 5: number out of range");
  CHECK(json_error(std::string(400, '9')) == "line 1, column 1: number out of range");
  CHECK(json_error("01") == "line 1, column 2: unexpected text after the value");
  CHECK(json_error("-01") == "line 1, column 3: unexpected text after the value");
  CHECK(json_error("[01]") == "line 1, column 3: expected ',' or ']' in an array");
  CHECK(json_error("1.") == "line 1, column 3: invalid number; expected a digit after '.'");
  CHECK(json_error("1.e5") == "line 1, column 3: invalid number; expected a digit after '.'");
  CHECK(json_error("-") == "line 1, column 2: invalid number; expected a digit");
  CHECK(json_error("-a") == "line 1, column 2: invalid number; expected a digit");
  CHECK(json_error("--1") == "line 1, column 2: invalid number; expected a digit");
  CHECK(json_error("+1") == "line 1, column 1: unexpected character; expected a value");
  CHECK(json_error(".5") == "line 1, column 1: unexpected character; expected a value");
  CHECK(json_error("1e") == "line 1, column 3: invalid number; expected a digit in the exponent");
  CHECK(json_error("1e+") == "line 1, column 4: invalid number; expected a digit in the exponent");
  CHECK(json_error("0x10") == "line 1, column 2: unexpected text after the value");
  CHECK(json_error("Infinity") == "line 1, column 1: unexpected character; expected a value");
}

TEST_CASE("json: nothing but whitespace after the value; empty input refused") {
  CHECK(json_error("{} {}") == "line 1, column 4: unexpected text after the value");
  CHECK(json_error("1 2") == "line 1, column 3: unexpected text after the value");
  CHECK(json_error("[1]]") == "line 1, column 4: unexpected text after the value");
  CHECK(json_error("null\nx") == "line 2, column 1: unexpected text after the value");
  CHECK(json_error(std::string("{}\0", 3)) == "line 1, column 3: unexpected text after the value");
  CHECK(json_error("{}\f") == "line 1, column 3: unexpected text after the value");
  CHECK(json_error("{} \t\r\n ") == "accepted");
  CHECK(json_error("") == "line 1, column 1: unexpected end of input; expected a value");
  CHECK(json_error(" \n\t ") == "line 2, column 3: unexpected end of input; expected a value");
}

TEST_CASE("json: an optional UTF-8 byte-order mark") {
  auto v = json::parse("\xEF\xBB\xBF{\"a\": 1}");
  REQUIRE(v);
  CHECK(v->find("a")->unsigned_integer == 1);
  CHECK(json_error("\xEF\xBB\xBF \n 1") == "accepted");
  CHECK(json_error("\xEF\xBB\xBF") == "line 1, column 4: unexpected end of input; expected a value");
  CHECK(json_error(" \xEF\xBB\xBF{}") == "line 1, column 2: unexpected character; expected a value");
  CHECK(json_error("\xEF\xBB\xBF\xEF\xBB\xBF{}") == "line 1, column 4: unexpected character; expected a value");
  CHECK(json_error("\xEF\xBB{}") == "line 1, column 1: unexpected character; expected a value");
  CHECK(json_string("\"\xEF\xBB\xBF\"") == "\xEF\xBB\xBF");  // in a string it is U+FEFF, kept
}

TEST_CASE("json: nesting up to kMaxDepth") {
  REQUIRE(json::kMaxDepth == 1000);
  auto deep = json::parse(nested_arrays(json::kMaxDepth));
  REQUIRE(deep);
  int depth = 0;
  for (const json::Value* v = &*deep; v->is_array(); v = v->array.empty() ? nullptr : &v->array[0]) {
    ++depth;
    if (v->array.empty()) break;
  }
  CHECK(depth == json::kMaxDepth);
  CHECK(json_error(nested_arrays(json::kMaxDepth + 1)) == "line 1, column 1001: nested deeper than 1000");
  CHECK(json_error(nested_objects(json::kMaxDepth)) == "accepted");
  CHECK(json_error(nested_objects(json::kMaxDepth + 1)) == "line 1, column 5001: nested deeper than 1000");
  // Mixed, with the limit reached by the last container.
  std::string mixed = "{\"a\":" + nested_arrays(json::kMaxDepth - 1) + "}";
  CHECK(json_error(mixed) == "accepted");
  mixed = "{\"a\":[" + nested_arrays(json::kMaxDepth - 1) + "]}";
  CHECK(json_error(mixed) == "line 1, column 1005: nested deeper than 1000");
  // Siblings do not add up.
  std::string wide = "[" + nested_arrays(json::kMaxDepth - 1) + "," + nested_arrays(json::kMaxDepth - 1) + "]";
  CHECK(json_error(wide) == "accepted");
}

TEST_CASE("json: a repeated key, find() returns the last") {
  auto v = json::parse(R"({"a": 1, "b": 2, "a": {"x": 3}, "b": null, "a": "last"})");
  REQUIRE(v);
  REQUIRE(v->object.size() == 5);  // all kept, in document order
  CHECK(v->object[0].value.unsigned_integer == 1);
  CHECK(v->object[2].value.is_object());
  CHECK(v->find("a")->string == "last");
  CHECK(v->find("b")->is_null());
}

TEST_CASE("json: errors name line and column") {
  const char* text =
      "{\n"
      "  \"ociVersion\": \"1.2.0\",\n"
      "  \"process\": {\n"
      "    \"terminal\": tru\n"
      "  }\n"
      "}\n";
  CHECK(json_error(text) == "line 4, column 17: invalid literal");
  CHECK(json_error("[\n1,\n\n  \"a\x01\"]") == "line 4, column 5: invalid string: control character U+0001 must be escaped");
}

TEST_CASE("json: quote() round-trips every ASCII byte") {
  std::string all;
  for (int c = 0; c < 0x80; ++c) {
    CAPTURE(c);
    std::string s(1, static_cast<char>(c));
    CHECK(json_string(json::quote(s)) == s);
    all += s;
  }
  CHECK(json_string(json::quote(all)) == all);
  CHECK(json::quote("a\"b\\c\n\r\t\x01\x1f\x7f/") == "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f\x7f/\"");
  CHECK(json::quote(std::string("\0", 1)) == "\"\\u0000\"");
  CHECK(json::quote("") == "\"\"");
  std::string s = "caf\xC3\xA9 \xF0\x9F\x98\x80";
  CHECK(json::quote(s) == "\"" + s + "\"");  // UTF-8 passes through
  CHECK(json_string(json::quote(s)) == s);
  std::string out = "x=";
  json::append_quoted(out, "y\n");
  CHECK(out == "x=\"y\\n\"");
}
