// String helpers that the standard library lacks.
#pragma once
#include <cstdint>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orun {

std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view trim(std::string_view s);
// Whole-string decimal parse; nullopt on junk or overflow.
std::optional<int64_t> parse_int(std::string_view s);
std::optional<uint64_t> parse_uint(std::string_view s);
// A size as runc's flags take it (docker's RAMInBytes): "512", "512m",
// "1.5g", "64 KiB", "2GB": binary units b k m g t p, case-insensitive.
std::optional<int64_t> parse_ram_bytes(std::string_view s);
// A duration in Go's syntax, as runc's flags take it: "5s", "100ms", "1m30s",
// "1.5h"; units ns us ms s m h. Negative values and overflow are refused.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view s);
// Join a container-relative path onto a root without leaving it lexically
// ("a/../../b" stays under root). Symlinks are the caller's concern.
std::string path_join(std::string_view root, std::string_view rel);
// Collapse "//", "." and ".." lexically; result is absolute when input is.
std::string clean_path(std::string_view path);
// A string as a double-quoted, escaped literal for error messages: bytes
// outside printable ASCII become \xNN, so messages stay one clean line.
std::string quote(std::string_view s);
// A UTC time as RFC 3339 with nanoseconds, "2026-11-29T03:12:05.123456789Z" (state.json's
// "created", JSON log lines). Pure arithmetic: gmtime_r would read /etc/localtime first.
std::string rfc3339(const struct timespec& t);
// rfc3339() of CLOCK_REALTIME now.
std::string now_rfc3339();

}  // namespace orun
