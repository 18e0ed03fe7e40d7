// The cgroup v2 manager (pure v2 hosts), and the value conversions runc and
// crun use to map the v1-shaped OCI fields onto v2 files.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/manager.hpp"

namespace orun::cgroups {

// The set fields that cgroup v2 has no file for and that runc ignores there (memory.disableOOMKiller
// true, blockIO leaf weights non-zero), as warnings; V2Manager skips them.
std::vector<std::string> v2_ignored(const spec::Resources& res);

class V2Manager : public Manager {
 public:
  // `dir` lies below `mount_point`, the cgroup2 mount.
  V2Manager(std::string mount_point, std::string dir) : mount_(std::move(mount_point)), dir_(std::move(dir)) {}
  Result<> create() override;
  Result<> add(pid_t pid) override;
  Result<> apply(const spec::Resources& res) override;
  Result<> update(const spec::Resources& res) override;
  Result<std::vector<pid_t>> pids() override;
  Result<> kill_all(int sig) override;
  Result<> freeze(bool frozen) override;
  Result<bool> frozen() override;
  Result<> destroy() override;
  std::map<std::string, std::string> paths() const override { return {{"", dir_}}; }
  std::vector<std::string> ignored(const spec::Resources& res) const override { return v2_ignored(res); }

 private:
  std::string mount_;
  std::string dir_;
};

// cpu.shares (2..262144) -> cpu.weight (1..10000); 0 stays 0 (unset).
uint64_t shares_to_weight(uint64_t shares);
// blkio.weight (10..1000) -> io.weight (1..10000); 0 stays 0 (unset).
uint64_t blkio_weight_to_io_weight(uint64_t weight);
// The memory.swap.max value for OCI swap (memory+swap, v1 style) and limit:
// nullopt: write nothing; "max"; or swap - limit. Errors name the field.
[[nodiscard]] Result<std::optional<std::string>> swap_max_value(std::optional<int64_t> swap,
                                                                std::optional<int64_t> limit);
// One rdma.max line, "mlx5_1 hca_handle=3 hca_object=max": an absent limit is "max".
std::string rdma_max_line(const std::string& device, const spec::Rdma& limits);

// Shared by both managers: linux.resources.rdma into dir/rdma.max (cgroup v2, or the v1 rdma
// controller's directory), one line per device. A device the kernel does not know is named as such.
[[nodiscard]] Result<> write_rdma(const std::string& dir, const std::map<std::string, spec::Rdma>& rdma);
// SIGKILL a cgroup through cgroup.kill if the kernel has it.
// Returns false when there is no cgroup.kill.
[[nodiscard]] Result<bool> kill_via_cgroup_kill(const std::string& dir);
// cgroup.freeze with the wait on cgroup.events.
[[nodiscard]] Result<> freeze_v2(const std::string& dir, bool frozen);
[[nodiscard]] Result<bool> frozen_v2(const std::string& dir);

}  // namespace orun::cgroups
