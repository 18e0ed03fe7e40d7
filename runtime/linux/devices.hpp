// Device nodes of a container: the default set every container gets (runc's), the config's
// linux.devices, and creating them under the root file system's /dev.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace orun::linux {

struct DeviceNode {
  std::string path;  // container path, "/dev/null"
  char type = 'c';   // 'c', 'b', 'u' (unbuffered char), 'p' (fifo)
  int64_t major = 0, minor = 0;
  uint32_t file_mode = 0666;  // permission bits only
  uint32_t uid = 0, gid = 0;
};

// /dev/null, zero, full, random, urandom, tty: created in every container.
const std::vector<DeviceNode>& default_devices();

// A device cgroup rule; major/minor -1 is the wildcard '*'.
struct DeviceRule {
  bool allow = true;
  char type = 'a';  // 'a', 'c', 'b'
  int64_t major = -1, minor = -1;
  std::string access;  // subset of "rwm"
};

// The rules runc grants every container before linux.resources.devices: mknod of any
// device, the default nodes, /dev/console, /dev/pts/*, /dev/ptmx and /dev/net/tun.
const std::vector<DeviceRule>& default_device_rules();

// The nodes to create: the defaults not overridden by a linux.devices entry of the same path,
// then linux.devices. Errors name the entry: "linux.devices[2].type: ...".
[[nodiscard]] Result<std::vector<DeviceNode>> container_devices(const spec::Config& cfg);

// Create one node at <root>/<node.path> (mknod, or with bind_host an empty file with the
// host's node of the same path bind-mounted onto it, for user namespaces).
// `must_match`: a file already at the path that is not this device is an
// error (the spec's rule for linux.devices); otherwise it is kept, as runc.
[[nodiscard]] Result<> create_device(int root_fd, const DeviceNode& node, bool bind_host, bool must_match = false);

}  // namespace orun::linux
