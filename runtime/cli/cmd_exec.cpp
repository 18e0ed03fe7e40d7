#include "cli.hpp"

namespace orun::cli {

void add_exec(CLI::App& app, Cli& cli) {
  static container::ExecOptions opt;
  static std::string id;
  static std::vector<std::string> args;
  auto* sub = app.add_subcommand("exec", "run a new process inside a container");
  sub->add_option("-p,--process", opt.process_file, "process JSON file (- for stdin) instead of args and flags");
  sub->add_flag("-t,--tty", opt.tty, "allocate a pseudo-terminal");
  sub->add_option("--console-socket", opt.console_socket, "unix socket that receives the pty master");
  sub->add_option("--cwd", opt.cwd, "working directory in the container");
  // One value per occurrence, as runc's: a vector option would swallow the id and command after it.
  sub->add_option("-e,--env", opt.env, "KEY=VALUE to set (repeatable)")->allow_extra_args(false);
  sub->add_option("-u,--user", opt.user, "uid[:gid]");
  sub->add_option("-g,--additional-gids", opt.additional_gids, "additional gid (repeatable)")->allow_extra_args(false);
  sub->add_option("-c,--cap", opt.caps, "add a capability (repeatable)")->allow_extra_args(false);
  sub->add_flag("--no-new-privs", opt.no_new_privs, "set no_new_privs");
  sub->add_option("--apparmor", opt.apparmor, "AppArmor profile");
  sub->add_option("--process-label", opt.process_label, "SELinux label");
  sub->add_flag("-d,--detach", opt.detach, "return once the process runs");
  sub->add_option("--pid-file", opt.pid_file, "write the process's host pid here");
  sub->add_option("--preserve-fds", opt.preserve_fds, "pass this many fds after stdio to the process");
  sub->add_flag("--ignore-paused", opt.ignore_paused, "exec even if the container is paused");
  sub->add_option("id", id, "container id")->required();
  sub->add_option("command", args, "command and arguments");
  sub->positionals_at_end();
  sub->callback([&cli] {
    cli.needs_sealed_exe = true;
    cli.action = [&cli] {
      opt.args = args;
      return container::exec(cli.globals, id, opt);
    };
  });
}

}  // namespace orun::cli
