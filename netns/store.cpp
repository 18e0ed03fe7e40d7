#include "store.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include "base/file.hpp"

namespace orch::netns {

orun::Result<NetworkLock> lock_network(const std::string& dir) {
  TRY(orun::mkdir_p(dir, 0700));
  NetworkLock l;
  l.dir_ = dir;
  l.fd_ = TRY(orun::open_fd(dir + "/lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  while (::flock(l.fd_.get(), LOCK_EX) < 0)
    if (errno != EINTR) return orun::sys_error("locking " + dir);
  return l;
}

}  // namespace orch::netns
