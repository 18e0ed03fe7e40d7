"""Crash safety: an `orun create` killed with SIGKILL at any point leaves debris that `orun state`
describes without crashing and that `orun delete --force` removes completely (state dir, cgroup,
processes, mounts). See docs/design.md, "State and crash safety"."""
import json
import os
import random
import signal
import subprocess
import time

import pytest

from orun import cgroups_named, mounts_below, processes_of

ITERATIONS = 15


def wait_gone(predicate, timeout=10.0):
    """Poll until predicate() returns a falsy value; returns the last value (truthy on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if not value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def kill_create_at(orun, bundle, delay):
    """Start `orun create`, SIGKILL it after `delay` seconds (or when it is done); returns the id and
    whether it had already finished."""
    cid = orun.new_id()
    p = subprocess.Popen([orun.binary, "--root", orun.root, "create", "--bundle", bundle.path, cid],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout=delay)
        finished = True
    except subprocess.TimeoutExpired:
        finished = False
    p.send_signal(signal.SIGKILL)
    p.wait()
    return cid, finished


def check_debris_then_clean(orun, bundle, cid, tmp_path, test_mark):
    # `state` of whatever is there must answer, not crash: JSON with a known status, or a plain error.
    st = orun.cmd("state", cid)
    assert st.returncode in (0, 1), f"state crashed ({st.returncode}): {st.stderr}"
    if st.returncode == 0:
        doc = json.loads(st.stdout)
        assert doc["id"] == cid
        assert doc["status"] in ("creating", "created", "stopped"), doc
    else:
        assert st.stderr.strip(), "state failed without a message"
    ls = orun.list("--format", "json")
    assert ls.returncode == 0, f"list fails on debris: {ls.stderr}"
    json.loads(ls.stdout)

    debris = os.path.lexists(os.path.join(orun.root, cid))
    d = orun.delete(cid, force=True)
    assert d.returncode == 0, f"delete --force of debris failed: {d.stderr}"
    problems = []
    if os.path.lexists(os.path.join(orun.root, cid)):
        problems.append("state dir")
    problems += cgroups_named([cid])
    problems += mounts_below(bundle.rootfs)
    # A stage-1 or init that was still reading the handshake exits on EOF; give it a moment.
    problems += list(wait_gone(lambda: processes_of([cid], test_mark, {}), timeout=5).values())
    assert not problems, f"left after delete --force: {problems}"
    assert orun.state(cid).returncode == 1
    return debris


def slow_bundle(bundle, tmp_path):
    """A bundle whose create takes a while: a prestart hook sleeps, so kills land before, inside and
    after the hooks, the cgroup setup and the handshake."""
    bundle.set_args("sleep", "1000")
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "sleep 0.03"]}],
                              "createRuntime": [{"path": "/bin/true"}]}
    bundle.write()


def test_sigkill_create_at_random_points(orun, bundle, tmp_path, test_mark):
    slow_bundle(bundle, tmp_path)
    rng = random.Random(0x0c0ffee)  # reproducible points; the race itself is what varies
    finished = debris = 0
    for i in range(ITERATIONS):
        cid, done = kill_create_at(orun, bundle, rng.uniform(0, 0.05) if i else 0)
        finished += done
        debris += check_debris_then_clean(orun, bundle, cid, tmp_path, test_mark)
    # Most kills must have landed mid-create, after the state dir was made, or the test tested nothing.
    assert finished < ITERATIONS // 2, f"{finished} of {ITERATIONS} creates finished before the kill"
    assert debris - finished >= ITERATIONS // 3, f"only {debris - finished} kills left debris of a half-made create"


def test_sigkill_create_in_prestart_hook(orun, bundle, tmp_path, test_mark):
    """Kill while a prestart hook runs: the state dir, cgroup and waiting init exist for sure."""
    started = tmp_path / "hook-started"
    release = tmp_path / "hook-release"  # the hook outlives the killed creator until we create this
    bundle.set_args("sleep", "1000")
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/sh",
                                            "args": ["sh", "-c", f"touch {started}; "
                                                     f"while [ ! -e {release} ]; do sleep 0.05; done"]}]}
    bundle.write()
    cid = orun.new_id()
    p = subprocess.Popen([orun.binary, "--root", orun.root, "create", "--bundle", bundle.path, cid],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert p.poll() is None, "create ended before its hook ran"
            assert time.monotonic() < deadline, "the prestart hook never ran"
            time.sleep(0.01)
        assert os.path.isdir(os.path.join(orun.root, cid)), "no state dir while the hook runs"
        assert cgroups_named([cid]), "no cgroup while the hook runs"
        st = orun.state_json(cid)
        assert st["status"] == "creating", st
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    # The creator is dead: the container is debris, which state reports as stopped.
    assert orun.state_json(cid)["status"] == "stopped"
    check_debris_then_clean(orun, bundle, cid, tmp_path, test_mark)
    release.touch()  # the hook is a host process, not the container's: let it end


def test_debris_state_dir_without_record(orun, tmp_path):
    """A state dir whose state.json is missing or corrupt (a crash before the first write, or a disk
    error) is reported as an error by `state` and removed by `delete --force`."""
    for content in (None, "", "{trunc"):
        cid = orun.new_id()
        d = os.path.join(orun.root, cid)
        os.makedirs(d)
        if content is not None:
            with open(os.path.join(d, "state.json"), "w") as f:
                f.write(content)
        st = orun.state(cid)
        assert st.returncode == 1 and st.stderr.strip(), (content, st.stderr)
        assert orun.list("-q").returncode == 0
        assert orun.delete(cid).returncode == 1, "plain delete removed an unreadable container"
        assert orun.delete(cid, force=True).returncode == 0
        assert not os.path.exists(d), content
