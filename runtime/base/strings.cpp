#include "strings.hpp"

#include <time.h>

#include <charconv>
#include <climits>
#include <cstdint>
#include <cstdio>

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

std::optional<int64_t> parse_ram_bytes(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0) return std::nullopt;
  size_t int_end = i;
  size_t frac_begin = i, frac_end = i;
  if (i < s.size() && s[i] == '.') {
    frac_begin = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    frac_end = i;
    if (frac_end == frac_begin) return std::nullopt;
  }
  if (i < s.size() && s[i] == ' ') ++i;
  int shift = 0;
  if (i < s.size()) {
    switch (s[i] | 0x20) {
      case 'k': shift = 10; break;
      case 'm': shift = 20; break;
      case 'g': shift = 30; break;
      case 't': shift = 40; break;
      case 'p': shift = 50; break;
      default: break;
    }
    if (shift) ++i;
  }
  if (shift && i < s.size() && (s[i] | 0x20) == 'i') ++i;
  if (i < s.size() && (s[i] | 0x20) == 'b') ++i;
  if (i != s.size()) return std::nullopt;
  auto whole = parse_uint(s.substr(0, int_end));
  if (!whole || *whole > (uint64_t(INT64_MAX) >> shift)) return std::nullopt;
  uint64_t bytes = *whole << shift;
  // The fraction, truncated to whole bytes: "1.5k" is 1536.
  uint64_t num = 0, den = 1;
  for (size_t k = frac_begin; k < frac_end && den < 1000000000000ull; ++k) {
    num = num * 10 + static_cast<uint64_t>(s[k] - '0');
    den *= 10;
  }
  bytes += static_cast<uint64_t>((static_cast<unsigned __int128>(num) << shift) / den);
  if (bytes > uint64_t(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view s) {
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return std::nullopt;
  static const std::pair<std::string_view, long double> units[] = {
      {"ns", 1}, {"us", 1e3}, {"\u00b5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  long double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
    std::string_view num = s.substr(start, i - start);
    if (num.empty() || num == "." || num.find('.') != num.rfind('.')) return std::nullopt;
    size_t ustart = i;
    while (i < s.size() && !(s[i] >= '0' && s[i] <= '9') && s[i] != '.') ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    long double mult = 0;
    for (auto& [name, m] : units)
      if (unit == name) mult = m;
    if (mult == 0) return std::nullopt;
    long double value = 0, scale = 1;
    bool frac = false;
    for (char c : num) {
      if (c == '.') {
        frac = true;
        continue;
      }
      if (frac) {
        scale /= 10;
        value += (c - '0') * scale;
      } else {
        value = value * 10 + (c - '0');
      }
    }
    total += value * mult;
    if (total > static_cast<long double>(INT64_MAX)) return std::nullopt;
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

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

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string rfc3339(const struct timespec& t) {
  using namespace std::chrono;
  const sys_seconds secs{seconds{t.tv_sec}};
  const sys_days day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  std::string out = "0000-00-00T00:00:00.000000000Z";
  auto put = [&](size_t at, size_t width, long long v) {
    for (size_t i = width; i-- > 0; v /= 10) out[at + i] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, static_cast<int>(ymd.year()));
  put(5, 2, static_cast<unsigned>(ymd.month()));
  put(8, 2, static_cast<unsigned>(ymd.day()));
  put(11, 2, hms.hours().count());
  put(14, 2, hms.minutes().count());
  put(17, 2, hms.seconds().count());
  put(20, 9, t.tv_nsec);
  return out;
}

std::string now_rfc3339() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return rfc3339(ts);
}

}  // namespace orun
