"""linux.resources on pure cgroup v2, each limit seen to bite from inside a real container. The
container's own cgroup is mounted at /sys/fs/cgroup (the `cgroup` mount of `orun spec`)."""
import os
import shutil
import subprocess

import pytest

from helpers_cgroups import dev_numbers, loop_device, rxe_device, with_ibverbs  # noqa: F401 (fixtures)
from orun import facts, need, sh

MiB = 1 << 20


def resources(bundle):
    return bundle.config["linux"].setdefault("resources", {})


def test_memory_max_oom_kills_an_allocation_past_it(orun, bundle):
    resources(bundle)["memory"] = {"limit": 32 * MiB, "swap": 32 * MiB}
    # dd allocates its block size: 64 MiB in a 32 MiB cgroup without swap is killed by the OOM killer,
    # while the small shell that reports it survives.
    f = facts(sh(orun, bundle, """
        echo "max=$(cat /sys/fs/cgroup/memory.max)"
        echo "swap_max=$(cat /sys/fs/cgroup/memory.swap.max)"
        dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo "dd=$?"
        echo "oom_kill=$(sed -n 's/^oom_kill //p' /sys/fs/cgroup/memory.events)"
        dd if=/dev/zero of=/dev/null bs=8M count=1 2>/dev/null; echo "small_dd=$?"
    """).stdout)
    assert f["max"] == str(32 * MiB)
    assert f["swap_max"] == "0"  # OCI swap is memory+swap
    assert f["dd"] == "137"
    assert int(f["oom_kill"]) >= 1
    assert f["small_dd"] == "0"


def test_disable_oom_killer_and_leaf_weights_are_ignored_with_a_warning(orun, bundle):
    """v2 has no switch for the OOM killer and no leaf weights: as runc, orun goes on without them
    and says so on stderr (or --log), and the OOM killer still acts."""
    resources(bundle)["memory"] = {"limit": 32 * MiB, "swap": 32 * MiB, "disableOOMKiller": True}
    resources(bundle)["blockIO"] = {"weight": 100, "leafWeight": 300}
    r = sh(orun, bundle, "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo dd=$?")
    assert facts(r.stdout)["dd"] == "137"
    assert "linux.resources.memory.disableOOMKiller: ignored: cgroup v2 cannot disable the OOM killer" in r.stderr
    assert "linux.resources.blockIO.leafWeight: ignored: cgroup v2 has no leaf weight" in r.stderr


def test_memory_reservation_swap_and_unified(orun, bundle):
    res = resources(bundle)
    res["memory"] = {"limit": 64 * MiB, "reservation": 16 * MiB, "swap": 96 * MiB}
    res["unified"] = {"memory.high": str(48 * MiB)}
    f = facts(sh(orun, bundle, """
        for k in max low swap.max high; do echo "$k=$(cat /sys/fs/cgroup/memory.$k)"; done
    """).stdout)
    assert f == {"max": str(64 * MiB), "low": str(16 * MiB), "swap.max": str(32 * MiB), "high": str(48 * MiB)}


def test_pids_max_stops_a_fork_loop(orun, bundle):
    resources(bundle)["pids"] = {"limit": 10}
    f = facts(sh(orun, bundle, """
        (for i in $(seq 1 30); do sleep 30 & done) 2>/dev/null
        # At the limit nothing can fork: from here on, builtins only.
        read running < /sys/fs/cgroup/pids.current
        read pids_max < /sys/fs/cgroup/pids.max
        while read k v; do [ "$k" = max ] && max_events=$v; done < /sys/fs/cgroup/pids.events
        echo "running=$running"; echo "pids_max=$pids_max"; echo "max_events=$max_events"
    """).stdout)  # the shell is the pid namespace's init: its exit ends the sleeps
    assert f["pids_max"] == "10"
    assert int(f["running"]) <= 10
    assert int(f["max_events"]) > 0  # forks were refused


def test_cpu_max_throttles_a_busy_loop(orun, bundle):
    resources(bundle)["cpu"] = {"quota": 10000, "period": 100000, "shares": 512}
    f = facts(sh(orun, bundle, """
        echo "max=$(cat /sys/fs/cgroup/cpu.max)"
        echo "weight=$(cat /sys/fs/cgroup/cpu.weight)"
        (while :; do :; done) & sleep 2; kill $!
        echo "nr_throttled=$(sed -n 's/^nr_throttled //p' /sys/fs/cgroup/cpu.stat)"
    """).stdout)
    assert f["max"] == "10000 100000"
    assert f["weight"] == str(1 + (512 - 2) * 9999 // 262142)
    assert int(f["nr_throttled"]) > 0


def test_cpuset_and_hugetlb(orun, bundle):
    res = resources(bundle)
    res["cpu"] = {"cpus": "0", "mems": "0"}
    res["hugepageLimits"] = [{"pageSize": "2MB", "limit": 0}]
    f = facts(sh(orun, bundle, """
        echo "cpus=$(cat /sys/fs/cgroup/cpuset.cpus.effective)"
        echo "allowed=$(sed -n 's/^Cpus_allowed_list:\\t*//p' /proc/self/status)"
        echo "huge=$(cat /sys/fs/cgroup/hugetlb.2MB.max)"
    """).stdout)
    assert f == {"cpus": "0", "allowed": "0", "huge": "0"}


def test_io_max_is_written_for_a_device(orun, bundle, loop_device):
    major, minor = dev_numbers(loop_device)
    resources(bundle)["blockIO"] = {
        "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1 * MiB}],
        "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 100}],
    }
    f = facts(sh(orun, bundle, 'echo "io_max=$(cat /sys/fs/cgroup/io.max)"').stdout)
    assert f["io_max"] == f"{major}:{minor} rbps={1 * MiB} wbps=max riops=max wiops=100"


def test_io_weight_converted_and_bfq_weights_as_they_are(orun, bundle, loop_device):
    # Without BFQ, blockIO.weight (10..1000) becomes io.weight (1..10000) as runc converts it. With
    # the bfq module loaded every cgroup has io.bfq.weight, which takes the v1 values as they are.
    with open("/proc/modules") as fh:
        assert not any(line.startswith("bfq ") for line in fh), "bfq was loaded before this test"
    resources(bundle)["blockIO"] = {"weight": 500}
    f = facts(sh(orun, bundle, 'echo "io_weight=$(cat /sys/fs/cgroup/io.weight)"').stdout)
    assert f["io_weight"] == "default 4950"

    subprocess.run(["modprobe", "bfq"], check=True)
    with open(f"/sys/block/{os.path.basename(loop_device)}/queue/scheduler", "w") as fh:
        fh.write("bfq")
    major, minor = dev_numbers(loop_device)
    resources(bundle)["blockIO"] = {"weight": 300, "weightDevice": [{"major": major, "minor": minor, "weight": 700}]}
    out = sh(orun, bundle, "cat /sys/fs/cgroup/io.bfq.weight").stdout
    assert out.split() == ["default", "300", f"{major}:{minor}", "700"], out


def test_cpu_burst_idle_unlimited_swap_and_the_cgroup_namespace(orun, bundle):
    res = resources(bundle)
    res["cpu"] = {"quota": 20000, "period": 100000, "burst": 5000, "idle": 1}
    res["memory"] = {"limit": 64 * MiB, "swap": -1}
    bundle.config["linux"]["namespaces"].append({"type": "cgroup"})
    f = facts(sh(orun, bundle, """
        echo "cgroup=$(cat /proc/self/cgroup)"
        for k in cpu.max cpu.max.burst cpu.idle memory.max memory.swap.max; do echo "$k=$(cat /sys/fs/cgroup/$k)"; done
    """).stdout)
    assert f == {"cgroup": "0::/", "cpu.max": "20000 100000", "cpu.max.burst": "5000", "cpu.idle": "1",
                 "memory.max": str(64 * MiB), "memory.swap.max": "max"}


def test_rdma_max_for_a_soft_roce_device(orun, bundle, rxe_device):
    resources(bundle)["rdma"] = {rxe_device: {"hcaHandles": 2}}
    f = facts(sh(orun, bundle, f'echo "rdma=$(grep "^{rxe_device} " /sys/fs/cgroup/rdma.max)"').stdout)
    assert f["rdma"] == f"{rxe_device} hca_handle=2 hca_object=max"
    # The kernel answers EIO for a device it does not know; orun says what is wrong.
    resources(bundle)["rdma"] = {"no_such_hca": {"hcaObjects": 10}}
    r = sh(orun, bundle, "true", rc=None)
    assert r.returncode != 0
    assert f'linux.resources.rdma["no_such_hca"]: no RDMA device of that name on this host (it has {rxe_device})' \
        in r.stderr, r.stderr


def test_rdma_hca_handle_limit_refuses_opening_the_device(orun, bundle, rxe_device):
    need(shutil.which("ibv_devinfo"), "ibv_devinfo (ibverbs-utils, tools/install-deps)")
    with_ibverbs(bundle, rxe_device)
    # A generous limit: the device opens (a verbs context charges one hca_handle).
    resources(bundle)["rdma"] = {rxe_device: {"hcaHandles": 4, "hcaObjects": 1000}}
    r = sh(orun, bundle, f"/usr/bin/ibv_devinfo -d {rxe_device}")
    assert f"hca_id:\t{rxe_device}" in r.stdout, r.stdout + r.stderr
    assert "transport:" in r.stdout
    # No hca_handle at all: the kernel refuses the context, so ibv_devinfo cannot open the device.
    resources(bundle)["rdma"] = {rxe_device: {"hcaHandles": 0}}
    r = sh(orun, bundle, f"echo rdma=$(grep '^{rxe_device} ' /sys/fs/cgroup/rdma.max); "
                         f"/usr/bin/ibv_devinfo -d {rxe_device}", rc=None)
    assert f"rdma={rxe_device} hca_handle=0 hca_object=max" in r.stdout, r.stdout + r.stderr
    assert r.returncode != 0, r.stdout + r.stderr
    assert "Failed to open device" in r.stdout + r.stderr, r.stdout + r.stderr
