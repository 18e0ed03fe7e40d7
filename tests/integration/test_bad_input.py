"""Bad input to `create` and `run`: each is refused with runc's exit status, ONE error line that names
the JSON field path (or the object) at fault, and nothing left behind: no state directory, mount,
cgroup or process. The `orun` fixture's leak check runs too, but it force-deletes first, so each test
checks explicitly before that."""
import json
import os

import pytest

from orun import cgroups_named, mounts_below, processes_of


def check_refused(orun, r, cid, status, must_name, tmp_path, test_mark):
    """r failed with `status`, one error line mentioning every string of `must_name`, nothing left."""
    assert r.returncode == status, f"exit {r.returncode}, want {status}: {r.stderr}"
    lines = [line for line in r.stderr.splitlines() if line.strip() and "warning" not in line.lower()]
    assert len(lines) == 1, f"want one error line, got: {r.stderr!r}"
    for s in must_name:
        assert s in lines[0], f"error does not name {s!r}: {lines[0]!r}"
    assert r.stdout == ""
    leftovers = []
    if cid and os.path.lexists(os.path.join(orun.root, cid)):
        leftovers.append(f"state dir {cid}")
    if cid:
        leftovers += cgroups_named([cid])
    leftovers += list(processes_of([cid] if cid else [], test_mark, {}).values())
    leftovers += mounts_below(tmp_path)
    assert not leftovers, f"left behind: {leftovers}"
    assert orun.list("-q").stdout == "", "a refused create is listed"


def edit(path, value):
    """A config edit setting the dotted `path` (list indexes as ints) to `value`."""
    def apply(config):
        keys = path.split(".")
        node = config
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node[k]
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return apply


def drop_ns(kind):
    def apply(config):
        config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"] if n["type"] != kind]
    return apply


def both(*edits):
    def apply(config):
        for e in edits:
            e(config)
    return apply


CASES = {
    # name: (config edit, exit status, strings the error must contain)
    "wrong-type-hostname": (edit("hostname", 5), 1, ["hostname"]),
    "wrong-type-args": (edit("process.args", "sh"), 1, ["process.args"]),
    "wrong-type-uid": (edit("process.user.uid", "root"), 1, ["process.user.uid"]),
    "wrong-type-mount": (edit("mounts.0.options", "ro"), 1, ["mounts[0].options"]),
    "negative-uid": (edit("process.user.uid", -1), 1, ["process.user.uid"]),
    "unknown-namespace": (lambda c: c["linux"]["namespaces"].append({"type": "bogus"}), 1,
                          ["linux.namespaces[", "bogus"]),
    "duplicate-namespace": (lambda c: c["linux"]["namespaces"].append({"type": "pid"}), 1,
                            ["linux.namespaces[", "pid"]),
    "hostname-without-uts": (both(edit("hostname", "box"), drop_ns("uts")), 1, ["hostname", "UTS"]),
    "uid-mappings-without-userns": (edit("linux.uidMappings", [{"containerID": 0, "hostID": 1000, "size": 1}]),
                                    1, ["linux.uidMappings"]),
    "userns-without-mappings": (lambda c: c["linux"]["namespaces"].append({"type": "user"}), 1,
                                ["linux.uidMappings"]),
    "namespace-path-wrong-type": (lambda c: c["linux"]["namespaces"].__setitem__(
        0, {"type": "pid", "path": "/proc/self/ns/net"}), 1, ["linux.namespaces[0].path"]),
    # The default config's maskedPaths is the first field to need the mount namespace.
    "no-mount-namespace": (drop_ns("mount"), 1, ["mount namespace"]),
    "missing-rootfs": (edit("root.path", "no-such-dir"), 1, ["root.path", "no-such-dir"]),
    "relative-cwd": (edit("process.cwd", "tmp"), 1, ["process.cwd"]),
    "cwd-not-a-directory": (edit("process.cwd", "/etc/passwd"), 1, ["process.cwd", "/etc/passwd"]),
    "empty-args": (edit("process.args", []), 1, ["process.args"]),
    "missing-ociVersion": (lambda c: c.pop("ociVersion"), 1, ["ociVersion"]),
    "missing-root": (lambda c: c.pop("root"), 1, ["root"]),
    "bad-rlimit": (edit("process.rlimits", [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]), 1,
                   ["process.rlimits[0]", "RLIMIT_BOGUS"]),
    "duplicate-rlimit": (edit("process.rlimits", [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}] * 2), 1,
                         ["process.rlimits[1]"]),
    "bad-capability": (edit("process.capabilities.bounding", ["CAP_BOGUS"]), 1,
                       ["process.capabilities.bounding", "CAP_BOGUS"]),
    "bad-seccomp-action": (edit("linux.seccomp", {"defaultAction": "SCMP_ACT_BOGUS"}), 1,
                           ["linux.seccomp.defaultAction"]),
    "relative-hook-path": (edit("hooks", {"prestart": [{"path": "bin/true"}]}), 1, ["hooks.prestart[0].path"]),
    "bind-source-missing": (lambda c: c["mounts"].append({"destination": "/x", "type": "bind",
                                                          "source": "/no/such/src", "options": ["bind"]}),
                            1, ["mounts[", "/no/such/src"]),
    "missing-executable": (edit("process.args", ["/no/such/program"]), 127, ["/no/such/program"]),
    "executable-not-on-path": (edit("process.args", ["no-such-program"]), 127, ["no-such-program"]),
    "not-executable": (edit("process.args", ["/etc/passwd"]), 126, ["/etc/passwd"]),
    "bad-oom-score": (edit("process.oomScoreAdj", 5000), 1, ["process.oomScoreAdj"]),
    "bad-sysctl": (edit("linux.sysctl", {"kernel.no_such_knob": "1"}), 1, ["kernel.no_such_knob"]),
    # Written after every cgroup directory exists: the half-made cgroups must go too.
    "bad-cpuset": (edit("linux.resources.cpu", {"cpus": "999"}), 1, ["linux.resources.cpu.cpus"]),
}


@pytest.mark.parametrize("verb", ["create", "run"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config(orun, bundle, tmp_path, test_mark, case, verb):
    change, status, names = CASES[case]
    change(bundle.config)
    r = orun.create(bundle) if verb == "create" else orun.run(bundle)
    check_refused(orun, r, r.cid, status, names, tmp_path, test_mark)


def test_malformed_json(orun, bundle, tmp_path, test_mark):
    cid = orun.new_id()
    with open(bundle.config_path(), "w") as f:
        f.write('{"ociVersion": "1.2.0", "root": {"path": "rootfs",}')
    r = orun.cmd("create", "--bundle", bundle.path, cid)
    check_refused(orun, r, cid, 1, ["config.json", "line 1"], tmp_path, test_mark)


def test_config_not_an_object(orun, bundle, tmp_path, test_mark):
    cid = orun.new_id()
    with open(bundle.config_path(), "w") as f:
        json.dump(["not", "an", "object"], f)
    r = orun.cmd("create", "--bundle", bundle.path, cid)
    check_refused(orun, r, cid, 1, ["config.json"], tmp_path, test_mark)


def test_missing_config(orun, tmp_path, test_mark):
    empty = tmp_path / "empty-bundle"
    empty.mkdir()
    cid = orun.new_id()
    r = orun.cmd("create", "--bundle", empty, cid)
    check_refused(orun, r, cid, 1, ["config.json"], tmp_path, test_mark)


def test_missing_bundle(orun, tmp_path, test_mark):
    cid = orun.new_id()
    r = orun.cmd("create", "--bundle", tmp_path / "no-such-bundle", cid)
    check_refused(orun, r, cid, 1, ["no-such-bundle"], tmp_path, test_mark)


@pytest.mark.parametrize("bad_id", ["../x", "a/b", "", ".", "..", "a b", "x\ny"])
def test_bad_id(orun, bundle, tmp_path, test_mark, bad_id):
    bundle.write()
    r = orun.cmd("create", "--bundle", bundle.path, bad_id)
    check_refused(orun, r, None, 1, [], tmp_path, test_mark)
    assert os.listdir(orun.root) == [], "a bad id left something under --root"
    assert not os.path.exists(os.path.join(os.path.dirname(orun.root), "x")), "../x escaped --root"
    # Every verb refuses it the same way, without touching anything outside --root.
    for verb in (["state"], ["start"], ["kill"], ["delete"], ["delete", "--force"]):
        v = orun.cmd(*verb, bad_id)
        assert v.returncode == 1, (verb, bad_id, v.stderr)


def test_busy_id(orun, bundle, tmp_path, test_mark):
    bundle.set_args("sleep", "1000")
    first = orun.create(bundle)
    assert first.returncode == 0, first.stderr
    before = orun.state_json(first.cid)
    second = orun.create(bundle, first.cid)
    assert second.returncode == 1
    lines = [line for line in second.stderr.splitlines() if "warning" not in line.lower()]
    assert len(lines) == 1 and first.cid in lines[0] and "exists" in lines[0], second.stderr
    # The first container is untouched.
    after = orun.state_json(first.cid)
    assert after == before and after["status"] == "created"
    assert os.path.exists(f"/proc/{after['pid']}")
    assert orun.list("-q").stdout.split() == [first.cid]


def test_busy_id_run(orun, bundle):
    bundle.set_args("sleep", "1000")
    first = orun.run(bundle, None, "--detach")
    assert first.returncode == 0, first.stderr
    bundle.set_args("true")
    second = orun.run(bundle, first.cid)
    assert second.returncode == 1 and "exists" in second.stderr, second.stderr
    assert orun.state_json(first.cid)["status"] == "running", "a refused run disturbed the container"


def test_missing_cwd_is_created_like_runc(orun, bundle):
    """runc creates a missing process.cwd (image WORKDIRs rely on it), even under a read-only root."""
    bundle.config["root"]["readonly"] = True
    bundle.config["process"]["cwd"] = "/no/such/dir"
    bundle.set_args("sh", "-c", "pwd; touch /x 2>/dev/null && echo rw || echo ro")
    r = orun.run(bundle)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["/no/such/dir", "ro"]
