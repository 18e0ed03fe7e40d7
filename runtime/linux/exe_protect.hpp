// CVE-2019-5736: a container process can reach the runtime's own binary
// through /proc/<pid>/exe (e.g. a "#!/proc/self/exe" entrypoint) and, once
// the runtime exits, overwrite it on the host. So the orun that sets up a
// container re-executes itself from a copy the container cannot write:
// a read-only, detached clone of the binary's mount (no data copied), or,
// where cloning mounts is not allowed, a sealed memfd copy of the binary.
#pragma once
#include "base/result.hpp"

namespace orun::linux {

// If the running binary is not already protected (our own read-only
// detached mount clone, or a sealed memfd), re-exec with the same argv and
// environment from such a copy. Returns only on failure, or when already
// protected.
[[nodiscard]] Result<> ensure_sealed_exe(char** argv);

}  // namespace orun::linux
