// Signal names and numbers, as `kill` and runc accept them: "9", "KILL",
// "SIGKILL", "sigkill", "RTMIN+3".
#pragma once
#include <string_view>

#include "base/result.hpp"

namespace orun {

[[nodiscard]] Result<int> parse_signal(std::string_view s);

}  // namespace orun
