#include "cli.hpp"

namespace orun::cli {

void add_run(CLI::App& app, Cli& cli) {
  static container::RunOptions opt;
  static std::string id;
  auto* sub = app.add_subcommand("run", "create and start a container, wait for it, and delete it");
  add_create_flags(sub, opt.create);
  sub->add_flag("-d,--detach", opt.detach, "return after start; the container keeps running");
  sub->add_flag("--keep", opt.keep, "do not delete the container after it exits");
  sub->add_option("id", id, "container id")->required();
  sub->callback([&cli] {
    cli.needs_sealed_exe = true;
    cli.action = [&cli] { return container::run(cli.globals, id, opt); };
  });
}

}  // namespace orun::cli
