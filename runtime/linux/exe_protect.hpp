// CVE-2019-5736: a container process can reach the runtime's own binary
// through /proc/<pid>/exe (e.g. a "#!/proc/self/exe" entrypoint) and, once
// the runtime exits, overwrite it on the host. Running from a sealed memfd
// copy means /proc/self/exe never names the host file while we are in reach.
#pragma once
#include "base/result.hpp"

namespace orun::linux {

// If the running binary is not already a sealed memfd, copy it into one and
// re-exec with the same argv and environment. Returns only on failure, or
// when already protected.
[[nodiscard]] Result<> ensure_sealed_exe(char** argv);

}  // namespace orun::linux
