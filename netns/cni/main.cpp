// orch-cni: the netns library as a CNI 1.0 plugin. The runtime passes CNI_* variables and the
// network configuration on stdin; the result (or an error object) goes to stdout, exit 0 on
// success and 1 on error, as the spec says.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "base/file.hpp"
#include "commands.hpp"
#include "reply.hpp"

extern char** environ;

namespace {

using namespace orch::cni;

std::map<std::string, std::string> cni_env() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "CNI_", 4) == 0)
      if (const char* eq = std::strchr(*e, '=')) env.emplace(std::string(*e, static_cast<size_t>(eq - *e)), eq + 1);
  return env;
}

int reply(const std::string& text) {
  auto r = orun::write_all(STDOUT_FILENO, text);
  return r ? 0 : 1;
}

// stdin up to one byte past the limit, so that a huge configuration is refused without being held.
orun::Result<std::string> read_stdin() {
  std::string out;
  char buf[65536];
  while (out.size() <= kMaxConfigBytes) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return orun::sys_error("reading stdin");
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

int error(const std::string& version, const CniError& e) {
  (void)reply(error_result(version, e));
  return 1;
}

}  // namespace

int main() {
  auto env = cni_env();
  std::string input;
  if (env.count("CNI_COMMAND") && env["CNI_COMMAND"] != "") {
    auto text = read_stdin();
    if (!text) return error("", CniError{kIoFailure, "stdin: " + text.error().message, ""});
    input = std::move(*text);
  }
  auto req = parse_request(env, input);
  if (!req) return error("", req.error());
  CniResult<std::string> out;
  switch (req->command) {
    case Command::Version: return reply(version_result(req->cni_version));
    case Command::Add: out = cmd_add(*req); break;
    case Command::Del: out = cmd_del(*req); break;
    case Command::Check: out = cmd_check(*req); break;
    case Command::Gc: out = cmd_gc(*req); break;
  }
  if (!out) return error(req->cni_version, out.error());
  return reply(*out);
}
