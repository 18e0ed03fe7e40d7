// config.json -> spec::Config. Errors are one line naming the JSON field path:
//   config.json: linux.namespaces[2].type: unknown namespace type "foo"
// Unknown members are ignored (the spec asks runtimes to be forward compatible);
// JSON null counts as absent, as with Go's encoding/json that runc uses.
#pragma once
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "base/strings.hpp"
#include "spec/config.hpp"

namespace orun::spec {

// Parse a config.json document. Errors start with "config.json: ".
[[nodiscard]] Result<Config> parse_config(std::string_view json);
// Read and parse bundle_dir/config.json. Errors start with that file's path.
[[nodiscard]] Result<Config> load_config(const std::string& bundle_dir);
// Parse a linux.resources object on its own (`orun update --resources`).
// Field paths are rooted at the object: "memory.limit: expected a 64-bit integer".
[[nodiscard]] Result<Resources> parse_resources(std::string_view json);

// Parse a process object on its own (`orun exec --process`), paths rooted at it.
[[nodiscard]] Result<Process> parse_process(std::string_view json);

using orun::quote;  // base/strings.hpp

}  // namespace orun::spec
