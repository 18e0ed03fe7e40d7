"""The command-line contract engines rely on: --log/--log-format json, --version, `features` (valid per
the runtime spec's features.md and true to what orun accepts), `spec`, flag spellings, usage errors."""
import json
import os
import re
import subprocess

import pytest


def orun_raw(orun_bin, *args, timeout=30, **kw):
    return subprocess.run([orun_bin, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kw)


def features(orun_bin):
    r = orun_raw(orun_bin, "features")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


# ---- --log and --log-format ----

def read_log(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_log_json_error_names_the_field(orun, bundle, tmp_path):
    bundle.config["hostname"] = 5
    log = tmp_path / "log.json"
    orun.global_args = ["--log", str(log), "--log-format", "json"]
    r = orun.create(bundle)
    assert r.returncode == 1
    entries = read_log(log)  # every line is a JSON object
    errors = [e for e in entries if e.get("level") == "error"]
    assert len(errors) == 1, entries
    err = errors[0]
    assert set(err) >= {"level", "msg", "time"}, err
    assert "hostname" in err["msg"], err
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", err["time"]), err
    # Engines read errors from the log; stderr carries at most the same one line.
    assert len(r.stderr.strip().splitlines()) <= 1, r.stderr
    assert not os.path.exists(os.path.join(orun.root, r.cid))


def test_log_flag_equals_forms(orun, tmp_path):
    log = tmp_path / "log.json"
    r = orun_raw(orun.binary, f"--root={orun.root}", f"--log={log}", "--log-format=json", "state", "nope")
    assert r.returncode == 1
    (err,) = [e for e in read_log(log) if e["level"] == "error"]
    assert "nope" in err["msg"]


def test_log_text_goes_to_file(orun, tmp_path):
    log = tmp_path / "log.txt"
    r = orun_raw(orun.binary, "--root", orun.root, "--log", log, "kill", "nope", "KILL")
    assert r.returncode == 1
    text = log.read_text()
    assert "nope" in text and len(text.strip().splitlines()) == 1, text


def test_errors_go_to_stderr_without_log(orun):
    r = orun.state("nope")
    assert r.returncode == 1
    assert "nope" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("argv", [["--bogus", "list"], ["kill"], ["state"], ["no-such-verb"],
                                  ["list", "--format", "yaml"], ["--log-format", "xml", "list"]])
def test_usage_errors_exit_1(orun_bin, tmp_path, argv):
    """runc exits 1 on every usage error."""
    r = orun_raw(orun_bin, "--root", tmp_path, *argv)
    assert r.returncode == 1, (argv, r.returncode, r.stderr)
    assert r.stderr.strip(), argv


@pytest.mark.parametrize("argv,named", [
    (["create", "--preserve-fds", "many", "c1"], "--preserve-fds"),
    (["run", "--preserve-fds=-", "c1"], "--preserve-fds"),
    (["exec", "--additional-gids", "x", "c1", "true"], "--additional-gids"),
    (["exec", "-g", "-5", "c1", "true"], "--additional-gids"),
    (["run", "--bogus", "c1"], "--bogus"),
    (["run", "c1", "-Z"], "-Z"),
    (["run", "-b"], "--bundle"),
    (["delete"], "ID"),
    (["state", "c1", "c2"], "c2"),
    (["list", "--quiet=maybe"], "--quiet"),
    (["ps", "--format", "yaml", "c1"], "yaml"),
])
def test_usage_errors_name_the_flag(orun, argv, named):
    """A bad command line: exit 1, one line naming what is wrong, nothing created."""
    r = orun.cmd(*argv)
    assert r.returncode == 1, (argv, r.returncode, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1 and named in r.stderr, (argv, r.stderr)
    assert os.listdir(orun.root) == [], argv


def verbs_in_help(orun_bin):
    r = orun_raw(orun_bin, "--help")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return re.findall(r"(?m)^  ([a-z][a-z-]*) ", r.stdout.split("Subcommands:")[1])


def test_help_of_every_verb_is_true_to_the_man_page(orun_bin, tmp_path):
    """`orun VERB --help` (and -h) exits 0 without acting, and every flag it lists, short form
    included, is documented in man/orun.8.scd; so are the global ones of `orun --help`."""
    from orun import REPO
    with open(os.path.join(REPO, "man", "orun.8.scd")) as f:
        page = f.read()
    verbs = verbs_in_help(orun_bin)
    assert {"create", "run", "exec", "ps", "update"} <= set(verbs), verbs
    for argv in [[]] + [[v] for v in verbs]:
        for flag in ("--help", "-h"):
            r = orun_raw(orun_bin, "--root", tmp_path, *argv, flag, "no-such-id", cwd=tmp_path)
            assert r.returncode == 0 and r.stderr == "", (argv, flag, r.stderr)
            assert f"Usage: orun {' '.join(argv)}".rstrip() in r.stdout, (argv, r.stdout)
        flags = re.findall(r"(?m)^  (?:(-[a-zA-Z]), )?--([a-z][a-z0-9-]*)", r.stdout.split("Options:")[1])
        assert flags, (argv, r.stdout)
        for short, long in flags:
            if short:
                assert f"*{short}*, *--{long}*" in page, (argv, short, long)
            assert f"*--{long}*" in page, (argv, long)
    assert os.listdir(tmp_path) == []


def test_bool_flag_with_a_value(orun):
    r = orun.cmd("list", "--quiet=false")
    assert r.returncode == 0 and r.stdout.startswith("ID "), r.stdout
    assert orun.cmd("list", "-q").stdout == ""


# ---- --version ----

def test_version(orun_bin):
    for flag in ("--version", "-v"):
        r = orun_raw(orun_bin, flag)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert re.match(r"^orun version \d+\.\d+\.\d+", lines[0]), r.stdout
        # runc prints the spec version it implements on its own line; tools grep for it.
        assert any(re.match(r"^spec: 1\.\d+\.\d+", line) for line in lines), r.stdout


# ---- features ----

def test_features_document(orun_bin):
    f = features(orun_bin)
    semver = re.compile(r"^\d+\.\d+\.\d+$")
    assert semver.match(f["ociVersionMin"]) and semver.match(f["ociVersionMax"]), f
    assert tuple(map(int, f["ociVersionMin"].split("."))) <= tuple(map(int, f["ociVersionMax"].split(".")))
    assert f["ociVersionMax"].startswith("1.2"), "orun implements runtime-spec 1.2"
    assert set(f["hooks"]) == {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                               "poststop"}
    assert isinstance(f["mountOptions"], list) and "bind" in f["mountOptions"] and "ro" in f["mountOptions"]
    linux = f["linux"]
    assert set(linux["namespaces"]) >= {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"}
    assert set(linux["namespaces"]) <= {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"}
    assert all(c.startswith("CAP_") for c in linux["capabilities"])
    for key in ("v1", "v2", "systemd", "systemdUser", "rdma"):
        assert isinstance(linux["cgroup"][key], bool), key
    sc = linux["seccomp"]
    assert sc["enabled"] is True
    assert "SCMP_ACT_ALLOW" in sc["actions"] and "SCMP_CMP_EQ" in sc["operators"]
    assert "SCMP_ARCH_X86_64" in sc["archs"]
    assert set(sc["supportedFlags"]) <= set(sc["knownFlags"])
    assert isinstance(linux["apparmor"]["enabled"], bool)
    assert isinstance(linux["selinux"]["enabled"], bool)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in f.get("annotations", {}).items())


def test_features_ocversion_range_is_accepted(orun, bundle, orun_bin):
    """A config at ociVersionMin and one at ociVersionMax are both accepted."""
    f = features(orun_bin)
    bundle.set_args("true")
    for version in (f["ociVersionMin"], f["ociVersionMax"]):
        bundle.config["ociVersion"] = version
        r = orun.run(bundle)
        assert r.returncode == 0, f"ociVersion {version}: {r.stderr}"


def test_features_mount_options_are_accepted(orun, bundle, orun_bin, tmp_path):
    """Every mountOptions entry works in a real mount (each on its own bind mount of a host dir)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "file").write_text("content")
    options = features(orun_bin)["mountOptions"]
    script = []
    for i, opt in enumerate(options):
        dest = f"/m/{i}"
        os.makedirs(os.path.join(bundle.rootfs, "m", str(i)))
        if opt == "tmpcopyup":
            mount = {"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": [opt]}
        else:
            mount = {"destination": dest, "type": "bind", "source": str(src), "options": ["rbind", opt]}
            script.append(f"[ -f {dest}/file ] || echo missing={opt}")
        if opt in ("idmap", "ridmap"):
            mount["uidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 10}]
            mount["gidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 10}]
        bundle.config["mounts"].append(mount)
    bundle.set_args("sh", "-c", "; ".join(script) + "; true")
    r = orun.run(bundle)
    assert r.returncode == 0, r.stderr
    assert "missing=" not in r.stdout, r.stdout


def own_caps(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1], 16)
    raise AssertionError(field)


def test_features_capabilities_are_accepted(orun, bundle, orun_bin):
    """Every capability name features lists is accepted. Keeping a capability in the bounding set never
    needs privilege, so all names go there; the other sets get what this test process holds (as runc,
    orun fails when capset(2) refuses a capability the caller lacks)."""
    caps = features(orun_bin)["linux"]["capabilities"]
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    assert len(caps) >= last + 1, f"features lists {len(caps)} capabilities, the kernel has {last + 1}"
    held = own_caps("CapEff")
    grantable = [c for i, c in enumerate(caps) if i <= last and held & (1 << i)]
    assert len(grantable) > 10, "this test needs most capabilities"
    bundle.config["process"]["capabilities"] = {"bounding": list(caps)}
    for s in ("effective", "permitted", "inheritable", "ambient"):
        bundle.config["process"]["capabilities"][s] = grantable
    bundle.set_args("sh", "-c", "grep -E '^Cap(Bnd|Eff|Prm|Inh|Amb):' /proc/self/status")
    r = orun.run(bundle)
    assert r.returncode == 0, r.stderr
    got = {line.split(":")[0]: int(line.split()[1], 16) for line in r.stdout.splitlines()}
    want = sum(1 << caps.index(c) for c in grantable)
    assert got["CapBnd"] == own_caps("CapBnd"), r.stdout
    assert got["CapEff"] == want and got["CapPrm"] == want and got["CapAmb"] == want, r.stdout


def test_features_namespaces_are_accepted(orun, bundle, orun_bin):
    """Every namespace type features lists is accepted (user, which needs mappings, in its own test)."""
    types = [t for t in features(orun_bin)["linux"]["namespaces"] if t != "user"]
    bundle.config["linux"]["namespaces"] = [{"type": t} for t in types]
    bundle.set_args("sh", "-c", "for n in /proc/self/ns/*; do echo $n=$(readlink $n); done")
    r = orun.run(bundle)
    assert r.returncode == 0, r.stderr
    names = {"network": "net", "mount": "mnt"}
    for t in types:
        ns = names.get(t, t)
        inside = [line.split("=", 1)[1] for line in r.stdout.splitlines() if line.startswith(f"/proc/self/ns/{ns}=")]
        assert inside and inside[0] != os.readlink(f"/proc/self/ns/{ns}"), f"{t}: not a new namespace"


def test_features_seccomp_names_are_accepted(orun, bundle, orun_bin):
    """Every seccomp action (but NOTIFY, which needs an agent), operator and arch is accepted."""
    sc = features(orun_bin)["linux"]["seccomp"]
    # libseccomp cannot mix byte orders or word sizes freely: the whole list goes through create one arch
    # at a time, and an arch this host's libseccomp refuses must fail as a refusal, not as unknown.
    for i, arch in enumerate(sc["archs"]):
        bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": [arch]}
        r = orun.run(bundle.set_args("true"))
        assert r.returncode == 0 or (f"architectures[0]: adding {arch}" in r.stderr
                                     and "unknown" not in r.stderr), (arch, r.stderr)
    # Syscalls a `true` never makes, one per rule.
    spare = iter(["acct", "add_key", "bpf", "delete_module", "fanotify_init", "init_module", "kexec_load",
                  "lookup_dcookie", "move_pages", "nfsservctl", "perf_event_open", "pivot_root",
                  "quotactl", "request_key", "swapoff", "swapon", "syslog", "umount2", "uselib", "vhangup"])
    rules = []
    for action in sc["actions"]:
        if action in ("SCMP_ACT_NOTIFY", "SCMP_ACT_ALLOW"):
            continue
        rules.append({"names": [next(spare)], "action": action})
    for op in sc["operators"]:
        arg = {"index": 0, "value": 1, "op": op}
        if op == "SCMP_CMP_MASKED_EQ":
            arg["valueTwo"] = 1
        rules.append({"names": [next(spare)], "action": "SCMP_ACT_ERRNO", "args": [arg]})
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "flags": sc["supportedFlags"],
                                         "syscalls": rules}
    bundle.set_args("true")
    r = orun.run(bundle)
    assert r.returncode == 0, r.stderr


# ---- spec ----

@pytest.mark.parametrize("extra", [[], ["--rootless"]])
def test_spec_output_parses(orun_bin, tmp_path, extra):
    r = orun_raw(orun_bin, "spec", "--bundle", tmp_path, *extra)
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "config.json") as f:
        config = json.load(f)
    assert config["ociVersion"].startswith("1.")
    types = {n["type"] for n in config["linux"]["namespaces"]}
    if extra:
        assert "user" in types and config["linux"]["uidMappings"] and config["linux"]["gidMappings"]
    else:
        assert "user" not in types


def test_spec_bundle_equals_form(orun_bin, tmp_path):
    r = orun_raw(orun_bin, "spec", f"--bundle={tmp_path}")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "config.json").read_text())["root"]["path"] == "rootfs"


# ---- flag spellings ----

def test_create_flags_equals_and_space(orun, bundle, tmp_path):
    bundle.set_args("sleep", "1000")
    bundle.write()
    ids = []
    for form in ("equals", "space"):
        cid = orun.new_id()
        pid_file = tmp_path / f"{form}.pid"
        if form == "equals":
            args = ["create", f"--bundle={bundle.path}", f"--pid-file={pid_file}", cid]
        else:
            args = ["create", "-b", bundle.path, "--pid-file", pid_file, cid]
        r = orun.cmd(*args)
        assert r.returncode == 0, (form, r.stderr)
        assert int(pid_file.read_text()) == orun.state_json(cid)["pid"]
        ids.append(cid)
    js = orun.cmd("list", "--format=json")
    assert {e["id"] for e in json.loads(js.stdout)} == set(ids)
    js = orun.cmd("list", "-f", "json")
    assert {e["id"] for e in json.loads(js.stdout)} == set(ids)
    assert orun.cmd("delete", "-f", ids[0]).returncode == 0
    assert orun.cmd("delete", "--force", ids[1]).returncode == 0
    assert orun.list("-q").stdout == ""


@pytest.mark.parametrize("flags", [["--debug"], ["--criu", "criu"], ["--rootless", "auto"], ["--rootless=false"],
                                   ["--systemd-cgroup"]])
def test_runc_global_flags_accepted(orun, flags):
    """Engines pass runc's global flags; orun accepts each (see docs/compatibility.md)."""
    r = orun_raw(orun.binary, *flags, "--root", orun.root, "list", "-q")
    assert r.returncode == 0, (flags, r.stderr)
