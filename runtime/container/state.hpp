// A container's record under --root: <root>/<id>/state.json (written to a
// temporary file, then renamed), the config.json it was created from, and
// start.sock while it waits for `orun start`. The record is written before
// anything is made on the system ("creating"), so that `delete --force` can
// find and remove whatever a killed `orun create` left.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/fd.hpp"
#include "base/result.hpp"

namespace orun::container {

enum class Status { creating, created, running, paused, stopped };
const char* to_string(Status s);

struct State {
  std::string id;
  std::string oci_version;
  pid_t pid = 0;                 // container init, host pid; 0 until known
  uint64_t pid_start_time = 0;   // /proc/<pid>/stat starttime, guards against pid reuse
  pid_t creator_pid = 0;         // the `orun create` that wrote "creating"
  uint64_t creator_start_time = 0;
  std::string bundle;
  std::string rootfs;
  std::string created;           // RFC 3339
  std::string recorded;          // "creating" or "created" as written
  std::map<std::string, std::string> annotations;
  std::string cgroups_path;      // linux.cgroupsPath as given
  bool systemd_cgroup = false;   // created with --systemd-cgroup
  std::string systemd_unit;      // the unit owning the cgroup (systemd driver), recorded before it is started
  std::map<std::string, std::string> cgroup_paths;  // controller -> directory, for later commands and cleanup
  // start and delete must read the saved config.json: it has poststart or poststop hooks, or
  // no process. Records by an orun before this field lack it and read as true. Parsing
  // config.json was 44% of the instructions of a delete (docs/benchmarks.md).
  bool needs_config = true;
};

std::string state_dir(const std::string& root, const std::string& id);
// runc's rule: letters, digits, '_', '+', '-', '.', not "." or "..".
[[nodiscard]] Result<> check_id(const std::string& id);

[[nodiscard]] Result<State> load_state(const std::string& root, const std::string& id);
[[nodiscard]] Result<> save_state(const std::string& root, const State& st);
// The live status, from the record and the process: start.sock present means
// created; a dead or zombie init (or one whose start time changed) means stopped.
Status current_status(const std::string& root, const State& st);
// current_status(), and paused when the container's cgroup is frozen.
Status live_status(const std::string& root, const State& st);
// The OCI state document that `orun state` prints and hooks read.
std::string oci_state_json(const State& st, Status status);

// /proc/<pid>/stat field 22; 0 when the process is gone.
uint64_t process_start_time(pid_t pid);
bool process_alive(pid_t pid, uint64_t start_time);

// start.sock named through the open state directory, so that a long --root
// cannot overflow sun_path.
std::string start_socket_path(int dir_fd);

// An exclusive flock on the container's directory, held for a command's life.
[[nodiscard]] Result<Fd> lock_container(const std::string& root, const std::string& id);

}  // namespace orun::container
