// libFuzzer target: arbitrary bytes as the network configuration on orch-cni's stdin, for each
// command. Any crash, sanitizer report or escaping exception is a bug; an error must say
// something and name where it is.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "cni/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char* cmd : {"ADD", "DEL", "CHECK", "VERSION", "GC"}) {
    std::map<std::string, std::string> env = {{"CNI_COMMAND", cmd}, {"CNI_CONTAINERID", "c1"},
                                              {"CNI_NETNS", "/run/netns/x"}, {"CNI_IFNAME", "eth0"}};
    auto req = orch::cni::parse_request(env, text);
    if (!req && (req.error().msg.empty() || req.error().msg.find(": ") == std::string::npos)) __builtin_trap();
  }
  return 0;
}
