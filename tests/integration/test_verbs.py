"""The verbs that act on a live container's cgroups, as runc has them and as podman and containerd call
them: pause/resume (freezer), ps (table and json), update (flags and --resources JSON), events (stats
and OOM), and delete/kill --all against processes that outlive the init. Each is checked on real
workloads: a counter that stops, processes that die, limits that bite."""
import json
import os
import select
import signal
import subprocess
import time

import pytest

from helpers_cgroups import RT_GROUPS, V1, cg_dir, cg_read, keyed, read_text, rootfs_file, start_running
from orun import facts, need, processes_of, wait_for

def ps_json(orun, cid):
    r = orun.cmd("ps", "--format", "json", cid)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def wait_procs(orun, cid, n):
    return wait_for(lambda: (lambda p: p if len(p) == n else None)(ps_json(orun, cid)), f"{n} processes in {cid}")


def status_of(orun, cid):
    return orun.state_json(cid)["status"]


def one_error(r, *needles):
    assert r.returncode != 0, r.stdout
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err


# ---- pause / resume ------------------------------------------------------------------------------

COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /count.tmp; mv /count.tmp /count; done"


def read_count(path):
    return wait_for(lambda: (lambda t: int(t) if t.strip().isdigit() else None)(read_text(path)), "the counter")


def test_pause_stops_a_counter_and_resume_restarts_it(orun, bundle):
    count = rootfs_file(bundle, "/count")
    cid, _ = start_running(orun, bundle, COUNTER)
    read_count(count)
    assert orun.cmd("pause", cid).returncode == 0
    assert status_of(orun, cid) == "paused"
    frozen_at = read_count(count)
    time.sleep(0.3)
    assert read_count(count) == frozen_at, "the counter advanced while paused"
    assert orun.cmd("resume", cid).returncode == 0
    assert status_of(orun, cid) == "running"
    wait_for(lambda: read_count(count) > frozen_at, "the counter to advance after resume")


def test_pause_and_resume_in_the_wrong_state_are_errors(orun, bundle):
    cid, _ = start_running(orun, bundle, "sleep 1000")
    one_error(orun.cmd("resume", cid), cid, "running", "not paused")
    assert orun.cmd("pause", cid).returncode == 0
    one_error(orun.cmd("pause", cid), cid, "paused")
    assert orun.cmd("resume", cid).returncode == 0
    assert orun.kill(cid, "KILL").returncode == 0
    wait_for(lambda: status_of(orun, cid) == "stopped", "the container to stop")
    one_error(orun.cmd("pause", cid), cid, "stopped")
    one_error(orun.cmd("resume", cid), cid, "stopped")
    one_error(orun.cmd("pause", "no-such-container"), "no-such-container")


def test_exec_into_a_paused_container_needs_ignore_paused(orun, bundle, orun_bin, tmp_path):
    cid, _ = start_running(orun, bundle, "sleep 1000")
    assert orun.cmd("pause", cid).returncode == 0
    one_error(orun.cmd("exec", cid, "true"), "paused", "--ignore-paused")
    # With --ignore-paused the process joins the frozen cgroup: it runs once the container resumes.
    out = tmp_path / "exec.out"
    with open(out, "w") as f:
        proc = subprocess.Popen([orun_bin, "--root", orun.root, "exec", "--ignore-paused", cid, "echo", "thawed"],
                                stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: len(ps_json(orun, cid)) >= 2, "the exec'd process to join the cgroup")
        assert status_of(orun, cid) == "paused"
        assert orun.cmd("resume", cid).returncode == 0
        assert proc.wait(timeout=30) == 0, out.read_text()
        assert out.read_text().strip() == "thawed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    r = orun.cmd("exec", cid, "echo", "ok")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


@pytest.mark.parametrize("how", ["kill", "kill-all", "delete-force"])
def test_a_paused_container_can_be_killed(orun, bundle, test_mark, how):
    """SIGKILL must reach frozen tasks: kill, kill --all and delete --force thaw after signalling."""
    cid, _ = start_running(orun, bundle, "sleep 1000 & sleep 1000 & exec sleep 1000")
    wait_procs(orun, cid, 3)
    assert orun.cmd("pause", cid).returncode == 0
    if how == "delete-force":
        r = orun.delete(cid, force=True)
        assert r.returncode == 0, r.stderr
        assert not os.path.exists(os.path.join(orun.root, cid))
    else:
        r = orun.kill(cid, "KILL", all=how == "kill-all")
        assert r.returncode == 0, r.stderr
        wait_for(lambda: status_of(orun, cid) == "stopped", "the paused container to die")
    if how != "kill":  # a plain kill reaches the init only; the pid namespace takes the rest
        wait_for(lambda: not processes_of([], test_mark, {}), "every process to die")


# ---- ps --------------------------------------------------------------------------------------------

def test_ps_json_and_table(orun, bundle, test_mark):
    cid, init = start_running(orun, bundle, "sleep 1001 & sleep 1002 & exec sleep 1003")
    pids = wait_procs(orun, cid, 3)
    assert init in pids
    assert set(pids) == set(processes_of([], test_mark, {})), "ps --format json is not the container's pids"

    r = orun.cmd("ps", cid)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header = lines[0].split()
    assert "PID" in header and "CMD" in header, lines[0]
    col = header.index("PID")
    assert sorted(int(line.split()[col]) for line in lines[1:]) == sorted(pids), r.stdout
    assert all("sleep 100" in line for line in lines[1:]), r.stdout

    r = orun.cmd("ps", cid, "-o", "pid,args")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["PID", "COMMAND"], lines[0]
    assert sorted(line.split(None, 1)[1] for line in lines[1:]) == ["sleep 1001", "sleep 1002", "sleep 1003"]

    # "--" ends orun's own options; ps gets what follows.
    r = orun.cmd("ps", "--format", "table", cid, "--", "-o", "pid,comm")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["PID", "COMMAND"], lines[0]
    assert sorted((int(p), c) for p, c in (line.split() for line in lines[1:])) == sorted((p, "sleep") for p in pids)

    one_error(orun.cmd("ps", cid, "-o", "args"), "PID")
    one_error(orun.cmd("ps", "--format", "yaml", cid), "yaml")


# ---- update ----------------------------------------------------------------------------------------

def saved_resources(orun, cid):
    with open(os.path.join(orun.root, cid, "config.json")) as f:
        return json.load(f)["linux"].get("resources", {})


@pytest.fixture
def limited(orun, bundle):
    need(V1, "a cgroup v1 host (hybrid or pure v1)")
    bundle.config["linux"]["resources"].update({"memory": {"limit": 256 << 20}, "pids": {"limit": 100},
                                                "cpu": {"shares": 1024}})
    cid, pid = start_running(orun, bundle, "sleep 1000")
    return cid, pid


def test_update_flags_change_only_what_is_given(orun, limited):
    cid, pid = limited
    devices = cg_read(pid, "devices", "devices.list")
    # A child cgroup (a container that nests its own): the kernel refuses to reset the device
    # rules of a parent, so an update that went through deny-all again would fail here.
    os.mkdir(os.path.join(cg_dir(pid, "devices"), "nested"))
    r = orun.cmd("update", "--memory", "64m", "--memory-swap", "-1", "--cpu-quota", "20000", "--cpu-period", "100000",
                 "--cpu-share", "512", "--pids-limit", "20", "--blkio-weight", "300", cid)
    assert r.returncode == 0, r.stderr
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cg_read(pid, "cpu", "cpu.cfs_quota_us") == "20000"
    assert cg_read(pid, "cpu", "cpu.cfs_period_us") == "100000"
    assert cg_read(pid, "cpu", "cpu.shares") == "512"
    assert cg_read(pid, "pids", "pids.max") == "20"
    weight = "blkio.bfq.weight" if os.path.exists(cg_dir(pid, "blkio") + "/blkio.bfq.weight") else "blkio.weight"
    assert cg_read(pid, "blkio", weight).split()[-1] == "300"
    assert cg_read(pid, "devices", "devices.list") == devices, "update touched the device rules"

    # One field: the others stay as they are, in the cgroup and in the saved config.
    assert orun.cmd("update", "--pids-limit", "30", cid).returncode == 0
    assert cg_read(pid, "pids", "pids.max") == "30"
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cg_read(pid, "cpu", "cpu.cfs_quota_us") == "20000"
    res = saved_resources(orun, cid)
    assert res["pids"]["limit"] == 30
    assert res["memory"]["limit"] == 64 << 20 and res["memory"]["swap"] == -1
    assert res["cpu"] == {"shares": 512, "quota": 20000, "period": 100000}
    assert res["blockIO"]["weight"] == 300
    assert res["devices"] == [{"allow": False, "access": "rwm"}]

    # cpusets; kernel memory is obsolete and only warned about, as by runc.
    r = orun.cmd("update", "--cpuset-cpus", "0", "--kernel-memory", "10m", cid)
    assert r.returncode == 0 and "--kernel-memory" in r.stderr, r.stderr
    assert cg_read(pid, "cpuset", "cpuset.cpus") == "0"

    # runc's 0 means "unchanged"; pids -1 means no limit.
    assert orun.cmd("update", "--memory", "0", "--pids-limit", "-1", cid).returncode == 0
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert cg_read(pid, "pids", "pids.max") == "max"


def test_update_the_other_flags_reach_their_files(orun, limited):
    cid, pid = limited
    rt = ["--cpu-rt-period", "500000", "--cpu-rt-runtime", "5000"]
    if not RT_GROUPS:
        # No real-time group scheduling in this kernel: refused, naming the field.
        r = orun.cmd("update", *rt, cid)
        assert r.returncode != 0 and "linux.resources.cpu.realtimePeriod" in r.stderr, r.stderr
    r = orun.cmd("update", "--memory-reservation", "32m", "--cpu-quota", "50000", "--cpu-burst", "10000",
                 *(rt if RT_GROUPS else []), "--cpuset-mems", "0", cid)
    assert r.returncode == 0, r.stderr
    assert cg_read(pid, "memory", "memory.soft_limit_in_bytes") == str(32 << 20)
    assert cg_read(pid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cg_read(pid, "cpu", "cpu.cfs_burst_us") == "10000"
    if RT_GROUPS:
        assert cg_read(pid, "cpu", "cpu.rt_period_us") == "500000"
        assert cg_read(pid, "cpu", "cpu.rt_runtime_us") == "5000"
    assert cg_read(pid, "cpuset", "cpuset.mems") == "0"
    # The kernel refuses cpu.shares on an idle group: idle last.
    r = orun.cmd("update", "--cpu-idle", "1", cid)
    assert r.returncode == 0, r.stderr
    assert cg_read(pid, "cpu", "cpu.idle") == "1"
    res = saved_resources(orun, cid)["cpu"]
    assert (res["burst"], res["idle"], res["mems"]) == (10000, 1, "0")
    if RT_GROUPS:
        assert (res["realtimePeriod"], res["realtimeRuntime"]) == (500000, 5000)
    else:
        assert "realtimePeriod" not in res  # the refused update saved nothing


def test_update_check_before_update_compares_with_the_usage(orun, limited):
    cid, pid = limited
    # 16 MiB in the container's tmpfs /dev/shm: charged to its memory cgroup, and not reclaimable
    # without swap.
    r = orun.cmd("exec", cid, "dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=16")
    assert r.returncode == 0, r.stderr
    usage = int(cg_read(pid, "memory", "memory.usage_in_bytes"))
    assert usage > 16 << 20
    low = {"memory": {"limit": 8 << 20, "checkBeforeUpdate": True}}
    one_error(orun.cmd("update", "--resources", "-", cid, input=json.dumps(low)),
              "linux.resources.memory.limit", f"{8 << 20} is below the current usage")
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(256 << 20)
    assert saved_resources(orun, cid)["memory"]["limit"] == 256 << 20
    ok = {"memory": {"limit": 128 << 20, "checkBeforeUpdate": True}}
    assert orun.cmd("update", "--resources", "-", cid, input=json.dumps(ok)).returncode == 0
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(128 << 20)


@pytest.mark.parametrize("source", ["stdin", "file"])
def test_update_resources_json(orun, limited, tmp_path, source):
    cid, pid = limited
    devices = cg_read(pid, "devices", "devices.list")
    # What containerd sends: the whole linux.resources, devices and empty cpusets included.
    doc = {"devices": [{"allow": True, "access": "rwm"}], "memory": {"limit": 96 << 20, "swap": 96 << 20},
           "cpu": {"shares": 256, "quota": 50000, "period": 100000, "cpus": "", "mems": ""},
           "pids": {"limit": 42}, "hugepageLimits": [{"pageSize": "2MB", "limit": 0}]}
    if source == "stdin":
        r = orun.cmd("update", "--resources", "-", cid, input=json.dumps(doc))
    else:
        path = tmp_path / "resources.json"
        path.write_text(json.dumps(doc))
        r = orun.cmd("update", "-r", str(path), "--pids-limit", "7", cid)  # flags ignored with -r, as runc
    assert r.returncode == 0, r.stderr
    assert cg_read(pid, "memory", "memory.limit_in_bytes") == str(96 << 20)
    assert cg_read(pid, "memory", "memory.memsw.limit_in_bytes") == str(96 << 20)
    assert cg_read(pid, "cpu", "cpu.shares") == "256"
    assert cg_read(pid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert cg_read(pid, "pids", "pids.max") == "42"
    assert cg_read(pid, "devices", "devices.list") == devices, "update applied device rules"
    res = saved_resources(orun, cid)
    assert res["memory"]["limit"] == 96 << 20 and res["pids"]["limit"] == 42
    assert res["devices"] == [{"allow": False, "access": "rwm"}], "the saved device rules changed"


@pytest.mark.parametrize("args, stdin, needles", [
    (["--memory", "lots"], None, ["--memory", "lots"]),
    (["--cpu-quota", "1.5"], None, ["--cpu-quota"]),
    (["--cpu-share", "-5"], None, ["--cpu-share"]),
    (["--l3-cache-schema", "L3:0=f"], None, ["--l3-cache-schema", "Intel RDT"]),
    (["--resources", "-"], '{"memory": {"limit": "64m"}}', ["memory.limit"]),
    (["--resources", "-"], '{"memory": ', ["--resources", "JSON"]),
    (["--resources", "-"], '[1]', ["--resources", "object"]),
    (["--resources", "/no/such/file"], None, ["/no/such/file"]),
    (["--cpuset-cpus", "999"], None, ["linux.resources.cpu.cpus", "cpuset.cpus"]),
    (["--resources", "-"], '{"unified": {"../x": "1"}}', ['unified["../x"]', "file name"]),
    (["--resources", "-"], '{"unified": {"cgroup.procs": "1"}}', ['unified["cgroup.procs"]', "refused"]),
])
def test_update_bad_input_names_the_field(orun, limited, args, stdin, needles):
    cid, pid = limited
    before = saved_resources(orun, cid)
    one_error(orun.cmd("update", *args, cid, input=stdin), *needles)
    assert saved_resources(orun, cid) == before
    assert cg_read(pid, "pids", "pids.max") == "100"


def test_update_a_stopped_container_is_an_error(orun, bundle):
    bundle.set_args("true")
    r = orun.run(bundle, None, "--keep")
    assert r.returncode == 0, r.stderr
    one_error(orun.cmd("update", "--pids-limit", "10", r.cid), r.cid, "stopped")
    one_error(orun.cmd("update", "--pids-limit", "10", "no-such-container"), "no-such-container")


def test_update_pids_and_memory_limits_bite(orun, limited, test_mark):
    """A running container gets smaller limits; a fork loop and an allocation then hit them."""
    cid, pid = limited
    dd = "dd if=/dev/zero of=/dev/null bs=48M count=1 2>/dev/null; echo rc=$?"
    r = orun.cmd("exec", cid, "sh", "-c", dd)
    assert facts(r.stdout)["rc"] == "0", r.stdout + r.stderr  # 48M fit in 256M
    assert keyed(cg_read(pid, "pids", "pids.events"))["max"] == 0

    assert orun.cmd("update", "--pids-limit", "6", cid).returncode == 0
    orun.cmd("exec", cid, "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1000 & done")
    # The init, the exec'd sh and 4 sleeps make 6: the new pids.max stopped the loop there.
    assert keyed(cg_read(pid, "pids", "pids.events"))["max"] > 0
    assert 2 <= len(ps_json(orun, cid)) <= 6

    assert orun.cmd("update", "--pids-limit", "100", "--memory", "32m", "--memory-swap", "32m", cid).returncode == 0
    oom_before = keyed(cg_read(pid, "memory", "memory.oom_control")).get("oom_kill", 0)
    r = orun.cmd("exec", cid, "sh", "-c", dd)
    assert facts(r.stdout)["rc"] == str(128 + signal.SIGKILL), r.stdout + r.stderr
    assert keyed(cg_read(pid, "memory", "memory.oom_control"))["oom_kill"] > oom_before


# ---- events ----------------------------------------------------------------------------------------

def test_events_stats_once_and_at_an_interval(orun, bundle, orun_bin):
    need(V1, "a cgroup v1 host (hybrid or pure v1)")
    bundle.config["linux"]["resources"]["pids"] = {"limit": 50}
    cid, init = start_running(orun, bundle, "sleep 1000 & sleep 1000 & exec sleep 1000")
    wait_procs(orun, cid, 3)
    r = orun.cmd("events", "--stats", cid)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout
    ev = json.loads(lines[0])
    assert ev["type"] == "stats" and ev["id"] == cid
    data = ev["data"]
    assert data["pids"] == {"current": 3, "limit": 50}
    assert data["memory"]["usage"]["usage"] > 0
    assert data["memory"]["raw"]["rss"] >= 0 and "cache" in data["memory"]
    assert data["cpu"]["usage"]["total"] > 0
    assert len(data["cpu"]["usage"]["percpu"]) == os.cpu_count()
    assert set(data) >= {"cpu", "memory", "pids", "blkio", "hugetlb"}
    assert "throttledPeriods" in data["cpu"]["throttling"]
    # cpu usage comes from cpuacct: never above what the kernel counts afterwards.
    assert 0 < data["cpu"]["usage"]["total"] <= int(cg_read(init, "cpuacct", "cpuacct.usage"))
    assert sum(data["cpu"]["usage"]["percpu"]) <= int(cg_read(init, "cpuacct", "cpuacct.usage"))

    # --interval streams a sample per tick until stopped.
    proc = subprocess.Popen([orun_bin, "--root", orun.root, "events", "--interval", "100ms", cid],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        events = Lines(proc)
        samples = [events.next() for _ in range(3)]
    finally:
        proc.kill()
        proc.wait()
    assert [(e["type"], e["id"], e["data"]["pids"]["current"]) for e in samples] == [("stats", cid, 3)] * 3
    usage = [e["data"]["cpu"]["usage"]["total"] for e in samples]
    assert usage == sorted(usage)


def test_events_errors(orun, bundle):
    cid, _ = start_running(orun, bundle, "sleep 1000")
    one_error(orun.cmd("events", "--interval", "0s", cid), "--interval")
    one_error(orun.cmd("events", "--interval", "soon", cid), "--interval", "soon")
    assert orun.kill(cid, "KILL").returncode == 0
    wait_for(lambda: status_of(orun, cid) == "stopped", "the container to stop")
    one_error(orun.cmd("events", "--stats", cid), cid, "stopped")


class Lines:
    """Reads the JSON lines of a running `orun events` with a deadline."""

    def __init__(self, proc):
        self.proc = proc
        self.buf = b""

    def next(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no event within {timeout} s")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return None  # the stream ended
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def test_events_reports_an_oom_kill_and_ends_with_the_container(orun, bundle, orun_bin):
    need(V1, "a cgroup v1 host (hybrid or pure v1)")
    go = rootfs_file(bundle, "/go")
    bundle.config["linux"]["resources"]["memory"] = {"limit": 32 << 20, "swap": 32 << 20}
    # dd allocates its 64M block and fills it: past the limit, the OOM killer takes it.
    cid, pid = start_running(orun, bundle, "while [ ! -e /go ]; do sleep 0.05; done; "
                                           "dd if=/dev/zero of=/dev/null bs=64M count=1; exec sleep 1000")
    proc = subprocess.Popen([orun_bin, "--root", orun.root, "events", "--interval", "100ms", cid],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        events = Lines(proc)
        first = events.next()  # the OOM watch is in place before the first tick
        assert first["type"] == "stats" and first["id"] == cid
        open(go, "w").close()
        seen = []
        while True:
            ev = events.next()
            assert ev is not None, "the stream ended without an oom event"
            seen.append(ev["type"])
            if ev["type"] == "oom":
                assert ev == {"type": "oom", "id": cid}
                break
        # The notification comes as the OOM starts; the kill follows.
        wait_for(lambda: keyed(cg_read(pid, "memory", "memory.oom_control"))["oom_kill"] >= 1, "the OOM kill")
        assert orun.kill(cid, "KILL").returncode == 0
        while (ev := events.next()) is not None:
            assert ev["type"] == "stats"
        assert proc.wait(timeout=10) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---- delete, kill --all, and cgroups made half-way -------------------------------------------------

def test_delete_kills_what_outlives_the_init_and_removes_every_cgroup(orun, bundle, test_mark):
    """Without a pid namespace the init's children survive it; delete must kill them through the
    cgroup and remove the container's cgroup in every hierarchy."""
    bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"] if n["type"] != "pid"]
    cid, init = start_running(orun, bundle, "sleep 1001 & sleep 1002 & exec sleep 1003")
    wait_procs(orun, cid, 3)
    with open(f"/proc/{init}/cgroup") as f:
        controllers = [line.split(":")[1] for line in f]
    first = lambda c: c.split(",")[0].replace("name=", "")  # noqa: E731
    # A hierarchy that another test mounted in its own mount namespace shows in /proc/PID/cgroup too.
    controllers = [c for c in controllers if not c or os.path.isdir("/sys/fs/cgroup/" + first(c))]
    dirs = {c: cg_dir(init, first(c)) if c else cg_dir(init, "") for c in controllers}
    assert all(os.path.isdir(d) for d in dirs.values()), dirs
    assert orun.kill(cid, "KILL").returncode == 0
    wait_for(lambda: status_of(orun, cid) == "stopped", "the init to die")
    assert len(processes_of([], test_mark, {})) == 2, "the children should outlive the init"
    r = orun.delete(cid)
    assert r.returncode == 0, r.stderr
    assert not processes_of([], test_mark, {}), "delete left processes"
    left = [d for d in dirs.values() if os.path.exists(d)]
    assert not left, f"cgroups left after delete: {left}"
