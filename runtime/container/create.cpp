// `orun create`: the parent side of the handshake in linux/sync.hpp.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <climits>
#include <functional>
#include <cstring>
#include <memory>

#include "base/child.hpp"
#include "base/file.hpp"
#include "base/unix_socket.hpp"
#include "base/strings.hpp"
#include "cgroups/manager.hpp"
#include "container/container.hpp"
#include "linux/console.hpp"
#include "linux/hooks.hpp"
#include "linux/init.hpp"
#include "linux/mounts.hpp"
#include "linux/process_attrs.hpp"
#include "linux/sync.hpp"
#include "spec/parse.hpp"
#include "spec/validate.hpp"

namespace orun::container {
namespace {

// Undoes a create that did not finish: kills what was started, removes the
// cgroups and the state directory. Disarmed once the container is created.
struct CreateGuard {
  std::string dir;
  std::unique_ptr<cgroups::Manager> cgroup;
  ChildPid child;  // our child: stage-1, or the init itself when it was cloned
  pid_t init = 0;
  bool armed = true;
  // Set once the first hook may have run: the spec continues a failed create at delete, so
  // the poststop hooks run after the cleanup, whatever failed later (a hook, the init).
  std::function<void()> poststop;

  ~CreateGuard() {
    if (!armed) return;
    if (init > 0) ::kill(init, SIGKILL);
    child.reset();
    if (cgroup) (void)cgroup->destroy();
    if (!dir.empty()) (void)remove_tree(dir);
    if (poststop) poststop();
  }
};

Result<std::string> resolve_rootfs(const std::string& bundle, const spec::Config& cfg) {
  std::string path = cfg.root->path;
  if (path.empty() || path[0] != '/') path = bundle + "/" + path;
  char real[PATH_MAX];
  if (!::realpath(path.c_str(), real)) return sys_error("root.path: " + path);
  struct stat st;
  if (::stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) return fail("root.path: " + path + " is not a directory", ENOTDIR);
  return std::string(real);
}

Result<std::string> absolute(const std::string& path) {
  char real[PATH_MAX];
  if (!::realpath(path.c_str(), real)) return sys_error("bundle " + path);
  return std::string(real);
}

// systemd socket activation (sd_listen_fds(3)): fds passed to us from 3 on
// are passed on to the container, before the --preserve-fds ones, and the
// process is told about them, as runc does.
int listen_fds() {
  const char* fds = ::getenv("LISTEN_FDS");
  const char* pid = ::getenv("LISTEN_PID");
  if (!fds || !pid || parse_int(pid).value_or(-1) != ::getpid()) return 0;
  auto n = parse_int(fds);
  return n && *n > 0 && *n < 4096 ? static_cast<int>(*n) : 0;
}

// Idmapped bind mounts need the host's view of their source: once the init is
// in its own user namespace it can no longer map host file systems, so the
// trees are made here and handed down by index (RootfsOptions::mount_trees).
Result<std::vector<std::pair<size_t, Fd>>> idmapped_trees(const spec::Config& cfg, const std::string& bundle) {
  std::vector<std::pair<size_t, Fd>> trees;
  for (size_t i = 0; i < cfg.mounts.size(); ++i) {
    const auto& m = cfg.mounts[i];
    auto opts = linux::parse_mount_options(m.options);
    if (!opts.idmap && m.uid_mappings.empty() && m.gid_mappings.empty()) continue;
    std::vector<spec::Mount::IdMap> uids = m.uid_mappings, gids = m.gid_mappings;
    // The idmap option without its own mappings uses the container's.
    auto to_mount_map = [](const std::vector<spec::IdMapping>& v) {
      std::vector<spec::Mount::IdMap> out;
      for (auto& x : v) out.push_back({x.container_id, x.host_id, x.size});
      return out;
    };
    if (uids.empty() && cfg.linux) uids = to_mount_map(cfg.linux->uid_mappings);
    if (gids.empty() && cfg.linux) gids = to_mount_map(cfg.linux->gid_mappings);
    if (uids.empty() || gids.empty())
      return fail("mounts[" + std::to_string(i) + "]: an idmapped mount needs uidMappings and gidMappings");
    std::string source = m.source.empty() || m.source[0] == '/' ? m.source : bundle + "/" + m.source;
    Fd tree = TRYC(linux::make_idmapped_tree(source, opts.recursive_bind, opts.recursive_idmap, uids, gids),
                   "mounts[" + std::to_string(i) + "] (idmapped bind of " + m.source + ")");
    trees.emplace_back(i, std::move(tree));
  }
  return trees;
}

Result<> check_preserved_fds(int n) {
  for (int fd = 3; fd < 3 + n; ++fd)
    if (::fcntl(fd, F_GETFD) < 0) return fail("--preserve-fds: fd " + std::to_string(fd) + " is not open", EBADF);
  return {};
}

}  // namespace

Result<Created> create(const Globals& g, const std::string& id, const CreateOptions& opt) {
  TRY(check_id(id));
  if (opt.preserve_fds < 0) return fail("--preserve-fds must not be negative");
  const int activated = listen_fds();
  TRY(check_preserved_fds(activated + opt.preserve_fds));
  std::string bundle = TRY(absolute(opt.bundle));
  std::string config_text = TRYC(read_file(bundle + "/config.json"), "bundle");
  spec::Config cfg = TRY(spec::parse_config(config_text));
  TRY(spec::validate(cfg));
  if (!cfg.linux) return fail("linux: missing; orun runs Linux containers");
  std::string rootfs = TRY(resolve_rootfs(bundle, cfg));
  if (activated && cfg.process) {
    cfg.process->env.push_back("LISTEN_FDS=" + std::to_string(activated));
    cfg.process->env.push_back("LISTEN_PID=1");
  }

  // Prepare everything that can fail on bad input before touching the system.
  linux::InitPlan plan;
  plan.config = &cfg;
  plan.id = id;
  plan.rootfs = rootfs;
  plan.ns = TRY(linux::plan_namespaces(*cfg.linux));
  if (!plan.ns.has(spec::NamespaceType::mount)) return fail("linux.namespaces: a mount namespace is required");
  if (!cfg.linux->mount_label.empty() && !linux::selinux_enabled())
    return fail("linux.mountLabel: label \"" + cfg.linux->mount_label +
                "\" requested but SELinux is not enabled on this host");
  if (cfg.process) {
    plan.process = TRY(linux::prepare_process(*cfg.process, &*cfg.linux, g.warn));
    plan.console = cfg.process->terminal;
    if (plan.console && opt.console_socket.empty() && !opt.console_master)
      return fail("process.terminal is true: --console-socket is required");
    if (!plan.console && !opt.console_socket.empty())
      return fail("--console-socket given but process.terminal is false");
  }
  plan.process.preserve_fds = activated + opt.preserve_fds;
  plan.no_pivot = opt.no_pivot;
  plan.no_new_keyring = opt.no_new_keyring;
  auto cgroup = TRY(cgroups::open_manager(cfg.linux->cgroups_path, id, g.systemd_cgroup));

  // Record intent before acting: the state directory says "creating" and
  // names the cgroups, so a killed create can be cleaned by delete --force.
  TRY(mkdir_p(g.root, 0700));
  std::string dir = state_dir(g.root, id);
  if (::mkdir(dir.c_str(), 0700) < 0) {
    if (errno == EEXIST) return fail("container \"" + id + "\" already exists", EEXIST);
    return sys_error("mkdir " + dir);
  }
  CreateGuard guard;
  guard.dir = dir;
  Fd lock = TRY(lock_container(g.root, id));

  State st;
  st.id = id;
  st.oci_version = cfg.oci_version;
  st.creator_pid = ::getpid();
  st.creator_start_time = process_start_time(st.creator_pid);
  st.bundle = bundle;
  st.rootfs = rootfs;
  st.created = now_rfc3339();
  st.recorded = "creating";
  st.annotations = cfg.annotations;
  st.cgroups_path = cfg.linux->cgroups_path;
  st.systemd_cgroup = g.systemd_cgroup;
  st.systemd_unit = cgroup->systemd_unit();
  st.cgroup_paths = cgroup->paths();
  st.needs_config = !cfg.process || (cfg.hooks && (!cfg.hooks->poststart.empty() || !cfg.hooks->poststop.empty()));
  TRY(write_file(dir + "/config.json", config_text, 0600));
  TRY(save_state(g.root, st));

  TRY(cgroup->create());
  guard.cgroup = std::move(cgroup);
  // Always applied: with no resources the device rules still default to deny.
  spec::Resources resources = cfg.linux->resources.value_or(spec::Resources{});
  for (auto& rule : cgroups::device_rules_for(cfg.linux->devices)) resources.devices.push_back(rule);
  TRY(guard.cgroup->apply(resources));
  for (auto& w : guard.cgroup->ignored(resources)) g.warn(w);
  // A systemd unit starts with stage-1 in it (below); a cgroupfs one is joined by stage-1 itself.
  const bool placed_by_parent = guard.cgroup->starts_with_process();
  plan.wait_for_cgroup = placed_by_parent;
  if (!placed_by_parent) plan.cgroups = linux::cgroup_join(guard.cgroup->paths());
  plan.rootfs_options.rootfs = rootfs;
  plan.rootfs_options.bundle = bundle;
  auto trees = TRY(idmapped_trees(cfg, bundle));
  for (auto& [index, fd] : trees) plan.rootfs_options.mount_trees[index] = fd.get();
  plan.rootfs_options.user_namespace = plan.ns.has(spec::NamespaceType::user);
  plan.rootfs_options.new_cgroup_ns = plan.ns.is_new(spec::NamespaceType::cgroup);
  plan.rootfs_options.cgroup_paths = guard.cgroup->paths();

  Fd start_sock = TRY(unix_listen(start_socket_path(lock.get()), SOCK_SEQPACKET));
  plan.start_fd = start_sock.get();

  // The first child is born in its cgroup v2 (linux/cgroup_join.hpp).
  Fd cgroup_dir = linux::open_v2_dir(plan.cgroups);
  plan.cgroup_fd = cgroup_dir.get();

  auto pair = TRY(linux::make_sync_pair());
  plan.sync_fd = pair.child.get();
  plan.lock_fd = lock.get();
  plan.parent_sync_fd = pair.parent.get();
  linux::Spawned spawned = TRY(linux::spawn_container(plan));
  guard.child = ChildPid(spawned.pid);
  pair.child.reset();
  start_sock.reset();
  cgroup_dir.reset();
  plan.process.seccomp_listener.reset();
  const int sock = pair.parent.get();
  if (placed_by_parent) {
    TRY(guard.cgroup->add(spawned.pid));
    TRY(linux::send_msg(sock, linux::Msg::CgroupReady));
  }

  auto record_init = [&](pid_t init) -> Result<> {
    guard.init = init;
    st.pid = init;
    st.pid_start_time = process_start_time(st.pid);
    return save_state(g.root, st);
  };
  if (spawned.is_init) TRY(record_init(spawned.pid));

  for (;;) {
    linux::Message m = TRY(linux::recv_msg(sock));
    switch (m.type) {
      case linux::Msg::UsermapPls:
        TRY(linux::write_id_maps(spawned.pid, *cfg.linux));
        TRY(linux::send_msg(sock, linux::Msg::UsermapAck));
        continue;
      case linux::Msg::InitPid:
        guard.child.wait();
        TRY(record_init(m.value));
        continue;
      case linux::Msg::HooksPls: {
        std::string json = oci_state_json(st, Status::creating);
        if (cfg.hooks) {
          guard.poststop = [&g, hooks = cfg.hooks->poststop, stopped = oci_state_json(st, Status::stopped)] {
            for (auto& e : linux::run_hooks_all(hooks, "poststop", stopped)) g.warn(e.message);
          };
          TRY(linux::run_hooks(cfg.hooks->prestart, "prestart", json));
          TRY(linux::run_hooks(cfg.hooks->create_runtime, "createRuntime", json));
        }
        TRY(linux::send_msg(sock, linux::Msg::HooksAck, st.pid, json));
        continue;
      }
      case linux::Msg::ConsolePty:
        if (opt.console_master) *opt.console_master = std::move(m.fd);
        else TRY(linux::send_to_console_socket(opt.console_socket, m.fd.get()));
        continue;
      case linux::Msg::Ready:
        break;
      default:
        return std::unexpected(linux::message_error(m));
    }
    break;
  }

  st.recorded = "created";
  TRY(save_state(g.root, st));
  if (!opt.pid_file.empty()) TRY(write_file_atomic(opt.pid_file, std::to_string(st.pid), 0644));
  guard.armed = false;
  guard.child.release();  // a cloned init is ours, to be reaped by our caller
  return Created{st.pid, std::move(st), std::move(cfg.hooks), cfg.process.has_value()};
}

}  // namespace orun::container
