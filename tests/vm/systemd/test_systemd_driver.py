"""The systemd cgroup driver (`orun --systemd-cgroup`) against systemd 252 as PID 1: a transient scope
with Delegate=yes and the limits as unit properties, the rest through cgroupfs, the verbs after create
driven by state.json alone, and cleanup (delete, delete --force after a killed create)."""
import json
import os
import secrets
import subprocess

import pytest

from helpers_cgroups import keyed, read_text, rootfs_file
from orun import cgroups_named, need, wait_for

MiB = 1 << 20
CG = "/sys/fs/cgroup"


@pytest.fixture(autouse=True)
def systemd_pid1():
    need(os.path.isdir("/run/systemd/system") and os.readlink("/proc/1/exe").endswith("/systemd"),
         "systemd as PID 1 (tests/vm/pytest-in-vm --systemd)")


def show(unit, *props):
    out = subprocess.run(["systemctl", "show", unit, *(f"--property={p}" for p in props)],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def gone(unit):
    """The unit is stopped and unloaded (a failed unit would stay loaded). A scope is then unknown to
    systemd. Any slice name loads on demand, without a file (as systemd makes parent slices), so
    `systemctl show` of a slice always finds one: gone means no transient unit of that name is left,
    just the empty slice that the query itself loaded (and that systemd collects again)."""
    p = show(unit, "LoadState", "Transient", "ActiveState")
    if unit.endswith(".slice"):
        return p["Transient"] == "no" and p["ActiveState"] == "inactive"
    return p["LoadState"] == "not-found"


def units_matching(pattern):
    out = subprocess.run(["systemctl", "list-units", "--all", "--plain", "--no-legend", pattern],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def cgroup_of(pid):
    return next(line[3:] for line in read_text(f"/proc/{pid}/cgroup").splitlines() if line.startswith("0::"))


def cg(path, name):
    return read_text(f"{CG}{path}/{name}").strip()


def create_with_flag(orun, bundle, script, cgroups_path=None, env=None):
    """`orun --systemd-cgroup create` + start; later commands go without the flag (state.json keeps
    the driver). Returns (id, init pid, unit)."""
    bundle.set_args("sh", "-c", script)
    cid = orun.new_id()
    if cgroups_path is None:
        bundle.config["linux"].pop("cgroupsPath", None)
    else:
        bundle.config["linux"]["cgroupsPath"] = cgroups_path.replace("ID", cid)
    bundle.write()
    r = orun.cmd("--systemd-cgroup", "create", "--bundle", bundle.path, cid, env=env)
    assert r.returncode == 0, r.stderr
    assert orun.start(cid).returncode == 0
    st = json.load(open(os.path.join(orun.root, cid, "state.json")))
    assert st["systemdCgroup"] is True
    return cid, orun.state_json(cid)["pid"], st["systemdUnit"]


def test_scope_holds_the_container_with_its_limits_as_properties_and_files(orun, bundle):
    bundle.config["linux"]["resources"].update(
        memory={"limit": 64 * MiB, "reservation": 32 * MiB, "swap": 96 * MiB}, pids={"limit": 32},
        cpu={"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"}, blockIO={"weight": 500})
    # No cgroupsPath: orun-<id>.scope in system.slice.
    cid, pid, unit = create_with_flag(orun, bundle, "exec sleep 1000")
    assert unit == f"orun-{cid}.scope"
    path = f"/system.slice/{unit}"
    assert cgroup_of(pid) == path
    p = show(unit, "ActiveState", "Delegate", "Slice", "ControlGroup", "MemoryMax", "MemoryLow", "MemorySwapMax",
             "TasksMax", "CPUWeight", "CPUQuotaPerSecUSec", "CPUQuotaPeriodUSec", "AllowedCPUs",
             "AllowedMemoryNodes", "IOWeight")
    assert p == {"ActiveState": "active", "Delegate": "yes", "Slice": "system.slice", "ControlGroup": path,
                 "MemoryMax": str(64 * MiB), "MemoryLow": str(32 * MiB), "MemorySwapMax": str(32 * MiB),
                 "TasksMax": "32", "CPUWeight": "39", "CPUQuotaPerSecUSec": "500ms", "CPUQuotaPeriodUSec": "100ms",
                 "AllowedCPUs": "0", "AllowedMemoryNodes": "0", "IOWeight": "4950"}
    assert (cg(path, "memory.max"), cg(path, "memory.low"), cg(path, "memory.swap.max")) == (
        str(64 * MiB), str(32 * MiB), str(32 * MiB))
    assert (cg(path, "pids.max"), cg(path, "cpu.weight"), cg(path, "cpu.max"), cg(path, "cpuset.cpus")) == (
        "32", "39", "50000 100000", "0")
    # What systemd cannot express went through cgroupfs on the scope's directory: the device filter.
    out = subprocess.run(["bpftool", "-j", "cgroup", "show", CG + path], capture_output=True, text=True,
                         check=True).stdout
    assert "orun_devices" in [x["name"] for x in json.loads(out)]

    r = orun.delete(cid, force=True)
    assert r.returncode == 0, r.stderr
    assert gone(unit)
    assert not os.path.exists(CG + path)


def test_memory_and_pids_limits_bite_and_an_oom_kill_does_not_stop_the_scope(orun, bundle):
    go = rootfs_file(bundle, "/go")
    bundle.config["linux"]["resources"].update(memory={"limit": 32 * MiB, "swap": 32 * MiB}, pids={"limit": 10})
    cid, pid, unit = create_with_flag(
        orun, bundle, "while [ ! -e /go ]; do sleep 0.05; done; dd if=/dev/zero of=/dev/null bs=64M count=1; "
                      "exec sleep 1000")
    path = cgroup_of(pid)
    open(go, "w").close()
    wait_for(lambda: keyed(cg(path, "memory.events"))["oom_kill"] > 0, "an OOM kill in the scope")
    # The dd was killed, the container lives on: systemd did not stop the unit for the OOM kill.
    wait_for(lambda: "sleep" in read_text(f"/proc/{pid}/cmdline"), "the init to exec sleep after dd was killed")
    assert show(unit, "ActiveState")["ActiveState"] == "active"
    assert orun.state_json(cid)["status"] == "running"

    orun.cmd("exec", cid, "sh", "-c", "for i in $(seq 20); do sleep 1000 & done 2>/dev/null; true")
    assert int(cg(path, "pids.current")) <= 10
    assert keyed(cg(path, "pids.events"))["max"] > 0


def test_update_pause_ps_kill_all_and_delete_follow_the_state_without_the_flag(orun, bundle):
    bundle.config["linux"]["resources"]["pids"] = {"limit": 100}
    cid, pid, unit = create_with_flag(orun, bundle, "sleep 1000 & exec sleep 1000", "system.slice:orun:ID")
    path = cgroup_of(pid)
    assert path == f"/system.slice/orun-{cid}.scope"

    r = orun.cmd("update", "--memory", "50m", "--pids-limit", "20", "--cpu-quota", "20000", "--cpu-period",
                 "100000", cid)
    assert r.returncode == 0, r.stderr
    assert show(unit, "MemoryMax", "TasksMax", "CPUQuotaPerSecUSec") == {
        "MemoryMax": str(50 * MiB), "TasksMax": "20", "CPUQuotaPerSecUSec": "200ms"}
    assert (cg(path, "memory.max"), cg(path, "pids.max"), cg(path, "cpu.max")) == (
        str(50 * MiB), "20", "20000 100000")
    r = orun.cmd("update", "--resources", "-", cid, input=json.dumps({"cpu": {"shares": 2048}}))
    assert r.returncode == 0, r.stderr
    assert show(unit, "CPUWeight")["CPUWeight"] == "79" and cg(path, "cpu.weight") == "79"
    assert cg(path, "memory.max") == str(50 * MiB)  # untouched: systemd rewrote only what changed

    assert orun.cmd("pause", cid).returncode == 0
    assert orun.state_json(cid)["status"] == "paused"
    assert "frozen 1" in cg(path, "cgroup.events")
    assert orun.cmd("resume", cid).returncode == 0
    assert "frozen 0" in cg(path, "cgroup.events")

    r = orun.cmd("ps", "--format", "json", cid)
    assert r.returncode == 0, r.stderr
    procs = sorted(int(x) for x in cg(path, "cgroup.procs").split())
    assert sorted(json.loads(r.stdout)) == procs and len(procs) == 2

    assert orun.kill(cid, 9, all=True).returncode == 0
    wait_for(lambda: orun.state_json(cid)["status"] == "stopped", "the container to stop")
    r = orun.delete(cid)
    assert r.returncode == 0, r.stderr
    assert gone(unit)
    assert not os.path.exists(CG + path)


@pytest.mark.parametrize("cgroups_path", [
    "system.slice:orun", "a:b:c:d", "/system.slice/ID", "system.slice:../x:ID", "system.slice:orun:../../ID",
    "system.slice:orun:a/ID", "not-a-slice:orun:ID", "a--b.slice:orun:ID", "system.slice:or un:ID"])
def test_a_bad_cgroups_path_is_refused_with_nothing_left(orun, bundle, cgroups_path):
    cid = orun.new_id()
    bundle.config["linux"]["cgroupsPath"] = cgroups_path.replace("ID", cid)
    bundle.write()
    r = orun.cmd("--systemd-cgroup", "create", "--bundle", bundle.path, cid)
    assert r.returncode == 1
    assert "linux.cgroupsPath" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(orun.root, cid))
    assert units_matching(f"*{cid}*") == []
    assert cgroups_named([cid]) == []


def test_nested_slices_and_a_slice_unit(orun, make_bundle):
    top = f"orunt{secrets.token_hex(3)}"
    try:
        # A scope in a-b.slice lives below a.slice.
        cid, pid, unit = create_with_flag(orun, make_bundle("one"), "exec sleep 1000", f"{top}-x.slice:orun:ID")
        assert cgroup_of(pid) == f"/{top}.slice/{top}-x.slice/orun-{cid}.scope"
        assert show(f"{top}-x.slice", "ActiveState")["ActiveState"] == "active"
        # A name ending in .slice is a slice unit of its own, placed by that name.
        cid2, pid2, unit2 = create_with_flag(orun, make_bundle("two"), "exec sleep 1000", f":ignored:{top}-y.slice")
        assert unit2 == f"{top}-y.slice"
        assert cgroup_of(pid2) == f"/{top}.slice/{top}-y.slice"
        assert show(unit2, "ActiveState")["ActiveState"] == "active"
        for c in (cid, cid2):
            r = orun.delete(c, force=True)
            assert r.returncode == 0, r.stderr
        # Both units are unloaded once stopped, the slice unit as well as the scope.
        wait_for(lambda: gone(unit), f"{unit} to be unloaded")
        wait_for(lambda: gone(unit2), f"{unit2} to be unloaded")
        assert [e.name for e in os.scandir(f"{CG}/{top}.slice/{top}-x.slice") if e.is_dir()] == []
        assert not os.path.exists(f"{CG}/{top}.slice/{top}-y.slice")
    finally:
        # Parent slices stay after the container, as with runc: the test removes its own.
        subprocess.run(["systemctl", "stop", f"{top}.slice"], capture_output=True)
    assert not os.path.exists(f"{CG}/{top}.slice")


@pytest.mark.parametrize("kind", ["scope in a new slice", "slice unit"])
def test_a_unit_in_a_new_slice_is_made_again_after_delete(orun, make_bundle, kind):
    """Create, delete, create again with the same cgroupsPath: the same unit name in a slice that the
    first container brought into being. Each delete leaves the unit unloaded, so systemd takes a new
    transient unit of that name."""
    top = f"orunt{secrets.token_hex(3)}"
    cgroups_path, unit, path = {
        "scope in a new slice": (f"{top}.slice:orun:again", "orun-again.scope", f"/{top}.slice/orun-again.scope"),
        "slice unit": (f":x:{top}-again.slice", f"{top}-again.slice", f"/{top}.slice/{top}-again.slice"),
    }[kind]
    try:
        for name in ("first", "second"):
            cid, pid, got = create_with_flag(orun, make_bundle(name), "exec sleep 1000", cgroups_path)
            assert got == unit
            assert cgroup_of(pid) == path
            assert show(unit, "ActiveState")["ActiveState"] == "active"
            r = orun.delete(cid, force=True)
            assert r.returncode == 0, r.stderr
            wait_for(lambda: gone(unit), f"{unit} to be unloaded ({name} container)")
            assert not os.path.exists(CG + path)
        assert show(f"{top}.slice", "ActiveState")["ActiveState"] == "active"  # the parent stays, as with runc
    finally:
        subprocess.run(["systemctl", "stop", f"{top}.slice"], capture_output=True)


def test_delete_force_after_create_was_killed_once_the_unit_was_started(orun, bundle):
    cid = orun.new_id()
    unit = f"orun-{cid}.scope"
    # The createRuntime hook runs in orun create once the scope is started and the init is waiting: it
    # puts a process of its own into the scope (so the unit cannot stop by itself) and SIGKILLs orun.
    bundle.config["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": [
        "sh", "-c", f"sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > {CG}/system.slice/{unit}/cgroup.procs; "
                    "kill -9 $PPID"]}]}
    bundle.config["linux"].pop("cgroupsPath", None)
    bundle.write()
    r = orun.cmd("--systemd-cgroup", "create", "--bundle", bundle.path, cid)
    assert r.returncode == -9, (r.returncode, r.stderr)
    assert show(unit, "ActiveState")["ActiveState"] == "active"
    left = read_text(f"{CG}/system.slice/{unit}/cgroup.procs").split()
    assert left, "the hook's process should hold the scope"
    assert orun.state_json(cid)["status"] == "stopped"

    r = orun.delete(cid, force=True)
    assert r.returncode == 0, r.stderr
    assert gone(unit)
    assert not os.path.exists(f"{CG}/system.slice/{unit}")
    assert all(not os.path.exists(f"/proc/{p}") for p in left)


def test_systemd_private_socket_when_the_system_bus_is_unreachable(orun, bundle):
    # No dbus-daemon (a minimal host, early boot): systemd's own socket serves the same calls.
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent")
    cid, pid, unit = create_with_flag(orun, bundle, "exec sleep 1000", env=env)
    assert show(unit, "ActiveState", "Delegate") == {"ActiveState": "active", "Delegate": "yes"}
    r = orun.cmd("delete", "--force", cid, env=env)
    assert r.returncode == 0, r.stderr
    assert gone(unit)
