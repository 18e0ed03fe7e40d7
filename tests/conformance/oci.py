"""Helpers for the conformance suite: each test checks one MUST/SHOULD statement of the OCI runtime
spec (v1.2), quoted in its docstring, by its effect on a real container."""
import json
import os
import subprocess
import time

import pytest

from orun import cgroups_named, facts, mounts_below, processes_of, read_text, sh, wait_for  # noqa: F401 (re-exported)


def writable(bundle):
    """orun spec makes root read-only; tests that leave files in the rootfs turn that off."""
    bundle.config["root"]["readonly"] = False
    return bundle


def in_rootfs(bundle, path):
    return os.path.join(bundle.rootfs, path.lstrip("/"))


def status(orun, cid):
    return orun.state_json(cid)["status"]


def created(orun, bundle, *args):
    """A created container running `args` once started (default: sleep); returns its id."""
    bundle.set_args(*(args or ("sleep", "1000")))
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    return r.cid


def running(orun, bundle, *args):
    cid = created(orun, bundle, *args)
    s = orun.start(cid)
    assert s.returncode == 0, s.stderr
    return cid


def stopped(orun, bundle):
    cid = running(orun, bundle, "true")
    wait_for(lambda: status(orun, cid) == "stopped", "the process to exit")
    return cid


def nothing_left(orun, cid, bundle, test_mark):
    """Problems: what of container `cid` still exists (state dir, cgroup, process, mount)."""
    problems = []
    if os.path.lexists(os.path.join(orun.root, cid)):
        problems.append("state dir")
    problems += cgroups_named([cid])
    problems += list(processes_of([cid], test_mark, {}).values())
    problems += mounts_below(bundle.rootfs)
    return problems


def ns_of(pid, kind):
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def hook_logger(log_path, name):
    """A hook entry that appends `name`, its mount namespace and the state from stdin to log_path (a
    path valid in the namespace the hook resolves and runs in)."""
    return {"path": "/bin/sh",
            "args": ["sh", "-c", f'echo "{name} $(readlink /proc/self/ns/mnt) $(cat | tr -d "\\n")" >> {log_path}']}


def read_hook_log(path):
    """[(name, mount-ns, state-dict-or-None)] from a hook_logger file."""
    out = []
    for line in read_text(path).splitlines():
        name, ns, state = (line.split(" ", 2) + ["", ""])[:3]
        try:
            doc = json.loads(state) if state else None
        except ValueError:
            doc = None
        out.append((name, ns, doc))
    return out


def orun_raw(orun, *args, **kw):
    return subprocess.run([orun.binary, "--root", orun.root, *map(str, args)], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, **kw)
