#include "names.hpp"

#include <linux/if.h>

#include <cctype>
#include <cstdint>
#include <cstdio>

namespace orch::netns {

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
  for (unsigned char c : s)
    if (!isalnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

bool valid_ifname(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
  for (unsigned char c : name)
    if (c <= ' ' || c >= 0x7f || c == '/' || c == ':') return false;
  return true;
}

std::string host_veth_name(const std::string& network, const std::string& id, const std::string& ifname) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (const std::string* s : {&network, &id, &ifname}) {
    for (unsigned char c : *s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // separator: ("ab","c") != ("a","bc")
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "orch%011llx", static_cast<unsigned long long>(h & 0xfffffffffffull));
  return buf;
}

}  // namespace orch::netns
