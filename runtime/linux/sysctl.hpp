// linux.sysctl: written inside the container's namespaces, with the
// container's /proc mounted (net.* and the ipc keys are per namespace).
#pragma once
#include <map>
#include <string>

#include "base/result.hpp"

namespace orun::linux {

// Check one key: non-empty dot-separated components, no '/', no "." or "..".
// The error names linux.sysctl["key"].
[[nodiscard]] Result<> check_sysctl_key(const std::string& key);
// Write each value to <proc_sys>/<key with '.' -> '/'> (a slash-separated key is used as
// the path, its dots literal). proc_sys is
// "/proc/sys" except in tests.
[[nodiscard]] Result<> apply_sysctl(const std::map<std::string, std::string>& sysctl,
                                    const std::string& proc_sys = "/proc/sys");

}  // namespace orun::linux
