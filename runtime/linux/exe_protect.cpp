#include "exe_protect.hpp"

#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd.hpp"

extern char** environ;

namespace orun::linux {

static constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

Result<> ensure_sealed_exe(char** argv) {
  Fd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return sys_error("open /proc/self/exe");
  int seals = ::fcntl(self.get(), F_GET_SEALS);
  if (seals >= 0 && (seals & kSeals) == kSeals) return {};

  Fd mem(::memfd_create("orun", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem) return sys_error("memfd_create");
  struct stat st;
  if (::fstat(self.get(), &st) < 0) return sys_error("stat /proc/self/exe");
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::sendfile(mem.get(), self.get(), nullptr, static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return sys_error("copy /proc/self/exe");
    left -= n;
  }
  if (::fcntl(mem.get(), F_ADD_SEALS, kSeals) < 0) return sys_error("seal memfd");
  ::fexecve(mem.get(), argv, environ);
  return sys_error("re-exec from sealed copy");
}

}  // namespace orun::linux
