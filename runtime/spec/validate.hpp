// Semantic checks on a parsed config: values the JSON types allow but the
// kernel or the spec do not, and settings that contradict each other. Each
// error names the field path: "config.json: hostname: ...". Where the spec is
// silent, the checks follow runc 1.1's validator and spec conversion.
// validate() is pure: it looks at no files (rootfs existence, host netns
// identity and kernel features are checked where they are used).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::spec {

[[nodiscard]] Result<> validate(const Config& config);
// linux.resources alone (also for `orun update`); paths start at prefix,
// e.g. "linux.resources" or "" for an update file.
[[nodiscard]] Result<> validate_resources(const Resources& resources, const std::string& prefix = "");

// A sysctl key in dotted form ("net.ipv4.ip_forward"). Keys whose first
// separator is '/' ("net/ipv4/conf/eth0.100/rp_filter") swap '.' and '/',
// as sysctl(8) and runc do. nullopt for keys that cannot name a file under
// /proc/sys: empty components, "." or ".." after the swap back.
std::optional<std::string> normalize_sysctl_key(std::string_view key);
// The file under /proc/sys for a normalized key ("net/ipv4/ip_forward").
std::string sysctl_relative_path(std::string_view dotted_key);

}  // namespace orun::spec
