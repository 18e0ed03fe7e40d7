#include "cgroups/oom.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "base/file.hpp"
#include "cgroups/cgfs.hpp"
#include "cgroups/stats.hpp"

namespace orun::cgroups {

namespace {

Result<uint64_t> oom_kill_count(const std::string& dir) {
  return parse_keyed(TRY(read_value(dir, "memory.events")))["oom_kill"];
}

}  // namespace

Result<OomWatch> OomWatch::open(const std::map<std::string, std::string>& paths) {
  OomWatch w;
  if (auto it = paths.find("memory"); it != paths.end()) {
    w.dir_ = it->second;
    w.oom_control_ = TRY(open_fd(w.dir_ + "/memory.oom_control", O_RDONLY));
    int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) return sys_error("eventfd");
    w.fd_.reset(efd);
    TRYC(write_value(w.dir_, "cgroup.event_control",
                     std::to_string(efd) + " " + std::to_string(w.oom_control_.get())),
         "registering for OOM notifications");
    return w;
  }
  auto it = paths.find("");
  if (it == paths.end() || !has_file(it->second, "memory.events"))
    return fail("OOM notifications: the memory cgroup controller is not available", ENOTSUP);
  w.v2_ = true;
  w.dir_ = it->second;
  int ifd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (ifd < 0) return sys_error("inotify_init1");
  w.fd_.reset(ifd);
  std::string events = w.dir_ + "/memory.events";
  if (::inotify_add_watch(ifd, events.c_str(), IN_MODIFY) < 0) return sys_error("inotify_add_watch " + events);
  // Count only the kills from now on.
  w.oom_kills_ = TRY(oom_kill_count(w.dir_));
  return w;
}

Result<uint64_t> OomWatch::consume() {
  if (!v2_) {
    uint64_t n = 0;
    if (::read(fd_.get(), &n, sizeof n) != static_cast<ssize_t>(sizeof n)) {
      if (errno == EAGAIN) return 0;
      return sys_error("read the OOM eventfd");
    }
    // The kernel also signals the eventfd when the cgroup is removed.
    if (!has_file(dir_, "cgroup.event_control")) return 0;
    return n;
  }
  char buf[4096];
  while (::read(fd_.get(), buf, sizeof buf) > 0) {
  }
  auto now = oom_kill_count(dir_);
  if (!now) return has_file(dir_, "memory.events") ? std::unexpected(now.error()) : Result<uint64_t>(0);
  uint64_t n = *now > oom_kills_ ? *now - oom_kills_ : 0;
  oom_kills_ = *now;
  return n;
}

}  // namespace orun::cgroups
