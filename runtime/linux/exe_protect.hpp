// CVE-2019-5736: a container process can reach the runtime's own binary
// through /proc/<pid>/exe (e.g. a "#!/proc/self/exe" entrypoint) and, once
// the runtime exits, overwrite it on the host. So the orun that sets up a
// container re-executes itself from a copy the container cannot write:
// a read-only, detached clone of the binary's mount (no data copied), made
// by orun's entry before glibc starts (cli/entry.cpp), or, where cloning
// mounts is not allowed, a sealed memfd copy of the binary, made here.
#pragma once
#include <string_view>

#include "base/result.hpp"

namespace orun::linux {

// orun's entry (cli/entry.cpp) adds this to the environment of its re-exec from the mount clone;
// ensure_sealed_exe() removes it first thing, so it reaches neither hooks nor the container.
inline constexpr char kClonedExeVar[] = "_ORUN_CLONED_EXE";
inline constexpr char kClonedExeEnv[] = "_ORUN_CLONED_EXE=1";
static_assert(std::string_view(kClonedExeEnv).starts_with(kClonedExeVar) && kClonedExeEnv[sizeof kClonedExeVar - 1] == '=',
              "the entry's assignment must set the variable ensure_sealed_exe() looks for");

// If the running binary is not already protected (the entry's read-only
// detached mount clone, or a sealed memfd), re-exec with the same argv and
// environment from a sealed memfd copy. Returns only on failure, or when
// already protected.
[[nodiscard]] Result<> ensure_sealed_exe(char** argv);

}  // namespace orun::linux
