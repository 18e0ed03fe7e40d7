"""Helpers for the tests of cgroup limits and the verbs that act on them (test_verbs, test_limits):
where a container's cgroup files are on this host, and a container started with a script."""
import os
import shutil
import subprocess

import pytest

from orun import read_text, rootfs_file  # noqa: F401 (re-exported)

# v1 controllers: a hybrid host (this project's machines) or a pure v1 one (tools/vm/run --cgroup v1).
V1 = os.path.isdir("/sys/fs/cgroup/memory")
HYBRID = V1 and os.path.isdir("/sys/fs/cgroup/unified")
# Real-time group scheduling (CONFIG_RT_GROUP_SCHED): this project's host kernel has it, Debian's not.
RT_GROUPS = os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_period_us")


def cg_dir(pid, controller):
    """The host directory of `pid`'s cgroup for a v1 controller ("" for the cgroup2 tree)."""
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if controller == "" and ctrls == "":
                mount = "/sys/fs/cgroup/unified" if HYBRID else "/sys/fs/cgroup"
                return mount + path
            if controller in [c.replace("name=", "") for c in ctrls.split(",")]:
                return f"/sys/fs/cgroup/{controller}{path}"
    raise AssertionError(f"pid {pid} has no {controller!r} cgroup")


def cg_read(pid, controller, name):
    with open(os.path.join(cg_dir(pid, controller), name)) as f:
        return f.read().strip()


def keyed(text):
    return {k: int(v) for k, v in (line.split() for line in text.splitlines() if len(line.split()) == 2)}


def start_running(orun, bundle, script):
    bundle.set_args("sh", "-c", script)
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    assert orun.start(r.cid).returncode == 0
    return r.cid, orun.state_json(r.cid)["pid"]




@pytest.fixture
def loop_device(tmp_path):
    """A loop device over a 16 MiB file: a block device of our own that blkio and io files can name
    (and whose I/O scheduler a test may change)."""
    backing = tmp_path / "disk"
    with open(backing, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["modprobe", "loop"], capture_output=True)  # built in on some kernels
    dev = subprocess.run(["losetup", "--find", "--show", str(backing)], capture_output=True, text=True,
                         check=True).stdout.strip()
    yield dev
    subprocess.run(["losetup", "--detach", dev], check=True)


def dev_numbers(path):
    st = os.stat(path)
    return os.major(st.st_rdev), os.minor(st.st_rdev)


# The VM tiers (tests/vm/cgroup1, cgroup2): an RDMA device for the rdma controller.

@pytest.fixture(scope="session")
def rxe_device():
    """A soft-RoCE device (rdma_rxe over a dummy link): the VM has the rdma controller, no RDMA card."""
    for module in ("dummy", "rdma_rxe"):
        subprocess.run(["modprobe", module], check=True)
    subprocess.run(["ip", "link", "add", "orun-rxe", "type", "dummy"], check=True)
    subprocess.run(["ip", "link", "set", "orun-rxe", "up"], check=True)
    subprocess.run(["rdma", "link", "add", "orun_rxe0", "type", "rxe", "netdev", "orun-rxe"], check=True)
    yield "orun_rxe0"
    # Left in place, on purpose: `rdma link delete` of an rxe device panics Debian's 6.1 kernel (list
    # corruption in the rxe teardown, seen here), and the VM, with this device, ends with the run.


def with_ibverbs(bundle, rxe_device):
    """The container runs the host's ibv_devinfo (ibverbs-utils; the rxe provider comes from
    ibverbs-providers) on the soft-RoCE device: /usr bound read-only from the host, the provider
    configuration copied in, the device's uverbs node in linux.devices."""
    rootfs = bundle.rootfs
    for link in ("lib", "lib64"):
        os.symlink(f"usr/{link}", os.path.join(rootfs, link))
    shutil.copytree("/etc/libibverbs.d", os.path.join(rootfs, "etc/libibverbs.d"))
    node = next(f"/dev/infiniband/{u}" for u in os.listdir("/sys/class/infiniband_verbs")
                if read_text(f"/sys/class/infiniband_verbs/{u}/ibdev").strip() == rxe_device)
    st = os.stat(node)
    bundle.config["mounts"].append({"destination": "/usr", "type": "bind", "source": "/usr",
                                    "options": ["rbind", "ro"]})
    bundle.config["linux"].setdefault("devices", []).append(
        {"path": node, "type": "c", "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev)})
