#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <initializer_list>

#include "args.hpp"

using namespace orun;
using namespace orun::cli;

namespace {

// argv-like storage for one parse.
struct Argv {
  std::vector<std::string> words;
  std::vector<char*> ptrs;
  Argv(std::initializer_list<const char*> list) : words(list.begin(), list.end()) {
    for (auto& w : words) ptrs.push_back(w.data());
  }
  Args args() const { return Args(ptrs.data(), ptrs.size()); }
};

constexpr std::string_view kFormats[] = {"table", "json"};

// A verb with one option of every kind.
struct Fixture {
  std::string bundle = ".", format = "table", id, signal = "TERM";
  bool detach = false, tty = false;
  int fds = 0;
  std::optional<std::string> memory;
  std::vector<std::string> env, rest;
  std::vector<uint32_t> gids;
  Option options[8] = {
      {'b', "bundle", &bundle, "bundle", "DIR"},
      {'d', "detach", &detach, "detach"},
      {'t', "tty", &tty, "tty"},
      {0, "preserve-fds", &fds, "fds", "N"},
      {0, "memory", &memory, "memory"},
      {'e', "env", &env, "env"},
      {'g', "additional-gids", &gids, "gids"},
      {'f', "format", &format, "format", "FORMAT", kFormats},
  };
  Positional positionals[2] = {{"ID", &id, "container id"}, {"SIGNAL", &signal, "signal", false}};
  Command cmd{.name = "orun test", .about = "a test verb", .options = options, .positionals = positionals};

  Result<Parsed> parse(std::initializer_list<const char*> list) { return cli::parse(cmd, Argv(list).args()); }
  std::string error(std::initializer_list<const char*> list) {
    auto r = parse(list);
    REQUIRE(!r);
    return r.error().message;
  }
};

}  // namespace

TEST_CASE("values: space, equals, short, attached short") {
  Fixture f;
  REQUIRE(f.parse({"--bundle", "/b", "c1"}) == Parsed::ok);
  CHECK(f.bundle == "/b");
  CHECK(f.id == "c1");
  Fixture g;
  REQUIRE(g.parse({"--bundle=/x=y", "-f", "json", "c2"}).has_value());
  CHECK(g.bundle == "/x=y");
  CHECK(g.format == "json");
  Fixture h;
  REQUIRE(h.parse({"-b/a", "c3", "-f=json"}).has_value());
  CHECK(h.bundle == "/a");
  CHECK(h.format == "json");
  CHECK(h.id == "c3");
}

TEST_CASE("a value may start with a dash; a lone dash is a positional") {
  Fixture f;
  REQUIRE(f.parse({"--memory", "-1", "--bundle", "-", "-"}).has_value());
  CHECK(f.memory == "-1");
  CHECK(f.bundle == "-");
  CHECK(f.id == "-");
}

TEST_CASE("bool flags: alone, combined, with a value") {
  Fixture f;
  REQUIRE(f.parse({"-dt", "c"}).has_value());
  CHECK(f.detach);
  CHECK(f.tty);
  Fixture g;
  g.detach = true;
  REQUIRE(g.parse({"--detach=false", "--tty=1", "c"}).has_value());
  CHECK(!g.detach);
  CHECK(g.tty);
  Fixture h;
  REQUIRE(h.parse({"-db/x", "c"}).has_value());  // bool then a valued short option with its value
  CHECK(h.detach);
  CHECK(h.bundle == "/x");
  CHECK(Fixture().error({"--detach=maybe", "c"}) == "--detach: \"maybe\" is not true or false");
}

TEST_CASE("repeated options: vectors collect, scalars keep the last") {
  Fixture f;
  REQUIRE(f.parse({"-e", "A=1", "--env=B=2", "c", "--env", "C", "-g", "5", "--additional-gids=6", "-b", "1",
                   "-b", "2"})
              .has_value());
  CHECK(f.env == std::vector<std::string>{"A=1", "B=2", "C"});
  CHECK(f.gids == std::vector<uint32_t>{5, 6});
  CHECK(f.bundle == "2");
}

TEST_CASE("options before, between and after positionals") {
  Fixture f;
  REQUIRE(f.parse({"c", "-d", "KILL", "--preserve-fds", "3"}).has_value());
  CHECK(f.id == "c");
  CHECK(f.signal == "KILL");
  CHECK(f.detach);
  CHECK(f.fds == 3);
}

TEST_CASE("optional positional keeps its default; -- ends the options") {
  Fixture f;
  REQUIRE(f.parse({"c"}).has_value());
  CHECK(f.signal == "TERM");
  Fixture g;
  REQUIRE(g.parse({"--", "-c", "-9"}).has_value());
  CHECK(g.id == "-c");
  CHECK(g.signal == "-9");
}

TEST_CASE("integers are checked, naming the flag") {
  CHECK(Fixture().error({"--preserve-fds", "x", "c"}) == "--preserve-fds: \"x\" is not an integer");
  CHECK(Fixture().error({"--preserve-fds=", "c"}) == "--preserve-fds: \"\" is not an integer");
  CHECK(Fixture().error({"--preserve-fds", "3x", "c"}) == "--preserve-fds: \"3x\" is not an integer");
  CHECK(Fixture().error({"-g", "-1", "c"}) == "--additional-gids: \"-1\" is not a non-negative integer");
  CHECK(Fixture().error({"-g", "4294967296", "c"}) == "--additional-gids: \"4294967296\" is not a non-negative integer");
  Fixture f;
  REQUIRE(f.parse({"--preserve-fds=-2", "c"}).has_value());
  CHECK(f.fds == -2);
}

TEST_CASE("choices") {
  CHECK(Fixture().error({"--format", "yaml", "c"}) == "--format: \"yaml\" is not one of table, json");
}

TEST_CASE("usage errors name what is wrong") {
  CHECK(Fixture().error({"--bogus", "c"}) == "unknown flag --bogus; see orun test --help");
  CHECK(Fixture().error({"-x", "c"}) == "unknown flag -x; see orun test --help");
  CHECK(Fixture().error({"c", "--bundle"}) == "--bundle needs a value");
  CHECK(Fixture().error({"-b"}) == "--bundle needs a value");
  CHECK(Fixture().error({}) == "missing ID (container id); see orun test --help");
  CHECK(Fixture().error({"-d"}) == "missing ID (container id); see orun test --help");
  CHECK(Fixture().error({"c", "KILL", "extra"}) == "unexpected argument \"extra\"; see orun test --help");
}

TEST_CASE("--help and -h win wherever they stand among the options") {
  CHECK(Fixture().parse({"--help"}) == Parsed::help);
  CHECK(Fixture().parse({"c", "-h"}) == Parsed::help);
  CHECK(Fixture().parse({"-dh"}) == Parsed::help);
  Fixture f;
  CHECK(f.parse({"--", "--help"}) == Parsed::ok);  // after --, a positional
  CHECK(f.id == "--help");
}

TEST_CASE("options_first: the first positionals end the options; the rest is verbatim") {
  std::string id;
  bool tty = false;
  std::vector<std::string> rest;
  const Option options[] = {{'t', "tty", &tty, "tty"}};
  const Positional positionals[] = {{"ID", &id, "container id"}};
  Command cmd{.name = "orun exec", .about = "x", .options = options, .positionals = positionals, .rest = &rest,
              .rest_name = "COMMAND", .options_first = true};
  Argv a{"-t", "c", "sh", "-t", "--help", "--", "x"};
  REQUIRE(parse(cmd, a.args()) == Parsed::ok);
  CHECK(tty);
  CHECK(id == "c");
  CHECK(rest == std::vector<std::string>{"sh", "-t", "--help", "--", "x"});

  // One "--" right after the id separates the command (exec ID -- cmd, ps ID -- -o pid).
  rest.clear();
  Argv b{"c", "--", "--", "-o"};
  REQUIRE(parse(cmd, b.args()) == Parsed::ok);
  CHECK(rest == std::vector<std::string>{"--", "-o"});

  rest.clear();
  Argv c{"--", "c", "--", "x"};
  REQUIRE(parse(cmd, c.args()) == Parsed::ok);
  CHECK(id == "c");
  CHECK(rest == std::vector<std::string>{"x"});
}

TEST_CASE("help text lists the visible options with their values and defaults") {
  Fixture f;
  f.options[3].help = "";  // hidden
  std::string h = help_text(f.cmd);
  CHECK(h.starts_with("a test verb\n\nUsage: orun test [OPTIONS] ID [SIGNAL]\n"));
  CHECK(h.find("  -b, --bundle DIR            bundle (default: .)\n") != std::string::npos);
  CHECK(h.find("  -d, --detach                detach\n") != std::string::npos);
  CHECK(h.find("  -h, --help") != std::string::npos);
  CHECK(h.find("  SIGNAL                      signal (default: TERM)\n") != std::string::npos);
  CHECK(h.find("preserve-fds") == std::string::npos);
}
