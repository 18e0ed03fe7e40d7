// The on-disk state of one network: <dir>/lock (flock, held for a whole ADD/DEL/CHECK),
// <dir>/leases.json (IPAM) and <dir>/containers/<id>.<ifname>.json (what ADD set up).
// Every file is written to a temporary beside it, fsynced and renamed: a crash leaves
// the old or the new content, never a torn one.
#pragma once
#include <string>

#include "base/fd.hpp"
#include "base/result.hpp"

namespace orch::netns {

using orun::Error;
using orun::Fd;
using orun::Result;

// Proof that the caller holds the network's lock; functions that change the store take one.
class NetworkLock {
 public:
  const std::string& dir() const { return dir_; }

 private:
  friend orun::Result<NetworkLock> lock_network(const std::string& dir);
  orun::Fd fd_;
  std::string dir_;
};

// Create <dir> (0700) if needed and take its lock, waiting for other holders.
[[nodiscard]] orun::Result<NetworkLock> lock_network(const std::string& dir);

}  // namespace orch::netns
