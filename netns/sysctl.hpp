// /proc/sys/net knobs of the caller's network namespace.
#pragma once
#include <string>

#include "base/result.hpp"

namespace orch::netns {

// Write value to /proc/sys/<key> ("net/ipv4/ip_forward") unless it already holds it.
[[nodiscard]] orun::Result<> ensure_sysctl(const std::string& key, const std::string& value);

}  // namespace orch::netns
