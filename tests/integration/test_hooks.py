"""OCI hooks in real containers: all six kinds with args and env, the state JSON on stdin, their order,
the namespaces each runs in, timeouts, and what a failing hook of each kind does."""
import json
import os
import stat
import subprocess
import time

import pytest

from helpers_ctr import host_ns

KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
# The runtime namespace (host) or the container's, per the spec.
IN_CONTAINER = {"createContainer", "startContainer"}
STATUS = {"prestart": "creating", "createRuntime": "creating", "createContainer": "creating",
          "startContainer": "created", "poststart": "running", "poststop": "stopped"}

# $1 = kind, $2 = directory for its files, $3 = what to do ("ok", "fail", "hang").
HOOK = """#!/bin/sh
kind=$1 dir=$2 action=$3
cat > "$dir/state.$kind.json"
echo "$kind arg4=$4 env=$HOOK_ENV mnt=$(readlink /proc/self/ns/mnt) net=$(readlink /proc/self/ns/net)" >> "$dir/log"
case "$action" in
  fail) echo "hook $kind says no" >&2; exit 3 ;;
  hang) echo $$ > "$dir/hang.pid"; exec sleep 600 ;;
esac
exit 0
"""


class Hooks:
    """Installs the hook script on the host and inside the rootfs (startContainer runs after
    pivot_root, so its path resolves in the container), and a log directory bind-mounted at /hooklog."""

    def __init__(self, bundle, tmp_path):
        self.bundle = bundle
        self.dir = tmp_path / "hooklog"
        self.dir.mkdir()
        os.chmod(self.dir, 0o777)
        self.host_script = tmp_path / "hook.sh"
        self.host_script.write_text(HOOK)
        self.host_script.chmod(0o755)
        inner = os.path.join(bundle.rootfs, "hook.sh")
        with open(inner, "w") as f:
            f.write(HOOK)
        os.chmod(inner, 0o755)
        bundle.config["mounts"].append({"destination": "/hooklog", "type": "bind", "source": str(self.dir),
                                        "options": ["bind", "rw"]})
        bundle.config["hooks"] = {}

    def add(self, kind, action="ok", timeout=None):
        inside = kind == "startContainer"
        path = "/hook.sh" if inside else str(self.host_script)
        where = "/hooklog" if inside else str(self.dir)
        hook = {"path": path, "args": [f"hook-{kind}", kind, where, action, f"extra-{kind}"],
                "env": [f"HOOK_ENV=env-of-{kind}", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}
        if timeout is not None:
            hook["timeout"] = timeout
        self.bundle.config["hooks"].setdefault(kind, []).append(hook)
        return hook

    def log(self):
        p = self.dir / "log"
        return [line.split() for line in p.read_text().splitlines()] if p.exists() else []

    def kinds_logged(self):
        return [fields[0] for fields in self.log()]

    def state(self, kind):
        with open(self.dir / f"state.{kind}.json") as f:
            return json.load(f)


def wait_stopped(orun, cid, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if orun.state_json(cid)["status"] == "stopped":
            return
        time.sleep(0.05)
    raise AssertionError(f"{cid} did not stop")


@pytest.fixture
def hooks(bundle, tmp_path):
    return Hooks(bundle, tmp_path)


def test_all_hooks_order_state_args_env_and_namespaces(orun, bundle, hooks):
    for kind in KINDS:
        hooks.add(kind)
    bundle.config["annotations"] = {"org.example.key": "value", "other": "x"}
    bundle.set_args("sleep", "600")
    c = orun.create(bundle)
    assert c.returncode == 0, c.stderr
    cid = c.cid
    pid = orun.state_json(cid)["pid"]
    container_ns = {"mnt": host_ns("mnt", pid), "net": host_ns("net", pid)}
    assert hooks.kinds_logged() == ["prestart", "createRuntime", "createContainer"]
    assert orun.start(cid).returncode == 0
    assert hooks.kinds_logged() == KINDS[:5]
    assert orun.kill(cid, "KILL").returncode == 0
    wait_stopped(orun, cid)
    d = orun.delete(cid)
    assert d.returncode == 0, d.stderr
    assert hooks.kinds_logged() == KINDS

    host = {"mnt": host_ns("mnt"), "net": host_ns("net")}
    for fields in hooks.log():
        kind = fields[0]
        kv = dict(f.split("=", 1) for f in fields[1:])
        assert kv["arg4"] == f"extra-{kind}", fields
        assert kv["env"] == f"env-of-{kind}", fields
        want = container_ns if kind in IN_CONTAINER else host
        assert (kv["mnt"], kv["net"]) == (want["mnt"], want["net"]), (kind, kv, want)

        st = hooks.state(kind)
        assert st["id"] == cid, kind
        # pid is required while created or running; once stopped runc leaves it out (0).
        assert st.get("pid", 0) == (0 if kind == "poststop" else pid), (kind, st)
        assert st["status"] == STATUS[kind], (kind, st["status"])
        assert st["bundle"] == os.path.realpath(bundle.path), (kind, st["bundle"])
        assert st["annotations"] == bundle.config["annotations"], (kind, st)
        assert st["ociVersion"] == bundle.config["ociVersion"], kind


def test_record_without_needs_config_still_runs_late_hooks(orun, bundle, hooks):
    # start and delete read config.json only when create recorded poststart or poststop hooks
    # (or no process) in state.json; a record from an orun before that field still reads it.
    hooks.add("poststart")
    hooks.add("poststop")
    bundle.set_args("sleep", "600")
    c = orun.create(bundle)
    assert c.returncode == 0, c.stderr
    path = os.path.join(orun.root, c.cid, "state.json")
    with open(path) as f:
        record = json.load(f)
    assert record["needsConfig"] is True
    del record["needsConfig"]
    with open(path, "w") as f:
        json.dump(record, f)
    assert orun.start(c.cid).returncode == 0
    assert orun.kill(c.cid, "KILL").returncode == 0
    wait_stopped(orun, c.cid)
    d = orun.delete(c.cid)
    assert d.returncode == 0, d.stderr
    assert hooks.kinds_logged() == ["poststart", "poststop"]


def test_no_late_hooks_recorded_when_there_are_none(orun, bundle, hooks):
    hooks.add("prestart")
    bundle.set_args("sleep", "600")
    c = orun.create(bundle)
    assert c.returncode == 0, c.stderr
    with open(os.path.join(orun.root, c.cid, "state.json")) as f:
        assert json.load(f)["needsConfig"] is False
    assert orun.start(c.cid).returncode == 0
    assert orun.delete(c.cid, force=True).returncode == 0
    assert hooks.kinds_logged() == ["prestart"]


def test_hooks_of_one_kind_run_in_order(orun, bundle, hooks):
    for _ in range(3):
        hooks.add("prestart")
    hooks.add("createRuntime")
    bundle.set_args("true")
    r = orun.run(bundle)
    assert r.returncode == 0, r.stderr
    assert hooks.kinds_logged() == ["prestart"] * 3 + ["createRuntime"]


def test_hook_timeout_kills_the_hook(orun, bundle, hooks):
    hooks.add("createRuntime", "hang", timeout=1)
    hooks.add("poststop")
    bundle.set_args("true")
    c = orun.create(bundle)
    assert c.returncode != 0
    assert "hooks.createRuntime[0]" in c.stderr and "timed out" in c.stderr, c.stderr
    hang_pid = int((hooks.dir / "hang.pid").read_text())
    assert not os.path.exists(f"/proc/{hang_pid}") or open(f"/proc/{hang_pid}/stat").read().split()[2] == "Z"
    assert hooks.kinds_logged() == ["createRuntime", "poststop"]
    assert orun.list("-q").stdout.strip() == ""
    assert not os.path.exists(os.path.join(orun.root, c.cid))


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_fails_create(orun, bundle, hooks, kind):
    hooks.add(kind)            # [0] succeeds
    hooks.add(kind, "fail")    # [1] fails: the error names it
    hooks.add(kind)            # [2] never runs
    hooks.add("poststop")
    bundle.set_args("true")
    c = orun.create(bundle)
    assert c.returncode != 0
    assert f"hooks.{kind}[1]" in c.stderr, c.stderr
    assert f"hook {kind} says no" in c.stderr, c.stderr  # the hook's own output explains why
    logged = hooks.kinds_logged()
    assert logged.count(kind) == 2, logged
    # The spec: the lifecycle continues at delete, which runs poststop.
    assert logged[-1] == "poststop", logged
    assert orun.list("-q").stdout.strip() == ""
    assert not os.path.exists(os.path.join(orun.root, c.cid))


def test_failing_start_container_hook_fails_start(orun, bundle, hooks):
    hooks.add("startContainer", "fail")
    hooks.add("poststart")
    hooks.add("poststop")
    bundle.set_args("sh", "-c", "echo ran > /hooklog/process-ran")
    c = orun.create(bundle)
    assert c.returncode == 0, c.stderr
    s = orun.start(c.cid)
    assert s.returncode != 0
    assert "hooks.startContainer[0]" in s.stderr, s.stderr
    wait_stopped(orun, c.cid)
    assert not (hooks.dir / "process-ran").exists()  # the process never ran
    assert orun.delete(c.cid).returncode == 0
    assert hooks.kinds_logged() == ["startContainer", "poststop"]


def test_failing_poststart_hook_is_a_warning(orun, bundle, hooks, tmp_path):
    hooks.add("poststart", "fail")
    hooks.add("poststart")
    log = tmp_path / "orun.log"
    orun.global_args = ["--log", str(log)]
    bundle.set_args("sleep", "600")
    c = orun.create(bundle)
    assert c.returncode == 0, c.stderr
    s = orun.start(c.cid)
    assert s.returncode == 0, s.stderr
    assert orun.state_json(c.cid)["status"] == "running"
    assert hooks.kinds_logged() == ["poststart", "poststart"]  # the next one still ran
    text = log.read_text()
    assert "hooks.poststart[0]" in text and "warn" in text.lower(), text


def test_failing_poststop_hook_is_a_warning(orun, bundle, hooks, tmp_path):
    hooks.add("poststop", "fail")
    hooks.add("poststop")
    log = tmp_path / "orun.log"
    orun.global_args = ["--log", str(log)]
    bundle.set_args("true")
    c = orun.create(bundle)
    assert c.returncode == 0, c.stderr
    assert orun.start(c.cid).returncode == 0
    wait_stopped(orun, c.cid)
    d = orun.delete(c.cid)
    assert d.returncode == 0, d.stderr
    assert hooks.kinds_logged() == ["poststop", "poststop"]
    assert not os.path.exists(os.path.join(orun.root, c.cid))
    text = log.read_text()
    assert "hooks.poststop[0]" in text and "warn" in text.lower(), text


def test_missing_hook_binary_is_an_error(orun, bundle, hooks, tmp_path):
    bundle.config["hooks"]["prestart"] = [{"path": str(tmp_path / "no-such-hook")}]
    bundle.set_args("true")
    c = orun.create(bundle)
    assert c.returncode != 0
    assert "hooks.prestart[0]" in c.stderr, c.stderr
