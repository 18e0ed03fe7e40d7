#include "cli.hpp"

namespace orun::cli {

namespace {

Result<int> exec_main(Cli& cli, const Verb& self, Args args) {
  container::ExecOptions opt;
  std::string id;
  const Option options[] = {
      {'p', "process", &opt.process_file, "process JSON file (- for stdin) instead of args and flags", "FILE"},
      {'t', "tty", &opt.tty, "allocate a pseudo-terminal"},
      {0, "console-socket", &opt.console_socket, "unix socket that receives the pty master", "PATH"},
      {0, "cwd", &opt.cwd, "working directory in the container", "DIR"},
      {'e', "env", &opt.env, "KEY=VALUE to set (repeatable)", "KEY=VALUE"},
      {'u', "user", &opt.user, "uid[:gid]", "UID[:GID]"},
      {'g', "additional-gids", &opt.additional_gids, "additional gid (repeatable)", "GID"},
      {'c', "cap", &opt.caps, "add a capability (repeatable)", "CAP"},
      {0, "no-new-privs", &opt.no_new_privs, "set no_new_privs"},
      {0, "apparmor", &opt.apparmor, "AppArmor profile", "PROFILE"},
      {0, "process-label", &opt.process_label, "SELinux label", "LABEL"},
      {'d', "detach", &opt.detach, "return once the process runs"},
      {0, "pid-file", &opt.pid_file, "write the process's host pid here", "FILE"},
      {0, "preserve-fds", &opt.preserve_fds, "pass this many fds after stdio to the process", "N"},
      {0, "ignore-paused", &opt.ignore_paused, "exec even if the container is paused"},
  };
  const Positional positionals[] = {{"ID", &id, "container id"}};
  // As runc's: the words after the id are the command, dashes included.
  if (!TRY(parse_verb(self,
                      {.options = options,
                       .positionals = positionals,
                       .rest = &opt.args,
                       .rest_name = "COMMAND",
                       .rest_help = "command and arguments",
                       .options_first = true},
                      args)))
    return 0;
  TRY(cli.seal());
  return container::exec(cli.globals, id, opt);
}

}  // namespace

const Verb kExec{"exec", "run a new process inside a container", exec_main};

}  // namespace orun::cli
