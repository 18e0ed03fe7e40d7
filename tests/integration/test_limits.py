"""linux.resources through the v1 controllers of a hybrid host, each seen to take effect on a real
workload: an allocation past memory.limit is OOM-killed, pids.max stops a fork loop, a CFS quota
throttles a busy loop, blkio throttles are written for a real block device. (Device rules:
test_devices.py; the freezer and limits changed on a running container: test_verbs.py.)"""
import os
import signal

import pytest

from orun import need, sh, wait_for
from helpers_cgroups import HYBRID, cg_read, keyed, rootfs_file, start_running


@pytest.fixture(autouse=True)
def hybrid():
    need(HYBRID, "a hybrid cgroup host (v1 controllers plus cgroup2)")


DD = "dd if=/dev/zero of=/dev/null bs={} count=1 2>/dev/null; echo rc=$?"


def test_memory_limit_oom_kills_an_allocation_past_it(orun, bundle):
    bundle.config["linux"]["resources"]["memory"] = {"limit": 32 << 20, "swap": 32 << 20}
    # dd allocates its block and fills it: 8M fit, 64M do not and the OOM killer takes dd (not sh).
    r = sh(orun, bundle, DD.format("8M") + "; " + DD.format("64M"))
    rcs = [line.split("=")[1] for line in r.stdout.split() if line.startswith("rc=")]
    assert rcs == ["0", str(128 + signal.SIGKILL)], r.stdout + r.stderr


def test_memory_limit_files(orun, bundle):
    bundle.config["linux"]["resources"]["memory"] = {"limit": 64 << 20, "reservation": 32 << 20, "swap": 96 << 20,
                                                     "swappiness": 10}
    cid, pid = start_running(orun, bundle, "sleep 1000")
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cg_read(pid, "memory", "memory.soft_limit_in_bytes") == str(32 << 20)
    assert cg_read(pid, "memory", "memory.memsw.limit_in_bytes") == str(96 << 20)
    assert cg_read(pid, "memory", "memory.swappiness") == "10"


def test_pids_limit_stops_a_fork_loop(orun, bundle):
    done = rootfs_file(bundle, "/done")
    bundle.config["linux"]["resources"]["pids"] = {"limit": 8}
    # In a subshell: ash gives up on a failed fork, and the init must stay to be looked at.
    loop = " ".join(["sleep 1000 &"] * 30)
    cid, pid = start_running(orun, bundle, f"( {loop} ) 2>/dev/null; touch /done; exec sleep 1000")
    wait_for(lambda: os.path.exists(done), "the fork loop to end")
    assert cg_read(pid, "pids", "pids.max") == "8"
    assert keyed(cg_read(pid, "pids", "pids.events"))["max"] > 0, "no fork was refused"
    assert int(cg_read(pid, "pids", "pids.current")) <= 8


def test_cpu_quota_throttles_a_busy_loop(orun, bundle):
    bundle.config["linux"]["resources"]["cpu"] = {"quota": 2000, "period": 50000, "shares": 256}
    cid, pid = start_running(orun, bundle, "while :; do :; done")
    assert cg_read(pid, "cpu", "cpu.cfs_quota_us") == "2000"
    assert cg_read(pid, "cpu", "cpu.cfs_period_us") == "50000"
    assert cg_read(pid, "cpu", "cpu.shares") == "256"
    # At 4 % of one CPU a busy loop runs out of quota in every period, even on a loaded machine.
    wait_for(lambda: keyed(cg_read(pid, "cpu", "cpu.stat"))["nr_throttled"] >= 3, "cpu.stat nr_throttled to grow")
    stat = keyed(cg_read(pid, "cpu", "cpu.stat"))
    assert stat["throttled_time"] > 0


def real_block_device():
    """(major, minor) of a whole disk of this machine that is not a zram or loop device."""
    for name in sorted(os.listdir("/sys/block")):
        if name.startswith(("loop", "zram", "ram")):
            continue
        with open(f"/sys/block/{name}/dev") as f:
            major, minor = f.read().split(":")
        return int(major), int(minor)
    return None


def test_blkio_throttle_for_a_real_device(orun, bundle):
    dev = real_block_device()
    need(dev is not None, "a block device")
    major, minor = dev
    entry = lambda rate: [{"major": major, "minor": minor, "rate": rate}]  # noqa: E731
    bundle.config["linux"]["resources"]["blockIO"] = {
        "throttleReadBpsDevice": entry(1 << 20), "throttleWriteBpsDevice": entry(2 << 20),
        "throttleReadIOPSDevice": entry(100), "throttleWriteIOPSDevice": entry(200)}
    cid, pid = start_running(orun, bundle, "sleep 1000")
    for file, value in [("read_bps_device", 1 << 20), ("write_bps_device", 2 << 20),
                        ("read_iops_device", 100), ("write_iops_device", 200)]:
        assert cg_read(pid, "blkio", "blkio.throttle." + file) == f"{major}:{minor} {value}", file

