#include "cli.hpp"

namespace orun::cli {

void add_delete(CLI::App& app, Cli& cli) {
  static std::string id;
  static bool force = false;
  auto* sub = app.add_subcommand("delete", "delete a stopped container (--force: any container)");
  sub->add_flag("-f,--force", force, "kill the container first if it is not stopped");
  sub->add_option("id", id, "container id")->required();
  sub->callback([&cli] {
    cli.action = [&cli]() -> Result<int> {
      TRY(container::remove(cli.globals, id, force));
      return 0;
    };
  });
}

}  // namespace orun::cli
