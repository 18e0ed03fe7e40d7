#include "file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

namespace orun {

Result<Fd> open_fd(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return sys_error("open " + path);
  return Fd(fd);
}

Result<std::string> read_fd(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read");
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> read_file(const std::string& path) {
  Fd fd = TRY(open_fd(path, O_RDONLY));
  return TRYC(read_fd(fd.get()), path);
}

Result<> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<> write_file(const std::string& path, std::string_view data, mode_t mode) {
  Fd fd = TRY(open_fd(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  TRYC(write_all(fd.get(), data), path);
  return {};
}

Result<> write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp";
  {
    Fd fd = TRY(open_fd(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    TRYC(write_all(fd.get(), data), tmp);
  }
  // Over an existing file, exchange the two and unlink the old one rather than rename over it:
  // ext4 flushes a file renamed over another (auto_da_alloc) and, mounted with discard, trims the
  // replaced file's blocks then and there, 1.5 ms per rename on this host. Unlinked after the
  // exchange, the old file goes before its delayed blocks were ever allocated. Readers see the old
  // or the new file whole, either way.
  // (Only with a regular file: exchanged, a directory would move to tmp.)
  struct stat old;
  if (::lstat(path.c_str(), &old) == 0 && S_ISREG(old.st_mode) &&
      ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0) {
    ::unlink(tmp.c_str());
    return {};
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {  // no file yet, or no RENAME_EXCHANGE here
    int err = errno;
    ::unlink(tmp.c_str());
    return sys_error("rename " + tmp, err);
  }
  return {};
}

Result<> mkdir_p(const std::string& path, mode_t mode) {
  if (path.empty()) return {};
  size_t pos = 0;
  do {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), mode) < 0 && errno != EEXIST) return sys_error("mkdir " + part);
  } while (pos != std::string::npos);
  return {};
}

static Result<> remove_at(int dirfd, const char* name, dev_t dev) {
  struct stat st;
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return {};
    return sys_error(std::string("stat ") + name);
  }
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != dev) return fail(std::string("refusing to remove across a mount: ") + name, EXDEV);
    int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return sys_error(std::string("open ") + name);
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
      ::close(fd);
      return sys_error("fdopendir");
    }
    Result<> r;
    while (struct dirent* e = ::readdir(dir)) {
      std::string_view n = e->d_name;
      if (n == "." || n == "..") continue;
      r = remove_at(fd, e->d_name, dev);
      if (!r) break;
    }
    ::closedir(dir);
    if (!r) return r;
    if (::unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) return sys_error(std::string("rmdir ") + name);
    return {};
  }
  if (::unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) return sys_error(std::string("unlink ") + name);
  return {};
}

Result<> remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return {};
    return sys_error("stat " + path);
  }
  TRYC(remove_at(AT_FDCWD, path.c_str(), st.st_dev), path);
  return {};
}

bool path_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace orun
