#include "state.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/file.hpp"
#include "base/strings.hpp"
#include "spec/parse.hpp"

namespace orun::container {

using nlohmann::json;

const char* to_string(Status s) {
  switch (s) {
    case Status::creating: return "creating";
    case Status::created: return "created";
    case Status::running: return "running";
    case Status::paused: return "paused";
    case Status::stopped: return "stopped";
  }
  return "unknown";
}

std::string state_dir(const std::string& root, const std::string& id) { return root + "/" + id; }

Result<> check_id(const std::string& id) {
  if (id.empty()) return fail("container id must not be empty");
  if (id.size() > 1024) return fail("invalid container id: longer than 1024 bytes");
  // Quoted and escaped: an id with a newline must not split the one-line error.
  if (id == "." || id == "..") return fail("invalid container id " + spec::quote(id));
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '+' || c == '-' || c == '.';
    if (!ok) return fail("invalid container id " + spec::quote(id) + ": only letters, digits, '_', '+', '-' and '.' are allowed");
  }
  return {};
}

uint64_t process_start_time(pid_t pid) {
  auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return 0;
  // comm may hold spaces and ')': fields start after the last ')'.
  size_t close = text->rfind(')');
  if (close == std::string::npos) return 0;
  auto fields = split(std::string_view(*text).substr(close + 2), ' ');
  // fields[0] is field 3 (state); starttime is field 22.
  if (fields.size() < 20 || fields[0] == "Z" || fields[0] == "X") return 0;
  return parse_uint(fields[19]).value_or(0);
}

bool process_alive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  uint64_t now = process_start_time(pid);
  return now != 0 && (start_time == 0 || now == start_time);
}

namespace {

// state.json read as a stream of parser events into State, not into a json tree: every
// command but create starts here, and building the tree (a std::map per object, a node and
// a string per value) was two thirds of load_state's instructions (docs/benchmarks.md).
// Like json::value() before, a missing key or one of another type leaves the default.
class StateReader {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit StateReader(State& st) : st_(st) {}
  bool top_is_object() const { return top_is_object_; }

  bool null() { return first_value(); }
  bool boolean(bool v) {
    if (!first_value()) return false;
    if (depth_ == 1 && key_ == "systemdCgroup") st_.systemd_cgroup = v;
    if (depth_ == 1 && key_ == "needsConfig") st_.needs_config = v;
    return true;
  }
  bool number_integer(number_integer_t v) {
    if (!first_value()) return false;
    if (depth_ == 1 && v >= INT32_MIN && v <= INT32_MAX) set_pid(static_cast<pid_t>(v));
    return true;
  }
  bool number_unsigned(number_unsigned_t v) {
    if (!first_value()) return false;
    if (depth_ != 1) return true;
    if (key_ == "pidStartTime") st_.pid_start_time = v;
    else if (key_ == "creatorStartTime") st_.creator_start_time = v;
    else if (v <= INT32_MAX) set_pid(static_cast<pid_t>(v));
    return true;
  }
  bool number_float(number_float_t, const string_t&) { return first_value(); }
  bool binary(binary_t&) { return first_value(); }
  bool string(string_t& v) {
    if (!first_value()) return false;
    if (depth_ == 2 && in_map_) {
      (*in_map_)[key2_] = std::move(v);
    } else if (depth_ == 1) {
      if (key_ == "ociVersion") st_.oci_version = std::move(v);
      else if (key_ == "bundle") st_.bundle = std::move(v);
      else if (key_ == "rootfs") st_.rootfs = std::move(v);
      else if (key_ == "created") st_.created = std::move(v);
      else if (key_ == "status") st_.recorded = std::move(v);
      else if (key_ == "cgroupsPath") st_.cgroups_path = std::move(v);
      else if (key_ == "systemdUnit") st_.systemd_unit = std::move(v);
    }
    return true;
  }
  bool start_object(std::size_t) {
    if (depth_ == 0) top_is_object_ = true;
    if (depth_ == 1) {
      if (key_ == "annotations") in_map_ = &st_.annotations;
      else if (key_ == "cgroupPaths") in_map_ = &st_.cgroup_paths;
    }
    ++depth_;
    return true;
  }
  bool end_object() {
    if (--depth_ == 1) in_map_ = nullptr;
    return true;
  }
  bool start_array(std::size_t) {
    if (!first_value()) return false;
    ++depth_;
    return true;
  }
  bool end_array() {
    --depth_;
    return true;
  }
  bool key(string_t& k) {
    if (depth_ == 1) key_ = std::move(k);
    else if (depth_ == 2) key2_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

 private:
  // A document that is not an object stops at its first value.
  bool first_value() const { return depth_ > 0; }
  void set_pid(pid_t v) {
    if (key_ == "pid") st_.pid = v;
    else if (key_ == "creatorPid") st_.creator_pid = v;
  }

  State& st_;
  int depth_ = 0;
  bool top_is_object_ = false;
  std::string key_, key2_;
  std::map<std::string, std::string>* in_map_ = nullptr;
};

}  // namespace

Result<State> load_state(const std::string& root, const std::string& id) {
  TRY(check_id(id));
  std::string path = state_dir(root, id) + "/state.json";
  auto text = read_file(path);
  if (!text) {
    if (text.error().code == ENOENT) return fail("container \"" + id + "\" does not exist", ENOENT);
    return std::unexpected(text.error());
  }
  State st;
  st.recorded = "creating";
  StateReader reader(st);
  if (!json::sax_parse(*text, &reader) || !reader.top_is_object()) return fail(path + ": corrupt state file", EIO);
  st.id = id;
  return st;
}

Result<> save_state(const std::string& root, const State& st) {
  json j = {{"ociVersion", st.oci_version},
            {"id", st.id},
            {"pid", st.pid},
            {"pidStartTime", st.pid_start_time},
            {"creatorPid", st.creator_pid},
            {"creatorStartTime", st.creator_start_time},
            {"bundle", st.bundle},
            {"rootfs", st.rootfs},
            {"created", st.created},
            {"status", st.recorded},
            {"annotations", st.annotations},
            {"cgroupsPath", st.cgroups_path},
            {"systemdCgroup", st.systemd_cgroup},
            {"systemdUnit", st.systemd_unit},
            {"needsConfig", st.needs_config},
            {"cgroupPaths", st.cgroup_paths}};
  return write_file_atomic(state_dir(root, st.id) + "/state.json", j.dump(), 0600);
}

Status current_status(const std::string& root, const State& st) {
  if (st.recorded == "creating") {
    // Still being made, unless the creator died: then it is debris to delete.
    return process_alive(st.creator_pid, st.creator_start_time) ? Status::creating : Status::stopped;
  }
  if (!process_alive(st.pid, st.pid_start_time)) return Status::stopped;
  if (path_exists(state_dir(root, st.id) + "/start.sock")) return Status::created;
  return Status::running;
}

std::string oci_state_json(const State& st, Status status) {
  json j = {{"ociVersion", st.oci_version},
            {"id", st.id},
            {"status", to_string(status)},
            {"pid", status == Status::stopped ? 0 : st.pid},
            {"bundle", st.bundle},
            {"rootfs", st.rootfs},
            {"created", st.created},
            {"owner", ""}};
  if (!st.annotations.empty()) j["annotations"] = st.annotations;
  return j.dump(2);
}

std::string start_socket_path(int dir_fd) { return "/proc/self/fd/" + std::to_string(dir_fd) + "/start.sock"; }

Result<Fd> lock_container(const std::string& root, const std::string& id) {
  TRY(check_id(id));
  std::string dir = state_dir(root, id);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return fail("container \"" + id + "\" does not exist", ENOENT);
    return sys_error("open " + dir);
  }
  Fd owned(fd);
  while (::flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) return sys_error("lock " + dir);
  return owned;
}

}  // namespace orun::container
