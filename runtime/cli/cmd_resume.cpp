#include "cli.hpp"

namespace orun::cli {

namespace {

Result<int> resume_main(Cli& cli, const Verb& self, Args args) {
  std::string id;
  const Positional positionals[] = {{"ID", &id, "container id"}};
  if (!TRY(parse_verb(self, {.positionals = positionals}, args))) return 0;
  TRY(container::resume(cli.globals, id));
  return 0;
}

}  // namespace

const Verb kResume{"resume", "thaw a paused container", resume_main};

}  // namespace orun::cli
