#include <cstdio>

#include "cli.hpp"

namespace orun::cli {

void add_state(CLI::App& app, Cli& cli) {
  static std::string id;
  auto* sub = app.add_subcommand("state", "print the state of a container as JSON");
  sub->add_option("id", id, "container id")->required();
  sub->callback([&cli] {
    cli.action = [&cli]() -> Result<int> {
      std::string json = TRY(container::state(cli.globals, id));
      std::printf("%s\n", json.c_str());
      return 0;
    };
  });
}

}  // namespace orun::cli
