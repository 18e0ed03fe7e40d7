"""The container lifecycle as the OCI runtime spec (runtime.md) and real callers (conmon,
containerd-shim) drive it: create/start/state/kill/delete/list/run, their errors, and the
process relationships callers rely on (subreaper, --pid-file, signal forwarding)."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from orun import processes_of, read_text, rootfs_file, wait_for


def status_of(orun, cid):
    return orun.state_json(cid)["status"]


def wait_status(orun, cid, want, timeout=10.0):
    wait_for(lambda: status_of(orun, cid) == want, f"{cid} to be {want}", timeout)


def drop_namespace(bundle, kind):
    ns = bundle.config["linux"]["namespaces"]
    bundle.config["linux"]["namespaces"] = [n for n in ns if n["type"] != kind]


# ---- create: the init waits, re-parented to the caller's subreaper, pid in --pid-file ----

SUBREAPER_SCRIPT = textwrap.dedent("""
    import ctypes, json, os, signal, subprocess, sys, time
    orun, root, bundle, cid, pid_file = sys.argv[1:6]
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, ctypes.get_errno()
    out = {}
    r = subprocess.run([orun, "--root", root, "create", "--bundle", bundle, "--pid-file", pid_file, cid],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out["create_rc"] = r.returncode
    pid = int(open(pid_file).read())
    out["pid"] = pid
    stat = open(f"/proc/{pid}/stat").read()
    out["ppid"] = int(stat[stat.rfind(")") + 2:].split()[1])
    out["me"] = os.getpid()
    state = json.loads(subprocess.run([orun, "--root", root, "state", cid], capture_output=True, text=True).stdout)
    out["state_before"] = state["status"]
    out["state_pid"] = state["pid"]
    subprocess.run([orun, "--root", root, "kill", cid, "KILL"], check=True)
    # Until we reap it the init is a zombie: a zombie init counts as stopped.
    deadline = time.monotonic() + 10
    while open(f"/proc/{pid}/stat").read().split(") ")[1][0] != "Z":
        assert time.monotonic() < deadline, "init did not die"
        time.sleep(0.01)
    state = json.loads(subprocess.run([orun, "--root", root, "state", cid], capture_output=True, text=True).stdout)
    out["state_zombie"] = state["status"]
    wpid, status = os.waitpid(pid, 0)
    out["waited"] = wpid
    out["signaled"] = os.WIFSIGNALED(status) and os.WTERMSIG(status)
    state = json.loads(subprocess.run([orun, "--root", root, "state", cid], capture_output=True, text=True).stdout)
    out["state_reaped"] = state["status"]
    print(json.dumps(out))
""")


def test_create_reparents_init_to_callers_subreaper(orun, bundle, tmp_path):
    """conmon and containerd-shim are subreapers and reap the init themselves: after `create` the
    init must be their child, its host pid in --pid-file, and a zombie init already counts as stopped."""
    bundle.set_args("sleep", "1000")
    bundle.write()
    cid = orun.new_id()
    pid_file = tmp_path / "init.pid"
    r = subprocess.run([sys.executable, "-c", SUBREAPER_SCRIPT, orun.binary, orun.root, bundle.path, cid,
                        str(pid_file)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["create_rc"] == 0
    assert out["ppid"] == out["me"], "the init is not a child of the caller's subreaper"
    assert out["state_before"] == "created"
    assert out["state_pid"] == out["pid"], "--pid-file and state disagree on the init's pid"
    assert out["state_zombie"] == "stopped", "a zombie init must count as stopped"
    assert out["waited"] == out["pid"]
    assert out["signaled"] == signal.SIGKILL
    assert out["state_reaped"] == "stopped"
    assert orun.delete(cid).returncode == 0


def test_pid_file_holds_host_pid(orun, bundle, tmp_path):
    bundle.set_args("sleep", "1000")
    pid_file = tmp_path / "pid"
    r = orun.create(bundle, None, "--pid-file", pid_file)
    assert r.returncode == 0, r.stderr
    text = pid_file.read_text()
    assert text.strip().isdigit(), f"--pid-file holds {text!r}"
    pid = int(text)
    assert orun.state_json(r.cid)["pid"] == pid
    # It is the host pid of the waiting init: it exists in our pid namespace and is in the container's
    # pid namespace, not ours.
    assert os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")


# ---- state transitions ----

def test_state_created_running_stopped(orun, bundle):
    marker = rootfs_file(bundle, "/started")
    bundle.set_args("sh", "-c", "echo yes > /started; read line")  # read: blocks on a pipe we hold
    bundle.write()
    cid = orun.new_id()
    reader, writer = os.pipe()
    try:
        # Output to a file, not a pipe: the init keeps its stdio open (see Orun.cmd).
        with open(os.path.join(bundle.path, "create.err"), "w+") as err:
            p = subprocess.run([orun.binary, "--root", orun.root, "create", "--bundle", bundle.path, cid],
                               stdin=reader, stdout=subprocess.DEVNULL, stderr=err, timeout=60)
            err.seek(0)
            assert p.returncode == 0, err.read()
        os.close(reader)
        reader = -1
        st = orun.state_json(cid)
        assert st["status"] == "created"
        assert st["id"] == cid and st["bundle"] == bundle.path and st["pid"] > 0
        assert not os.path.exists(marker), "the process ran before start"
        assert orun.start(cid).returncode == 0
        wait_for(lambda: os.path.exists(marker), "the process to run")
        assert status_of(orun, cid) == "running"
        os.close(writer)  # EOF: `read` returns and the process exits
        writer = -1
        wait_status(orun, cid, "stopped")
    finally:
        for fd in (reader, writer):
            if fd >= 0:
                os.close(fd)
    assert orun.delete(cid).returncode == 0
    assert orun.state(cid).returncode != 0, "state of a deleted container must fail"


def test_start_twice_fails(orun, bundle):
    bundle.set_args("sleep", "1000")
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    assert orun.start(r.cid).returncode == 0
    again = orun.start(r.cid)
    assert again.returncode == 1
    assert "running" in again.stderr
    assert status_of(orun, r.cid) == "running"


def test_start_unknown_fails(orun):
    r = orun.start("no-such-container")
    assert r.returncode == 1
    assert "no-such-container" in r.stderr


def test_delete_created_needs_force(orun, bundle):
    bundle.set_args("sleep", "1000")
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    pid = orun.state_json(r.cid)["pid"]
    d = orun.delete(r.cid)
    assert d.returncode == 1 and "created" in d.stderr, d.stderr
    assert status_of(orun, r.cid) == "created", "a refused delete changed the container"
    assert orun.delete(r.cid, force=True).returncode == 0
    assert not os.path.exists(os.path.join(orun.root, r.cid))
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
             open(f"/proc/{pid}/stat").read().split(") ")[1][0] == "Z", "the init to die")


def test_delete_running_needs_force(orun, bundle):
    bundle.set_args("sleep", "1000")
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    assert orun.start(r.cid).returncode == 0
    d = orun.delete(r.cid)
    assert d.returncode == 1 and "running" in d.stderr, d.stderr
    assert status_of(orun, r.cid) == "running"
    assert orun.delete(r.cid, force=True).returncode == 0
    assert orun.state(r.cid).returncode != 0


def test_config_without_process_creates_but_start_fails(orun, bundle):
    del bundle.config["process"]
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    assert status_of(orun, r.cid) == "created"
    s = orun.start(r.cid)
    assert s.returncode == 1
    assert "process" in s.stderr, f"unclear error: {s.stderr!r}"
    assert len(s.stderr.strip().splitlines()) == 1, s.stderr
    assert status_of(orun, r.cid) == "created", "a failed start changed the container"


def test_delete_force_unknown_id_succeeds(orun):
    r = orun.delete("never-created", force=True)
    assert r.returncode == 0, r.stderr
    plain = orun.delete("never-created")
    assert plain.returncode == 1


def test_delete_then_delete_force(orun, bundle):
    """containerd's shim calls `delete ID` and then `delete --force ID`: both must succeed."""
    bundle.set_args("true")
    r = orun.run(bundle, None, "--keep")
    assert r.returncode == 0, r.stderr
    assert status_of(orun, r.cid) == "stopped"
    assert orun.delete(r.cid).returncode == 0
    again = orun.delete(r.cid, force=True)
    assert again.returncode == 0, again.stderr


def test_parallel_starts_exactly_one_wins(orun, bundle):
    counter = rootfs_file(bundle, "/runs")
    bundle.set_args("sh", "-c", "echo run >> /runs; exec sleep 1000")
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    argv = [orun.binary, "--root", orun.root, "start", r.cid]
    procs = [subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(10)]
    codes = [p.wait(timeout=60) for p in procs]
    assert codes.count(0) == 1, f"exit codes of 10 parallel starts: {codes}"
    assert all(c == 1 for c in codes if c != 0), codes
    wait_for(lambda: read_text(counter), "the process to run")
    assert status_of(orun, r.cid) == "running"
    assert read_text(counter) == "run\n", "the process ran more than once"


def test_state_json_is_always_valid(orun, bundle):
    """state.json is replaced atomically: a reader never sees a partial file."""
    bundle.set_args("sleep", "1000")
    bundle.write()
    bad = []
    reads = [0]
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            for cid in list(orun.ids):
                try:
                    with open(os.path.join(orun.root, cid, "state.json")) as f:
                        text = f.read()
                except OSError:
                    continue
                reads[0] += 1
                try:
                    json.loads(text)
                except ValueError:
                    bad.append(text)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(3):
            r = orun.create(bundle)
            assert r.returncode == 0, r.stderr
            assert orun.start(r.cid).returncode == 0
            assert orun.kill(r.cid, "KILL").returncode == 0
            wait_status(orun, r.cid, "stopped")
            assert orun.delete(r.cid).returncode == 0
    finally:
        stop.set()
        t.join()
    assert reads[0] > 0, "the reader never saw a state.json"
    assert not bad, f"partial state.json seen: {bad[0]!r}"


# ---- kill ----

TRAP_SCRIPT = ("trap 'echo TERM >> /signals' TERM; trap 'echo USR1 >> /signals' USR1; "
               "echo ready > /ready; while :; do sleep 1000 & wait $!; kill $! 2>/dev/null; done")


def test_kill_signal_names_and_numbers(orun, bundle):
    signals_file = rootfs_file(bundle, "/signals")
    bundle.set_args("sh", "-c", TRAP_SCRIPT)
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    assert orun.start(r.cid).returncode == 0
    wait_for(lambda: os.path.exists(rootfs_file(bundle, "/ready")), "the traps to be set")
    expected = []
    for sig, name in [(None, "TERM"), ("TERM", "TERM"), ("SIGTERM", "TERM"), ("15", "TERM"),
                      ("USR1", "USR1"), ("SIGUSR1", "USR1"), (str(int(signal.SIGUSR1)), "USR1")]:
        k = orun.kill(r.cid, sig)
        assert k.returncode == 0, f"kill {sig}: {k.stderr}"
        expected.append(name)
        wait_for(lambda: read_text(signals_file).split() == expected,
                 f"signal {sig} to reach the trap (got {read_text(signals_file).split()})")
    assert orun.kill(r.cid, "KILL").returncode == 0
    wait_status(orun, r.cid, "stopped")
    # The spec: signalling a container that is neither created nor running is an error.
    after = orun.kill(r.cid, "KILL")
    assert after.returncode == 1 and "stopped" in after.stderr


def test_kill_numeric_9(orun, bundle):
    bundle.set_args("sleep", "1000")
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    assert orun.start(r.cid).returncode == 0
    assert orun.kill(r.cid, "9").returncode == 0
    wait_status(orun, r.cid, "stopped")


def test_kill_bad_signal_fails(orun, bundle):
    bundle.set_args("sleep", "1000")
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    for sig in ("SIGNOPE", "0x", "999"):
        k = orun.kill(r.cid, sig)
        assert k.returncode == 1, f"kill {sig} was accepted"
    assert status_of(orun, r.cid) == "created"


def test_kill_created_container(orun, bundle):
    """runc and the spec allow signalling a created container; SIGKILL stops it."""
    bundle.set_args("sleep", "1000")
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    assert orun.kill(r.cid, "KILL").returncode == 0
    wait_status(orun, r.cid, "stopped")


def test_kill_all_reaches_every_process(orun, bundle, test_mark):
    # The init (pid 1 in its namespace, no handler) ignores TERM; only --all reaches the children.
    ready = rootfs_file(bundle, "/ready")
    bundle.set_args("sh", "-c", "sleep 1000 & sleep 1000 & echo ready > /ready; wait; sleep 1000")
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    assert orun.start(r.cid).returncode == 0
    wait_for(lambda: os.path.exists(ready), "the children to start")
    procs = wait_for(lambda: (lambda p: p if len(p) >= 3 else None)(processes_of([], test_mark, {})),
                     "three container processes")
    assert len(procs) >= 3, procs
    assert orun.kill(r.cid, "KILL", all=True).returncode == 0
    wait_for(lambda: not processes_of([], test_mark, {}), "every container process to die")
    wait_status(orun, r.cid, "stopped")


# ---- list and --root ----

def test_list_formats(orun, bundle):
    bundle.set_args("sleep", "1000")
    a = orun.create(bundle)
    assert a.returncode == 0, a.stderr
    b = orun.create(bundle)
    assert b.returncode == 0, b.stderr
    assert orun.start(b.cid).returncode == 0

    table = orun.list()
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "PID", "STATUS"], lines[0]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[a.cid][2] == "created" and rows[b.cid][2] == "running"
    assert rows[a.cid][1] == str(orun.state_json(a.cid)["pid"])

    js = orun.list("--format", "json")
    assert js.returncode == 0, js.stderr
    entries = {e["id"]: e for e in json.loads(js.stdout)}
    assert entries[a.cid]["status"] == "created" and entries[b.cid]["status"] == "running"
    assert entries[b.cid]["bundle"] == bundle.path

    quiet = orun.list("-q")
    assert sorted(quiet.stdout.split()) == sorted([a.cid, b.cid])


def test_list_empty_root(orun, tmp_path):
    r = orun.cmd("list", "-q")
    assert r.returncode == 0 and r.stdout == ""
    js = orun.list("--format", "json")
    assert js.returncode == 0 and json.loads(js.stdout) == []
    missing = subprocess.run([orun.binary, "--root", str(tmp_path / "absent"), "list", "--format", "json"],
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode == 0 and json.loads(missing.stdout) == []


def test_root_flag_forms(orun, bundle):
    bundle.set_args("sleep", "1000")
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    for argv in ([f"--root={orun.root}", "list", "-q"], ["--root", orun.root, "list", "-q"]):
        p = subprocess.run([orun.binary, *argv], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        assert p.stdout.split() == [r.cid], argv
    p = subprocess.run([orun.binary, f"--root={orun.root}", "state", r.cid], capture_output=True, text=True,
                       timeout=30)
    assert json.loads(p.stdout)["status"] == "created"


# ---- run ----

def test_run_detach_leaves_it_running(orun, bundle):
    bundle.set_args("sleep", "1000")
    r = orun.run(bundle, None, "--detach")
    assert r.returncode == 0, r.stderr
    st = orun.state_json(r.cid)
    assert st["status"] == "running"
    assert os.path.exists(f"/proc/{st['pid']}")
    assert orun.kill(r.cid, "KILL").returncode == 0
    wait_status(orun, r.cid, "stopped")


def test_run_keep_keeps_stopped_container(orun, bundle):
    bundle.set_args("sh", "-c", "exit 4")
    r = orun.run(bundle, None, "--keep")
    assert r.returncode == 4, r.stderr
    st = orun.state_json(r.cid)
    assert st["status"] == "stopped"
    assert orun.delete(r.cid).returncode == 0


def test_run_exit_status_passthrough(orun, bundle):
    for code in (0, 1, 42, 255):
        bundle.set_args("sh", "-c", f"exit {code}")
        r = orun.run(bundle)
        assert r.returncode == code, f"exit {code} came back as {r.returncode}: {r.stderr}"
        assert not os.path.exists(os.path.join(orun.root, r.cid)), "run without --keep left the container"


def test_run_reports_death_by_signal(orun, bundle):
    # Without a pid namespace the process is not an init, so it can die of its own signal.
    drop_namespace(bundle, "pid")
    bundle.set_args("sh", "-c", "kill -USR1 $$")
    r = orun.run(bundle)
    assert r.returncode == 128 + signal.SIGUSR1, r.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_forwards_signal(orun, bundle, tmp_path, sig):
    # Without a pid namespace the workload is not an init and dies of TERM/INT by default.
    drop_namespace(bundle, "pid")
    ready = rootfs_file(bundle, "/ready")
    bundle.set_args("sh", "-c", "echo ready > /ready; exec sleep 1000")
    bundle.write()
    cid = orun.new_id()
    with open(tmp_path / "out", "w") as out:
        p = subprocess.Popen([orun.binary, "--root", orun.root, "run", "--bundle", bundle.path, cid],
                             stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        try:
            wait_for(lambda: os.path.exists(ready), "the container to start")
            # the sleep must have replaced sh before we signal
            wait_for(lambda: status_of(orun, cid) == "running" and
                     "sleep" in read_text(f"/proc/{orun.state_json(cid)['pid']}/cmdline"), "exec sleep")
            p.send_signal(sig)
            code = p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert code == 128 + sig, f"orun run exited {code} after {sig.name}: {read_text(tmp_path / 'out')}"
    assert not os.path.exists(os.path.join(orun.root, cid))

