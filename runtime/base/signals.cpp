#include "signals.hpp"

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "strings.hpp"

namespace orun {
namespace {
struct Named {
  const char* name;
  int number;
};
constexpr Named kSignals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT},     {"ILL", SIGILL},     {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT},     {"IOT", SIGIOT},       {"BUS", SIGBUS},       {"FPE", SIGFPE},     {"KILL", SIGKILL},
    {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
    {"TERM", SIGTERM},     {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},     {"CLD", SIGCHLD},    {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH},
    {"IO", SIGIO},         {"POLL", SIGPOLL},     {"PWR", SIGPWR},       {"SYS", SIGSYS},
};
}  // namespace

Result<int> parse_signal(std::string_view s) {
  std::string bad = "invalid signal \"" + std::string(s) + "\"";
  if (auto n = parse_int(s)) {
    if (*n < 1 || *n > SIGRTMAX) return fail(bad);
    return static_cast<int>(*n);
  }
  std::string up(s);
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (up.rfind("SIG", 0) == 0) up.erase(0, 3);
  for (const auto& sig : kSignals)
    if (up == sig.name) return sig.number;
  struct Rt {
    const char* prefix;
    int base, dir;
  };
  for (auto [prefix, base, dir] : {Rt{"RTMIN", SIGRTMIN, 1}, Rt{"RTMAX", SIGRTMAX, -1}}) {
    std::string p = prefix;
    if (up.rfind(p, 0) != 0) continue;
    std::string rest = up.substr(p.size());
    if (rest.empty()) return base;
    if (rest[0] != (dir > 0 ? '+' : '-')) return fail(bad);
    auto off = parse_int(rest.substr(1));
    if (!off || *off < 0 || base + dir * *off < SIGRTMIN || base + dir * *off > SIGRTMAX) return fail(bad);
    return static_cast<int>(base + dir * *off);
  }
  return fail(bad);
}

}  // namespace orun
