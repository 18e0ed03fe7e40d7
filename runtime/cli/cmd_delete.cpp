#include "cli.hpp"

namespace orun::cli {

namespace {

Result<int> delete_main(Cli& cli, const Verb& self, Args args) {
  std::string id;
  bool force = false;
  const Option options[] = {{'f', "force", &force, "kill the container first if it is not stopped"}};
  const Positional positionals[] = {{"ID", &id, "container id"}};
  if (!TRY(parse_verb(self, {.options = options, .positionals = positionals}, args))) return 0;
  TRY(container::remove(cli.globals, id, force));
  return 0;
}

}  // namespace

const Verb kDelete{"delete", "delete a stopped container (--force: any container)", delete_main};

}  // namespace orun::cli
