"""Helpers for the tests of cgroup limits and the verbs that act on them (test_verbs, test_limits):
where a container's cgroup files are on this host, and a container started with a script."""
import os

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


