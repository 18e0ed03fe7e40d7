// Logging for the CLI layer: text or runc's JSON lines, to --log or stderr.
// Library code logs at debug at most; errors are logged once, by the caller.
#pragma once
#include <string>
#include <string_view>

namespace orun::log {

enum class Level { debug, info, warning, error };
enum class Format { text, json };

// Where log lines go: path empty means stderr. Opened O_APPEND.
void setup(const std::string& path, Format format, bool debug);
void write(Level level, std::string_view msg);
inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warning(std::string_view m) { write(Level::warning, m); }
inline void error(std::string_view m) { write(Level::error, m); }
// The log fd (for children that inherit it); -1 when logging to stderr.
int fd();

}  // namespace orun::log
