#include "log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "json.hpp"
#include "strings.hpp"

namespace orun::log {
namespace {
int g_fd = 2;
bool g_owned = false;
Format g_format = Format::text;
bool g_debug = false;

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
  }
  return "error";
}
}  // namespace

void setup(const std::string& path, Format format, bool debug) {
  g_format = format;
  g_debug = debug;
  if (!path.empty()) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      if (g_owned) ::close(g_fd);
      g_fd = fd;
      g_owned = true;
    }
  }
}

int fd() { return g_owned ? g_fd : -1; }

void write(Level level, std::string_view msg) {
  if (level == Level::debug && !g_debug) return;
  std::string line;
  if (g_format == Format::json) {
    line = std::string("{\"level\":\"") + level_name(level) + "\",\"msg\":" + json::quote(msg) +
           ",\"time\":\"" + now_rfc3339() + "\"}\n";
  } else {
    line = std::string("orun: ") + (level == Level::error ? "" : std::string(level_name(level)) + ": ") +
           std::string(msg) + "\n";
  }
  ssize_t r = ::write(g_fd, line.data(), line.size());
  (void)r;
}

}  // namespace orun::log
