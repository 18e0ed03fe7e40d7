// OCI hooks: each runs with the container state JSON on stdin, its own
// args and env, and an optional timeout. The caller decides whether a failure
// is an error (prestart, createRuntime, createContainer, startContainer) or a
// warning (poststart, poststop), as the spec says.
#pragma once
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::linux {

// Run hooks in order; the first failure stops the rest and is returned,
// naming the hook by field path ("hooks.prestart[1]").
[[nodiscard]] Result<> run_hooks(const std::vector<spec::Hook>& hooks, std::string_view kind, std::string_view state_json);

// Run every hook, collecting failures instead of stopping (for warnings).
std::vector<Error> run_hooks_all(const std::vector<spec::Hook>& hooks, std::string_view kind,
                                 std::string_view state_json);

}  // namespace orun::linux
