#include <fcntl.h>
#include <unistd.h>

#include "base/file.hpp"
#include "cli.hpp"
#include "spec/default_spec.hpp"

namespace orun::cli {

namespace {

Result<int> spec_main(Cli&, const Verb& self, Args args) {
  std::string bundle = ".";
  bool rootless = false;
  const Option options[] = {
      {'b', "bundle", &bundle, "bundle directory", "DIR"},
      {0, "rootless", &rootless, "a config for a container run by an unprivileged user"},
  };
  if (!TRY(parse_verb(self, {.options = options}, args))) return 0;
  std::string path = bundle + "/config.json";
  // Like runc: never overwrite an existing config.
  auto fd = open_fd(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (!fd && fd.error().code == EEXIST) return fail("File " + path + " exists. Remove it first", EEXIST);
  if (!fd) return std::unexpected(fd.error());
  TRYC(write_all(fd->get(), spec::default_spec_json(rootless)), path);
  return 0;
}

}  // namespace

const Verb kSpec{"spec", "write a default config.json into the bundle directory", spec_main};

}  // namespace orun::cli
