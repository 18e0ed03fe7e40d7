#include "safe_path.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <deque>
#include <vector>

#include "base/strings.hpp"

namespace orun::linux {
namespace {

constexpr int kMaxSymlinks = 255;  // the kernel's own limit is 40 per lookup; this is per path

std::string rel_of(const std::vector<std::string>& parts) {
  return parts.empty() ? std::string(".") : join(parts, "/");
}

void push_front_components(std::deque<std::string>& todo, std::string_view path) {
  auto parts = split(path, '/');
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_front(*it);
}

}  // namespace

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Result<std::string> resolve_in_root(int root_fd, std::string_view path) {
  std::deque<std::string> todo;
  push_front_components(todo, path);
  std::vector<std::string> done;  // resolved components: each existed and was no symlink
  bool missing = false;
  int links = 0;
  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      // `done` holds no symlinks, so ".." is lexical; at the root it stays there.
      if (!done.empty()) done.pop_back();
      continue;
    }
    if (missing) {
      done.push_back(std::move(comp));
      continue;
    }
    done.push_back(comp);
    std::string rel = rel_of(done);
    char buf[PATH_MAX];
    ssize_t n = ::readlinkat(root_fd, rel.c_str(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINVAL) continue;  // exists, not a symlink
      if (errno == ENOENT || errno == ENOTDIR) {
        missing = true;  // the rest will be created (or fail) later
        continue;
      }
      return sys_error("resolving " + std::string(path) + ": readlink " + rel);
    }
    if (++links > kMaxSymlinks) return sys_error("resolving " + std::string(path), ELOOP);
    done.pop_back();
    std::string_view target(buf, static_cast<size_t>(n));
    if (!target.empty() && target.front() == '/') done.clear();
    push_front_components(todo, target);
  }
  return "/" + join(done, "/");
}

Result<Fd> open_in_root(int root_fd, std::string_view path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string p(path);
  if (p.empty()) p = "/";
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, p.c_str(), &how, sizeof how);
    if (fd >= 0) return Fd(static_cast<int>(fd));
    // EAGAIN: a rename raced the lookup; the kernel asks us to retry.
    if (errno != EAGAIN && errno != EINTR) return sys_error("open " + p);
  }
}

Result<Fd> mkdir_in_root(int root_fd, std::string_view path, mode_t mode) {
  std::string resolved = TRY(resolve_in_root(root_fd, path));
  Fd cur = TRY(open_in_root(root_fd, "/", O_PATH | O_DIRECTORY));
  std::string sofar;
  for (const auto& comp : split(resolved, '/')) {
    if (comp.empty()) continue;
    sofar += "/" + comp;
    int fd = ::openat(cur.get(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      // Created relative to the parent's fd, so a swapped-in symlink above cannot redirect it.
      if (::mkdirat(cur.get(), comp.c_str(), mode) < 0 && errno != EEXIST)
        return sys_error("mkdir " + sofar);
      fd = ::openat(cur.get(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) return sys_error("open " + sofar);
    cur.reset(fd);
  }
  return cur;
}

Result<Fd> make_target(int root_fd, std::string_view path, TargetKind kind, mode_t file_mode) {
  std::string resolved = TRY(resolve_in_root(root_fd, path));
  if (resolved == "/") return open_in_root(root_fd, "/", O_PATH);
  size_t slash = resolved.rfind('/');
  std::string parent = slash == 0 ? "/" : resolved.substr(0, slash);
  std::string name = resolved.substr(slash + 1);
  Fd dir = TRY(mkdir_in_root(root_fd, parent));
  if (kind == TargetKind::directory) {
    if (::mkdirat(dir.get(), name.c_str(), 0755) < 0 && errno != EEXIST)
      return sys_error("mkdir " + resolved);
  } else {
    int fd = ::openat(dir.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, file_mode);
    if (fd < 0 && errno != EEXIST) return sys_error("create " + resolved);
    Fd created(fd);
  }
  // Reopen through openat2 so that whatever is there now is still inside the root.
  return open_in_root(root_fd, resolved, O_PATH);
}

}  // namespace orun::linux
