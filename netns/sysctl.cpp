#include "sysctl.hpp"

#include "base/file.hpp"
#include "base/strings.hpp"

namespace orch::netns {

orun::Result<> ensure_sysctl(const std::string& key, const std::string& value) {
  std::string path = "/proc/sys/" + key;
  auto cur = orun::read_file(path);
  if (cur && orun::trim(*cur) == value) return {};
  TRYC(orun::write_file(path, value + "\n"), "setting " + key);
  return {};
}

}  // namespace orch::netns
