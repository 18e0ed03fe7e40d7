"""What only a pure cgroup v1 host shows: a cgroup in every v1 hierarchy and none in a cgroup2 tree,
and the controllers this project's hybrid host does not mount (net_cls, net_prio, hugetlb) acting on
real traffic and real huge pages; the v1 devices controller refusing a block device.
tests/integration/test_limits.py and test_verbs.py run in the same boot for the rest of the v1 limits
and verbs."""
import os
import subprocess

import pytest

from helpers_cgroups import (cg_read, dev_numbers, loop_device, rxe_device, start_running,  # noqa: F401 (fixtures)
                             with_ibverbs)
from orun import cgroups_named, facts, sh

HIERARCHIES = sorted(d for d in os.listdir("/sys/fs/cgroup")
                     if not os.path.islink(os.path.join("/sys/fs/cgroup", d)))


def with_net_raw(bundle):
    # busybox ping needs a raw socket.
    caps = bundle.config["process"]["capabilities"]
    for kind in ("bounding", "effective", "permitted"):
        caps[kind].append("CAP_NET_RAW")


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def test_the_host_is_pure_v1():
    # What the VM promises; the tests below mean nothing on another layout.
    with open("/proc/self/mountinfo") as f:
        types = [line.split(" - ")[1].split()[0] for line in f]
    assert "cgroup2" not in types and types.count("cgroup") == len(HIERARCHIES) >= 12, HIERARCHIES
    for c in ("net_cls,net_prio", "hugetlb", "rdma", "perf_event", "misc"):
        assert c in HIERARCHIES


def test_a_cgroup_in_every_hierarchy_and_none_left_after_delete(orun, bundle):
    cid, pid = start_running(orun, bundle, "exec sleep 1000")
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    paths = {ctrls: path for _, ctrls, path in lines}
    assert paths.get("", "/") == "/", "no cgroup2 tree: the v2 line stays at the root"
    for h in HIERARCHIES:
        assert paths[h].endswith(cid), (h, paths)
        assert os.path.isdir(f"/sys/fs/cgroup/{h}{paths[h]}"), h
    assert orun.delete(cid, force=True).returncode == 0
    assert cgroups_named([cid]) == []


def test_devices_refuse_a_block_device_not_in_the_rules(orun, bundle, loop_device):
    # The VM's loop device, bound into the container's /dev (not in linux.devices, whose nodes orun
    # allows as runc does): the v1 devices controller refuses opening it while /dev/null, in the
    # default rules, works; an allow rule for it makes the same open work.
    major, minor = dev_numbers(loop_device)
    bundle.config["mounts"].append({"destination": "/dev/hostloop", "type": "bind", "source": loop_device,
                                    "options": ["bind"]})
    script = ("( : </dev/hostloop ) 2>/dev/null && echo open=ok || echo open=failed; "
              "echo x > /dev/null && echo null=ok")
    assert facts(sh(orun, bundle, script).stdout) == {"open": "failed", "null": "ok"}
    bundle.config["linux"]["resources"]["devices"].append(
        {"allow": True, "type": "b", "major": major, "minor": minor, "access": "r"})
    assert facts(sh(orun, bundle, script).stdout) == {"open": "ok", "null": "ok"}


def test_net_cls_classid_marks_the_containers_traffic(orun, bundle):
    # nft's `meta cgroup` matches the net_cls class id of the sending socket. The rule lives in the
    # container's own network namespace; the host's ping through the same namespace is not counted.
    bundle.config["linux"]["resources"]["network"] = {"classID": 0x100001}
    with_net_raw(bundle)
    cid, pid = start_running(orun, bundle, "exec sleep 1000")
    assert cg_read(pid, "net_cls", "net_cls.classid") == str(0x100001)
    nsenter = ["nsenter", "-t", str(pid), "-n"]
    run(*nsenter, "nft", "add table inet t; add chain inet t out { type filter hook output priority 0; };"
                          " add rule inet t out meta cgroup 0x100001 counter")
    run(*nsenter, "busybox", "ping", "-c", "2", "-W", "1", "127.0.0.1")
    assert "packets 0 " in run(*nsenter, "nft", "list chain inet t out")
    r = orun.cmd("exec", cid, "ping", "-c", "3", "-W", "1", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    assert "packets 3 " in run(*nsenter, "nft", "list chain inet t out")


@pytest.fixture
def prio_qdisc_on_lo():
    # A prio qdisc on the VM's lo: priority 6 goes to band 0 (class 1:1), priority 0 to band 1 (1:2).
    run("tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "prio")
    yield
    run("tc", "qdisc", "del", "dev", "lo", "root")


def test_net_prio_ifpriomap_sets_the_priority_of_the_containers_packets(orun, bundle, prio_qdisc_on_lo):
    # The kernel resolves ifpriomap names in the initial network namespace only, so the container
    # shares the VM's: its pings leave through the VM's lo with priority 6, the VM's own with 0.
    bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"]
                                            if n["type"] != "network"]
    bundle.config["linux"]["resources"]["network"] = {"priorities": [{"name": "lo", "priority": 6}]}
    with_net_raw(bundle)

    def sent():
        out = run("tc", "-s", "class", "show", "dev", "lo")
        return [int(out.split(f"class prio {c} ")[1].split(" bytes ")[1].split(" pkt")[0]) for c in ("1:1", "1:2")]

    # The container's 4 echo requests leave with priority 6 (band 0); the replies come from the
    # kernel's own ICMP socket, priority 0 (band 1).
    band0, band1 = sent()
    f = facts(sh(orun, bundle, "ping -c 4 -W 1 127.0.0.1 >/dev/null; echo ping=$?").stdout)
    assert f["ping"] == "0"
    after = sent()
    assert after[0] - band0 == 4 and after[1] - band1 == 4, (band0, band1, after)
    # The VM's own ping, outside the container's cgroup: band 1 only.
    run("busybox", "ping", "-c", "2", "-W", "1", "127.0.0.1")
    last = sent()
    assert last[0] == after[0] and last[1] - after[1] == 4, (after, last)


@pytest.fixture
def huge_pages():
    with open("/proc/sys/vm/nr_hugepages", "w") as f:
        f.write("8")
    with open("/proc/sys/vm/nr_hugepages") as f:
        assert int(f.read()) == 8, "the VM could not reserve 8 huge pages"
    yield
    with open("/proc/sys/vm/nr_hugepages", "w") as f:
        f.write("0")


def test_hugetlb_limit_bites(orun, bundle, huge_pages):
    # Pages of a hugetlbfs file are charged to the cgroup of whoever faults or fallocates them in.
    bundle.config["linux"]["resources"]["hugepageLimits"] = [{"pageSize": "2MB", "limit": 2 << 20}]
    bundle.config["mounts"].append({"destination": "/huge", "type": "hugetlbfs", "source": "hugetlbfs",
                                    "options": ["pagesize=2M"]})
    f = facts(sh(orun, bundle, """
        fallocate -l 2M /huge/one; echo one=$?
        fallocate -l 2M /huge/two; echo two=$?
        rm -f /huge/one; fallocate -l 2M /huge/three; echo three=$?
    """).stdout)
    assert f == {"one": "0", "two": "1", "three": "0"}, f


def test_rdma_hca_handle_limit_refuses_opening_the_device(orun, bundle, rxe_device):
    # The v1 rdma controller against a soft-RoCE device: ibv_devinfo opens it under a generous
    # limit and cannot with hcaHandles 0; the container's rdma.max says which limit it got.
    with_ibverbs(bundle, rxe_device)
    resources = bundle.config["linux"]["resources"]
    resources["rdma"] = {rxe_device: {"hcaHandles": 4, "hcaObjects": 1000}}
    r = sh(orun, bundle, f"/usr/bin/ibv_devinfo -d {rxe_device}")
    assert f"hca_id:\t{rxe_device}" in r.stdout, r.stdout + r.stderr
    resources["rdma"] = {rxe_device: {"hcaHandles": 0}}
    cid, pid = start_running(orun, bundle, "exec sleep 1000")
    assert f"{rxe_device} hca_handle=0 hca_object=max" in cg_read(pid, "rdma", "rdma.max").splitlines()
    r = orun.cmd("exec", cid, "/usr/bin/ibv_devinfo", "-d", rxe_device)
    assert r.returncode != 0 and "Failed to open device" in r.stdout + r.stderr, r.stdout + r.stderr
