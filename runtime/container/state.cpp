#include "state.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/file.hpp"
#include "base/json.hpp"
#include "base/strings.hpp"
#include "spec/parse.hpp"

namespace orun::container {

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

// A JSON object written member by member: on one line (state.json), or with indent > 0 one
// member per line, as `orun state` prints it.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out, int indent = 0, int level = 0) : out_(out), indent_(indent), level_(level) {
    out_ += '{';
  }
  ObjectWriter& key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    newline(level_ + 1);
    json::append_quoted(out_, k);
    out_ += indent_ ? ": " : ":";
    return *this;
  }
  ObjectWriter& add(std::string_view k, std::string_view v) {
    key(k);
    json::append_quoted(out_, v);
    return *this;
  }
  ObjectWriter& add(std::string_view k, std::integral auto v) {
    key(k);
    if constexpr (std::is_same_v<decltype(v), bool>) out_ += v ? "true" : "false";
    else out_ += std::to_string(v);
    return *this;
  }
  ObjectWriter& add(std::string_view k, const std::map<std::string, std::string>& m) {
    key(k);
    ObjectWriter inner(out_, indent_, level_ + 1);
    for (const auto& [mk, mv] : m) inner.add(mk, mv);
    inner.close();
    return *this;
  }
  void close() {
    if (!first_) newline(level_);
    out_ += '}';
  }

 private:
  void newline(int level) {
    if (indent_) out_ += '\n' + std::string(static_cast<size_t>(indent_ * level), ' ');
  }
  std::string& out_;
  int indent_, level_;
  bool first_ = true;
};

std::string string_member(const json::Value& doc, std::string_view key, std::string_view otherwise = {}) {
  const json::Value* v = doc.find(key);
  return v && v->is_string() ? v->string : std::string(otherwise);
}

bool bool_member(const json::Value& doc, std::string_view key, bool otherwise) {
  const json::Value* v = doc.find(key);
  return v && v->type == json::Value::Type::boolean ? v->boolean : otherwise;
}

uint64_t uint_member(const json::Value& doc, std::string_view key) {
  const json::Value* v = doc.find(key);
  return v && v->type == json::Value::Type::unsigned_integer ? v->unsigned_integer : 0;
}

pid_t pid_member(const json::Value& doc, std::string_view key) {
  const json::Value* v = doc.find(key);
  if (!v) return 0;
  if (v->type == json::Value::Type::unsigned_integer && v->unsigned_integer <= INT32_MAX)
    return static_cast<pid_t>(v->unsigned_integer);
  if (v->type == json::Value::Type::integer && v->integer >= INT32_MIN) return static_cast<pid_t>(v->integer);
  return 0;
}

std::map<std::string, std::string> map_member(const json::Value& doc, std::string_view key) {
  std::map<std::string, std::string> out;
  const json::Value* v = doc.find(key);
  if (!v || !v->is_object()) return out;
  for (const json::Member& m : v->object)
    if (m.value.is_string()) out.insert_or_assign(m.key, m.value.string);
  return out;
}

}  // namespace

Result<State> load_state(const std::string& root, const std::string& id) {
  TRY(check_id(id));
  std::string path = state_dir(root, id) + "/state.json";
  auto text = read_file(path);
  if (!text) {
    if (text.error().code == ENOENT) return fail("container \"" + id + "\" does not exist", ENOENT);
    return std::unexpected(text.error());
  }
  auto doc = json::parse(*text);
  if (!doc || !doc->is_object()) return fail(path + ": corrupt state file", EIO);
  // A missing member, or one of another type, leaves the default.
  State st;
  st.id = id;
  st.oci_version = string_member(*doc, "ociVersion");
  st.pid = pid_member(*doc, "pid");
  st.pid_start_time = uint_member(*doc, "pidStartTime");
  st.creator_pid = pid_member(*doc, "creatorPid");
  st.creator_start_time = uint_member(*doc, "creatorStartTime");
  st.bundle = string_member(*doc, "bundle");
  st.rootfs = string_member(*doc, "rootfs");
  st.created = string_member(*doc, "created");
  st.recorded = string_member(*doc, "status", "creating");
  st.annotations = map_member(*doc, "annotations");
  st.cgroups_path = string_member(*doc, "cgroupsPath");
  st.systemd_cgroup = bool_member(*doc, "systemdCgroup", false);
  st.systemd_unit = string_member(*doc, "systemdUnit");
  st.needs_config = bool_member(*doc, "needsConfig", true);
  st.cgroup_paths = map_member(*doc, "cgroupPaths");
  return st;
}

Result<> save_state(const std::string& root, const State& st) {
  std::string text;
  ObjectWriter(text)
      .add("ociVersion", st.oci_version)
      .add("id", st.id)
      .add("pid", st.pid)
      .add("pidStartTime", st.pid_start_time)
      .add("creatorPid", st.creator_pid)
      .add("creatorStartTime", st.creator_start_time)
      .add("bundle", st.bundle)
      .add("rootfs", st.rootfs)
      .add("created", st.created)
      .add("status", st.recorded)
      .add("annotations", st.annotations)
      .add("cgroupsPath", st.cgroups_path)
      .add("systemdCgroup", st.systemd_cgroup)
      .add("systemdUnit", st.systemd_unit)
      .add("needsConfig", st.needs_config)
      .add("cgroupPaths", st.cgroup_paths)
      .close();
  return write_file_atomic(state_dir(root, st.id) + "/state.json", text, 0600);
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

// runc's member order; annotations only when there are some.
std::string oci_state_json(const State& st, Status status) {
  std::string text;
  ObjectWriter w(text, 2);
  w.add("ociVersion", st.oci_version)
      .add("id", st.id)
      .add("pid", status == Status::stopped ? 0 : st.pid)
      .add("status", std::string_view(to_string(status)))
      .add("bundle", st.bundle)
      .add("rootfs", st.rootfs)
      .add("created", st.created);
  if (!st.annotations.empty()) w.add("annotations", st.annotations);
  w.add("owner", std::string_view());
  w.close();
  return text;
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
