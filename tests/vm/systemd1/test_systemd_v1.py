"""The systemd cgroup driver on cgroup v1: systemd 252 as PID 1 in "legacy" mode (every hierarchy v1,
its own name=systemd included; tools/vm/run --systemd --cgroup v1) or hybrid (the same controllers,
its tree also in cgroup2 at /sys/fs/cgroup/unified; --cgroup hybrid). The limits become the v1
properties (MemoryLimit, CPUShares, BlockIOWeight), systemd writes them into each hierarchy's
directory of the scope, and update and delete follow."""
import json
import os
import subprocess

import pytest

from helpers_cgroups import HYBRID, cg_dir, cg_read
from orun import cgroups_named, need

MiB = 1 << 20


@pytest.fixture(autouse=True)
def systemd_pid1_on_v1():
    need(os.readlink("/proc/1/exe").endswith("/systemd"), "systemd as PID 1 (tests/vm/pytest-in-vm --systemd)")
    need(os.path.isdir("/sys/fs/cgroup/systemd"), "systemd on cgroup v1 (--cgroup v1 or hybrid)")


def show(unit, *props):
    out = subprocess.run(["systemctl", "show", unit, *(f"--property={p}" for p in props)],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_scope_limits_as_v1_properties_and_files_then_update_and_delete(orun, bundle):
    # v1 has blkio weights only with BFQ (CFQ is gone): without it the field is an error naming it.
    subprocess.run(["modprobe", "bfq"], check=True)
    bundle.config["linux"]["resources"].update(
        memory={"limit": 64 * MiB}, pids={"limit": 32}, blockIO={"weight": 500},
        cpu={"shares": 512, "quota": 50000, "period": 100000})
    bundle.config["linux"].pop("cgroupsPath", None)
    bundle.set_args("sh", "-c", "exec sleep 1000")
    cid = orun.new_id()
    bundle.write()
    r = orun.cmd("--systemd-cgroup", "create", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    assert orun.start(cid).returncode == 0
    pid = orun.state_json(cid)["pid"]
    unit = json.load(open(os.path.join(orun.root, cid, "state.json")))["systemdUnit"]
    assert unit == f"orun-{cid}.scope"

    p = show(unit, "ActiveState", "Delegate", "ControlGroup", "MemoryLimit", "CPUShares", "TasksMax",
             "BlockIOWeight", "CPUQuotaPerSecUSec")
    assert p == {"ActiveState": "active", "Delegate": "yes", "ControlGroup": f"/system.slice/{unit}",
                 "MemoryLimit": str(64 * MiB), "CPUShares": "512", "TasksMax": "32", "BlockIOWeight": "500",
                 "CPUQuotaPerSecUSec": "500ms"}
    # The scope's directory in every hierarchy holds the init, systemd's name=systemd one too.
    for controller in ("systemd", "memory", "cpu", "pids", "devices", "freezer", "net_cls", "hugetlb"):
        assert cg_dir(pid, controller).endswith(f"/system.slice/{unit}"), controller
    if HYBRID:  # and in systemd's cgroup2 tree
        assert cg_dir(pid, "").endswith(f"/system.slice/{unit}")
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(64 * MiB)
    assert (cg_read(pid, "cpu", "cpu.shares"), cg_read(pid, "cpu", "cpu.cfs_quota_us")) == ("512", "50000")
    assert cg_read(pid, "pids", "pids.max") == "32"
    assert cg_read(pid, "blkio", "blkio.bfq.weight").split()[-1] == "500"
    # The device rules went through cgroupfs on the scope: the defaults only, no "a *:* rwm".
    devices = cg_read(pid, "devices", "devices.list").splitlines()
    assert "c 1:3 rwm" in devices and "a *:* rwm" not in devices, devices

    r = orun.cmd("update", "--memory", "128m", "--pids-limit", "64", cid)
    assert r.returncode == 0, r.stderr
    assert show(unit, "MemoryLimit", "TasksMax") == {"MemoryLimit": str(128 * MiB), "TasksMax": "64"}
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(128 * MiB)
    assert cg_read(pid, "pids", "pids.max") == "64"

    assert orun.kill(cid, "KILL").returncode == 0
    r = orun.delete(cid, force=True)
    assert r.returncode == 0, r.stderr
    assert show(unit, "LoadState")["LoadState"] == "not-found"
    assert cgroups_named([cid]) == []


def test_a_scope_in_a_new_slice_in_every_hierarchy(orun, bundle):
    cid = orun.new_id()
    bundle.config["linux"]["cgroupsPath"] = f"orun-v1.slice:pfx:{cid}"
    bundle.set_args("sh", "-c", "exec sleep 1000")
    bundle.write()
    r = orun.cmd("--systemd-cgroup", "create", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    pid = orun.state_json(cid)["pid"]
    unit = f"pfx-{cid}.scope"
    assert show(unit, "Slice", "ActiveState") == {"Slice": "orun-v1.slice", "ActiveState": "active"}
    for controller in ("systemd", "memory", "cpu", "pids", "blkio", "devices", "cpuset", "perf_event"):
        assert cg_dir(pid, controller).endswith(f"/orun-v1.slice/{unit}"), controller
    r = orun.delete(cid, force=True)
    assert r.returncode == 0, r.stderr
    assert show(unit, "LoadState")["LoadState"] == "not-found"
    assert cgroups_named([cid]) == []
