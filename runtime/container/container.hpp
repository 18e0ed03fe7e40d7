// liborun's verbs: one function per `orun` command. The CLI parses flags and
// calls exactly one of these; orch-shim and orchd link them too.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.hpp"
#include "base/result.hpp"
#include "container/state.hpp"
#include "spec/config.hpp"

namespace orun::container {

struct Globals {
  std::string root = "/run/orun";
  bool systemd_cgroup = false;
  // Where warnings go (failed poststart and poststop hooks): the CLI's log.
  std::function<void(const std::string&)> warn = [](const std::string&) {};
};

struct CreateOptions {
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  // Set by run: keep the pty master here instead of sending it to a socket.
  Fd* console_master = nullptr;
};

struct Created {
  pid_t pid = 0;
  // What `run` needs for its start and delete, which would otherwise read back state.json and
  // the saved config.json.
  State state;
  std::optional<spec::Hooks> hooks;
  bool has_process = false;
};

[[nodiscard]] Result<Created> create(const Globals& g, const std::string& id, const CreateOptions& opt);
[[nodiscard]] Result<> start(const Globals& g, const std::string& id);
[[nodiscard]] Result<std::string> state(const Globals& g, const std::string& id);
[[nodiscard]] Result<> kill(const Globals& g, const std::string& id, int sig, bool all);
[[nodiscard]] Result<> remove(const Globals& g, const std::string& id, bool force);

struct ListEntry {
  State state;
  Status status;
};
[[nodiscard]] Result<std::vector<ListEntry>> list(const Globals& g);

struct RunOptions {
  CreateOptions create;
  bool detach = false;
  bool keep = false;
};
// create + start; unless detached, wait and return the container's exit
// status (128+signal when killed), then delete unless keep.
[[nodiscard]] Result<int> run(const Globals& g, const std::string& id, RunOptions opt);

struct ExecOptions {
  std::string process_file;         // --process: a process JSON (overrides everything below)
  std::vector<std::string> args;
  bool tty = false;
  std::string console_socket;
  std::string cwd;
  std::vector<std::string> env;     // KEY=VALUE, replacing the config's value of KEY
  std::string user;                 // uid[:gid]
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> caps;    // added to the bounding, effective and permitted sets
  bool no_new_privs = false;
  std::string apparmor;
  std::string process_label;
  bool detach = false;
  std::string pid_file;
  int preserve_fds = 0;
  bool ignore_paused = false;
};
// Run a new process in a created or running container; unless detached, wait
// and return its exit status (128+signal when killed).
[[nodiscard]] Result<int> exec(const Globals& g, const std::string& id, const ExecOptions& opt);

struct UpdateOptions {
  std::string resources;  // --resources: a linux.resources JSON file, "-" for stdin; the flags are then ignored
  std::map<std::string, std::string> flags;  // runc's flags by name ("memory" -> "512m"), as given
};
// Change the limits of a created, running or paused container: only the given
// fields; device rules never (as runc). The saved config.json gets the new values.
[[nodiscard]] Result<> update(const Globals& g, const std::string& id, const UpdateOptions& opt);

// Freeze a running (or created) container; thaw a paused one.
[[nodiscard]] Result<> pause(const Globals& g, const std::string& id);
[[nodiscard]] Result<> resume(const Globals& g, const std::string& id);

enum class PsFormat { table, json };
// json: "[pid,...]" of every process in the container's cgroups (host pids);
// table: the host's `ps ps_args` (default -ef), header and the container's lines.
[[nodiscard]] Result<std::string> ps(const Globals& g, const std::string& id, PsFormat format,
                                     const std::vector<std::string>& ps_args);

struct EventsOptions {
  bool stats_once = false;  // --stats: one stats event, then return
  std::chrono::nanoseconds interval = std::chrono::seconds(5);
};
// runc's event stream, one JSON object per emit(): stats every interval and
// an "oom" event per OOM in the container's memory cgroup, until its init exits.
[[nodiscard]] Result<> events(const Globals& g, const std::string& id, const EventsOptions& opt,
                              const std::function<void(const std::string&)>& emit);

}  // namespace orun::container
