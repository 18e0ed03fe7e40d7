#include <cstdio>

#include "cli.hpp"

namespace orun::cli {

namespace {

Result<int> state_main(Cli& cli, const Verb& self, Args args) {
  std::string id;
  const Positional positionals[] = {{"ID", &id, "container id"}};
  if (!TRY(parse_verb(self, {.positionals = positionals}, args))) return 0;
  std::string json = TRY(container::state(cli.globals, id));
  std::printf("%s\n", json.c_str());
  return 0;
}

}  // namespace

const Verb kState{"state", "print the state of a container as JSON", state_main};

}  // namespace orun::cli
