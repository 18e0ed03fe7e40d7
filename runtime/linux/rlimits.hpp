// process.rlimits: names resolved in the parent, setrlimit/prlimit in the child.
// Apply them before the uid switch: raising a hard limit needs CAP_SYS_RESOURCE.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::linux {

struct RlimitName {
  int resource;      // RLIMIT_*
  const char* name;  // "RLIMIT_NOFILE"
};

// Every rlimit name orun knows (for `orun features` and the tests).
std::span<const RlimitName> known_rlimits();
std::optional<int> rlimit_number(std::string_view name);

struct PreparedRlimit {
  int resource = 0;
  uint64_t soft = 0, hard = 0;
};

// Errors name the field: `process.rlimits[1].type: unknown rlimit "RLIMIT_X"`;
// a duplicate type or soft > hard is an error too.
[[nodiscard]] Result<std::vector<PreparedRlimit>> prepare_rlimits(const std::vector<spec::Rlimit>& rlimits);
// Child: prlimit(pid, ...) for each, pid 0 meaning the calling process.
[[nodiscard]] Result<> apply_rlimits(std::span<const PreparedRlimit> rlimits, pid_t pid = 0);

}  // namespace orun::linux
