#include "cli.hpp"

namespace orun::cli {

void add_start(CLI::App& app, Cli& cli) {
  static std::string id;
  auto* sub = app.add_subcommand("start", "run the process of a created container");
  sub->add_option("id", id, "container id")->required();
  sub->callback([&cli] {
    cli.action = [&cli]() -> Result<int> {
      TRY(container::start(cli.globals, id));
      return 0;
    };
  });
}

}  // namespace orun::cli
