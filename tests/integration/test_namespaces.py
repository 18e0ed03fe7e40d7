"""Namespaces (new and joined by path, user with mappings, time with offsets, cgroup) and the cgroup
placement of the container (cgroupsPath), checked from inside real containers and from the host."""
import json
import os
import subprocess
import time

import pytest

from helpers_ctr import facts, host_ns, make_traversable, sh, user_namespace
from orun import need

# linux.namespaces type -> name under /proc/PID/ns
NS_FILE = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt", "user": "user",
           "cgroup": "cgroup", "time": "time"}

PRINT_NS = "for n in cgroup ipc mnt net pid time user uts; do echo $n=$(readlink /proc/self/ns/$n); done"


def set_namespaces(bundle, *types, **paths):
    """linux.namespaces = types (new) plus paths (type=path, joined), in that order."""
    bundle.config["linux"]["namespaces"] = [{"type": t} for t in types] + [
        {"type": t, "path": p} for t, p in paths.items()]


def time_ns_supported():
    return os.path.exists("/proc/self/ns/time")


# ---- new namespaces ------------------------------------------------------------------------------

def test_all_eight_new_namespaces(orun, bundle):
    need(time_ns_supported(), "time namespaces (Linux 5.6)")
    set_namespaces(bundle, "pid", "network", "ipc", "uts", "mount", "cgroup", "time")
    user_namespace(bundle)
    r = sh(orun, bundle, PRINT_NS)
    inside = facts(r.stdout)
    for t, n in NS_FILE.items():
        assert inside[n].startswith(f"{n}:["), inside
        assert inside[n] != host_ns(n), f"{t}: same namespace as the host ({inside[n]})"


def test_namespaces_not_listed_are_shared_with_the_host(orun, bundle):
    set_namespaces(bundle, "mount", "pid")  # no network, ipc, uts, cgroup, user, time
    bundle.config.pop("hostname", None)
    r = sh(orun, bundle, PRINT_NS)
    inside = facts(r.stdout)
    for n in ["net", "ipc", "uts", "cgroup", "user", "time"]:
        if n == "time" and not time_ns_supported():
            continue
        assert inside[n] == host_ns(n), n
    assert inside["mnt"] != host_ns("mnt") and inside["pid"] != host_ns("pid")


# ---- joined namespaces ---------------------------------------------------------------------------

def test_a_new_network_namespace_has_lo_up(orun, bundle):
    # As with runc: a new network namespace's lo starts down, and programs expect 127.0.0.1.
    f = facts(sh(orun, bundle, "echo flags=$(cat /sys/class/net/lo/flags);"
                               " nc -l -p 7000 > /dev/shm/got &"
                               " for i in 1 2 3 4 5 6 7 8 9 10; do echo hello | nc -w 1 127.0.0.1 7000 && break;"
                               " sleep 0.2; done; wait; echo got=$(cat /dev/shm/got)").stdout)
    assert int(f["flags"], 16) & 0x1, f  # IFF_UP
    assert f["got"] == "hello", f


def test_join_namespaces_of_another_container(orun, make_bundle):
    """A second container joins the network, ipc, uts and pid namespaces of a created first one."""
    first = make_bundle("first")
    first.config["hostname"] = "first-host"
    first.set_args("sleep", "600")
    c1 = orun.create(first)
    assert c1.returncode == 0, c1.stderr
    pid1 = orun.state_json(c1.cid)["pid"]

    second = make_bundle("second")
    second.config.pop("hostname", None)
    set_namespaces(second, "mount", **{t: f"/proc/{pid1}/ns/{NS_FILE[t]}" for t in ["network", "ipc", "uts", "pid"]})
    r = sh(orun, second, PRINT_NS + "; echo host=$(hostname); echo procs=$(ls /proc | grep -c '^[0-9]')")
    inside = facts(r.stdout)
    for t in ["network", "ipc", "uts", "pid"]:
        n = NS_FILE[t]
        assert inside[n] == host_ns(n, pid1), t
    assert inside["mnt"] != host_ns("mnt", pid1)  # its own, new mount namespace
    assert inside["host"] == "first-host"
    # In the joined pid namespace the first container's init (pid 1) is visible too.
    assert int(inside["procs"]) >= 2


def test_join_network_namespace_of_unshare_holder(orun, bundle):
    """Namespaces held by a plain process (unshare), not by a container, joined by path: the
    container sees the holder's hostname, and its loopback as the holder left it (down): only a
    network namespace of the container's own gets lo up."""
    holder = subprocess.Popen(["unshare", "--net", "--uts", "sh", "-c",
                               "hostname held && echo ready && exec sleep 600"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        set_namespaces(bundle, "pid", "ipc", "mount", network=f"/proc/{holder.pid}/ns/net",
                       uts=f"/proc/{holder.pid}/ns/uts")
        bundle.config.pop("hostname", None)
        script = "echo net=$(readlink /proc/self/ns/net); echo h=$(hostname); echo lo=$(cat /sys/class/net/lo/flags)"
        inside = facts(sh(orun, bundle, script).stdout)
        assert inside["net"] == host_ns("net", holder.pid)
        assert inside["h"] == "held"
        assert not int(inside["lo"], 16) & 0x1, inside  # IFF_UP: not orun's to set in a joined namespace
        set_namespaces(bundle, "pid", "ipc", "mount", "network")
        fresh = facts(sh(orun, bundle, script).stdout)
        assert fresh["net"] != inside["net"] and int(fresh["lo"], 16) & 0x1, fresh
    finally:
        holder.kill()
        holder.wait()


def start_holder(orun, bundle, marker):
    """A created container that sleeps, with `marker` as a file at the root of its rootfs; its pid."""
    with open(os.path.join(bundle.rootfs, marker), "w") as f:
        f.write(marker)
    bundle.set_args("sleep", "600")
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    return orun.state_json(r.cid)["pid"]


def test_join_mount_namespace_of_another_container(orun, make_bundle):
    """A joined mount namespace is used as it is: the second container's root is the first one's
    (its marker file is there, the second bundle's is not), and nothing is mounted into it."""
    first = make_bundle("first")
    pid1 = start_holder(orun, first, "first-marker")
    mounts_before = open(f"/proc/{pid1}/mountinfo").read()

    second = make_bundle("second")
    with open(os.path.join(second.rootfs, "second-marker"), "w") as f:
        f.write("second")
    second.config["mounts"] = []
    second.config["linux"]["maskedPaths"] = []
    second.config["linux"]["readonlyPaths"] = []
    second.config["root"]["readonly"] = False
    # The pid namespace too: the first one's /proc shows only its own processes.
    set_namespaces(second, pid=f"/proc/{pid1}/ns/pid", mount=f"/proc/{pid1}/ns/mnt")
    second.config.pop("hostname", None)
    inside = facts(sh(orun, second, "echo mnt=$(readlink /proc/self/ns/mnt); echo first=$(cat /first-marker);"
                                    " echo second=$(ls /second-marker 2>&1 >/dev/null | grep -c 'No such')").stdout)
    assert inside["mnt"] == host_ns("mnt", pid1)
    assert inside["first"] == "first-marker"
    assert inside["second"] == "1"
    assert open(f"/proc/{pid1}/mountinfo").read() == mounts_before


def test_joining_a_mount_namespace_with_mounts_is_an_error(orun, make_bundle):
    pid1 = start_holder(orun, make_bundle("first"), "m")
    second = make_bundle("second")
    set_namespaces(second, "pid", mount=f"/proc/{pid1}/ns/mnt")
    second.config.pop("hostname", None)
    r = sh(orun, second, "true", rc=None)
    assert r.returncode != 0
    assert "mounts: must not be set when joining a mount namespace" in r.stderr, r.stderr


def test_join_user_cgroup_and_time_namespaces_of_another_container(orun, make_bundle):
    """The second container enters the first one's user namespace (its mappings with it), cgroup
    namespace and time namespace (its boottime offset with it)."""
    need(time_ns_supported(), "time namespaces (Linux 5.6)")
    first = make_bundle("first")
    set_namespaces(first, "pid", "mount", "ipc", "uts", "cgroup", "time")
    user_namespace(first, host_id=200000, size=65536)
    first.config["linux"]["timeOffsets"] = {"boottime": {"secs": 86400 * 365, "nanosecs": 0}}
    pid1 = start_holder(orun, first, "m")

    second = make_bundle("second")
    make_traversable(second.rootfs)
    second.config.pop("hostname", None)
    set_namespaces(second, "pid", "mount", "ipc", user=f"/proc/{pid1}/ns/user", cgroup=f"/proc/{pid1}/ns/cgroup",
                   time=f"/proc/{pid1}/ns/time")
    r = sh(orun, second, PRINT_NS + "; echo uid_map=$(cat /proc/self/uid_map); echo up=$(cut -d. -f1 /proc/uptime)")
    inside = facts(r.stdout)
    for n in ["user", "cgroup", "time"]:
        assert inside[n] == host_ns(n, pid1), n
    assert inside["uid_map"].split() == ["0", "200000", "65536"]
    assert int(inside["up"]) >= 86400 * 365


def test_join_namespace_of_wrong_type_is_an_error(orun, bundle):
    set_namespaces(bundle, "pid", "mount", "ipc", "uts", network="/proc/self/ns/uts")
    r = sh(orun, bundle, "true", rc=None)
    assert r.returncode != 0
    assert "linux.namespaces[4].path" in r.stderr, r.stderr
    assert orun.list("-q").stdout.strip() == ""


def test_join_namespace_path_missing_is_an_error(orun, bundle, tmp_path):
    set_namespaces(bundle, "pid", "mount", network=str(tmp_path / "no-such-ns"))
    bundle.config.pop("hostname", None)
    r = sh(orun, bundle, "true", rc=None)
    assert r.returncode != 0
    assert "linux.namespaces[2].path" in r.stderr, r.stderr


# ---- user namespace ------------------------------------------------------------------------------

def test_user_namespace_host_view(orun, bundle):
    user_namespace(bundle, host_id=200000, size=65536)
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 300000, "size": 1000},
                                             {"containerID": 1000, "hostID": 400000, "size": 1}]
    bundle.set_args("sleep", "600")
    r = orun.run(bundle, None, "--detach")
    assert r.returncode == 0, r.stderr
    pid = orun.state_json(r.cid)["pid"]
    # Seen from the host the init runs as the mapped ids.
    with open(f"/proc/{pid}/status") as fh:
        status = fh.read()
    assert "\nUid:\t200000\t200000\t200000\t200000\n" in status, status
    assert "\nGid:\t300000\t300000\t300000\t300000\n" in status, status
    orun.kill(r.cid, "KILL")


def test_user_namespace_inside_view(orun, bundle):
    user_namespace(bundle, host_id=200000, size=65536)
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 300000, "size": 1000},
                                             {"containerID": 1000, "hostID": 400000, "size": 1}]
    r = sh(orun, bundle, "id -u; id -g; echo ==uid; cat /proc/self/uid_map; echo ==gid; "
                             "cat /proc/self/gid_map; echo owner=$(stat -c %u:%g /bin/busybox)")
    lines = [line.split() for line in r.stdout.splitlines()]
    assert lines[0] == ["0"] and lines[1] == ["0"]
    i = lines.index(["==uid"])
    j = lines.index(["==gid"])
    assert lines[i + 1:j] == [["0", "200000", "65536"]]
    assert lines[j + 1:j + 3] == [["0", "300000", "1000"], ["1000", "400000", "1"]]
    # Host root owns the rootfs copy: unmapped, so the container sees the overflow ids.
    assert facts(r.stdout)["owner"] == "65534:65534"


# ---- time namespace ------------------------------------------------------------------------------

def test_time_namespace_offsets(orun, bundle):
    need(time_ns_supported(), "time namespaces (Linux 5.6)")
    day = 86400
    bundle.config["linux"]["namespaces"].append({"type": "time"})
    bundle.config["linux"]["timeOffsets"] = {"boottime": {"secs": 10 * day, "nanosecs": 0},
                                             "monotonic": {"secs": 3 * day, "nanosecs": 0}}
    with open("/proc/uptime") as fh:
        before = float(fh.read().split()[0])
    r = sh(orun, bundle, "cat /proc/uptime; cat /proc/self/timens_offsets")
    with open("/proc/uptime") as fh:
        after = float(fh.read().split()[0])
    lines = r.stdout.splitlines()
    inside = float(lines[0].split()[0])
    # /proc/uptime counts CLOCK_BOOTTIME: shifted by exactly the offset, read between before and after.
    assert before + 10 * day <= inside <= after + 10 * day, (before, inside, after)
    offsets = {l.split()[0]: l.split()[1:] for l in lines[1:]}
    assert offsets["boottime"] == [str(10 * day), "0"] and offsets["monotonic"] == [str(3 * day), "0"]


def test_time_offsets_need_a_time_namespace(orun, bundle):
    bundle.config["linux"]["timeOffsets"] = {"boottime": {"secs": 5, "nanosecs": 0}}
    r = sh(orun, bundle, "true", rc=None)
    assert r.returncode != 0 and "linux.timeOffsets" in r.stderr, r.stderr


# ---- cgroup namespace and cgroup placement -------------------------------------------------------

def test_cgroup_namespace_root_inside(orun, bundle):
    bundle.config["linux"]["namespaces"].append({"type": "cgroup"})
    r = sh(orun, bundle, "cat /proc/self/cgroup")
    lines = r.stdout.split()
    assert lines, r.stdout
    for line in lines:
        assert line.split(":", 2)[2] == "/", line


def test_without_cgroup_namespace_full_path_inside(orun, bundle):
    r = sh(orun, bundle, "cat /proc/self/cgroup")
    for line in r.stdout.split():
        path = line.split(":", 2)[2]
        assert path != "/" and path.endswith("/" + r.cid), line


def _host_cgroups(pid):
    """controller list -> path, from /proc/PID/cgroup (the v2 entry has key '')."""
    out = {}
    with open(f"/proc/{pid}/cgroup") as fh:
        for line in fh:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            out[ctrls] = path
    return out


def _v1_hierarchies():
    return {ctrls for ctrls in _host_cgroups("self") if ctrls}


def _dirs_for(cgroups):
    """The cgroupfs directories of a /proc/PID/cgroup map (our own cgroup namespace is the root one)."""
    dirs = []
    for ctrls, path in cgroups.items():
        if ctrls == "":
            mount = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
        else:
            name = ctrls.split(",")[0].replace("name=", "")
            mount = f"/sys/fs/cgroup/{name}"
        dirs.append(mount + path)
    return dirs


def test_cgroups_path_on_every_hierarchy(orun, bundle):
    need(os.path.isdir("/sys/fs/cgroup/memory"), "a hybrid/v1 cgroup host")
    cid = orun.new_id()
    path = f"/orun-test/{cid}"
    bundle.config["linux"]["cgroupsPath"] = path
    bundle.set_args("sleep", "600")
    c = orun.create(bundle, cid)
    assert c.returncode == 0, c.stderr
    pid = orun.state_json(cid)["pid"]
    cg = _host_cgroups(pid)
    assert set(cg) >= _v1_hierarchies() | {""}, cg
    for ctrls, p in cg.items():
        assert p == path, (ctrls, p)
    dirs = _dirs_for(cg)
    for d in dirs:
        with open(d + "/cgroup.procs") as fh:
            assert str(pid) in fh.read().split(), d
    assert orun.delete(cid, force=True).returncode == 0
    left = [d for d in dirs if os.path.exists(d)]
    assert not left, f"cgroup dirs left after delete: {left}"
    for d in dirs:  # the parent we named is ours to clean (delete leaves parents, as runc does)
        try:
            os.rmdir(os.path.dirname(d))
        except OSError:
            pass


def test_default_cgroups_path(orun, bundle):
    """Without cgroupsPath the container gets a cgroup named for its id, below orun's own cgroup."""
    bundle.config["linux"].pop("cgroupsPath", None)
    bundle.set_args("sleep", "600")
    c = orun.create(bundle)
    assert c.returncode == 0, c.stderr
    pid = orun.state_json(c.cid)["pid"]
    mine = _host_cgroups("self")
    cg = _host_cgroups(pid)
    assert set(cg) == set(mine)
    for ctrls, p in cg.items():
        assert p.endswith("/" + c.cid), (ctrls, p)
        assert p.startswith(mine[ctrls].rstrip("/") + "/"), (ctrls, p, mine[ctrls])
    dirs = _dirs_for(cg)
    assert all(os.path.isdir(d) for d in dirs)
    assert orun.delete(c.cid, force=True).returncode == 0
    assert not [d for d in dirs if os.path.exists(d)]
