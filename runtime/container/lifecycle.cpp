// start, state, kill, delete, list and run: everything after create.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/child.hpp"
#include "base/file.hpp"
#include "base/unix_socket.hpp"
#include "cgroups/manager.hpp"
#include "container/container.hpp"
#include "container/supervise.hpp"
#include "linux/hooks.hpp"
#include "linux/sync.hpp"
#include "spec/parse.hpp"

namespace orun::container {
namespace {

Result<spec::Config> saved_config(const std::string& root, const std::string& id) {
  return spec::parse_config(TRY(read_file(state_dir(root, id) + "/config.json")));
}

// Wait until a process that is not our child is gone (or a zombie).
bool wait_gone(pid_t pid, uint64_t start_time, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; waited += 5) {
    if (!process_alive(pid, start_time)) return true;
    struct timespec ts{0, 5 * 1000 * 1000};
    ::nanosleep(&ts, nullptr);
  }
  return !process_alive(pid, start_time);
}

Result<> thaw(const State& st) {
  auto cg = TRY(cgroups::load_manager(st.cgroup_paths, st.systemd_unit));
  return cg->freeze(false);
}

}  // namespace

Status live_status(const std::string& root, const State& st) {
  Status s = current_status(root, st);
  if (s == Status::running || s == Status::created) {
    auto cg = cgroups::load_manager(st.cgroup_paths, st.systemd_unit);
    if (cg) {
      auto frozen = (*cg)->frozen();
      if (frozen && *frozen) return Status::paused;
    }
  }
  return s;
}

namespace {

// Start a container known to be created, holding its lock: shared by start and run.
Result<> start_created(const Globals& g, int lock_fd, const State& st, const std::optional<spec::Hooks>& hooks) {
  Fd conn = TRYC(unix_connect(start_socket_path(lock_fd), SOCK_SEQPACKET), "connect to the container init");
  // The state as the startContainer hooks must see it: created, not the creating of create time.
  TRY(linux::send_msg(conn.get(), linux::Msg::Start, 0, oci_state_json(st, Status::created)));
  ::unlink((state_dir(g.root, st.id) + "/start.sock").c_str());
  // The init execs with this connection close-on-exec: EOF means it ran.
  auto reply = linux::recv_msg(conn.get());
  if (reply) return std::unexpected(linux::message_error(*reply));
  if (reply.error().code != EPIPE) return std::unexpected(reply.error());

  if (hooks && !hooks->poststart.empty()) {
    std::string json = oci_state_json(st, Status::running);
    for (auto& e : linux::run_hooks_all(hooks->poststart, "poststart", json)) g.warn(e.message);
  }
  return {};
}

Result<> no_process(const std::string& id) {
  return fail("cannot start container \"" + id + "\": config.json has no process", EINVAL);
}

}  // namespace

Result<> start(const Globals& g, const std::string& id) {
  Fd lock = TRY(lock_container(g.root, id));
  State st = TRY(load_state(g.root, id));
  Status status = live_status(g.root, st);
  if (status != Status::created)
    return fail("cannot start container \"" + id + "\": it is " + to_string(status), EINVAL);
  if (!st.needs_config) return start_created(g, lock.get(), st, std::nullopt);
  spec::Config cfg = TRY(saved_config(g.root, id));
  if (!cfg.process) return no_process(id);
  return start_created(g, lock.get(), st, cfg.hooks);
}

Result<std::string> state(const Globals& g, const std::string& id) {
  State st = TRY(load_state(g.root, id));
  return oci_state_json(st, live_status(g.root, st));
}

Result<> kill(const Globals& g, const std::string& id, int sig, bool all) {
  State st = TRY(load_state(g.root, id));
  Status status = live_status(g.root, st);
  if (all) {
    if (status == Status::stopped) return fail("cannot kill container \"" + id + "\": it is stopped", ESRCH);
    auto cg = TRY(cgroups::load_manager(st.cgroup_paths, st.systemd_unit));
    return cg->kill_all(sig);
  }
  if (status == Status::stopped || status == Status::creating)
    return fail("cannot kill container \"" + id + "\": it is " + to_string(status), ESRCH);
  if (::kill(st.pid, sig) < 0) return sys_error("kill " + std::to_string(st.pid));
  // A frozen task holds even SIGKILL until thawed (runc thaws too); other
  // signals wait for resume.
  if (sig == SIGKILL && status == Status::paused) TRY(thaw(st));
  return {};
}

namespace {

// Delete a container whose record is loaded, holding its lock: shared by delete and run. `hooks`
// gives the poststop hooks when the caller has the config at hand; else they are read from the
// saved config.json, if the record says it has any.
Result<> remove_loaded(const Globals& g, const State& st, bool force, const std::optional<spec::Hooks>* hooks) {
  const std::string& id = st.id;
  Status status = live_status(g.root, st);
  if (status != Status::stopped && !force)
    return fail("cannot delete container \"" + id + "\" that is " + to_string(status) + " (use --force)", EBUSY);

  if (process_alive(st.pid, st.pid_start_time)) {
    ::kill(st.pid, SIGKILL);
    if (status == Status::paused) TRY(thaw(st));
    if (!wait_gone(st.pid, st.pid_start_time, 5000))
      return fail("container \"" + id + "\": init " + std::to_string(st.pid) + " survived SIGKILL", EBUSY);
  }
  if (auto cg = cgroups::load_manager(st.cgroup_paths, st.systemd_unit)) TRY((*cg)->destroy());

  if (st.recorded == "created") {
    std::optional<spec::Hooks> saved;
    if (!hooks) {
      if (st.needs_config)
        if (auto cfg = saved_config(g.root, id)) saved = std::move(cfg->hooks);
      hooks = &saved;
    }
    if (*hooks) {
      std::string json = oci_state_json(st, Status::stopped);
      for (auto& e : linux::run_hooks_all((*hooks)->poststop, "poststop", json)) g.warn(e.message);
    }
  }
  return remove_tree(state_dir(g.root, id));
}

}  // namespace

Result<> remove(const Globals& g, const std::string& id, bool force) {
  TRY(check_id(id));
  auto lock = lock_container(g.root, id);
  if (!lock) {
    // runc: deleting an unknown container with --force succeeds.
    if (force && lock.error().code == ENOENT) return {};
    return std::unexpected(lock.error());
  }
  auto loaded = load_state(g.root, id);
  if (!loaded) {
    if (!force) return std::unexpected(loaded.error());
    return remove_tree(state_dir(g.root, id));  // a directory without a readable record: debris
  }
  return remove_loaded(g, *loaded, force, nullptr);
}

Result<std::vector<ListEntry>> list(const Globals& g) {
  std::vector<ListEntry> out;
  DIR* d = ::opendir(g.root.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return sys_error("open " + g.root);
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    auto st = load_state(g.root, name);
    if (!st) continue;
    Status s = live_status(g.root, *st);
    out.push_back({std::move(*st), s});
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const ListEntry& a, const ListEntry& b) { return a.state.created < b.state.created; });
  return out;
}


Result<int> run(const Globals& g, const std::string& id, RunOptions opt) {
  Fd master;
  sigset_t set, old;
  if (!opt.detach) {
    // Become the init's reaper, and hold signals for supervise() from now on
    // so none is lost between start and the signalfd.
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) return sys_error("set child subreaper");
    set = supervised_signals();
    ::sigprocmask(SIG_BLOCK, &set, &old);
    if (opt.create.console_socket.empty()) opt.create.console_master = &master;
  }
  // The container just created is known: start and delete it from what create parsed and
  // recorded instead of reading state.json and config.json back.
  Created c = TRY(create(g, id, opt.create));
  auto started = [&]() -> Result<> {
    Fd lock = TRY(lock_container(g.root, id));
    if (!c.has_process) return no_process(id);
    return start_created(g, lock.get(), c.state, c.hooks);
  }();
  if (!started) {
    (void)remove(g, id, true);
    return std::unexpected(started.error());
  }
  if (opt.detach) return 0;
  auto status = supervise(c.pid, master.valid() ? master.get() : -1);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  if (!opt.keep) {
    Fd lock = TRY(lock_container(g.root, id));
    TRY(remove_loaded(g, c.state, true, &c.hooks));
  }
  return exit_code_of(TRY(std::move(status)));
}

}  // namespace orun::container
