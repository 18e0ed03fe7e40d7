// The cgroup v1 manager, also used on hybrid hosts: limits go through the v1
// controllers, and the process is also placed in the cgroup2 tree (grouping
// only, as runc does), which also gives cgroup.kill on new kernels.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "cgroups/manager.hpp"

namespace orun::cgroups {

struct V1Dir {
  std::vector<std::string> controllers;  // {"cpu","cpuacct"}, {"name=systemd"}
  std::string mount_point;
  std::string dir;
};

class V1Manager : public Manager {
 public:
  V1Manager(std::vector<V1Dir> dirs, std::optional<V1Dir> unified)
      : dirs_(std::move(dirs)), unified_(std::move(unified)) {}
  Result<> create() override;
  Result<> add(pid_t pid) override;
  Result<> apply(const spec::Resources& res) override;
  Result<> update(const spec::Resources& res) override;
  Result<std::vector<pid_t>> pids() override;
  Result<> kill_all(int sig) override;
  Result<> freeze(bool frozen) override;
  Result<bool> frozen() override;
  Result<> destroy() override;
  std::map<std::string, std::string> paths() const override;

 private:
  // The directory of `controller`, or nullopt when it is not mounted.
  std::optional<std::string> dir_of(const std::string& controller) const;
  // The same, or "linux.resources.<field>: the X cgroup controller is not mounted".
  Result<std::string> need(const std::string& controller, const std::string& field) const;
  // Every directory: the v1 ones, then the cgroup2 one.
  std::vector<const V1Dir*> all() const;
  Result<> signal_each(int sig);

  std::vector<V1Dir> dirs_;
  std::optional<V1Dir> unified_;
};

}  // namespace orun::cgroups
