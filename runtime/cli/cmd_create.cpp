#include "cli.hpp"

namespace orun::cli {

void add_create_flags(CLI::App* sub, container::CreateOptions& opt) {
  sub->add_option("-b,--bundle", opt.bundle, "path to the bundle directory")->capture_default_str();
  sub->add_option("--pid-file", opt.pid_file, "write the container init's host pid here");
  sub->add_option("--console-socket", opt.console_socket, "unix socket that receives the pty master");
  sub->add_flag("--no-pivot", opt.no_pivot, "use MS_MOVE and chroot instead of pivot_root (less safe)");
  sub->add_flag("--no-new-keyring", opt.no_new_keyring, "keep the caller's session keyring");
  sub->add_option("--preserve-fds", opt.preserve_fds, "pass this many fds after stdio (3, 4, ...) to the container");
}

void add_create(CLI::App& app, Cli& cli) {
  static container::CreateOptions opt;
  static std::string id;
  auto* sub = app.add_subcommand("create", "create a container: its init waits for `orun start`");
  add_create_flags(sub, opt);
  sub->add_option("id", id, "container id")->required();
  sub->callback([&cli] {
    cli.needs_sealed_exe = true;
    cli.action = [&cli]() -> Result<int> {
      TRY(container::create(cli.globals, id, opt));
      return 0;
    };
  });
}

}  // namespace orun::cli
