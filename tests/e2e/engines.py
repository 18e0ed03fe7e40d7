"""Private podman and containerd instances driving the orun under test, for tests/e2e.

Each engine lives in one temporary directory: its configuration, storage, state, sockets, logs and
image. Nothing is read from or written to /etc/containers, /var/lib/containers or /var/lib/containerd.
Containers go into a cgroup named after the instance (podman --cgroup-parent, containerd namespace),
so what is left behind can be found and removed. `close()` stops the engine and returns a list of
what it had to clean up; the fixtures fail the session if that list is not empty.

Run as a script to get a shell-ready environment for trying orun by hand:
    /usr/bin/python3 tests/e2e/engines.py podman|containerd DIR
"""
import copy
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from orun import mounts_below  # noqa: E402
IMAGE = "localhost/busybox:e2e"
ORCH_CNI = os.path.abspath(os.environ.get("ORCH_CNI") or os.path.join(REPO, "build/netns/orch-cni"))
VAR_LIB_CONTAINERS = "/var/lib/containers"
# podman 4.3 as root asks for nofile and nproc limits of 1048576, above this sandbox's hard limits
# (raising them needs CAP_SYS_RESOURCE): containers get small ones instead.
ULIMITS = ["nofile=1024:1024", "nproc=1024:1024"]


def run(argv, timeout=60, check=False, **kw):
    """subprocess.run with text output captured; stdin is /dev/null unless `input` is given."""
    if "input" not in kw and "stdin" not in kw:
        kw["stdin"] = subprocess.DEVNULL
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}")
    return r


def cni_plugin_dir(path):
    """A CNI plugin directory holding only orch-cni (a link to the binary under test)."""
    os.makedirs(path, exist_ok=True)
    os.symlink(ORCH_CNI, os.path.join(path, "orch-cni"))
    return path


def rootfs_tar(rootfs, path):
    """A tar of the busybox rootfs made by tools/mkrootfs, as `podman import` and umoci take it."""
    with tarfile.open(path, "w") as tar:
        for name in sorted(os.listdir(rootfs)):
            tar.add(os.path.join(rootfs, name), arcname=name)
    return path


# ---- what an engine may leave behind ----

def processes_with(needle):
    """pid -> command line of live processes whose command line or cgroup contains `needle`."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            with open(f"/proc/{name}/cgroup") as f:
                cgroup = f.read()
            with open(f"/proc/{name}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (needle in cmdline or needle in cgroup):
            found[int(name)] = cmdline
    return found


def cgroups_named(name):
    """Every cgroup directory (v1 hierarchies and the unified one) at /NAME, deepest first."""
    found = []
    for hierarchy in os.listdir("/sys/fs/cgroup"):
        top = os.path.join("/sys/fs/cgroup", hierarchy, name)
        for dirpath, _, _ in os.walk(top):
            found.append(dirpath)
    return sorted(found, key=len, reverse=True)


def sweep(workdir, cgroup_name):
    """Kill processes of the instance, unmount and remove its directory and cgroups; returns what
    was found (an empty list means the engine cleaned up after itself)."""
    left = []
    procs = {**processes_with(workdir), **processes_with("/" + cgroup_name + "/")}
    for pid, cmdline in procs.items():
        left.append(f"process {pid}: {cmdline[:150]}")
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + 10
    while processes_with(workdir) and time.monotonic() < deadline:
        time.sleep(0.05)
    for m in mounts_below(workdir):
        left.append(f"mount {m}")
        subprocess.run(["umount", "-l", m], capture_output=True)
    left += sweep_cgroups(cgroup_name)
    shutil.rmtree(workdir, ignore_errors=True)
    return left


def sweep_cgroups(name):
    """Remove the cgroups at /NAME; returns those that could not be removed."""
    left = []
    for group in cgroups_named(name):
        try:
            os.rmdir(group)
        except FileNotFoundError:
            pass
        except OSError as e:
            left.append(f"cgroup {group}: {e.strerror}")
    return left


def cgroup_file(pid, v1_controller, v1_name, v2_name):
    """Host path of a cgroup file of process `pid`: the v1 controller's file where that controller
    is mounted (this hybrid host), else the unified hierarchy's."""
    with open(f"/proc/{pid}/cgroup") as f:
        paths = dict(line.rstrip("\n").split(":", 2)[1:] for line in f)
    if v1_controller in paths and os.path.isdir(f"/sys/fs/cgroup/{v1_controller}"):
        return f"/sys/fs/cgroup/{v1_controller}{paths[v1_controller]}/{v1_name}"
    unified = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
    return f"{unified}{paths['']}/{v2_name}"


def frozen(pid):
    """Whether the cgroup of `pid` is frozen (v1 freezer.state, v2 cgroup.freeze)."""
    with open(cgroup_file(pid, "freezer", "freezer.state", "cgroup.freeze")) as f:
        return f.read().strip() in ("FROZEN", "1")


class Podman:
    """podman with vfs storage, cgroupfs, file events and orun as its default runtime, all under
    `workdir`. Call it like the podman CLI: podman("run", "--rm", IMAGE, "true").

    cgroup_manager="systemd" (podman's default on systemd hosts) has podman pass orun
    `--systemd-cgroup` and cgroupsPath `machine.slice:libpod:<id>`; containers then go into
    machine.slice, not below a cgroup of the instance. `timeout` is each command's default."""

    def __init__(self, orun, workdir, rootfs, cgroup_manager="cgroupfs", timeout=60):
        self.orun = orun
        self.workdir = workdir
        self.prefix = []
        self.cgroup_manager = cgroup_manager
        self.timeout = timeout
        self.cgroup_name = f"orun-e2e-podman-{secrets.token_hex(4)}"
        self.network_dir = os.path.join(workdir, "net")
        cni_plugin_dir(os.path.join(workdir, "cni-bin"))
        conf = os.path.join(workdir, "containers.conf")
        storage = os.path.join(workdir, "storage.conf")
        os.makedirs(os.path.join(workdir, "tmp"), exist_ok=True)
        with open(conf, "w") as f:
            f.write(self.containers_conf(orun, workdir, cgroup_manager))
        with open(storage, "w") as f:
            f.write(f'[storage]\ndriver = "vfs"\ngraphroot = "{workdir}/storage"\n'
                    f'runroot = "{workdir}/run"\n')
        self.env = {**os.environ, "CONTAINERS_CONF": conf, "CONTAINERS_STORAGE_CONF": storage,
                    "CONTAINERS_REGISTRIES_CONF": os.path.join(workdir, "registries.conf")}
        with open(self.env["CONTAINERS_REGISTRIES_CONF"], "w") as f:
            f.write("unqualified-search-registries = []\n")
        # `podman import` as root keeps a blob cache in /var/lib/containers/cache whatever the
        # storage configuration says: remove it afterwards unless it was there before.
        self.made_var_lib = not os.path.exists(VAR_LIB_CONTAINERS)
        self.had_libpod_parent = bool(cgroups_named("libpod_parent"))
        self.argv = ["podman", "--root", f"{workdir}/storage", "--runroot", f"{workdir}/run",
                     "--storage-driver", "vfs", "--cgroup-manager", cgroup_manager,
                     "--events-backend", "file"]
        self("import", rootfs_tar(rootfs, os.path.join(workdir, "rootfs.tar")), IMAGE, check=True)

    @staticmethod
    def containers_conf(orun, workdir, cgroup_manager="cgroupfs"):
        # runtime_supports_json: podman then calls `orun --log-format=json --log FILE` and shows
        # the user the message of the last error line (runc and crun get the same treatment).
        return f"""[containers]
default_ulimits = {json.dumps(ULIMITS)}
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "{cgroup_manager}"
events_logger = "file"
events_logfile_path = "{workdir}/events.log"
runtime = "orun"
runtime_supports_json = ["orun"]
tmp_dir = "{workdir}/tmp"
static_dir = "{workdir}/storage/libpod"
volume_path = "{workdir}/storage/volumes"

[engine.runtimes]
orun = ["{orun}"]

[network]
network_backend = "cni"
cni_plugin_dirs = ["{workdir}/cni-bin"]
network_config_dir = "{workdir}/net"
"""

    def command(self, *args):
        """The podman argv for `podman ARGS...` on this instance."""
        args = list(args)
        # Containers go below a cgroup of this instance instead of the shared /libpod_parent.
        if args and args[0] in ("run", "create") and self.cgroup_manager == "cgroupfs":
            args.insert(1, f"--cgroup-parent=/{self.cgroup_name}")
        return self.prefix + self.argv + args

    def in_netns(self, netns):
        """This instance with its commands run in the network namespace at path `netns` (nsenter
        --net), where podman then runs the CNI plugin: the bridge, host veths, nft tables and the
        sockets holding published ports are made there. Mounts stay the host's, so the namespace
        files podman mounts under /run/netns outlive the command that made them."""
        other = copy.copy(self)
        other.prefix = ["nsenter", f"--net={netns}"]
        return other

    def __call__(self, *args, timeout=None, check=False, **kw):
        return run(self.command(*args), timeout=timeout or self.timeout, check=check, env=self.env, **kw)

    def containers(self):
        return self("ps", "-aq", "--no-trunc", check=True).stdout.split()

    def remove_all(self):
        """Remove every container; returns the ids that were still there."""
        ids = self.containers()
        if ids:
            self("rm", "-af", "-t", "0")
        return ids

    def close(self):
        left = [f"container {c}" for c in self.remove_all()]
        # podman as root passes no --root to the runtime, so orun keeps its state in /run/orun.
        self("rmi", "-af")
        if self.made_var_lib:
            shutil.rmtree(VAR_LIB_CONTAINERS, ignore_errors=True)
        if not self.had_libpod_parent and cgroups_named("libpod_parent"):
            left.append("cgroup /libpod_parent: a run or create bypassed Podman.command()")
            sweep_cgroups("libpod_parent")
        return left + sweep(self.workdir, self.cgroup_name)


class Containerd:
    """containerd with its own root, state, sockets and config under `workdir`, started in the
    background; ctr runs containers through the io.containerd.runc.v2 shim with BinaryName (ctr
    --runc-binary) set to orun. Call it like ctr: ctr("task", "ls"). `timeout` is each command's
    default (and the daemon's start)."""

    def __init__(self, orun, workdir, rootfs, timeout=60):
        self.orun = orun
        self.workdir = workdir
        self.prefix = []
        self.timeout = timeout
        self.cgroup_name = self.namespace = f"orun-e2e-ctr-{secrets.token_hex(4)}"
        # What `ctr run --cni` finds at /etc/cni/net.d and /opt (cni/bin) in in_netns().
        self.network_dir = os.path.join(workdir, "cni", "net.d")
        self.opt_dir = os.path.join(workdir, "cni", "opt")
        os.makedirs(self.network_dir)
        cni_plugin_dir(os.path.join(self.opt_dir, "cni", "bin"))
        self.address = os.path.join(workdir, "containerd.sock")
        config = os.path.join(workdir, "config.toml")
        with open(config, "w") as f:
            f.write(self.config_toml(workdir))
        self.log = open(os.path.join(workdir, "containerd.log"), "w")
        self.daemon = subprocess.Popen(["containerd", "--config", config], stdin=subprocess.DEVNULL,
                                       stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while run(["ctr", "--address", self.address, "version"], timeout=timeout).returncode != 0:
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"containerd did not start; see {self.log.name}")
            time.sleep(0.1)
        self("image", "import", "--snapshotter", "native", "--base-name", IMAGE.split(":")[0],
             self.oci_archive(rootfs), check=True)

    @staticmethod
    def config_toml(workdir):
        # The CRI plugin wants CNI and a sandbox image, which these tests do not use.
        return f"""version = 2
root = "{workdir}/root"
state = "{workdir}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp"]

# The opt plugin would otherwise create /opt/containerd on the host.
[plugins."io.containerd.internal.v1.opt"]
  path = "{workdir}/opt"

[grpc]
  address = "{workdir}/containerd.sock"
[ttrpc]
  address = "{workdir}/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
"""

    def oci_archive(self, rootfs):
        """An OCI image layout holding the rootfs as one layer, made with umoci, as a tar."""
        layout = os.path.join(self.workdir, "oci")
        tag = IMAGE.split(":")[1]
        run(["umoci", "init", "--layout", layout], check=True, timeout=self.timeout)
        run(["umoci", "new", "--image", f"{layout}:{tag}"], check=True, timeout=self.timeout)
        run(["umoci", "insert", "--image", f"{layout}:{tag}", rootfs, "/"], check=True, timeout=self.timeout)
        run(["umoci", "config", "--image", f"{layout}:{tag}", "--config.cmd", "sh",
             "--config.env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"], check=True, timeout=self.timeout)
        archive = os.path.join(self.workdir, "oci.tar")
        run(["tar", "-C", layout, "-cf", archive, "."], check=True, timeout=self.timeout)
        return archive

    def command(self, *args):
        return self.prefix + ["ctr", "--address", self.address, "--namespace", self.namespace, *args]

    def __call__(self, *args, timeout=None, check=False, **kw):
        return run(self.command(*args), timeout=timeout or self.timeout, check=check, **kw)

    # ctr 1.6 has no flag for the CNI directories: `ctr run --cni` reads /etc/cni/net.d and
    # /opt/cni/bin. A private mount namespace per command puts this instance's directories there.
    BIND_CNI = 'mount --bind "$1" /etc/cni/net.d && mount --bind "$2" /opt && shift 2 && exec "$@"'

    def in_netns(self, netns):
        """This instance with its ctr commands run in the network namespace at path `netns`, where
        `ctr run --cni` runs the CNI plugin (bridge, host veths, nft tables), and in a private mount
        namespace where /etc/cni/net.d and /opt are this instance's `network_dir` and `opt_dir`.
        The daemon and the shim stay where they are: the container's namespaces are orun's."""
        other = copy.copy(self)
        other.prefix = ["nsenter", f"--net={netns}", "unshare", "--mount", "--propagation", "private",
                        "sh", "-c", self.BIND_CNI, "sh", self.network_dir, self.opt_dir]
        return other

    def run_args(self, *extra):
        """`ctr run` options that put orun under the runc shim with private state and fifos."""
        return ["run", "--snapshotter", "native", "--runc-binary", self.orun,
                "--runc-root", os.path.join(self.workdir, "orun"),
                "--fifo-dir", os.path.join(self.workdir, "fifo"), *extra]

    def containers(self):
        return self("containers", "ls", "-q", check=True).stdout.split()

    def remove_all(self):
        """Kill and remove every task and container; returns the ids that were still there."""
        ids = self.containers()
        for cid in ids:
            self("task", "kill", "-s", "SIGKILL", cid)
            self("task", "delete", "--force", cid)
            self("containers", "delete", cid)
        return ids

    def close(self):
        left = [f"container {c}" for c in self.remove_all()]
        self.daemon.terminate()
        try:
            self.daemon.wait(timeout=max(20, self.timeout // 3))
        except subprocess.TimeoutExpired:
            left.append("containerd did not stop on SIGTERM")
            self.daemon.kill()
            self.daemon.wait()
        self.log.close()
        left += sweep(self.workdir, self.cgroup_name)
        # ctr and the shim keep sockets and fifos in /run/containerd whatever the config says;
        # remove the directories when no other containerd uses them.
        for d in ("/run/containerd/s", "/run/containerd/fifo", "/run/containerd"):
            try:
                os.rmdir(d)
            except OSError:
                pass
        return left


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("podman", "containerd"):
        sys.exit(__doc__)
    orun = os.path.abspath(os.environ.get("ORUN") or os.path.join(REPO, "build/runtime/cli/orun"))
    workdir = os.path.abspath(sys.argv[2])
    os.makedirs(workdir, exist_ok=True)
    bundle = os.path.join(workdir, "bundle")
    run(["/usr/bin/python3", os.path.join(REPO, "tools/mkrootfs"), "--orun", orun, bundle], check=True)
    rootfs = os.path.join(bundle, "rootfs")
    if sys.argv[1] == "podman":
        p = Podman(orun, workdir, rootfs)
        print(f"export CONTAINERS_CONF={p.env['CONTAINERS_CONF']} "
              f"CONTAINERS_STORAGE_CONF={p.env['CONTAINERS_STORAGE_CONF']}")
        print(f"alias podman={shlex.quote(shlex.join(p.argv))}  # then: podman run --rm {IMAGE} echo hi")
    else:
        c = Containerd(orun, workdir, rootfs)  # keeps running after this script exits
        print(f"# containerd is pid {c.daemon.pid}: kill it, then umount and remove {workdir}")
        print(f"ctr --address {c.address} -n {c.namespace} {shlex.join(c.run_args())} --rm "
              f"{IMAGE} demo echo hi </dev/null")


if __name__ == "__main__":
    main()
