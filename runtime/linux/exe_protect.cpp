#include "exe_protect.hpp"

#include <fcntl.h>
#include <linux/memfd.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/fd.hpp"

extern char** environ;

namespace orun::linux {
namespace {

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

bool on_readonly_mount(int fd) {
  struct statvfs sf;
  return ::fstatvfs(fd, &sf) == 0 && (sf.f_flag & ST_RDONLY);
}

Result<> reexec_from_memfd(int self, char** argv) {
  Fd mem(::memfd_create("orun", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem) return sys_error("memfd_create");
  struct stat st;
  if (::fstat(self, &st) < 0) return sys_error("stat /proc/self/exe");
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::sendfile(mem.get(), self, nullptr, static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error("copy /proc/self/exe");
    left -= n;
  }
  if (::fcntl(mem.get(), F_ADD_SEALS, kSeals) < 0) return sys_error("seal memfd");
  ::fexecve(mem.get(), argv, environ);
  return sys_error("re-exec from sealed copy");
}

}  // namespace

Result<> ensure_sealed_exe(char** argv) {
  const bool cloned = ::getenv(kClonedExeVar) != nullptr;
  if (cloned) ::unsetenv(kClonedExeVar);
  Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return sys_error("open /proc/self/exe");
  int seals = ::fcntl(self.get(), F_GET_SEALS);
  if (seals >= 0 && (seals & kSeals) == kSeals) return {};
  if (cloned) {
    // A read-only mount alone is not enough: a host mount that is read-only today (a read-only
    // /usr) can be remounted read-write later, while a container still holds /proc/<pid>/exe of
    // it. The variable says the entry made this one: a detached clone nobody can remount.
    if (on_readonly_mount(self.get())) return {};
    return fail("re-exec from read-only clone: /proc/self/exe is not on a read-only mount", EROFS);
  }
  // The entry could not clone the mount: rootless (no CAP_SYS_ADMIN over the mount namespace),
  // a kernel before 5.12 (mount_setattr), or a binary outside our mount namespace.
  return reexec_from_memfd(self.get(), argv);
}

}  // namespace orun::linux
