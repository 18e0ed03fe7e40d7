"""The verbs that act on a live container's cgroup, on pure cgroup v2: pause/resume (cgroup.freeze),
update, events (stats and an OOM kill through memory.events), ps and kill --all (cgroup.kill)."""
import json
import subprocess
import time

from helpers_cgroups import cg_dir, read_text, rootfs_file, start_running
from orun import wait_for

MiB = 1 << 20


def cg_file(pid, name):
    return read_text(f"{cg_dir(pid, '')}/{name}").strip()


def ps_json(orun, cid):
    r = orun.cmd("ps", "--format", "json", cid)
    assert r.returncode == 0, r.stderr
    return sorted(json.loads(r.stdout))


def test_pause_freezes_and_resume_thaws(orun, bundle):
    count = rootfs_file(bundle, "/count")
    cid, pid = start_running(orun, bundle, "i=0; while :; do i=$((i+1)); echo $i > /count.tmp; mv /count.tmp /count; done")
    counter = lambda: (lambda t: int(t) if t.strip().isdigit() else None)(read_text(count))  # noqa: E731
    wait_for(counter, "the counter")
    assert orun.cmd("pause", cid).returncode == 0
    assert orun.state_json(cid)["status"] == "paused"
    assert "frozen 1" in cg_file(pid, "cgroup.events")
    frozen_at = wait_for(counter, "the counter")
    time.sleep(0.5)
    assert counter() == frozen_at, "the counter advanced while paused"
    assert orun.cmd("resume", cid).returncode == 0
    assert "frozen 0" in cg_file(pid, "cgroup.events")
    wait_for(lambda: counter() > frozen_at, "the counter to advance after resume")


def test_update_changes_limits_that_bite_and_keeps_the_device_filter(orun, bundle):
    bundle.config["linux"]["resources"]["pids"] = {"limit": 100}
    cid, pid = start_running(orun, bundle, "exec sleep 1000")
    r = orun.cmd("update", "--pids-limit", "5", "--memory", "50m", cid)
    assert r.returncode == 0, r.stderr
    assert cg_file(pid, "pids.max") == "5"
    assert cg_file(pid, "memory.max") == str(50 * MiB)
    r = orun.cmd("update", "--resources", "-", cid, input=json.dumps({"cpu": {"quota": 20000, "period": 100000}}))
    assert r.returncode == 0, r.stderr
    assert cg_file(pid, "cpu.max") == "20000 100000"
    assert cg_file(pid, "pids.max") == "5"  # untouched by the second update
    # The device filter set at create is still the only one.
    out = subprocess.run(["bpftool", "-j", "cgroup", "show", cg_dir(pid, "")], capture_output=True, text=True,
                         check=True).stdout
    assert [p["name"] for p in json.loads(out) if p["attach_type"] in ("device", "cgroup_device")] == ["orun_devices"]
    # The new pids limit bites: of ten sleeps at most four more fit beside the init.
    orun.cmd("exec", cid, "sh", "-c", "for i in $(seq 10); do sleep 1000 & done 2>/dev/null; true")
    assert int(cg_file(pid, "pids.current")) <= 5
    assert int(dict(line.split() for line in cg_file(pid, "pids.events").splitlines())["max"]) > 0


def test_events_stats_and_an_oom_kill(orun, bundle, orun_bin):
    go = rootfs_file(bundle, "/go")
    bundle.config["linux"]["resources"]["memory"] = {"limit": 32 * MiB, "swap": 32 * MiB}
    bundle.config["linux"]["resources"]["pids"] = {"limit": 50}
    cid, pid = start_running(orun, bundle, "sleep 1000 & while [ ! -e /go ]; do sleep 0.05; done; "
                                           "dd if=/dev/zero of=/dev/null bs=64M count=1; exec sleep 1000")
    r = orun.cmd("events", "--stats", cid)
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["type"] == "stats" and ev["id"] == cid
    assert ev["data"]["pids"]["limit"] == 50 and ev["data"]["pids"]["current"] >= 2
    assert ev["data"]["memory"]["usage"]["limit"] == 32 * MiB
    assert ev["data"]["memory"]["usage"]["usage"] > 0
    assert ev["data"]["cpu"]["usage"]["total"] > 0

    proc = subprocess.Popen([orun_bin, "--root", orun.root, "events", "--interval", "200ms", cid],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert json.loads(proc.stdout.readline())["type"] == "stats"  # the OOM watch is in place
        second = json.loads(proc.stdout.readline())  # and the stream goes on at the interval
        assert second["type"] == "stats" and second["data"]["pids"]["limit"] == 50
        open(go, "w").close()
        wait_for(lambda: int(dict(line.split() for line in cg_file(pid, "memory.events").splitlines())["oom_kill"]),
                 "the OOM kill", timeout=60)
        assert orun.kill(cid, "KILL").returncode == 0
        out, err = proc.communicate(timeout=60)  # the stream ends with the container
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert {"type": "oom", "id": cid} in [json.loads(line) for line in out.splitlines()]


def test_update_check_before_update_compares_with_memory_current(orun, bundle):
    bundle.config["linux"]["resources"]["memory"] = {"limit": 256 * MiB}
    # 16 MiB in the container's tmpfs /dev/shm: charged to its cgroup, not reclaimable without swap.
    cid, pid = start_running(orun, bundle, "dd if=/dev/zero of=/dev/shm/fill bs=1M count=16; exec sleep 1000")
    wait_for(lambda: int(cg_file(pid, "memory.current")) > 16 * MiB, "16 MiB in /dev/shm")
    low = {"memory": {"limit": 8 * MiB, "checkBeforeUpdate": True}}
    r = orun.cmd("update", "--resources", "-", cid, input=json.dumps(low))
    assert r.returncode != 0 and f"linux.resources.memory.limit: {8 * MiB} is below the current usage" in r.stderr, \
        r.stderr
    assert cg_file(pid, "memory.max") == str(256 * MiB)
    ok = {"memory": {"limit": 128 * MiB, "checkBeforeUpdate": True}}
    r = orun.cmd("update", "--resources", "-", cid, input=json.dumps(ok))
    assert r.returncode == 0, r.stderr
    assert cg_file(pid, "memory.max") == str(128 * MiB)


def test_ps_and_kill_all(orun, bundle):
    cid, pid = start_running(orun, bundle, "sleep 1000 & sleep 1000 & exec sleep 1000")
    procs = wait_for(lambda: (lambda p: p if len(p) == 3 else None)(ps_json(orun, cid)), "three processes")
    cgroup = cg_dir(pid, "")
    assert procs == sorted(int(p) for p in read_text(f"{cgroup}/cgroup.procs").split())
    assert orun.kill(cid, "KILL", all=True).returncode == 0
    wait_for(lambda: read_text(f"{cgroup}/cgroup.procs").strip() == "", "an empty cgroup")
