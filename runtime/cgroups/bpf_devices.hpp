// The cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program made from
// a DevicePolicy and attached to the container's cgroup, where it decides every
// open and mknod of a device node by the container and its sub-cgroups.
//
//   r2 = type, r3 = access, r4 = major, r5 = minor     (from bpf_cgroup_dev_ctx)
//   per exception:  if type/access/major/minor do not match, jump to the next block;
//                   else return !default
//   return default                                      (1 allows, 0 refuses)
//
// The four bpf(2) commands are called directly: libbpf would add libbpf, libelf
// and libz to the start of every orun process for them (docs/design.md).
#pragma once
#include <linux/bpf.h>

#include <string>
#include <vector>

#include "base/result.hpp"
#include "cgroups/device_policy.hpp"

namespace orun::cgroups {

std::vector<bpf_insn> device_program(const DevicePolicy& policy);

// Load the program for `policy` and attach it to the cgroup v2 directory `dir`
// with BPF_F_ALLOW_MULTI; then detach the device programs attached to `dir`
// before (an earlier apply), so that the cgroup is never without a filter.
[[nodiscard]] Result<> attach_device_filter(const std::string& dir, const DevicePolicy& policy);

// Ids of the device programs attached to `dir` itself (not inherited ones).
[[nodiscard]] Result<std::vector<uint32_t>> attached_device_programs(const std::string& dir);

}  // namespace orun::cgroups
