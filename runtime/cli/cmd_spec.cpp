#include <fcntl.h>
#include <unistd.h>

#include "base/file.hpp"
#include "cli.hpp"
#include "spec/default_spec.hpp"

namespace orun::cli {

void add_spec(CLI::App& app, Cli& cli) {
  static std::string bundle = ".";
  static bool rootless = false;
  auto* sub = app.add_subcommand("spec", "write a default config.json into the bundle directory");
  sub->add_option("-b,--bundle", bundle, "bundle directory")->capture_default_str();
  sub->add_flag("--rootless", rootless, "a config for a container run by an unprivileged user");
  sub->callback([&cli] {
    cli.action = []() -> Result<int> {
      std::string path = bundle + "/config.json";
      // Like runc: never overwrite an existing config.
      auto fd = open_fd(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (!fd && fd.error().code == EEXIST) return fail("File " + path + " exists. Remove it first", EEXIST);
      if (!fd) return std::unexpected(fd.error());
      TRYC(write_all(fd->get(), spec::default_spec_json(rootless)), path);
      return 0;
    };
  });
}

}  // namespace orun::cli
