"""config.md (OCI runtime spec v1.2), the parts observable on Linux: root, mounts, process, user,
hostname, annotations, extensibility and valid values. One test per statement, quoted in the docstring."""
import os
import re

import pytest

from oci import facts, in_rootfs, nothing_left, sh


# ---- Specification version ----

def test_oci_version_semver(orun, bundle, test_mark):
    """ociVersion (string, REQUIRED) MUST be in SemVer v2.0.0 format and specifies the version of the Open
    Container Initiative Runtime Specification with which the bundle complies."""
    bundle.config["ociVersion"] = "not-a-version"
    r = orun.create(bundle)
    assert r.returncode != 0 and "ociVersion" in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


# ---- Root ----

def test_root_path_directory_must_exist(orun, bundle, test_mark):
    """A directory MUST exist at the path declared by the field."""
    for path in ("no-such-rootfs", "config.json"):  # missing; a file, not a directory
        bundle.config["root"]["path"] = path
        r = orun.create(bundle)
        assert r.returncode != 0 and "root.path" in r.stderr, r.stderr
        assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_root_path_absolute_or_relative_to_bundle(orun, bundle):
    """On POSIX platforms, path is either an absolute path or a relative path to the bundle."""
    bundle.config["root"]["path"] = bundle.rootfs
    r = sh(orun, bundle, "cat /etc/os-release >/dev/null 2>&1; echo ok")
    assert r.stdout == "ok\n"


def test_root_readonly(orun, bundle):
    """readonly (bool, OPTIONAL) If true then the root filesystem MUST be read-only inside the container,
    defaults to false."""
    script = "touch /rw-test 2>/dev/null && echo rw=yes || echo rw=no"
    bundle.config["root"]["readonly"] = True
    assert facts(sh(orun, bundle, script).stdout)["rw"] == "no"
    del bundle.config["root"]["readonly"]
    assert facts(sh(orun, bundle, script).stdout)["rw"] == "yes"


# ---- Mounts ----

def test_mounts_in_listed_order(orun, bundle):
    """The runtime MUST mount entries in the listed order."""
    bundle.config["mounts"] += [
        {"destination": "/ordered", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
        {"destination": "/ordered/inner", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m"]},
    ]
    os.makedirs(in_rootfs(bundle, "/ordered"), exist_ok=True)
    r = sh(orun, bundle, "cat /proc/self/mountinfo")
    points = [line.split()[4] for line in r.stdout.splitlines()]
    # /ordered/inner exists only because /ordered was mounted first (it was made on the new tmpfs), and
    # it comes later in the mount table.
    assert "/ordered" in points and "/ordered/inner" in points
    assert points.index("/ordered") < points.index("/ordered/inner")


def test_mounts_relative_destination_relative_to_root(orun, bundle):
    """Linux: This value SHOULD be an absolute path. For compatibility with old tools and configurations, it
    MAY be a relative path, in which case it MUST be interpreted as relative to "/"."""
    bundle.config["mounts"].append({"destination": "relmnt", "type": "tmpfs", "source": "tmpfs"})
    bundle.config["process"]["cwd"] = "/tmp"
    r = sh(orun, bundle, "grep -c ' /relmnt ' /proc/self/mountinfo; grep -c ' /tmp/relmnt ' /proc/self/mountinfo",
           rc=None)
    assert r.stdout.split() == ["1", "0"], r.stdout + r.stderr


def test_mounts_bind_source_relative_to_bundle(orun, bundle):
    """Path values for bind mounts are either absolute or relative to the bundle. A mount is a bind mount
    if it has either bind or rbind in the options."""
    src = os.path.join(bundle.path, "data")
    os.mkdir(src)
    with open(os.path.join(src, "f"), "w") as f:
        f.write("from-bundle")
    bundle.config["mounts"].append({"destination": "/data", "source": "data", "options": ["rbind"]})
    assert sh(orun, bundle, "cat /data/f").stdout == "from-bundle"


def test_mounts_unknown_options_passed_as_data(orun, bundle):
    """Runtimes SHOULD treat unknown options as filesystem-specific ones and pass those as a
    comma-separated string to the fifth (const void *data) argument of mount(2)."""
    bundle.config["mounts"].append({"destination": "/sized", "type": "tmpfs", "source": "tmpfs",
                                    "options": ["nosuid", "size=3m", "mode=0711"]})
    r = sh(orun, bundle, "stat -c %a /sized; df -k /sized | tail -1")
    mode, df = r.stdout.splitlines()
    assert mode == "711" and df.split()[1] == "3072", r.stdout


@pytest.mark.parametrize("option,flag", [("ro", "ro"), ("nosuid", "nosuid"), ("nodev", "nodev"),
                                         ("noexec", "noexec"), ("noatime", "noatime")])
def test_mount_options_must(orun, bundle, option, flag):
    """Runtimes MUST/SHOULD/MAY implement the following option strings for Linux (the MUST ones
    correspond to mount(8))."""
    bundle.config["mounts"].append({"destination": "/opt-test", "type": "tmpfs", "source": "tmpfs",
                                    "options": [option]})
    r = sh(orun, bundle, "grep ' /opt-test ' /proc/self/mountinfo")
    assert flag in r.stdout.split()[5].split(","), r.stdout


# ---- Process ----

def test_process_cwd(orun, bundle):
    """cwd (string, REQUIRED) is the working directory that will be set for the executable. This value
    MUST be an absolute path."""
    bundle.config["process"]["cwd"] = "/etc"
    assert sh(orun, bundle, "pwd").stdout == "/etc\n"
    bundle.config["process"]["cwd"] = "etc"
    r = orun.run(bundle.set_args("true"))
    assert r.returncode != 0 and "process.cwd" in r.stderr


def test_process_env(orun, bundle):
    """env (array of strings, OPTIONAL) with the same semantics as IEEE Std 1003.1-2008's environ."""
    bundle.mark = False
    bundle.config["process"]["env"] = ["PATH=/bin:/usr/bin", "ONE=1", "SPACED=a b", "EMPTY="]
    r = orun.run(bundle.set_args("env"))
    assert r.returncode == 0, r.stderr
    env = set(r.stdout.splitlines())
    want = {"PATH=/bin:/usr/bin", "ONE=1", "SPACED=a b", "EMPTY="}
    assert env >= want, env
    extra = env - want
    assert extra <= {"HOME=/root"}, f"unexpected variables: {extra}"


def test_process_args_execvp_semantics(orun, bundle):
    """args (array of strings, OPTIONAL) with similar semantics to IEEE Std 1003.1-2008 execvp's argv. This
    specification extends the IEEE standard in that at least one entry is REQUIRED (non-Windows), and that
    entry is used with the same semantics as execvp's file."""
    bundle.config["process"]["env"] = ["PATH=/nonexistent:/bin"]
    r = orun.run(bundle.set_args("echo", "found", "via", "PATH"))
    assert r.returncode == 0 and r.stdout == "found via PATH\n", r.stderr
    bundle.config["process"]["args"] = []
    r = orun.run(bundle)
    assert r.returncode != 0 and "process.args" in r.stderr


def test_process_rlimits_match(orun, bundle):
    """soft: rlim.rlim_cur MUST match the configured value. hard: rlim.rlim_max MUST match the configured
    value."""
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
                                           {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096}]
    r = sh(orun, bundle, "grep -E '^Max (open files|core file size)' /proc/self/limits")
    limits = {m.group(1): [m.group(2), m.group(3)]
              for m in re.finditer(r"^Max (open files|core file size) +(\S+) +(\S+)", r.stdout, re.M)}
    assert limits["open files"] == ["123", "456"], r.stdout
    assert limits["core file size"] == ["0", "4096"], r.stdout


def test_process_rlimits_duplicate_type_error(orun, bundle, test_mark):
    """If rlimits contains duplicated entries with same type, the runtime MUST generate an error."""
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 2},
                                           {"type": "RLIMIT_NOFILE", "soft": 3, "hard": 4}]
    r = orun.create(bundle)
    assert r.returncode != 0 and "rlimits" in r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_process_rlimits_unmappable_type_error(orun, bundle, test_mark):
    """The runtime MUST generate an error for any values which cannot be mapped to a relevant kernel
    interface."""
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_FOO", "soft": 1, "hard": 2}]
    r = orun.create(bundle)
    assert r.returncode != 0 and "RLIMIT_FOO" in r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_process_oom_score_adj_set(orun, bundle):
    """If oomScoreAdj is set, the runtime MUST set oom_score_adj to the given value."""
    bundle.config["process"]["oomScoreAdj"] = 123
    assert sh(orun, bundle, "cat /proc/self/oom_score_adj").stdout == "123\n"


def test_process_oom_score_adj_unset_unchanged(orun, bundle):
    """If oomScoreAdj is not set, the runtime MUST NOT change the value of oom_score_adj."""
    bundle.config["process"].pop("oomScoreAdj", None)
    with open("/proc/self/oom_score_adj") as f:
        ours = f.read()
    assert sh(orun, bundle, "cat /proc/self/oom_score_adj").stdout == ours


def test_process_console_size_ignored_without_terminal(orun, bundle):
    """Runtimes MUST ignore consoleSize if terminal is false or unset."""
    bundle.config["process"]["terminal"] = False
    bundle.config["process"]["consoleSize"] = {"height": 10, "width": 20}
    r = sh(orun, bundle, "[ -t 0 ] && echo tty=yes || echo tty=no")
    assert facts(r.stdout)["tty"] == "no"


def test_process_user(orun, bundle):
    """uid (int, REQUIRED) specifies the user ID in the container namespace. gid (int, REQUIRED) specifies
    the group ID in the container namespace. additionalGids (array of ints, OPTIONAL) specifies
    additional group IDs in the container namespace to be added to the process."""
    bundle.config["process"]["user"] = {"uid": 1234, "gid": 5678, "additionalGids": [11, 22]}
    r = sh(orun, bundle, "echo uid=$(id -u) gid=$(id -g); grep -E '^Groups:' /proc/self/status")
    assert "uid=1234 gid=5678" in r.stdout
    groups = r.stdout.split("Groups:")[1].split()
    assert sorted(groups) == ["11", "22"], r.stdout


def test_process_user_umask(orun, bundle):
    """umask (int, OPTIONAL) specifies the umask of the user."""
    bundle.config["process"]["user"]["umask"] = 0o027
    assert sh(orun, bundle, "umask").stdout.strip() in ("0027", "027")


# ---- Hostname and domainname ----

def test_hostname_and_domainname(orun, bundle):
    """hostname (string, OPTIONAL) specifies the container's hostname as seen by processes running inside
    the container. domainname (string, OPTIONAL) specifies the container's domainname."""
    bundle.config["hostname"] = "conf-host"
    bundle.config["domainname"] = "conf.example"
    r = sh(orun, bundle, "hostname; cat /proc/sys/kernel/domainname")
    assert r.stdout.split() == ["conf-host", "conf.example"]


# ---- Annotations ----

def test_annotations_empty_key_error(orun, bundle, test_mark):
    """Keys MUST be strings. Keys MUST NOT be an empty string."""
    bundle.config["annotations"] = {"": "value"}
    r = orun.create(bundle)
    assert r.returncode != 0 and "annotations" in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_annotations_values_strings(orun, bundle, test_mark):
    """Values MUST be strings. Values MAY be an empty string."""
    bundle.config["annotations"] = {"org.example.n": 5}
    r = orun.create(bundle)
    assert r.returncode != 0 and "annotations" in r.stderr, r.stderr
    bundle.config["annotations"] = {"org.example.empty": ""}
    assert orun.run(bundle.set_args("true")).returncode == 0


def test_annotations_unknown_keys_ignored(orun, bundle):
    """Runtimes MUST handle unknown annotation keys like any other unknown property."""
    bundle.config["annotations"] = {"org.opencontainers.unknown.key": "x", "com.example.whatever": "y"}
    assert orun.run(bundle.set_args("true")).returncode == 0


# ---- Extensibility and valid values ----

def test_unknown_properties_ignored(orun, bundle):
    """Runtimes MAY log unknown properties but MUST otherwise ignore them. That includes not generating
    errors if they encounter an unknown property."""
    bundle.config["org.example.unknownTop"] = {"nested": [1, 2]}
    bundle.config["process"]["unknownProcessField"] = True
    bundle.config["linux"]["unknownLinuxField"] = "x"
    bundle.config["mounts"][0]["unknownMountField"] = 1
    bundle.config["root"]["unknownRootField"] = None
    r = orun.run(bundle.set_args("true"))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("path,value", [
    (("linux", "rootfsPropagation"), "sideways"),
    (("process", "ioPriority"), {"class": "IOPRIO_CLASS_NOPE", "priority": 1}),
    (("process", "scheduler"), {"policy": "SCHED_NOPE"}),
    (("linux", "seccomp"), {"defaultAction": "SCMP_ACT_NOPE"}),
    (("linux", "personality"), {"domain": "PER_NOPE"}),
])
def test_invalid_values_error(orun, bundle, test_mark, path, value):
    """Runtimes MUST generate an error when invalid or unsupported values are encountered."""
    bundle.config[path[0]][path[1]] = value
    r = orun.create(bundle)
    assert r.returncode != 0
    assert ".".join(path) in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []

