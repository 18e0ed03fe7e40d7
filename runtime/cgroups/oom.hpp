// OOM notifications of a container's memory cgroup, for `orun events`:
//   v1 (and hybrid): an eventfd registered on memory.oom_control through
//                    cgroup.event_control; each count is one OOM in the cgroup;
//   v2:              inotify on memory.events; each rise of its oom_kill counter.
// Poll fd() for input, then call consume().
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "base/fd.hpp"
#include "base/result.hpp"

namespace orun::cgroups {

class OomWatch {
 public:
  // For the cgroups of Manager::paths(). Fails (ENOTSUP) without a memory controller.
  [[nodiscard]] static Result<OomWatch> open(const std::map<std::string, std::string>& paths);
  int fd() const { return fd_.get(); }
  // OOM events since the last call; never blocks (0 when there is nothing new).
  [[nodiscard]] Result<uint64_t> consume();

 private:
  bool v2_ = false;
  std::string dir_;
  Fd fd_;            // eventfd (v1) or inotify (v2)
  Fd oom_control_;   // v1: must stay open while the eventfd is registered
  uint64_t oom_kills_ = 0;  // v2: memory.events oom_kill seen so far
};

}  // namespace orun::cgroups
