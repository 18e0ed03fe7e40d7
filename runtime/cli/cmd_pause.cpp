#include "cli.hpp"

namespace orun::cli {

void add_pause(CLI::App& app, Cli& cli) {
  static std::string id;
  auto* sub = app.add_subcommand("pause", "freeze every process of a running container");
  sub->add_option("id", id, "container id")->required();
  sub->callback([&cli] {
    cli.action = [&cli]() -> Result<int> {
      TRY(container::pause(cli.globals, id));
      return 0;
    };
  });
}

}  // namespace orun::cli
