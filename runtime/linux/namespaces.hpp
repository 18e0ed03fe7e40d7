// Namespaces of a new container: which to join by path, which to create, and
// the uid/gid maps of a new user namespace. Opened and checked in the parent
// (so a bad path fails before anything exists), applied in stage-1.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "base/fd.hpp"
#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::linux {

struct JoinNs {
  spec::NamespaceType type;
  int clone_flag;
  Fd fd;
  std::string path;
};

struct NamespacePlan {
  std::vector<JoinNs> join;  // in the order they must be entered (user first, mount last)
  bool new_user = false;
  int unshare_flags = 0;     // CLONE_NEW* to create after joining (user excluded)
  bool has(spec::NamespaceType t) const;  // new or joined
  bool is_new(spec::NamespaceType t) const;
  std::vector<spec::NamespaceType> present;
  std::vector<spec::NamespaceType> created;
};

[[nodiscard]] Result<NamespacePlan> plan_namespaces(const spec::Linux& linux);

// stage-1: enter every joined namespace, in order.
[[nodiscard]] Result<> join_namespaces(const NamespacePlan& plan);

// Parent: write /proc/<pid>/{uid_map,gid_map} for a new user namespace.
[[nodiscard]] Result<> write_id_maps(pid_t pid, const spec::Linux& linux);

// init, in a network namespace of its own: lo up, as runc does. A new namespace's lo starts down,
// and programs expect 127.0.0.1 to work.
[[nodiscard]] Result<> loopback_up();

// stage-1, after unshare(CLONE_NEWTIME): linux.timeOffsets into /proc/self/timens_offsets.
[[nodiscard]] Result<> write_time_offsets(const spec::Linux& linux);

}  // namespace orun::linux
