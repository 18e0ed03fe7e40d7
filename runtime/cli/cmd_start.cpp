#include "cli.hpp"

namespace orun::cli {

namespace {

Result<int> start_main(Cli& cli, const Verb& self, Args args) {
  std::string id;
  const Positional positionals[] = {{"ID", &id, "container id"}};
  if (!TRY(parse_verb(self, {.positionals = positionals}, args))) return 0;
  TRY(container::start(cli.globals, id));
  return 0;
}

}  // namespace

const Verb kStart{"start", "run the process of a created container", start_main};

}  // namespace orun::cli
