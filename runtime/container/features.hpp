// `orun features`: the runtime spec's features.md document, built from the
// same tables the runtime uses, so it cannot claim what orun does not do.
#pragma once
#include <string>

namespace orun::container {

std::string features_json();

}  // namespace orun::container
