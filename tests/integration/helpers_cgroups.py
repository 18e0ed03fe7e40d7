"""Helpers for the tests of cgroup limits and the verbs that act on them (test_verbs, test_limits):
where a container's cgroup files are on this host, and a container started with a script."""
import os
import subprocess

import pytest

from orun import read_text, rootfs_file  # noqa: F401 (re-exported)

HYBRID = os.path.isdir("/sys/fs/cgroup/memory") and os.path.isdir("/sys/fs/cgroup/unified")


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
