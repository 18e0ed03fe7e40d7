#include "sysctl.hpp"

#include <fcntl.h>

#include "base/file.hpp"
#include "base/strings.hpp"
#include "spec/validate.hpp"

namespace orun::linux {

static std::string field(const std::string& key) { return "linux.sysctl[\"" + key + "\"]"; }

Result<> check_sysctl_key(const std::string& key) {
  // Defence in depth (the spec validator checks too): a key must not reach
  // outside /proc/sys once dots become slashes.
  if (key.empty()) return fail(field(key) + ": empty key");
  if (key.find('/') != std::string::npos) return fail(field(key) + ": key contains '/'");
  if (key.find('\0') != std::string::npos) return fail(field(key) + ": key contains a NUL byte");
  for (const auto& part : split(key, '.')) {
    if (part.empty() || part == "..") return fail(field(key) + ": invalid key");
  }
  return {};
}

Result<> apply_sysctl(const std::map<std::string, std::string>& sysctl, const std::string& proc_sys) {
  for (const auto& [key, value] : sysctl) {
    // Keys may be slash-separated, as sysctl(8) allows (dots are then literal, e.g. in
    // net/ipv4/conf/eth0.100/forwarding); the spec's normalizer accepts both forms and
    // refuses components that would name "." or ".." once turned into a path.
    auto dotted = spec::normalize_sysctl_key(key);
    if (!dotted) return fail(field(key) + ": invalid key");
    std::string path = proc_sys + "/" + spec::sysctl_relative_path(*dotted);
    // O_NOFOLLOW: /proc/sys holds no symlinks; one here is not ours to follow.
    auto fd = open_fd(path, O_WRONLY | O_NOFOLLOW);
    if (!fd) return std::unexpected(std::move(fd).error().context(field(key)));
    auto w = write_all(fd->get(), value);
    if (!w) return std::unexpected(std::move(w).error().context(field(key) + ": writing " + path));
  }
  return {};
}

}  // namespace orun::linux
