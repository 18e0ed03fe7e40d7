#include "spec/names.hpp"

#include <sched.h>

#include <array>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080  // Linux 5.6; older glibc headers lack it
#endif

namespace orun::spec {
namespace {

struct NamespaceName {
  NamespaceType type;
  std::string_view name;
  int flag;
};

// The one table for namespace types: OCI name and clone flag.
constexpr std::array<NamespaceName, 8> kNamespaces{{
    {NamespaceType::pid, "pid", CLONE_NEWPID},
    {NamespaceType::network, "network", CLONE_NEWNET},
    {NamespaceType::mount, "mount", CLONE_NEWNS},
    {NamespaceType::ipc, "ipc", CLONE_NEWIPC},
    {NamespaceType::uts, "uts", CLONE_NEWUTS},
    {NamespaceType::user, "user", CLONE_NEWUSER},
    {NamespaceType::cgroup, "cgroup", CLONE_NEWCGROUP},
    {NamespaceType::time, "time", CLONE_NEWTIME},
}};

constexpr std::array<NamespaceType, 8> kTypes{NamespaceType::pid, NamespaceType::network, NamespaceType::mount,
                                              NamespaceType::ipc, NamespaceType::uts,     NamespaceType::user,
                                              NamespaceType::cgroup, NamespaceType::time};

const NamespaceName* find(NamespaceType t) {
  for (const auto& n : kNamespaces)
    if (n.type == t) return &n;
  return nullptr;
}

}  // namespace

std::string_view to_string(NamespaceType t) {
  const auto* n = find(t);
  return n ? n->name : std::string_view("unknown");
}

std::optional<NamespaceType> namespace_type_from_string(std::string_view s) {
  for (const auto& n : kNamespaces)
    if (n.name == s) return n.type;
  return std::nullopt;
}

int clone_flag(NamespaceType t) {
  const auto* n = find(t);
  return n ? n->flag : 0;
}

std::span<const NamespaceType> all_namespace_types() { return kTypes; }

}  // namespace orun::spec
