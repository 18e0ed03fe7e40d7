// The CNI request: CNI_* environment plus the network configuration on stdin, checked whole
// before anything acts. Every error names the field (or variable) and carries its CNI code.
#pragma once
#include <expected>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "network.hpp"

namespace orch::cni {

// Error codes of the CNI 1.0 spec, and ours from 100.
enum Code : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnv = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidConfig = 7,
  kTryAgainLater = 11,
  kAlreadyExists = 100,
  kNoAddresses = 101,
};

struct CniError {
  int code = kInvalidConfig;
  std::string msg;
  std::string details;
};

template <typename T = void>
using CniResult = std::expected<T, CniError>;

// GC is CNI 1.1's: drop attachments whose network namespace is gone.
enum class Command { Add, Del, Check, Version, Gc };

// The network's `dns`, handed back in the ADD result as the reference bridge plugin does: the
// runtime may write the container's resolv.conf from it; the plugin itself does nothing with it.
struct Dns {
  std::vector<std::string> nameservers;  // IP addresses
  std::string domain;
  std::vector<std::string> search, options;
};

struct Request {
  Command command = Command::Version;
  std::string cni_version;            // of the config (VERSION: of stdin), echoed in replies
  netns::NetworkConfig net;
  netns::ContainerRef container;
  Dns dns;
};

inline constexpr const char* kSupportedVersions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};
inline constexpr size_t kMaxConfigBytes = 1 << 20;

// env: the CNI_* variables (others are ignored). stdin: the configuration as read.
CniResult<Request> parse_request(const std::map<std::string, std::string>& env, std::string_view stdin_text);

}  // namespace orch::cni
