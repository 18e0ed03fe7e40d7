// `orun exec`: the parent side of linux/exec_init.hpp.
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/child.hpp"
#include "base/file.hpp"
#include "base/strings.hpp"
#include "container/container.hpp"
#include "container/supervise.hpp"
#include "linux/console.hpp"
#include "linux/exec_init.hpp"
#include "spec/parse.hpp"

namespace orun::container {
namespace {

void set_env(std::vector<std::string>& env, const std::string& kv) {
  std::string key = kv.substr(0, kv.find('='));
  for (auto& e : env)
    if (e.substr(0, e.find('=')) == key) {
      e = kv;
      return;
    }
  env.push_back(kv);
}

Result<uint32_t> parse_id(const std::string& s, const char* what) {
  auto v = parse_uint(s);
  if (!v || *v > 0xffffffffu) return fail(std::string(what) + ": invalid id \"" + s + "\"");
  return static_cast<uint32_t>(*v);
}

// The process to run: --process as given, or the container's process with
// the flags applied on top (as runc does).
Result<spec::Process> exec_process(const spec::Config& cfg, const ExecOptions& opt) {
  if (!opt.process_file.empty()) {
    std::string text = opt.process_file == "-" ? TRY(read_fd(0)) : TRYC(read_file(opt.process_file), "--process");
    return TRYC(spec::parse_process(text), "--process " + opt.process_file);
  }
  if (opt.args.empty()) return fail("exec: no command given (args or --process)");
  spec::Process p = cfg.process.value_or(spec::Process{});
  p.args = opt.args;
  p.terminal = opt.tty;
  if (!opt.cwd.empty()) p.cwd = opt.cwd;
  for (const auto& kv : opt.env) set_env(p.env, kv);
  if (!opt.user.empty()) {
    auto parts = split(opt.user, ':');
    if (parts.size() > 2) return fail("--user: expected uid[:gid], got \"" + opt.user + "\"");
    p.user.uid = TRY(parse_id(parts[0], "--user"));
    p.user.gid = parts.size() == 2 ? TRY(parse_id(parts[1], "--user")) : 0;
  }
  for (auto g : opt.additional_gids) p.user.additional_gids.push_back(g);
  if (!opt.caps.empty()) {
    auto& c = p.capabilities ? *p.capabilities : p.capabilities.emplace();
    for (auto* set : {&c.bounding, &c.effective, &c.permitted}) {
      if (!*set) set->emplace();
      for (const auto& cap : opt.caps) (*set)->push_back(cap);
    }
  }
  if (opt.no_new_privs) p.no_new_privileges = true;
  if (!opt.apparmor.empty()) p.apparmor_profile = opt.apparmor;
  if (!opt.process_label.empty()) p.selinux_label = opt.process_label;
  return p;
}

}  // namespace

Result<int> exec(const Globals& g, const std::string& id, const ExecOptions& opt) {
  if (opt.preserve_fds < 0) return fail("--preserve-fds must not be negative");
  Fd lock = TRY(lock_container(g.root, id));
  State st = TRY(load_state(g.root, id));
  Status status = live_status(g.root, st);
  if (status == Status::paused && !opt.ignore_paused)
    return fail("cannot exec in container \"" + id + "\": it is paused (use --ignore-paused)", EINVAL);
  if (status != Status::created && status != Status::running && status != Status::paused)
    return fail("cannot exec in container \"" + id + "\": it is " + to_string(status), EINVAL);
  spec::Config cfg = TRY(spec::parse_config(TRY(read_file(state_dir(g.root, id) + "/config.json"))));
  if (!cfg.linux) return fail("linux: missing");

  spec::Process proc = TRY(exec_process(cfg, opt));
  if (proc.args.empty()) return fail("process.args: must not be empty");
  if (proc.cwd.empty() || proc.cwd[0] != '/') return fail("process.cwd: must be an absolute path");
  if (proc.terminal && opt.console_socket.empty() && opt.detach)
    return fail("--tty with --detach needs --console-socket");

  linux::ExecPlan plan;
  plan.process = TRY(linux::prepare_process(proc, &*cfg.linux, g.warn));
  plan.process.preserve_fds = opt.preserve_fds;
  spec::Linux joined;
  for (const auto& ns : cfg.linux->namespaces)
    joined.namespaces.push_back({ns.type, "/proc/" + std::to_string(st.pid) + "/ns/" + linux::ns_proc_name(ns.type)});
  plan.ns = TRY(linux::plan_namespaces(joined));
  std::string root_path = "/proc/" + std::to_string(st.pid) + "/root";
  int root_fd = ::open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return sys_error("open " + root_path);
  Fd root(root_fd);
  plan.root_fd = root.get();
  // The pid may have been reused while its files were opened.
  if (!process_alive(st.pid, st.pid_start_time))
    return fail("cannot exec in container \"" + id + "\": its init exited", EINVAL);
  plan.cgroups = linux::cgroup_join(st.cgroup_paths);
  Fd cgroup_dir = linux::open_v2_dir(plan.cgroups);
  plan.cgroup_fd = cgroup_dir.get();
  plan.state_json = oci_state_json(st, status);
  plan.console = proc.terminal;
  plan.lock_fd = lock.get();

  Fd master;
  sigset_t old;
  if (!opt.detach) {
    // The process is re-parented to us when stage-1 exits: reap it ourselves.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) return sys_error("set child subreaper");
    sigset_t set = supervised_signals();
    ::sigprocmask(SIG_BLOCK, &set, &old);
  }
  auto pair = TRY(linux::make_sync_pair());
  plan.sync_fd = pair.child.get();
  bool born_in_v2 = false;
  pid_t stage1 = linux::fork_into_cgroup(plan.cgroup_fd, born_in_v2);
  if (stage1 < 0) return sys_error("fork");
  if (stage1 == 0) {
    pair.parent.reset();
    linux::exec_stage1_main(plan, born_in_v2);
  }
  ChildPid stage1_guard(stage1);
  pair.child.reset();
  plan.process.seccomp_listener.reset();
  cgroup_dir.reset();
  root.reset();
  lock.reset();

  pid_t pid = 0;
  ChildPid process_guard;  // kills the process if exec fails half-way
  for (;;) {
    auto m = linux::recv_msg(pair.parent.get());
    if (!m) {
      if (m.error().code == EPIPE && pid > 0) break;  // EOF: execve succeeded
      return std::unexpected(m.error());
    }
    if (m->type == linux::Msg::InitPid) {
      pid = m->value;
      stage1_guard.wait();
      if (!opt.detach) process_guard = ChildPid(pid);
      continue;
    }
    if (m->type == linux::Msg::ConsolePty) {
      if (!opt.console_socket.empty()) TRY(linux::send_to_console_socket(opt.console_socket, m->fd.get()));
      else master = std::move(m->fd);
      continue;
    }
    if (pid > 0 && opt.detach) ::kill(pid, SIGKILL);
    return std::unexpected(linux::message_error(*m));
  }
  if (!opt.pid_file.empty()) TRY(write_file_atomic(opt.pid_file, std::to_string(pid), 0644));
  if (opt.detach) return 0;
  process_guard.release();
  auto waited = supervise(pid, master.valid() ? master.get() : -1);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  return exit_code_of(TRY(std::move(waited)));
}

}  // namespace orun::container
