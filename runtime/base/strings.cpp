#include "strings.hpp"

#include <charconv>

namespace orun {

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

template <typename T>
static std::optional<T> parse_num(std::string_view s) {
  T v{};
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_int(std::string_view s) { return parse_num<int64_t>(s); }
std::optional<uint64_t> parse_uint(std::string_view s) { return parse_num<uint64_t>(s); }

std::string clean_path(std::string_view path) {
  bool abs = !path.empty() && path[0] == '/';
  std::vector<std::string> parts;
  for (auto& p : split(path, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (!parts.empty() && parts.back() != "..") parts.pop_back();
      else if (!abs) parts.push_back(p);
      continue;
    }
    parts.push_back(p);
  }
  std::string out = (abs ? "/" : "") + join(parts, "/");
  return out.empty() ? "." : out;
}

std::string path_join(std::string_view root, std::string_view rel) {
  std::string inner = clean_path("/" + std::string(rel));
  std::string r(root);
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (inner == "/") return r;
  return r == "/" ? inner : r + inner;
}

}  // namespace orun
