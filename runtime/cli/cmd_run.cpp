#include <algorithm>

#include "cli.hpp"

namespace orun::cli {

namespace {

Result<int> run_main(Cli& cli, const Verb& self, Args args) {
  container::RunOptions opt;
  std::string id;
  std::array<Option, kCreateOptionCount + 2> options{};
  std::ranges::copy(create_options(opt.create), options.begin());
  options[kCreateOptionCount] = {'d', "detach", &opt.detach, "return after start; the container keeps running"};
  options[kCreateOptionCount + 1] = {0, "keep", &opt.keep, "do not delete the container after it exits"};
  const Positional positionals[] = {{"ID", &id, "container id"}};
  if (!TRY(parse_verb(self, {.options = options, .positionals = positionals}, args))) return 0;
  TRY(cli.seal());
  return container::run(cli.globals, id, opt);
}

}  // namespace

const Verb kRun{"run", "create and start a container, wait for it, and delete it", run_main};

}  // namespace orun::cli
