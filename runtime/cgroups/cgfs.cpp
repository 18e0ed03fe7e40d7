#include "cgroups/cgfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "base/fd.hpp"
#include "base/file.hpp"
#include "base/strings.hpp"

namespace orun::cgroups {

Result<> write_value(const std::string& dir, const std::string& file, std::string_view value) {
  std::string path = dir + "/" + file;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("write " + path);
  Fd owned(fd);
  // cgroupfs parses each write(2) as one value: never split it.
  for (;;) {
    ssize_t n = ::write(fd, value.data(), value.size());
    if (n >= 0) break;
    if (errno != EINTR) return sys_error("write " + path);
  }
  return {};
}

Result<std::string> read_value(const std::string& dir, const std::string& file) {
  std::string path = dir + "/" + file;
  Fd fd = TRY(open_fd(path, O_RDONLY));
  std::string s = TRYC(read_fd(fd.get()), "read " + path);
  return std::string(trim(s));
}

bool has_file(const std::string& dir, const std::string& file) { return path_exists(dir + "/" + file); }

Result<std::vector<std::string>> make_dirs(const std::string& mount_point, const std::string& dir) {
  std::vector<std::string> made;
  if (!dir.starts_with(mount_point)) return fail(dir + " is not below " + mount_point);
  std::string cur = mount_point;
  for (auto& part : split(std::string_view(dir).substr(mount_point.size()), '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    if (::mkdir(cur.c_str(), 0755) == 0) {
      made.push_back(cur);
      continue;
    }
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(cur.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
    return sys_error("mkdir " + cur, err);
  }
  return made;
}

namespace {

// Sub-directory names of dir (cgroup children); empty when dir is gone.
Result<std::vector<std::string>> children_of(const std::string& dir) {
  std::vector<std::string> out;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return out;
    return sys_error("open " + dir);
  }
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int err = errno;
    ::close(fd);
    return sys_error("open " + dir, err);
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    if (e->d_type == DT_DIR) out.emplace_back(n);
  }
  ::closedir(d);
  return out;
}

Result<> rmdir_tree(const std::string& dir, std::chrono::steady_clock::time_point deadline) {
  for (auto& child : TRY(children_of(dir))) TRY(rmdir_tree(dir + "/" + child, deadline));
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    // A cgroup stays busy for a moment after its last process exits.
    if (errno != EBUSY || std::chrono::steady_clock::now() >= deadline) return sys_error("rmdir " + dir);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace

Result<> remove_dirs(const std::string& dir, std::chrono::milliseconds timeout) {
  return rmdir_tree(dir, std::chrono::steady_clock::now() + timeout);
}

bool remove_if_empty(const std::string& dir) { return ::rmdir(dir.c_str()) == 0 || errno == ENOENT; }

Result<> collect_pids(const std::string& dir, std::vector<pid_t>& out) {
  std::string path = dir + "/cgroup.procs";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return {};  // removed meanwhile, or never made
    return sys_error("read " + path);
  }
  Fd owned(fd);
  auto text = read_fd(fd);
  if (!text) {
    // Removed between the open and the read: the systemd driver's scope, which systemd removes
    // as soon as the killed processes leave it. Nothing is left in it.
    if (text.error().code == ENODEV) return {};
    return std::unexpected(std::move(text).error().context("read " + path));
  }
  for (auto& line : split(*text, '\n')) {
    if (auto pid = parse_int(trim(line)); pid && *pid > 0) out.push_back(static_cast<pid_t>(*pid));
  }
  for (auto& child : TRY(children_of(dir))) TRY(collect_pids(dir + "/" + child, out));
  return {};
}

Result<bool> wait_until(const std::function<Result<bool>()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    if (TRY(done())) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
}

}  // namespace orun::cgroups
