"""podman and containerd driving orun through the systemd cgroup driver, against systemd 252 as PID 1:
what both engines do by default on a systemd host. The private instances are those of tests/e2e
(engines.py); here podman runs with `--cgroup-manager=systemd` and passes orun `--systemd-cgroup`
with cgroupsPath `machine.slice:libpod:<id>`, and ctr runs the io.containerd.runc.v2 shim with
SystemdCgroup (`--runc-systemd-cgroup`, cgroupsPath `system.slice:<namespace>:<id>`).

Under TCG every engine command takes tens of seconds (podman and containerd are big Go programs):
the timeouts are generous, none of them is asserted."""
import json
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "e2e"))

from engines import IMAGE, Containerd, Podman  # noqa: E402
from orun import make_base_bundle, need, wait_for  # noqa: E402
from test_systemd_driver import cg, cgroup_of, gone, show, systemd_pid1  # noqa: E402,F401 (fixture)

MiB = 1 << 20
CG = "/sys/fs/cgroup"
SLOW = 900  # seconds for one engine command under emulation
ORUN_ROOT = "/run/orun"  # podman as root passes orun no --root


def ok(r):
    assert r.returncode == 0, f"{r.args} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


@pytest.fixture(scope="module")
def rootfs(orun_bin, tmp_path_factory):
    return os.path.join(make_base_bundle(orun_bin, str(tmp_path_factory.mktemp("engines") / "bundle")), "rootfs")


def engine(cls, tools, *args, **kw):
    need(all(shutil.which(t) for t in tools), f"{', '.join(tools)} (tools/install-deps)")
    e = cls(*args, timeout=SLOW, **kw)
    try:
        yield e
    finally:
        left = e.close()
        if left:
            pytest.fail(f"{cls.__name__} left behind:\n  " + "\n  ".join(left), pytrace=False)


@pytest.fixture(scope="module")
def podman(orun_bin, rootfs, tmp_path_factory):
    yield from engine(Podman, ["podman", "conmon"], orun_bin, str(tmp_path_factory.mktemp("podman")), rootfs,
                      cgroup_manager="systemd")


@pytest.fixture(scope="module")
def containerd(orun_bin, rootfs, tmp_path_factory):
    yield from engine(Containerd, ["containerd", "ctr", "containerd-shim-runc-v2", "umoci"], orun_bin,
                      str(tmp_path_factory.mktemp("containerd")), rootfs)


def scope_checks(unit, pid, slice_, limit):
    """The container's init sits in the transient scope `unit` of `slice_`, with the memory limit as the
    unit's MemoryMax and as memory.max of its cgroup."""
    path = f"/{slice_}/{unit}"
    assert cgroup_of(pid) == path
    assert show(unit, "ActiveState", "Delegate", "Slice", "ControlGroup", "MemoryMax") == {
        "ActiveState": "active", "Delegate": "yes", "Slice": slice_, "ControlGroup": path, "MemoryMax": str(limit)}
    assert cg(path, "memory.max") == str(limit)
    return path


def orun_state(root, cid):
    with open(os.path.join(root, cid, "state.json")) as f:
        return json.load(f)


def test_podman_systemd_cgroup_manager(podman):
    cid = ok(podman("run", "-d", "--memory", "48m", IMAGE, "sleep", "1000")).stdout.strip()
    pid = int(ok(podman("inspect", "--format", "{{.State.Pid}}", cid)).stdout)
    unit = f"libpod-{cid}.scope"
    # podman asked orun for the systemd driver, with its slice:prefix:name path.
    st = orun_state(ORUN_ROOT, cid)
    assert (st["systemdCgroup"], st["systemdUnit"]) == (True, unit)
    with open(os.path.join(st["bundle"], "config.json")) as f:
        assert json.load(f)["linux"]["cgroupsPath"] == f"machine.slice:libpod:{cid}"
    path = scope_checks(unit, pid, "machine.slice", 48 * MiB)

    # A change through podman goes through orun update to the unit and the file.
    ok(podman("update", "--memory", "40m", cid))
    assert show(unit, "MemoryMax")["MemoryMax"] == str(40 * MiB)
    assert cg(path, "memory.max") == str(40 * MiB)

    ok(podman("rm", "-f", "-t", "0", cid))
    wait_for(lambda: gone(unit), f"{unit} to be unloaded", timeout=SLOW)
    assert not os.path.exists(CG + path)
    assert not os.path.exists(os.path.join(ORUN_ROOT, cid))
    assert podman.containers() == []


def test_containerd_runc_shim_with_systemd_cgroup(containerd):
    cid = "sd1"
    slice_path = f"system.slice:{containerd.namespace}:{cid}"
    ok(containerd(*containerd.run_args("-d", "--runc-systemd-cgroup", "--cgroup", slice_path,
                                       "--memory-limit", str(24 * MiB)), IMAGE, cid, "sleep", "1000"))
    pid = next(int(f[1]) for f in (line.split() for line in ok(containerd("task", "ls")).stdout.splitlines()[1:])
               if f[0] == cid)
    unit = f"{containerd.namespace}-{cid}.scope"
    root = os.path.join(containerd.workdir, "orun", containerd.namespace)
    st = orun_state(root, cid)
    assert (st["systemdCgroup"], st["systemdUnit"]) == (True, unit)
    path = scope_checks(unit, pid, "system.slice", 24 * MiB)
    # The shim reads the container's pids through orun ps.
    assert str(pid) in ok(containerd("task", "ps", cid)).stdout

    ok(containerd("task", "kill", "-s", "SIGKILL", cid))
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), "the task to end", timeout=SLOW)
    ok(containerd("task", "delete", cid))
    ok(containerd("containers", "delete", cid))
    wait_for(lambda: gone(unit), f"{unit} to be unloaded", timeout=SLOW)
    assert not os.path.exists(CG + path)
    assert not os.path.exists(os.path.join(root, cid))
