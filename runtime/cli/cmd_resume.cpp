#include "cli.hpp"

namespace orun::cli {

void add_resume(CLI::App& app, Cli& cli) {
  static std::string id;
  auto* sub = app.add_subcommand("resume", "thaw a paused container");
  sub->add_option("id", id, "container id")->required();
  sub->callback([&cli] {
    cli.action = [&cli]() -> Result<int> {
      TRY(container::resume(cli.globals, id));
      return 0;
    };
  });
}

}  // namespace orun::cli
