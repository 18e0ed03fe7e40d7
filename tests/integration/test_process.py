"""Every `process` field of config.json (and linux.personality), checked from inside a real container:
args, env, cwd, user, HOME, terminal and the console socket, rlimits, capabilities,
noNewPrivileges, oomScoreAdj, ioPriority, scheduler, execCPUAffinity, apparmorProfile, selinuxLabel."""
import os
import pty
import re
import subprocess

import pytest

from helpers_console import ConsoleSocket, read_until_closed
from orun import facts, need, sh


def status_field(status_text, name):
    m = re.search(rf"(?m)^{name}:\s*(.*)$", status_text)
    assert m, f"no {name} in /proc/self/status:\n{status_text}"
    return m.group(1).strip()


def assert_one_line_error(r, *needles):
    """A failed command printed a short error that names every needle."""
    assert r.returncode != 0, f"succeeded:\n{r.stdout}"
    err = r.stderr.strip()
    assert err, "no error message"
    for n in needles:
        assert n in err, f"{n!r} not in error: {err!r}"
    assert len(err.splitlines()) <= 2, f"error is not short: {err!r}"


def assert_nothing_created(orun, cid):
    assert orun.state(cid).returncode != 0, f"container {cid} exists after a failed create"
    assert not os.path.exists(os.path.join(orun.root, cid)), "state dir left after a failed create"


# ---- args, env, cwd ----

def test_args_passed_verbatim(orun, bundle):
    """Each element of process.args is one argv entry: spaces, empty strings and globs stay as they are."""
    bundle.set_args("sh", "-c", 'echo "0=$0"; for a in "$@"; do echo "[$a]"; done',
                    "zero", "a b", "", "c*", "$HOME", "tab\there")
    r = orun.run(bundle)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["0=zero", "[a b]", "[]", "[c*]", "[$HOME]", "[tab\there]"]


def test_args_resolved_through_container_path(orun, bundle):
    """args[0] without a slash is looked up in the PATH of process.env, inside the rootfs."""
    os.makedirs(os.path.join(bundle.rootfs, "opt/tools"))
    with open(os.path.join(bundle.rootfs, "opt/tools/hello-tool"), "w") as f:
        f.write("#!/bin/sh\necho tool ran as $0\n")
    os.chmod(os.path.join(bundle.rootfs, "opt/tools/hello-tool"), 0o755)
    bundle.process["env"] = ["PATH=/opt/tools:/bin"]
    bundle.set_args("hello-tool")
    r = orun.run(bundle)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "tool ran as /opt/tools/hello-tool\n"


def test_env_exact_and_duplicates_last_wins(orun, bundle):
    """process.env becomes the environment; a name given twice keeps its last value (as runc)."""
    bundle.process["env"] = ["PATH=/usr/bin:/bin", "FOO=first", "EQ=a=b=c", "EMPTY=", "FOO=second",
                             "SPACE=x y", "HOME=/custom"]
    bundle.set_args("env")
    r = orun.run(bundle)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if not l.startswith("ORUN_TEST_MARK=")]
    assert sorted(lines) == sorted(["PATH=/usr/bin:/bin", "FOO=second", "EQ=a=b=c", "EMPTY=", "SPACE=x y",
                                    "HOME=/custom"]), r.stdout


def test_env_without_equals_rejected(orun, bundle):
    bundle.process["env"] = ["PATH=/bin", "NOEQUALS"]
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, "process.env[1]")
    assert_nothing_created(orun, r.cid)


def test_cwd(orun, bundle):
    bundle.process["cwd"] = "/home/user"
    r = sh(orun, bundle, 'pwd; echo "PWD=$PWD"; ls -d "$(readlink /proc/self/cwd)"')
    assert r.stdout.splitlines() == ["/home/user", "PWD=/home/user", "/home/user"]


def test_cwd_not_a_directory_is_an_error(orun, bundle):
    """A cwd that is not a directory fails create with the field named; nothing is left. (A missing cwd
    is created, as runc does: test_bad_input.test_missing_cwd_is_created_like_runc.)"""
    bundle.process["cwd"] = "/etc/passwd"
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, "process.cwd", "/etc/passwd")
    assert_nothing_created(orun, r.cid)
    r = orun.run(bundle)
    assert_one_line_error(r, "process.cwd")


def test_cwd_relative_rejected(orun, bundle):
    bundle.process["cwd"] = "tmp"
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, "process.cwd")
    assert_nothing_created(orun, r.cid)


# ---- user ----

def test_user_uid_gid_groups_umask(orun, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "umask": 0o027, "additionalGids": [65534, 5]}
    r = sh(orun, bundle, 'echo "u=$(id -u)"; echo "g=$(id -g)"; echo "G=$(id -G)"; echo "umask=$(umask)";'
                         'grep -E "^(Uid|Gid|Groups|Umask):" /proc/self/status;'
                         'touch /dev/f 2>/dev/null && echo "touched=yes"; true')
    f = facts(r.stdout)
    assert f["u"] == "1000" and f["g"] == "1000", r.stdout
    assert set(f["G"].split()) == {"1000", "5", "65534"}, r.stdout
    assert f["umask"] == "0027", r.stdout
    status = r.stdout
    assert status_field(status, "Uid").split() == ["1000"] * 4
    assert status_field(status, "Gid").split() == ["1000"] * 4
    assert sorted(status_field(status, "Groups").split(), key=int) == ["5", "65534"]
    assert status_field(status, "Umask") == "0027"
    # /dev is a root-owned tmpfs with mode 755: the file system agrees that we are not root
    assert "touched" not in f, r.stdout


def test_user_no_additional_gids_means_none(orun, bundle):
    """Without additionalGids the caller's supplementary groups are dropped, not inherited."""
    bundle.process["user"] = {"uid": 0, "gid": 0}
    r = sh(orun, bundle, 'grep "^Groups:" /proc/self/status')
    assert status_field(r.stdout, "Groups") == ""


def test_default_umask_is_0022(orun, bundle):
    """Without user.umask the process gets 0022 (as runc), whatever the caller's umask was."""
    bundle.process["user"] = {"uid": 0, "gid": 0}
    old = os.umask(0o077)
    try:
        r = sh(orun, bundle, "umask")
    finally:
        os.umask(old)
    assert r.stdout.strip() == "0022"


@pytest.mark.parametrize("uid,home", [(0, "/root"), (1000, "/home/user"), (4242, "/")])
def test_home_from_passwd(orun, bundle, uid, home):
    """HOME, when process.env lacks it, comes from the rootfs's /etc/passwd ("/" for an unknown uid)."""
    bundle.process["env"] = ["PATH=/usr/bin:/bin"]
    bundle.process["user"] = {"uid": uid, "gid": uid}
    r = sh(orun, bundle, 'echo "HOME=$HOME"; env | grep -c "^HOME="')
    assert r.stdout.splitlines() == [f"HOME={home}", "1"]


# ---- terminal ----

def _tty_script():
    # Several facts about the console in one run; the leading `stty -onlcr` keeps \n as \n.
    # $$ (the shell), not self: inside $(...) stdout is a pipe.
    return ('stty -onlcr; echo "tty=$(tty)"; echo "size=$(stty size)";'
            'echo "fd0=$(stat -L -c %t:%T /proc/$$/fd/0)"; echo "fd1=$(stat -L -c %t:%T /proc/$$/fd/1)";'
            'echo "fd2=$(stat -L -c %t:%T /proc/$$/fd/2)";'
            'echo "console=$(stat -c %F:%t:%T /dev/console)"; echo "sid=$(cut -d" " -f6 /proc/self/stat)";'
            'echo "tpgid=$(cut -d" " -f8 /proc/self/stat)"; echo "pgrp=$(cut -d" " -f5 /proc/self/stat)"')


def test_terminal_console_socket(orun, bundle, tmp_path):
    """terminal with --console-socket: the master arrives by SCM_RIGHTS, stdio is the pty slave,
    /dev/console is that pty, consoleSize is applied, and the process has it as controlling tty."""
    bundle.process["terminal"] = True
    bundle.process["consoleSize"] = {"height": 33, "width": 111}
    bundle.set_args("sh", "-c", _tty_script())
    with ConsoleSocket(tmp_path / "console.sock") as cs:
        r = orun.create(bundle, None, "--console-socket", cs.path)
        assert r.returncode == 0, r.stderr
        master = cs.master()
        try:
            assert os.isatty(master)
            s = orun.start(r.cid)
            assert s.returncode == 0, s.stderr
            out = read_until_closed(master).decode(errors="replace").replace("\r", "")
        finally:
            os.close(master)
    f = facts(out)
    assert re.fullmatch(r"/dev/(pts/\d+|console)", f.get("tty", "")), out
    assert f["size"] == "33 111", out
    # stdio are all the slave: major 136 (UNIX98 pty slaves, hex 88)
    assert f["fd0"] == f["fd1"] == f["fd2"], out
    assert f["fd0"].split(":")[0] == "88", out
    # /dev/console is a character device that is the same pty
    kind, major, minor = f["console"].rsplit(":", 2)
    assert kind == "character special file", out
    assert f"{major}:{minor}" == f["fd0"], out
    # the shell leads its session and its process group owns the terminal
    assert f["tpgid"] == f["pgrp"], out


def test_terminal_input_through_master(orun, bundle, tmp_path):
    """What is written to the received master reaches the container's stdin."""
    bundle.process["terminal"] = True
    bundle.set_args("sh", "-c", "stty -echo -onlcr; read line; echo \"got=$line\"")
    with ConsoleSocket(tmp_path / "console.sock") as cs:
        r = orun.create(bundle, None, "--console-socket", cs.path)
        assert r.returncode == 0, r.stderr
        master = cs.master()
        try:
            assert orun.start(r.cid).returncode == 0
            os.write(master, b"hello pty\n")
            out = read_until_closed(master).decode(errors="replace").replace("\r", "")
        finally:
            os.close(master)
    assert "got=hello pty" in out.splitlines(), out


def test_terminal_without_console_socket_is_an_error(orun, bundle):
    bundle.process["terminal"] = True
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, "process.terminal", "--console-socket")
    assert_nothing_created(orun, r.cid)


def test_console_socket_without_terminal_is_an_error(orun, bundle, tmp_path):
    bundle.set_args("true")
    with ConsoleSocket(tmp_path / "console.sock") as cs:
        r = orun.create(bundle, None, "--console-socket", cs.path)
    assert_one_line_error(r, "--console-socket")
    assert_nothing_created(orun, r.cid)


@pytest.mark.parametrize("caller_size,shown", [((0, 0), "21 77"), ((40, 100), "40 100")])
def test_run_terminal_proxies_the_pty(orun, bundle, caller_size, shown):
    """`orun run` with terminal=true and no --console-socket makes the pty itself and copies
    between it and the caller's terminal (here a pty made by the test), both ways. The container's
    window follows the caller's (as runc), unless the caller's has no size: then consoleSize stays."""
    import fcntl
    import struct
    import termios
    bundle.process["terminal"] = True
    bundle.process["consoleSize"] = {"height": 21, "width": 77}
    bundle.set_args("sh", "-c", 'stty -echo; read line; echo "got=$line"; echo "tty=$(tty)"; '
                    'echo "size=$(stty size)"; exit 7')
    bundle.write()
    cid = orun.new_id()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", caller_size[0], caller_size[1], 0, 0))
    try:
        p = subprocess.Popen([orun.binary, "--root", orun.root, "run", "--bundle", bundle.path, cid],
                             stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        slave = -1
        # Written at once: the line waits in the pty until the shell reads it. If it arrives
        # before `stty -echo`, its echo shows too, which the checks below allow.
        os.write(master, b"through the proxy\n")
        out = read_until_closed(master, timeout=30, proc=p).decode(errors="replace").replace("\r", "")
        rc = p.wait(timeout=30)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert rc == 7, out
    f = facts(out)
    assert f.get("got") == "through the proxy", out
    assert re.fullmatch(r"/dev/(pts/\d+|console)", f.get("tty", "")), out
    assert f.get("size") == shown, out


# ---- rlimits ----

def test_rlimits(orun, bundle):
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
        {"type": "RLIMIT_NPROC", "soft": 777, "hard": 888},
        {"type": "RLIMIT_STACK", "soft": 4194304, "hard": 16777216},
    ]
    r = sh(orun, bundle, 'cat /proc/self/limits; echo "n=$(ulimit -n)"')
    def limit(name):
        m = re.search(rf"(?m)^{re.escape(name)}\s+(\S+)\s+(\S+)", r.stdout)
        assert m, f"{name} not in {r.stdout}"
        return m.groups()
    assert limit("Max open files") == ("123", "456")
    assert limit("Max core file size") == ("0", "4096")
    assert limit("Max processes") == ("777", "888")
    assert limit("Max stack size") == ("4194304", "16777216")
    assert facts(r.stdout)["n"] == "123"


def host_has_cap(bit):
    with open("/proc/self/status") as f:
        return bool(int(status_field(f.read(), "CapEff"), 16) >> bit & 1)


CAP_SYS_RESOURCE = 24


def test_rlimit_above_callers_hard_limit(orun, bundle):
    """The runtime is root: it may raise a hard limit above its own."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard * 2, 1 << 20) if hard != resource.RLIM_INFINITY else 1 << 20
    need(want > hard, "a finite RLIMIT_NOFILE hard limit below 1048576")
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": want, "hard": want}]
    if not host_has_cap(CAP_SYS_RESOURCE):
        # A sandbox without CAP_SYS_RESOURCE: the kernel refuses, and orun must
        # say so clearly and leave nothing behind.
        bundle.set_args("true")
        r = orun.create(bundle)
        assert_one_line_error(r, "RLIMIT_NOFILE")
        assert_nothing_created(orun, r.cid)
        return
    r = sh(orun, bundle, "ulimit -n")
    assert r.stdout.strip() == str(want)


@pytest.mark.parametrize("rlimits,needles", [
    ([{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 10}, {"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}],
     ["process.rlimits[1]", "RLIMIT_BOGUS"]),
    ([{"type": "RLIMIT_NOFILE", "soft": 20, "hard": 10}], ["process.rlimits[0]"]),
])
def test_bad_rlimit_rejected(orun, bundle, rlimits, needles):
    bundle.process["rlimits"] = rlimits
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, *needles)
    assert_nothing_created(orun, r.cid)


# ---- capabilities ----

CAP_NAMES = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
             "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
             "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
             "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
             "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
             "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]


def decode_caps(hexmask):
    """'00000000a80425fb' -> {'CAP_CHOWN', ...}"""
    v = int(hexmask, 16)
    names = set()
    for bit in range(64):
        if v >> bit & 1:
            names.add("CAP_" + CAP_NAMES[bit] if bit < len(CAP_NAMES) else f"bit{bit}")
    return names


CAP_SCRIPT = 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/self/status'


def cap_sets(text):
    return {k: decode_caps(status_field(text, k)) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def test_capabilities_all_sets_root(orun, bundle):
    """Root with noNewPrivileges: bounding, inheritable and ambient show as configured; exec as
    uid 0 would raise permitted and effective to the bounding set, but no_new_privs caps them at
    the permitted set the runtime gave (the kernel's rule), so both equal process permitted."""
    bnd = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"]
    bundle.process["capabilities"] = {
        "bounding": bnd,
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "effective": ["CAP_CHOWN", "CAP_KILL"],
        "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_KILL"],
    }
    bundle.process["noNewPrivileges"] = True
    s = cap_sets(sh(orun, bundle, CAP_SCRIPT).stdout)
    assert s["CapBnd"] == set(bnd)
    assert s["CapInh"] == {"CAP_KILL", "CAP_NET_BIND_SERVICE"}
    assert s["CapAmb"] == {"CAP_KILL"}
    assert s["CapPrm"] == {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
    assert s["CapEff"] == {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}


def test_capabilities_root_without_no_new_privs(orun, bundle):
    """Without no_new_privs, exec as root raises permitted and effective to the bounding set."""
    bnd = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"]
    bundle.process["capabilities"] = {"bounding": bnd, "permitted": ["CAP_KILL"], "effective": ["CAP_KILL"]}
    bundle.process["noNewPrivileges"] = False
    s = cap_sets(sh(orun, bundle, CAP_SCRIPT).stdout)
    assert s["CapBnd"] == s["CapPrm"] == s["CapEff"] == set(bnd)
    assert s["CapInh"] == s["CapAmb"] == set()


def test_capabilities_non_root_with_ambient(orun, bundle):
    """A non-root process keeps across exec exactly its ambient set as permitted and effective;
    inheritable and bounding are kept as configured. Ambient works only because permitted,
    inheritable (and effective, for raising) were set before the uid switch."""
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
    }
    bundle.config.setdefault("mounts", []).append(
        {"destination": "/work", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]})
    r = sh(orun, bundle, CAP_SCRIPT + '; echo x > /work/f; chown 0:0 /work/f && echo "chown=ok";'
                                      'echo "owner=$(stat -c %u /work/f)"')
    s = cap_sets(r.stdout)
    assert s["CapBnd"] == {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"}
    assert s["CapInh"] == {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"}
    assert s["CapAmb"] == {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"}
    assert s["CapPrm"] == {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"}
    assert s["CapEff"] == {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"}
    # the ambient CAP_CHOWN really works for uid 1000
    f = facts(r.stdout)
    assert f.get("chown") == "ok" and f.get("owner") == "0", r.stdout


def test_non_root_without_ambient_has_no_caps(orun, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.process["capabilities"] = {"bounding": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"],
                                      "effective": ["CAP_CHOWN"]}
    s = cap_sets(sh(orun, bundle, CAP_SCRIPT).stdout)
    assert s["CapPrm"] == s["CapEff"] == s["CapAmb"] == s["CapInh"] == set()
    assert s["CapBnd"] == {"CAP_CHOWN"}


def test_bounding_really_dropped(orun, bundle):
    """A capability left out of bounding is gone: its bit is absent in CapBnd and the operation it
    guards fails, even for root (chown needs CAP_CHOWN)."""
    keep = ["CAP_KILL", "CAP_DAC_OVERRIDE"]
    bundle.process["capabilities"] = {k: keep for k in ("bounding", "permitted", "effective")}
    r = sh(orun, bundle, CAP_SCRIPT + '; touch /dev/f; chown 1000 /dev/f 2>&1 && echo "chown=ok";'
                                      'echo "owner=$(stat -c %u /dev/f)"')
    s = cap_sets(r.stdout)
    assert s["CapBnd"] == set(keep)
    assert "CAP_CHOWN" not in s["CapBnd"] and "CAP_SYS_ADMIN" not in s["CapBnd"]
    f = facts(r.stdout)
    assert "chown" not in f and f["owner"] == "0", r.stdout
    assert "Operation not permitted" in r.stdout


def test_no_capabilities_field_means_none(orun, bundle):
    """process.capabilities absent: every set is empty (runc does the same)."""
    bundle.process.pop("capabilities", None)
    s = cap_sets(sh(orun, bundle, CAP_SCRIPT).stdout)
    assert all(v == set() for v in s.values()), s


@pytest.mark.parametrize("field", ["bounding", "effective", "permitted", "inheritable", "ambient"])
def test_unknown_capability_rejected(orun, bundle, field):
    caps = bundle.process.setdefault("capabilities", {})
    caps[field] = ["CAP_KILL", "CAP_NOT_A_CAP"]
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, f"process.capabilities.{field}[1]", "CAP_NOT_A_CAP")
    assert_nothing_created(orun, r.cid)


# ---- noNewPrivileges, oomScoreAdj, ioPriority, scheduler, affinity, personality ----

@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(orun, bundle, nnp):
    bundle.process["noNewPrivileges"] = nnp
    r = sh(orun, bundle, 'grep "^NoNewPrivs:" /proc/self/status')
    assert status_field(r.stdout, "NoNewPrivs") == ("1" if nnp else "0")


@pytest.mark.parametrize("adj", [500, -200])
def test_oom_score_adj(orun, bundle, adj):
    bundle.process["oomScoreAdj"] = adj
    if adj < 0 and not host_has_cap(CAP_SYS_RESOURCE):
        # Lowering needs CAP_SYS_RESOURCE: without it, a clear error and nothing left.
        bundle.set_args("true")
        r = orun.create(bundle)
        assert_one_line_error(r, "oom_score_adj")
        assert_nothing_created(orun, r.cid)
        return
    r = sh(orun, bundle, "cat /proc/self/oom_score_adj")
    assert r.stdout.strip() == str(adj)


def test_oom_score_adj_out_of_range(orun, bundle):
    bundle.process["oomScoreAdj"] = 1001
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, "process.oomScoreAdj")
    assert_nothing_created(orun, r.cid)


@pytest.mark.parametrize("klass,prio,shown", [("IOPRIO_CLASS_BE", 6, "best-effort: prio 6"),
                                               ("IOPRIO_CLASS_IDLE", 0, "idle")])
def test_io_priority(orun, bundle, klass, prio, shown):
    """busybox ionice without arguments prints the calling process's class and priority."""
    bundle.process["ioPriority"] = {"class": klass, "priority": prio}
    r = sh(orun, bundle, "ionice")
    assert r.stdout.strip().startswith(shown), r.stdout


def test_io_priority_bad_class(orun, bundle):
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_FAST", "priority": 1}
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, "process.ioPriority.class")
    assert_nothing_created(orun, r.cid)


def stat_fields(text):
    """/proc/PID/stat -> list with field numbers as in proc(5): fields[1] is pid, [19] nice."""
    rest = text[text.rfind(")") + 2:].split()
    return [None, None, None] + rest


@pytest.mark.parametrize("sched,policy,nice,rtprio", [
    ({"policy": "SCHED_BATCH", "nice": 7}, 3, 7, 0),
    ({"policy": "SCHED_IDLE"}, 5, 0, 0),
    ({"policy": "SCHED_OTHER", "nice": -5}, 0, -5, 0),
])
def test_scheduler(orun, bundle, sched, policy, nice, rtprio):
    """policy, nice and rt priority as the kernel reports them in /proc/self/stat (fields 19, 40, 41)."""
    bundle.process["scheduler"] = sched
    r = sh(orun, bundle, "cat /proc/self/stat")
    f = stat_fields(r.stdout.strip())
    assert (int(f[41]), int(f[19]), int(f[40])) == (policy, nice, rtprio), r.stdout


def test_scheduler_fifo(orun, bundle):
    """A real-time policy with its priority (skipped where the host refuses RT to this cgroup)."""
    bundle.process["scheduler"] = {"policy": "SCHED_FIFO", "priority": 10}
    bundle.set_args("sh", "-c", "cat /proc/self/stat")
    r = orun.run(bundle)
    if r.returncode != 0 and "not permitted" in r.stderr:
        # The host refuses real-time scheduling to this cgroup (cpu.rt_runtime_us
        # is 0): orun must report it, naming the field, in one line.
        assert_one_line_error(r, "process.scheduler")
        return
    assert r.returncode == 0, r.stderr
    f = stat_fields(r.stdout.strip())
    assert (int(f[41]), int(f[40])) == (1, 10), r.stdout


def test_scheduler_bad_policy(orun, bundle):
    bundle.process["scheduler"] = {"policy": "SCHED_FASTEST"}
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, "process.scheduler.policy")
    assert_nothing_created(orun, r.cid)


def test_exec_cpu_affinity(orun, bundle):
    """initial applies to the runtime's processes in the container (a startContainer hook sees
    it), final to the process after exec."""
    need(len(os.sched_getaffinity(0)) >= 2 and {0, 1} <= os.sched_getaffinity(0), "cpus 0 and 1")
    bundle.process["execCPUAffinity"] = {"initial": "1", "final": "0"}
    bundle.config["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", "grep Cpus_allowed_list /proc/self/status > /dev/initial"]}]}
    r = sh(orun, bundle, 'cat /dev/initial; grep Cpus_allowed_list /proc/self/status')
    lines = r.stdout.splitlines()
    assert len(lines) == 2, r.stdout
    assert status_field(lines[0], "Cpus_allowed_list") == "1"
    assert status_field(lines[1], "Cpus_allowed_list") == "0"


def test_exec_cpu_affinity_initial_only(orun, bundle):
    """With only initial, the process keeps it after exec."""
    need({0, 1} <= os.sched_getaffinity(0), "cpus 0 and 1")
    bundle.process["execCPUAffinity"] = {"initial": "1"}
    r = sh(orun, bundle, "grep Cpus_allowed_list /proc/self/status")
    assert status_field(r.stdout, "Cpus_allowed_list") == "1"


def test_exec_cpu_affinity_bad_list(orun, bundle):
    bundle.process["execCPUAffinity"] = {"final": "0-x"}
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, "process.execCPUAffinity")
    assert_nothing_created(orun, r.cid)


def test_personality_linux32(orun, bundle):
    need(os.uname().machine == "x86_64", "an x86_64 host")
    bundle.config["linux"]["personality"] = {"domain": "LINUX32"}
    r = sh(orun, bundle, "uname -m")
    assert r.stdout.strip() in ("i686", "i386"), r.stdout


def test_personality_bad_domain(orun, bundle):
    bundle.config["linux"]["personality"] = {"domain": "WINDOWS"}
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, "linux.personality.domain")
    assert_nothing_created(orun, r.cid)


# ---- LSMs: neither is enabled on the test hosts ----

def _lsm_enabled(name):
    try:
        with open("/sys/kernel/security/lsm") as f:
            return name in f.read().split(",")
    except OSError:
        return False


@pytest.mark.parametrize("field,value,lsm", [
    ("apparmorProfile", "orun-test-profile", "apparmor"),
    ("selinuxLabel", "system_u:system_r:container_t:s0", "selinux"),
])
def test_lsm_requested_but_disabled(orun, bundle, field, value, lsm):
    """Asking for a label the host cannot apply is a clear error naming the field, and neither
    create nor run leaves anything behind (the orun fixture checks processes, mounts, cgroups)."""
    if _lsm_enabled(lsm):
        pytest.skip(f"{lsm} is enabled on this host")
    bundle.process[field] = value
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, f"process.{field}")
    assert_nothing_created(orun, r.cid)
    r = orun.run(bundle)
    assert_one_line_error(r, f"process.{field}")
    assert_nothing_created(orun, r.cid)


def test_mount_label_without_selinux(orun, bundle):
    """linux.mountLabel (SELinux context= on the container's own file systems) on a host without
    SELinux is a clear error too, with nothing left behind."""
    if _lsm_enabled("selinux"):
        pytest.skip("selinux is enabled on this host")
    bundle.config["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0"
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, "linux.mountLabel")
    assert_nothing_created(orun, r.cid)
