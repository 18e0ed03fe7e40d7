#include <cstdio>

#include "cli.hpp"
#include "container/features.hpp"

namespace orun::cli {

namespace {

Result<int> features_main(Cli&, const Verb& self, Args args) {
  if (!TRY(parse_verb(self, {}, args))) return 0;
  std::printf("%s\n", container::features_json().c_str());
  return 0;
}

}  // namespace

const Verb kFeatures{"features", "print what this orun supports, as the runtime spec's features JSON", features_main};

}  // namespace orun::cli
