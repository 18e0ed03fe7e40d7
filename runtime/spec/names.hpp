// String <-> enum tables for config.json values that are enums in config.hpp.
#pragma once
#include <optional>
#include <span>
#include <string_view>

#include "spec/config.hpp"

namespace orun::spec {

// "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time" (OCI names).
std::string_view to_string(NamespaceType t);
std::optional<NamespaceType> namespace_type_from_string(std::string_view s);
// The CLONE_NEW* flag that creates (or setns() type of) the namespace.
int clone_flag(NamespaceType t);
// Every namespace type, in table order.
std::span<const NamespaceType> all_namespace_types();

}  // namespace orun::spec
