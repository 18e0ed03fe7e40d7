#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.hpp"
#include "fd.hpp"
#include "file.hpp"
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

TEST_CASE("json escape") {
  CHECK(log::json_escape("a\"b\\c\n\x01") == "a\\\"b\\\\c\\n\\u0001");
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
