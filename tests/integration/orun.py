"""Helpers for tests that drive the orun binary: bundles, a CLI wrapper, and leak checks.

conftest.py turns these into fixtures; tests/conformance/conftest.py imports them from here too.
Everything runs under /usr/bin/python3 as root.
"""
import copy
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MKROOTFS = os.path.join(REPO, "tools", "mkrootfs")
CI = os.environ.get("CI", "").lower() == "true"

# Every process the tests start inside a container carries this variable, so a leaked process can be
# found by its environment even when its cgroup and command line say nothing.
MARK_VAR = "ORUN_TEST_MARK"


def need(condition, why):
    """Skip the test unless `condition` holds; under CI=true a missing need is a failure instead."""
    if condition:
        return
    if CI:
        pytest.fail(f"needs {why} (CI=true: a missing need fails instead of skipping)")
    pytest.skip(f"needs {why}")


def orun_binary():
    """Path of the orun under test: $ORUN, else build/runtime/cli/orun of this checkout."""
    return os.path.abspath(os.environ.get("ORUN") or os.path.join(REPO, "build/runtime/cli/orun"))



def sh(orun, bundle, script, *extra, rc=0, **kw):
    """Run `sh -c script` in a container made from `bundle`; asserts exit status `rc` (None: any)."""
    bundle.set_args("sh", "-c", script)
    r = orun.run(bundle, None, *extra, **kw)
    if rc is not None:
        assert r.returncode == rc, f"exit {r.returncode} (wanted {rc})\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def facts(text):
    """`key=value` lines of a script's output as a dict (other lines are ignored)."""
    out = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def wait_for(predicate, what, timeout=10.0):
    """Poll until predicate() is truthy; fails the test after `timeout` s (a hang, not a timing)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)

def rootfs_file(bundle, name):
    """Host path of `name` in the container's rootfs, and make the rootfs writable (orun spec's
    default is read-only) so the container can leave files there for the test to see."""
    bundle.config["root"]["readonly"] = False
    return os.path.join(bundle.rootfs, name.lstrip("/"))


def read_text(path):
    """The content of a file, or "" when it cannot be read (not there yet)."""
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def make_base_bundle(orun, path, args=("sh",)):
    """Run tools/mkrootfs into `path`; returns `path`."""
    r = subprocess.run(["/usr/bin/python3", MKROOTFS, "--orun", orun, path, *args],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"tools/mkrootfs failed ({r.returncode}): {r.stderr.strip()}")
    return path


class Bundle:
    """An OCI bundle: a private copy of the base rootfs plus `config` (config.json as a dict).

    Change `config`, then call write() (Orun.create/run call it for you). `mark` adds MARK_VAR to
    process.env so leaked processes can be found; set it False for a test that compares env exactly.
    """

    def __init__(self, base, path, mark_value):
        self.path = str(path)
        self.rootfs = os.path.join(self.path, "rootfs")
        os.makedirs(self.path, exist_ok=True)
        subprocess.run(["cp", "-a", os.path.join(base, "rootfs"), self.rootfs], check=True)
        with open(os.path.join(base, "config.json")) as f:
            self.config = json.load(f)
        self.mark = True
        self._mark_value = mark_value

    @property
    def process(self):
        return self.config.setdefault("process", {})

    def set_args(self, *args):
        self.process["args"] = list(args)
        return self

    def config_path(self):
        return os.path.join(self.path, "config.json")

    def write(self):
        config = copy.deepcopy(self.config)
        if self.mark and "process" in config:
            env = [e for e in config["process"].get("env", []) if not e.startswith(MARK_VAR + "=")]
            config["process"]["env"] = env + [f"{MARK_VAR}={self._mark_value}"]
        tmp = self.config_path() + ".tmp"
        with open(tmp, "w") as f:
            json.dump(config, f, indent=2)
        os.replace(tmp, self.config_path())
        return self


def _proc_starttime(pid):
    """Start time of a pid (field 22 of /proc/PID/stat), or None if it is gone: guards against pid reuse."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return (fields[19], fields[0])  # (starttime, state)


class Orun:
    """Runs the orun CLI with a private --root. Every method returns subprocess.CompletedProcess."""

    def __init__(self, binary, root, name, timeout=60):
        self.binary = binary
        self.root = str(root)
        self.timeout = timeout
        self.ids = []          # every container id handed out by new_id()
        self.pids = {}         # pid -> start time, of container processes we saw
        self._prefix = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:40]
        self.global_args = []  # e.g. ["--systemd-cgroup"] or ["--log", path]

    def new_id(self):
        cid = f"{self._prefix}-{secrets.token_hex(4)}"
        self.ids.append(cid)
        return cid

    def cmd(self, *args, timeout=None, input=None, check=False, env=None, stdout=None, stderr=None):
        """orun --root ROOT ARGS...; stdout and stderr come back as text.

        Output goes through temporary files, not pipes: after `run --detach` or `create` the container
        keeps the descriptors open, and reading a pipe to EOF would wait for the container to exit.
        Pass stdout=/stderr= (a file or subprocess.DEVNULL) to send them elsewhere."""
        argv = [self.binary, "--root", self.root, *self.global_args, *map(str, args)]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.run(argv, input=input.encode() if isinstance(input, str) else input,
                               stdin=None if input is not None else subprocess.DEVNULL,
                               stdout=out if stdout is None else stdout,
                               stderr=err if stderr is None else stderr,
                               env=env, timeout=timeout or self.timeout)
            out.seek(0)
            err.seek(0)
            r = subprocess.CompletedProcess(argv, p.returncode, out.read().decode(errors="replace"),
                                            err.read().decode(errors="replace"))
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {r.returncode}\nstdout: {r.stdout}\n"
                                 f"stderr: {r.stderr}")
        return r

    def _id(self, cid):
        if cid is None:
            return self.new_id()
        if cid not in self.ids:
            self.ids.append(cid)
        return cid

    def run(self, bundle, cid=None, *extra, **kw):
        """orun run --bundle B [EXTRA...] ID; waits for the container (unless --detach in extra)."""
        bundle.write()
        cid = self._id(cid)
        r = self.cmd("run", "--bundle", bundle.path, *extra, cid, **kw)
        r.cid = cid
        return r

    def create(self, bundle, cid=None, *extra, **kw):
        bundle.write()
        cid = self._id(cid)
        r = self.cmd("create", "--bundle", bundle.path, *extra, cid, **kw)
        r.cid = cid
        if r.returncode == 0:
            self.state_json(cid)  # remember the init pid for the leak check
        return r

    def start(self, cid, **kw):
        return self.cmd("start", cid, **kw)

    def state(self, cid, **kw):
        r = self.cmd("state", cid, **kw)
        if r.returncode == 0:
            try:
                pid = int(json.loads(r.stdout).get("pid") or 0)
            except (ValueError, AttributeError):
                pid = 0
            if pid > 0 and pid not in self.pids:
                self.pids[pid] = _proc_starttime(pid)
        return r

    def state_json(self, cid):
        """`orun state` parsed; fails the test if the command fails or prints invalid JSON."""
        r = self.state(cid)
        assert r.returncode == 0, f"orun state {cid} exited {r.returncode}: {r.stderr}"
        return json.loads(r.stdout)

    def kill(self, cid, sig=None, all=False, **kw):
        args = ["kill"] + (["--all"] if all else []) + [cid] + ([str(sig)] if sig is not None else [])
        return self.cmd(*args, **kw)

    def delete(self, cid, force=False, **kw):
        return self.cmd("delete", *(["--force"] if force else []), cid, **kw)

    def list(self, *extra, **kw):
        return self.cmd("list", *extra, **kw)


# ---- leak checks, run after every test that used the `orun` fixture ----

def _unescape_mountinfo(s):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def mounts_below(path):
    """Mount points in our mount namespace at or below `path`, deepest first."""
    path = os.path.realpath(str(path))
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = _unescape_mountinfo(line.split()[4])
            if mp == path or mp.startswith(path + "/"):
                found.append(mp)
    return sorted(found, key=len, reverse=True)


def cgroups_named(ids):
    """cgroup directories (v1 controllers and v2) whose name contains one of `ids`."""
    found = []
    if not ids:
        return found
    for top, dirs, _ in os.walk("/sys/fs/cgroup", followlinks=False):
        for d in dirs:
            if any(cid in d for cid in ids):
                found.append(os.path.join(top, d))
    return found


def processes_of(ids, mark_value, known_pids):
    """Live processes belonging to the test: our mark in their environment, an id in their cgroup
    or command line, or a container pid we saw earlier (same start time, so not a reused pid)."""
    me = os.getpid()
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        pid = int(name)
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            with open(f"/proc/{pid}/cgroup") as f:
                cgroup = f.read()
        except OSError:
            continue
        st = _proc_starttime(pid)
        if st is None or st[1] == "Z":
            continue  # gone, or a zombie that its parent will reap
        why = None
        if f"{MARK_VAR}={mark_value}".encode() in environ:
            why = "test mark in environment"
        elif any(cid in cgroup for cid in ids):
            why = "container id in /proc/PID/cgroup"
        elif any(cid in cmdline for cid in ids):
            why = "container id in command line"
        elif pid in known_pids and known_pids[pid] and known_pids[pid][0] == st[0]:
            why = "container pid reported by `orun state`"
        if why:
            found[pid] = f"pid {pid} ({why}): {cmdline[:120]}"
    return found


def check_leaks(o, tmp_path, mark_value):
    """Force-delete every container the test made, then list whatever is left. Cleans up what it
    finds (so one leak does not spoil the next tests) and returns the list of problems."""
    ids = list(o.ids)
    listed = o.list("-q")
    if listed.returncode == 0:
        ids += [i for i in listed.stdout.split() if i not in ids]
    failed = {}  # cid -> why its delete --force failed, for the report
    for cid in ids:
        try:
            r = o.delete(cid, force=True, timeout=30)
            if r.returncode != 0:
                failed[cid] = f"exit {r.returncode}: {r.stderr.strip()}"
        except subprocess.TimeoutExpired:
            failed[cid] = "timed out after 30 s"

    problems = []
    for cid in ids:
        if os.path.exists(os.path.join(o.root, cid)):
            why = f" ({failed[cid]})" if cid in failed else ""
            problems.append(f"state dir {os.path.join(o.root, cid)} left after delete --force{why}")
    procs = processes_of(ids, mark_value, o.pids)
    problems += procs.values()
    for pid in procs:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    mounts = mounts_below(tmp_path)
    problems += [f"mount left at {m}" for m in mounts]
    for m in mounts:
        subprocess.run(["umount", "-l", m], capture_output=True)
    if procs:
        time.sleep(0.2)  # let the killed processes leave their cgroups
    groups = cgroups_named(ids)
    problems += [f"cgroup left at {g}" for g in groups]
    for g in sorted(groups, key=len, reverse=True):
        try:
            os.rmdir(g)
        except OSError:
            pass
    return problems


def remove_rootfs_copies(tmp_path):
    """Free the disk used by per-test rootfs copies (only when nothing is mounted below them)."""
    for entry in os.scandir(tmp_path):
        rootfs = os.path.join(entry.path, "rootfs")
        if entry.is_dir(follow_symlinks=False) and os.path.isdir(rootfs) and not mounts_below(rootfs):
            shutil.rmtree(rootfs, ignore_errors=True)


# ---- fixtures (imported by both conftest.py files) ----

@pytest.fixture(scope="session")
def orun_bin():
    path = orun_binary()
    if not os.access(path, os.X_OK):
        pytest.fail(f"orun binary not found at {path}: build it (ninja -C build) or set ORUN")
    return path


@pytest.fixture(scope="session")
def base_bundle(orun_bin, tmp_path_factory):
    """A bundle made once per session by tools/mkrootfs; tests copy it through `bundle`."""
    path = str(tmp_path_factory.mktemp("base") / "bundle")
    try:
        return make_base_bundle(orun_bin, path)
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture
def test_mark():
    """A value unique to this test, put in each container's environment (see Bundle.mark)."""
    return secrets.token_hex(8)


@pytest.fixture
def make_bundle(base_bundle, tmp_path, test_mark):
    """make_bundle(name="bundle") -> Bundle: a fresh copy of the base bundle under tmp_path/name."""
    def make(name="bundle"):
        return Bundle(base_bundle, tmp_path / name, test_mark)
    return make


@pytest.fixture
def bundle(make_bundle):
    return make_bundle("bundle")


@pytest.fixture
def orun(orun_bin, tmp_path, request, test_mark):
    """An Orun with a private --root; afterwards force-deletes its containers and fails the test if a
    state dir, process, mount or cgroup of it is left."""
    root = tmp_path / "root"
    root.mkdir()
    o = Orun(orun_bin, root, request.node.name)
    yield o
    problems = check_leaks(o, tmp_path, test_mark)
    if problems:
        pytest.fail("left behind after the test:\n  " + "\n  ".join(problems), pytrace=False)
    remove_rootfs_copies(tmp_path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skip is a failure: CI must have root and every kernel feature the tests need.
    (A known gap belongs in pytest.mark.xfail, which this leaves alone.)"""
    outcome = yield
    rep = outcome.get_result()
    if CI and rep.skipped and not hasattr(rep, "wasxfail"):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        rep.outcome = "failed"
        rep.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"
