#include "cli.hpp"

namespace orun::cli {

std::array<Option, kCreateOptionCount> create_options(container::CreateOptions& opt) {
  return {{
      {'b', "bundle", &opt.bundle, "path to the bundle directory", "DIR"},
      {0, "pid-file", &opt.pid_file, "write the container init's host pid here", "FILE"},
      {0, "console-socket", &opt.console_socket, "unix socket that receives the pty master", "PATH"},
      {0, "no-pivot", &opt.no_pivot, "use MS_MOVE and chroot instead of pivot_root (less safe)"},
      {0, "no-new-keyring", &opt.no_new_keyring, "keep the caller's session keyring"},
      {0, "preserve-fds", &opt.preserve_fds, "pass this many fds after stdio (3, 4, ...) to the container", "N"},
  }};
}

namespace {

Result<int> create_main(Cli& cli, const Verb& self, Args args) {
  container::CreateOptions opt;
  std::string id;
  auto options = create_options(opt);
  const Positional positionals[] = {{"ID", &id, "container id"}};
  if (!TRY(parse_verb(self, {.options = options, .positionals = positionals}, args))) return 0;
  TRY(cli.seal());
  TRY(container::create(cli.globals, id, opt));
  return 0;
}

}  // namespace

const Verb kCreate{"create", "create a container: its init waits for `orun start`", create_main};

}  // namespace orun::cli
