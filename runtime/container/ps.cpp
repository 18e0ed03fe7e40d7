// `orun ps`: the container's processes, as runc shows them: a JSON array of
// host pids, or the host's `ps` output cut down to the header and the lines
// whose PID column is one of the container's.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "base/file.hpp"
#include "base/strings.hpp"
#include "cgroups/manager.hpp"
#include "container/container.hpp"

extern char** environ;

namespace orun::container {
namespace {

std::vector<std::string> fields_of(std::string_view line) {
  std::vector<std::string> out;
  for (auto& f : split(line, ' '))
    if (!f.empty()) out.push_back(f);
  return out;
}

// Run `ps args...` from PATH; its standard output, or an error with its exit status.
Result<std::string> run_ps(const std::vector<std::string>& args) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0) return sys_error("pipe");
  Fd rd(pipefd[0]), wr(pipefd[1]);
  std::vector<std::string> argv_s = {"ps"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
  pid_t pid = 0;
  int err = ::posix_spawnp(&pid, "ps", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0) return sys_error("running ps", err);
  wr.reset();
  auto out = read_fd(rd.get());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!out) return std::unexpected(out.error().context("reading the output of ps"));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return fail("ps " + join(args, " ") + " failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
  return *out;
}

}  // namespace

Result<std::string> ps(const Globals& g, const std::string& id, PsFormat format, const std::vector<std::string>& ps_args) {
  State st = TRY(load_state(g.root, id));
  auto cg = TRY(cgroups::load_manager(st.cgroup_paths, st.systemd_unit));
  std::vector<pid_t> pids = TRY(cg->pids());
  if (format == PsFormat::json) {
    std::vector<std::string> parts;
    for (pid_t p : pids) parts.push_back(std::to_string(p));
    return "[" + join(parts, ",") + "]\n";
  }
  std::vector<std::string> args = ps_args.empty() ? std::vector<std::string>{"-ef"} : ps_args;
  std::string text = TRY(run_ps(args));
  auto lines = split(text, '\n');
  if (lines.empty() || trim(lines[0]).empty()) return fail("ps " + join(args, " ") + " printed nothing");
  auto header = fields_of(lines[0]);
  auto col = std::find(header.begin(), header.end(), "PID");
  if (col == header.end()) return fail("ps " + join(args, " ") + ": no PID column in its output");
  size_t index = static_cast<size_t>(col - header.begin());
  std::set<pid_t> mine(pids.begin(), pids.end());
  std::string out = lines[0] + "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    auto f = fields_of(lines[i]);
    if (f.size() <= index) continue;
    auto pid = parse_int(f[index]);
    if (pid && mine.count(static_cast<pid_t>(*pid))) out += lines[i] + "\n";
  }
  return out;
}

}  // namespace orun::container
