// The config.json that `orun spec` writes: the same document as `runc spec`
// (and `runc spec --rootless`), with ociVersion set to the spec we implement.
#pragma once
#include <string>

namespace orun::spec {

// The OCI runtime spec version that orun implements and writes.
inline constexpr const char* kOciVersion = "1.2.0";

// Pretty-printed (tab-indented, like runc) JSON, no trailing newline. For
// rootless, the uid/gid mappings map container root to the caller's
// effective uid/gid, as runc does.
std::string default_spec_json(bool rootless);

}  // namespace orun::spec
