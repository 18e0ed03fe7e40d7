#include <cstdio>

#include "cli.hpp"
#include "container/features.hpp"

namespace orun::cli {

void add_features(CLI::App& app, Cli& cli) {
  auto* sub = app.add_subcommand("features", "print what this orun supports, as the runtime spec's features JSON");
  sub->callback([&cli] {
    cli.action = []() -> Result<int> {
      std::printf("%s\n", container::features_json().c_str());
      return 0;
    };
  });
}

}  // namespace orun::cli
