#include "exe_protect.hpp"

#include <fcntl.h>
#include <linux/memfd.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/fd.hpp"

extern char** environ;

namespace orun::linux {
namespace {

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
// Set only for the re-exec from our mount clone, and unset again first thing
// after it, so it never reaches hooks or the container. A read-only mount
// alone is not enough: a host mount that is read-only today (a read-only
// /usr) can be remounted read-write later, while a container still holds
// /proc/<pid>/exe of it; our clone is detached and can never be remounted.
constexpr const char* kClonedEnv = "_ORUN_CLONED_EXE";

bool on_readonly_mount(int fd) {
  struct statvfs sf;
  return ::fstatvfs(fd, &sf) == 0 && (sf.f_flag & ST_RDONLY);
}

// A clone of the mount holding /proc/self/exe, never attached anywhere (no
// mount event in the host namespace, nothing to clean up), made read-only.
// Once the O_CLOEXEC tree fd closes at exec, the clone is dissolved: nothing
// can remount it, and a write through /proc/<pid>/exe fails with EROFS. runc
// 1.1 got the same with a bind mount it attached and detached again; this
// costs no mount-table change and no copy of the 2 MB binary.
Result<> reexec_from_mount_clone(char** argv) {
  Fd tree(::open_tree(AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (!tree) return sys_error("open_tree /proc/self/exe");
  struct mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) return sys_error("mount_setattr");
  if (::setenv(kClonedEnv, "1", 1) < 0) return sys_error("setenv");
  ::execveat(tree.get(), "", argv, environ, AT_EMPTY_PATH);
  int err = errno;
  ::unsetenv(kClonedEnv);
  return sys_error("re-exec from read-only clone", err);
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
  const bool cloned = ::getenv(kClonedEnv) != nullptr;
  if (cloned) ::unsetenv(kClonedEnv);
  Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return sys_error("open /proc/self/exe");
  int seals = ::fcntl(self.get(), F_GET_SEALS);
  if (seals >= 0 && (seals & kSeals) == kSeals) return {};
  if (cloned) {
    if (on_readonly_mount(self.get())) return {};
    // Never loop: the clone we made must be read-only.
    return fail("re-exec from read-only clone: /proc/self/exe is not on a read-only mount", EROFS);
  }

  // Without CAP_SYS_ADMIN over the mount namespace (rootless), or on a
  // kernel before 5.12 (mount_setattr), fall back to the copy.
  auto r = reexec_from_mount_clone(argv);
  if (r.error().code != EPERM && r.error().code != ENOSYS && r.error().code != EINVAL) return r;
  return reexec_from_memfd(self.get(), argv);
}

}  // namespace orun::linux
