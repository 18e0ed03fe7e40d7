#include "cli.hpp"

namespace orun::cli {

namespace {

Result<int> pause_main(Cli& cli, const Verb& self, Args args) {
  std::string id;
  const Positional positionals[] = {{"ID", &id, "container id"}};
  if (!TRY(parse_verb(self, {.positionals = positionals}, args))) return 0;
  TRY(container::pause(cli.globals, id));
  return 0;
}

}  // namespace

const Verb kPause{"pause", "freeze every process of a running container", pause_main};

}  // namespace orun::cli
