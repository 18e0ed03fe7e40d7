#include "features.hpp"

#include <nlohmann/json.hpp>

#include "linux/caps.hpp"
#include "linux/mounts.hpp"
#include "linux/process_attrs.hpp"
#include "linux/seccomp.hpp"
#include "spec/names.hpp"

namespace orun::container {

std::string features_json() {
  using nlohmann::json;
  json namespaces = json::array();
  for (auto t : spec::all_namespace_types()) namespaces.push_back(std::string(spec::to_string(t)));
  json caps = json::array();
  for (const auto& c : linux::known_capabilities()) caps.push_back(c.name);

  json seccomp = {{"enabled", true},
                  {"actions", linux::seccomp_actions()},
                  {"operators", linux::seccomp_operators()},
                  {"archs", linux::seccomp_archs()},
                  {"knownFlags", linux::seccomp_flags()},
                  {"supportedFlags", linux::seccomp_flags()}};
  json doc = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.2.0"},
      {"hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions", linux::known_mount_options()},
      {"linux",
       {{"namespaces", namespaces},
        {"capabilities", caps},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", true}, {"systemdUser", false}, {"rdma", true}}},
        {"seccomp", seccomp},
        {"apparmor", {{"enabled", linux::apparmor_enabled()}}},
        {"selinux", {{"enabled", linux::selinux_enabled()}}},
        {"intelRdt", {{"enabled", false}}},
        {"mountExtensions", {{"idmap", {{"enabled", true}}}}}}},
      {"annotations", {{"org.opencontainers.runc.checkpoint.enabled", "false"}, {"run.orch.orun.version", ORCH_VERSION}}},
  };
  return doc.dump(4);
}

}  // namespace orun::container
