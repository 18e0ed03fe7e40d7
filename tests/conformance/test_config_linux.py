"""config-linux.md (OCI runtime spec v1.2), the observable parts: default filesystems, namespaces,
devices and default devices, cgroups path, sysctl, seccomp, masked and read-only paths, personality.
One test per statement, quoted in the docstring."""
import os
import subprocess

import pytest

from oci import facts, nothing_left, ns_of, sh, wait_for

NS_FILES = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts", "cgroup": "cgroup",
            "time": "time"}


def ns_script(kinds):
    return "; ".join(f"echo {k}=$(readlink /proc/self/ns/{NS_FILES[k]})" for k in kinds)


# ---- Default filesystems ----

def test_default_filesystems(orun, bundle):
    """The following filesystems SHOULD be made available in each container's filesystem: /proc proc,
    /sys sysfs, /dev/pts devpts, /dev/shm tmpfs."""
    r = sh(orun, bundle, "cat /proc/self/mountinfo")
    types = {}
    for line in r.stdout.splitlines():
        left, right = line.split(" - ", 1)
        types[left.split()[4]] = right.split()[0]
    assert types.get("/proc") == "proc"
    assert types.get("/sys") == "sysfs"
    assert types.get("/dev/pts") == "devpts"
    assert types.get("/dev/shm") == "tmpfs"


# ---- Namespaces ----

def test_namespace_without_path_is_new(orun, bundle):
    """If path is not specified, the runtime MUST create a new container namespace of type type."""
    kinds = ["pid", "network", "mount", "ipc", "uts", "cgroup"]
    bundle.config["linux"]["namespaces"] = [{"type": k} for k in kinds]
    got = facts(sh(orun, bundle, ns_script(kinds)).stdout)
    for k in kinds:
        assert got[k] != ns_of("self", NS_FILES[k]), f"{k} namespace is the runtime's"


def test_namespace_not_listed_is_inherited(orun, bundle):
    """If a namespace type is not specified in the namespaces array, the container MUST inherit the
    runtime namespace of that type."""
    bundle.config["linux"]["namespaces"] = [{"type": "mount"}, {"type": "pid"}]
    bundle.config.pop("hostname", None)  # a hostname needs a new UTS namespace
    got = facts(sh(orun, bundle, ns_script(["network", "ipc", "uts"])).stdout)
    for k in ("network", "ipc", "uts"):
        assert got[k] == ns_of("self", NS_FILES[k]), f"{k} namespace not inherited"


def test_namespace_path_is_joined(orun, bundle):
    """The runtime MUST place the container process in the namespace associated with that path."""
    holder = subprocess.Popen(["unshare", "--net", "--uts", "sleep", "1000"])
    try:
        wait_for(lambda: ns_of(holder.pid, "net") != ns_of("self", "net"), "the holder's namespaces")
        ns = [n for n in bundle.config["linux"]["namespaces"] if n["type"] not in ("network", "uts")]
        ns += [{"type": "network", "path": f"/proc/{holder.pid}/ns/net"},
               {"type": "uts", "path": f"/proc/{holder.pid}/ns/uts"}]
        bundle.config["linux"]["namespaces"] = ns
        got = facts(sh(orun, bundle, ns_script(["network", "uts"])).stdout)
        assert got["network"] == ns_of(holder.pid, "net")
        assert got["uts"] == ns_of(holder.pid, "uts")
    finally:
        holder.kill()
        holder.wait()


def test_namespace_path_of_wrong_type_error(orun, bundle, test_mark):
    """The runtime MUST generate an error if path is not associated with a namespace of type type."""
    ns = [n for n in bundle.config["linux"]["namespaces"] if n["type"] != "ipc"]
    bundle.config["linux"]["namespaces"] = ns + [{"type": "ipc", "path": "/proc/self/ns/uts"}]
    r = orun.create(bundle)
    assert r.returncode != 0 and "linux.namespaces[" in r.stderr and "path" in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_namespace_path_must_be_absolute(orun, bundle, test_mark):
    """This value MUST be an absolute path in the runtime mount namespace."""
    ns = [n for n in bundle.config["linux"]["namespaces"] if n["type"] != "ipc"]
    bundle.config["linux"]["namespaces"] = ns + [{"type": "ipc", "path": "proc/1/ns/ipc"}]
    r = orun.create(bundle)
    assert r.returncode != 0 and "path" in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_namespace_duplicate_type_error(orun, bundle, test_mark):
    """If a namespaces field contains duplicated namespaces with same type, the runtime MUST generate an
    error."""
    bundle.config["linux"]["namespaces"].append({"type": "ipc"})
    r = orun.create(bundle)
    assert r.returncode != 0 and "duplicate" in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_time_namespace_offsets(orun, bundle):
    """timeOffsets (object, OPTIONAL) sets the offset for Time Namespace."""
    if not os.path.exists("/proc/self/ns/time"):
        pytest.skip("kernel without time namespaces")
    bundle.config["linux"]["namespaces"].append({"type": "time"})
    bundle.config["linux"]["timeOffsets"] = {"boottime": {"secs": 86400 * 365, "nanosecs": 0}}
    r = sh(orun, bundle, "cut -d' ' -f1 /proc/uptime; cat /proc/self/timens_offsets")
    uptime = float(r.stdout.split()[0])
    assert uptime > 86400 * 365, r.stdout
    assert "boottime" in r.stdout and str(86400 * 365) in r.stdout


# ---- User namespace mappings ----

def test_user_namespace_mappings(orun, bundle):
    """uidMappings (array of objects, OPTIONAL) describes the user namespace uid mappings from the host to
    the container. gidMappings likewise."""
    from helpers_ctr import user_namespace
    user_namespace(bundle, host_id=200000, size=1000)
    r = sh(orun, bundle, "cat /proc/self/uid_map /proc/self/gid_map")
    rows = [line.split() for line in r.stdout.splitlines()]
    assert rows == [["0", "200000", "1000"], ["0", "200000", "1000"]], r.stdout


# ---- Devices ----

def test_devices_available(orun, bundle):
    """devices (array of objects, OPTIONAL) lists devices that MUST be available in the container. fileMode
    (uint32, OPTIONAL) - file mode for the device. uid/gid (uint32, OPTIONAL) - id of device owner/group
    in the container namespace."""
    bundle.config["linux"]["devices"] = [
        {"type": "c", "path": "/dev/conf-null", "major": 1, "minor": 3, "fileMode": 0o666, "uid": 7, "gid": 8},
        {"type": "p", "path": "/dev/conf-fifo"},
    ]
    bundle.config["linux"].setdefault("resources", {}).setdefault("devices", []).append(
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"})
    r = sh(orun, bundle, "stat -c '%F %t:%T %a %u:%g' /dev/conf-null; stat -c %F /dev/conf-fifo; "
                         "echo hi > /dev/conf-null && echo write=ok")
    lines = r.stdout.splitlines()
    assert lines[0] == "character special file 1:3 666 7:8", lines
    assert lines[1] == "fifo"
    assert lines[2] == "write=ok"


def test_devices_existing_file_mismatch_error(orun, bundle, test_mark):
    """If a file already exists at path that does not match the requested device, the runtime MUST
    generate an error."""
    bundle.config["linux"]["devices"] = [{"type": "c", "path": "/etc/passwd", "major": 1, "minor": 3}]
    r = orun.create(bundle)
    assert r.returncode != 0 and "/etc/passwd" in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_default_devices(orun, bundle):
    """In addition to any devices configured with this setting, the runtime MUST also supply: /dev/null,
    /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty, /dev/ptmx (a bind-mount or symlink of the
    container's /dev/pts/ptmx)."""
    bundle.config["linux"].pop("devices", None)
    r = sh(orun, bundle, "for d in null zero full random urandom tty; do echo $d=$(stat -c '%F %t:%T' /dev/$d); "
                         "done; echo ptmx=$(readlink /dev/ptmx || stat -c '%t:%T' /dev/ptmx); "
                         "echo rw=$(head -c 4 /dev/zero | wc -c)$(echo x > /dev/null && echo ok)")
    got = facts(r.stdout)
    want = {"null": "1:3", "zero": "1:5", "full": "1:7", "random": "1:8", "urandom": "1:9", "tty": "5:0"}
    for name, numbers in want.items():
        assert got[name] == f"character special file {numbers}", (name, got[name])
    assert got["ptmx"] in ("pts/ptmx", "/dev/pts/ptmx", "5:2"), got["ptmx"]
    assert got["rw"] == "4ok"


# ---- Control groups ----

def test_cgroups_path_absolute_relative_to_mount_point(orun, bundle):
    """In the case of an absolute path (starting with /), the runtime MUST take the path to be relative to
    the cgroups mount point. If the value is specified, the runtime MUST consistently attach to the same
    place in the cgroups hierarchy given the same value of cgroupsPath."""
    name = f"/orun-conformance-{orun.new_id()}"
    bundle.config["linux"]["cgroupsPath"] = name
    bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"]
                                            if n["type"] != "cgroup"]
    seen = []
    for _ in range(2):
        r = sh(orun, bundle, "cat /proc/self/cgroup")
        paths = {line.split(":", 2)[2] for line in r.stdout.splitlines()}
        assert paths == {name}, r.stdout
        seen.append(paths)
    assert seen[0] == seen[1]


# ---- Sysctl ----

def test_sysctl_applied(orun, bundle):
    """sysctl (object, OPTIONAL) allows kernel parameters to be modified at runtime for the container."""
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4321"}
    r = sh(orun, bundle, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax")
    assert r.stdout.split() == ["1", "4321"]


# ---- Seccomp ----

def test_seccomp_rule_applied(orun, bundle):
    """syscalls (array of objects, OPTIONAL) - match a syscall in seccomp; errnoRet (uint, OPTIONAL) - the
    errno return code to use."""
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
    r = sh(orun, bundle, "mkdir /tmp/x 2>&1; echo rc=$?", rc=None)
    assert "Permission denied" in r.stdout and "rc=1" in r.stdout, r.stdout + r.stderr


def test_seccomp_default_errno_ret(orun, bundle):
    """defaultErrnoRet (uint, OPTIONAL) - the errno return code to use ... If not specified then its
    default value is EPERM."""
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    r = sh(orun, bundle, "mkdir /tmp/x 2>&1", rc=None)
    assert "Operation not permitted" in r.stdout, r.stdout


def test_seccomp_names_not_empty(orun, bundle, test_mark):
    """names (array of strings, REQUIRED) - the names of the syscalls. names MUST contain at least one
    entry."""
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                         "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}
    r = orun.create(bundle)
    assert r.returncode != 0 and "linux.seccomp.syscalls[0].names" in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_seccomp_errno_ret_on_action_without_errno_error(orun, bundle, test_mark):
    """errnoRet: When the action doesn't support an errno, the runtime MUST print and error and fail.
    (runc 1.1.5 ignores it; see docs/compatibility.md, spec differences.)"""
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["acct"], "action": "SCMP_ACT_KILL", "errnoRet": 1}]}
    r = orun.create(bundle)
    assert r.returncode != 0 and "linux.seccomp.syscalls[0].errnoRet" in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_seccomp_listener_metadata_needs_path(orun, bundle, test_mark):
    """listenerMetadata (string, OPTIONAL) ... This field MUST NOT be set if listenerPath is not set."""
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"}
    r = orun.create(bundle)
    assert r.returncode != 0 and "listenerMetadata" in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


# ---- Rootfs propagation, masked and read-only paths, personality ----

@pytest.mark.parametrize("mode,tag", [
    ("shared", "shared:"),
    ("slave", "master:"),
    ("private", None)])
def test_rootfs_propagation(orun, bundle, mode, tag):
    """rootfsPropagation (string, OPTIONAL) sets the rootfs's mount propagation. Its value is either
    shared, slave, private or unbindable. slave: the rootfs mount receives propagation events from the
    host but not the other way around."""
    bundle.config["linux"]["rootfsPropagation"] = mode
    # The rootfs on a shared mount of its own, so that a slave has a master to follow.
    subprocess.run(["mount", "--bind", bundle.rootfs, bundle.rootfs], check=True)
    try:
        subprocess.run(["mount", "--make-shared", bundle.rootfs], check=True)
        r = sh(orun, bundle, "grep -E '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / ' /proc/self/mountinfo")
    finally:
        subprocess.run(["umount", "-l", bundle.rootfs], check=True)
    optional = r.stdout.split(" - ")[0].split()[6:]
    if tag:
        assert any(o.startswith(tag) for o in optional), r.stdout
    else:
        assert not any(o.startswith(("shared:", "master:")) for o in optional), r.stdout


def test_masked_paths(orun, bundle):
    """maskedPaths (array of strings, OPTIONAL) will mask over the provided paths inside the container so
    that they cannot be read."""
    bundle.config["linux"]["maskedPaths"] = ["/proc/kcore", "/proc/scsi", "/etc/hostname-masked-missing"]
    bundle.config["linux"]["maskedPaths"].append("/proc/meminfo")
    r = sh(orun, bundle, "echo meminfo=$(wc -c < /proc/meminfo); echo kcore=$(head -c 10 /proc/kcore | wc -c)")
    got = facts(r.stdout)
    assert got["meminfo"] == "0" and got["kcore"] == "0", r.stdout


def test_masked_paths_must_be_absolute(orun, bundle, test_mark):
    """The values MUST be absolute paths in the container namespace."""
    bundle.config["linux"]["maskedPaths"] = ["proc/kcore"]
    r = orun.create(bundle)
    assert r.returncode != 0 and "linux.maskedPaths[0]" in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_readonly_paths(orun, bundle):
    """readonlyPaths (array of strings, OPTIONAL) will set the provided paths as readonly inside the
    container."""
    bundle.config["linux"]["readonlyPaths"] = ["/proc/sys", "/etc"]
    bundle.config["root"]["readonly"] = False
    r = sh(orun, bundle, "touch /etc/x 2>/dev/null && echo etc=rw || echo etc=ro; "
                         "echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys=rw || echo sys=ro")
    assert facts(r.stdout) == {"etc": "ro", "sys": "ro"}, r.stdout


def test_readonly_paths_must_be_absolute(orun, bundle, test_mark):
    """The values MUST be absolute paths in the container namespace."""
    bundle.config["linux"]["readonlyPaths"] = ["proc/sys"]
    r = orun.create(bundle)
    assert r.returncode != 0 and "linux.readonlyPaths[0]" in r.stderr, r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_personality_linux32(orun, bundle):
    """personality (object, OPTIONAL) sets the Linux execution personality. LINUX32 will set the uname
    system call to show a 32 bit CPU type, such as i686."""
    if os.uname().machine != "x86_64":
        pytest.skip("the LINUX32 name checked here is x86's")
    bundle.config["linux"]["personality"] = {"domain": "LINUX32"}
    assert sh(orun, bundle, "uname -m").stdout.strip() in ("i686", "i386")
    bundle.config["linux"]["personality"] = {"domain": "LINUX"}
    assert sh(orun, bundle, "uname -m").stdout.strip() == "x86_64"
