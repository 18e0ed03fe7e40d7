"""The runtime's security duties, checked from inside real containers: linux.seccomp (every action,
argument conditions, architectures, flags, SCMP_ACT_NOTIFY with a Python agent, load order), fds
of the caller (leaks, --preserve-fds, socket activation), CVE-2024-21626 (cwd through a leaked fd),
CVE-2019-5736 (the runtime binary reachable through /proc/PID/exe), and bad process input."""
import errno
import hashlib
import os
import re
import subprocess
import tempfile

import pytest

from helpers_seccomp import CONTINUE, NotifyAgent, errno_answer, syscall_numbers, value_answer
from orun import facts, need, sh

SIGSYS_EXIT = 128 + 31


def assert_one_line_error(r, *needles):
    assert r.returncode != 0, f"succeeded:\n{r.stdout}"
    err = r.stderr.strip()
    assert err, "no error message"
    for n in needles:
        assert n in err, f"{n!r} not in error: {err!r}"
    assert len(err.splitlines()) == 1, f"error is not one line: {err!r}"


def assert_nothing_created(orun, cid):
    assert orun.state(cid).returncode != 0, f"container {cid} exists after a failed create"
    assert not os.path.exists(os.path.join(orun.root, cid)), "state dir left after a failed create"


def seccomp(bundle, default="SCMP_ACT_ALLOW", syscalls=(), **extra):
    bundle.config["linux"]["seccomp"] = {"defaultAction": default, "syscalls": list(syscalls), **extra}


def native_arch():
    return {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}.get(os.uname().machine)


def wrapped(orun, prefix, *args, timeout=60):
    """Run orun through `sh -c 'PREFIX exec orun --root R ARGS'`: PREFIX opens fds or sets the
    environment the way a caller (systemd, a shim) would. Output through files, as Orun.cmd."""
    script = f'{prefix}\nexec "$@"'
    argv = ["/bin/sh", "-c", script, "sh", orun.binary, "--root", orun.root, *map(str, args)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=timeout)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(argv, p.returncode, out.read().decode(errors="replace"),
                                           err.read().decode(errors="replace"))


# The shell's own fds, listed by a child writing to the shell's stdout: a $(...) or a redirection
# would add fds of its own (the pipe, ash's saved copy of fd 1).
LIST_FDS = 'echo fds-begin; ls /proc/$$/fd; echo fds-end; '


def fd_list(text):
    m = re.search(r"(?s)fds-begin\n(.*?)fds-end\n", text)
    assert m, text
    return sorted(int(x) for x in m.group(1).split())


# ---- seccomp actions ----

def test_seccomp_errno_with_errno_ret(orun, bundle):
    """SCMP_ACT_ERRNO returns errnoRet (EXDEV here) or EPERM without it; other calls still work."""
    seccomp(bundle, syscalls=[
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV},
        {"names": ["symlink", "symlinkat"], "action": "SCMP_ACT_ERRNO"},
    ])
    r = sh(orun, bundle, "mkdir /dev/d 2>&1; ln -s x /dev/l 2>&1; touch /dev/ok && echo touch=ok; "
                         "ls /dev/d /dev/l >/dev/null 2>&1 || echo missing=yes")
    assert os.strerror(errno.EXDEV) in r.stdout, r.stdout
    assert os.strerror(errno.EPERM) in r.stdout, r.stdout
    f = facts(r.stdout)
    assert f.get("touch") == "ok" and f.get("missing") == "yes", r.stdout


def test_seccomp_default_errno_ret(orun, bundle):
    """defaultAction SCMP_ACT_ERRNO with defaultErrnoRet: everything named is allowed
    (SCMP_ACT_ALLOW), the rest fails with defaultErrnoRet."""
    nums = syscall_numbers()
    need(nums, "kernel headers with syscall numbers (linux-libc-dev)")
    allowed = sorted(n for n in nums if n not in ("mkdir", "mkdirat"))
    seccomp(bundle, default="SCMP_ACT_ERRNO", defaultErrnoRet=errno.EXDEV,
            syscalls=[{"names": allowed, "action": "SCMP_ACT_ALLOW"}])
    r = sh(orun, bundle, "mkdir /dev/d 2>&1; echo alive=yes")
    assert os.strerror(errno.EXDEV) in r.stdout, r.stdout
    assert facts(r.stdout).get("alive") == "yes"


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                    "SCMP_ACT_TRAP"])
def test_seccomp_kill_and_trap(orun, bundle, action):
    """The process making the call dies by SIGSYS: `run` exits 128+31."""
    seccomp(bundle, syscalls=[{"names": ["mkdir", "mkdirat"], "action": action}])
    bundle.set_args("mkdir", "/dev/d")
    r = orun.run(bundle)
    assert r.returncode == SIGSYS_EXIT, f"exit {r.returncode}: {r.stderr}"


def test_seccomp_log_and_allow(orun, bundle):
    """SCMP_ACT_LOG lets the call through (and logs it); an explicit SCMP_ACT_ALLOW rule under an
    errno default lets its call through too. The filter is on: Seccomp: 2 in /proc/self/status."""
    seccomp(bundle, syscalls=[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_LOG"}])
    r = sh(orun, bundle, "mkdir /dev/d && echo mkdir=ok; grep -E '^Seccomp(_filters)?:' /proc/self/status")
    assert facts(r.stdout).get("mkdir") == "ok", r.stdout
    assert re.search(r"(?m)^Seccomp:\s+2$", r.stdout), r.stdout


def test_seccomp_arg_conditions(orun, bundle):
    """A rule with args applies only when the argument matches: chmod to 0777 is refused, to 0700
    allowed (mode is argument 1 of chmod, 2 of fchmodat)."""
    seccomp(bundle, syscalls=[
        {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV,
         "args": [{"index": 1, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
        {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV,
         "args": [{"index": 2, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
        # several conditions on one rule must all hold (AND): never true together here
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV,
         "args": [{"index": 1, "value": 0o700, "op": "SCMP_CMP_EQ"},
                  {"index": 1, "value": 0o755, "op": "SCMP_CMP_EQ"}]},
        {"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV,
         "args": [{"index": 2, "value": 0o700, "op": "SCMP_CMP_EQ"},
                  {"index": 2, "value": 0o755, "op": "SCMP_CMP_EQ"}]},
    ])
    r = sh(orun, bundle, "touch /dev/f; chmod 777 /dev/f 2>&1; echo m1=$(stat -c %a /dev/f); "
                         "chmod 700 /dev/f; echo m2=$(stat -c %a /dev/f); "
                         "mkdir -m 700 /dev/d && echo mkdir=ok")
    f = facts(r.stdout)
    assert os.strerror(errno.EXDEV) in r.stdout, r.stdout
    assert f["m1"] == "644" and f["m2"] == "700", r.stdout
    assert f.get("mkdir") == "ok", r.stdout


def test_seccomp_masked_eq(orun, bundle):
    """SCMP_CMP_MASKED_EQ: refuse open-like calls that ask for O_CREAT (value & mask == value)."""
    o_creat = os.O_CREAT
    seccomp(bundle, syscalls=[
        {"names": ["open"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV,
         "args": [{"index": 1, "value": o_creat, "valueTwo": o_creat, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["openat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV,
         "args": [{"index": 2, "value": o_creat, "valueTwo": o_creat, "op": "SCMP_CMP_MASKED_EQ"}]},
    ])
    # (no `>/dev/null` below: that redirection is an open with O_CREAT too)
    r = sh(orun, bundle, "{ echo x > /dev/new; } 2>&1; c=$(cat /proc/self/comm) && echo read=ok; "
                         "ls /dev/new 2>&1 | grep -q 'No such' && echo created=no")
    f = facts(r.stdout)
    assert f.get("read") == "ok" and f.get("created") == "no", r.stdout
    assert os.strerror(errno.EXDEV) in r.stdout, r.stdout


def test_seccomp_architectures_and_flags(orun, bundle):
    """Extra architectures and SECCOMP_FILTER_FLAG_LOG are accepted and the filter still works."""
    arch = native_arch()
    need(arch == "SCMP_ARCH_X86_64", "an x86_64 host")
    seccomp(bundle, architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            flags=["SECCOMP_FILTER_FLAG_LOG"],
            syscalls=[{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV}])
    r = sh(orun, bundle, "mkdir /dev/d 2>&1; grep '^Seccomp:' /proc/self/status")
    assert os.strerror(errno.EXDEV) in r.stdout and re.search(r"(?m)^Seccomp:\s+2$", r.stdout), r.stdout


def test_seccomp_no_filter_without_field(orun, bundle):
    bundle.config["linux"].pop("seccomp", None)
    r = sh(orun, bundle, "grep '^Seccomp:' /proc/self/status")
    assert re.search(r"(?m)^Seccomp:\s+0$", r.stdout), r.stdout


@pytest.mark.parametrize("change,needles", [
    (lambda s: s["syscalls"][0].update(action="SCMP_ACT_EXPLODE"),
     ["linux.seccomp.syscalls[0].action", "SCMP_ACT_EXPLODE"]),
    (lambda s: s.update(defaultAction="SCMP_ACT_NOPE"), ["linux.seccomp.defaultAction", "SCMP_ACT_NOPE"]),
    (lambda s: s.update(architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]),
     ["linux.seccomp.architectures[1]", "SCMP_ARCH_Z80"]),
    (lambda s: s.update(flags=["SECCOMP_FILTER_FLAG_BOGUS"]), ["linux.seccomp.flags[0]", "SECCOMP_FILTER_FLAG_BOGUS"]),
    (lambda s: s["syscalls"][0].update(args=[{"index": 0, "value": 1, "op": "SCMP_CMP_ALMOST"}]),
     ["linux.seccomp.syscalls[0].args[0].op", "SCMP_CMP_ALMOST"]),
    (lambda s: s["syscalls"][0].update(action="SCMP_ACT_NOTIFY"), ["linux.seccomp.listenerPath"]),
])
def test_seccomp_bad_input_rejected(orun, bundle, change, needles):
    seccomp(bundle, syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}])
    change(bundle.config["linux"]["seccomp"])
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, *needles)
    assert_nothing_created(orun, r.cid)


def test_seccomp_notify(orun, bundle, tmp_path):
    """SCMP_ACT_NOTIFY: the agent on listenerPath receives the listener fd and the
    ContainerProcessState, answers notifications, and the container sees the answers:
    getpid gets a made-up value, uname continues to the kernel, mkdir gets an errno."""
    nums = syscall_numbers()
    need({"getpid", "uname", "mkdir", "mkdirat"} <= set(nums), "kernel headers with syscall numbers")
    answers = {nums["getpid"]: value_answer(4242), nums["uname"]: CONTINUE,
               nums["mkdir"]: errno_answer(errno.EDQUOT), nums["mkdirat"]: errno_answer(errno.EDQUOT)}
    path = tmp_path / "agent.sock"
    seccomp(bundle, listenerPath=str(path), listenerMetadata="meta-42", syscalls=[
        {"names": ["getpid", "uname", "mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}])
    pidfile = tmp_path / "pid"
    with NotifyAgent(path, lambda nr, args: answers.get(nr, CONTINUE)) as agent:
        bundle.set_args("sh", "-c", 'echo "pid=$$"; echo "uname=$(uname -s)"; mkdir /dev/d 2>&1; '
                                    'ls -d /dev/d 2>/dev/null || echo "dir=none"')
        r = orun.run(bundle, None, "--pid-file", pidfile)
        assert r.returncode == 0, r.stderr
        assert agent.got_state.wait(10)
    assert not agent.errors, agent.errors
    f = facts(r.stdout)
    assert f.get("pid") == "4242", r.stdout
    assert f.get("uname") == "Linux", r.stdout
    assert os.strerror(errno.EDQUOT) in r.stdout and f.get("dir") == "none", r.stdout
    seen = {nr for nr, _ in agent.seen}
    assert nums["getpid"] in seen and nums["uname"] in seen, agent.seen

    st = agent.state
    assert st["ociVersion"].startswith("1."), st
    assert st["fds"] == ["seccompFd"] and agent.nfds == 1, (st, agent.nfds)
    assert st["pid"] == int(pidfile.read_text()), st
    assert st.get("metadata") == "meta-42", st
    assert st["state"]["id"] == r.cid, st
    assert st["state"]["pid"] == st["pid"], st
    assert st["state"]["bundle"] == os.path.realpath(bundle.path), st
    # notifications come from the container's processes, seen by their host pids
    assert st["pid"] in {pid for _, pid in agent.seen}, agent.seen


def test_seccomp_notify_agent_missing(orun, bundle, tmp_path):
    """listenerPath with nobody listening: create fails naming the field, nothing is left."""
    seccomp(bundle, listenerPath=str(tmp_path / "nobody.sock"),
            syscalls=[{"names": ["getpid"], "action": "SCMP_ACT_NOTIFY"}])
    bundle.set_args("true")
    r = orun.create(bundle)
    assert_one_line_error(r, "linux.seccomp.listenerPath")
    assert_nothing_created(orun, r.cid)


def test_seccomp_loaded_last(orun, bundle):
    """With noNewPrivileges the filter is loaded after the runtime's own setresuid/setgroups/capset,
    so a profile refusing them still lets a non-root container start (as runc)."""
    seccomp(bundle, syscalls=[{"names": ["setresuid", "setresgid", "setuid", "setgid", "setgroups",
                                         "capset", "prctl", "setreuid", "setregid"],
                               "action": "SCMP_ACT_ERRNO"}])
    bundle.process["noNewPrivileges"] = True
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5]}
    bundle.process["capabilities"] = {k: ["CAP_KILL"] for k in ("bounding", "permitted", "effective")}
    r = sh(orun, bundle, 'echo "id=$(id -u):$(id -g):$(id -G)"; grep -E "^(CapBnd|Seccomp):" /proc/self/status')
    assert facts(r.stdout)["id"] == "1000:1000:1000 5", r.stdout
    assert re.search(r"(?m)^CapBnd:\s+0000000000000020$", r.stdout), r.stdout  # CAP_KILL only
    assert re.search(r"(?m)^Seccomp:\s+2$", r.stdout), r.stdout


# ---- file descriptors ----

def test_leaked_fds_do_not_reach_the_container(orun, bundle, tmp_path):
    """fds above 2 that the caller forgot to close (a file, a directory, a pipe) are not in the
    container's process, with run or with create + start."""
    bundle.set_args("ls", "/proc/self/fd")
    bundle.write()
    leak = f"exec 5</etc/hostname 7<{tmp_path} 9<>{tmp_path}/rw 6<&0;"
    cid = orun.new_id()
    r = wrapped(orun, leak, "run", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    # ls's own directory fd is 3; nothing else above 2
    assert sorted(int(x) for x in r.stdout.split()) == [0, 1, 2, 3], r.stdout

    cid = orun.new_id()
    out = tmp_path / "out"
    r = wrapped(orun, leak + f" exec >{out};", "create", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    orun.state_json(cid)
    assert orun.start(cid).returncode == 0
    _wait_stopped(orun, cid)
    assert sorted(int(x) for x in out.read_text().split()) == [0, 1, 2, 3], out.read_text()
    orun.delete(cid)


def _wait_stopped(orun, cid, tries=200):
    import time
    for _ in range(tries):
        st = orun.state_json(cid)
        if st["status"] == "stopped":
            return
        time.sleep(0.05)
    raise AssertionError(f"container {cid} did not stop")


def test_preserve_fds(orun, bundle, tmp_path):
    """--preserve-fds N passes exactly fds 3..3+N-1, still open on the same files."""
    for i in range(3):
        (tmp_path / f"f{i}").write_text(f"content{i}\n")
    bundle.set_args("sh", "-c", LIST_FDS + 'cat <&3; cat <&4; '
                                'cat <&5 2>/dev/null || echo "fd5=closed"')
    bundle.write()
    cid = orun.new_id()
    r = wrapped(orun, f"exec 3<{tmp_path}/f0 4<{tmp_path}/f1 5<{tmp_path}/f2 8<{tmp_path};",
                "run", "--preserve-fds", "2", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    assert fd_list(r.stdout) == [0, 1, 2, 3, 4], r.stdout
    assert "content0" in r.stdout and "content1" in r.stdout and "content2" not in r.stdout, r.stdout
    assert facts(r.stdout).get("fd5") == "closed", r.stdout


def test_preserve_fds_not_open_is_an_error(orun, bundle):
    bundle.set_args("true")
    bundle.write()
    cid = orun.new_id()
    r = wrapped(orun, "exec 3</dev/null;", "create", "--preserve-fds", "3", "--bundle", bundle.path, cid)
    assert_one_line_error(r, "--preserve-fds")
    assert_nothing_created(orun, cid)


def test_socket_activation(orun, bundle, tmp_path):
    """LISTEN_FDS/LISTEN_PID naming orun's pid: fds 3.. are passed on (before --preserve-fds ones)
    and the container gets LISTEN_FDS=N and LISTEN_PID=1, as runc."""
    for i in range(3):
        (tmp_path / f"f{i}").write_text(f"content{i}\n")
    bundle.set_args("sh", "-c", LIST_FDS + 'echo "LISTEN_FDS=$LISTEN_FDS"; echo "LISTEN_PID=$LISTEN_PID"; '
                                'cat <&3; cat <&4; cat <&5')
    bundle.write()
    cid = orun.new_id()
    files = f"exec 3<{tmp_path}/f0 4<{tmp_path}/f1 5<{tmp_path}/f2 7<{tmp_path};"
    r = wrapped(orun, files + " export LISTEN_FDS=2 LISTEN_PID=$$;",
                "run", "--preserve-fds", "1", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    f = facts(r.stdout)
    assert fd_list(r.stdout) == [0, 1, 2, 3, 4, 5], r.stdout
    assert f.get("LISTEN_FDS") == "2" and f.get("LISTEN_PID") == "1", r.stdout
    assert all(f"content{i}" in r.stdout for i in range(3)), r.stdout

    # LISTEN_PID of another process: the variables are not for orun, nothing is passed
    bundle.set_args("sh", "-c", LIST_FDS + 'echo "LISTEN_FDS=${LISTEN_FDS-unset}"')
    bundle.write()
    cid = orun.new_id()
    r = wrapped(orun, files + " export LISTEN_FDS=2 LISTEN_PID=1;", "run", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    assert fd_list(r.stdout) == [0, 1, 2], r.stdout
    assert facts(r.stdout).get("LISTEN_FDS") == "unset", r.stdout


def test_cwd_through_leaked_fd_cve_2024_21626(orun, bundle, tmp_path):
    """process.cwd = /proc/self/fd/N, for every small N, with a host directory leaked as fd 7:
    either refused (naming process.cwd) or the process is somewhere inside the container; it
    never runs in a host directory (CVE-2024-21626)."""
    host_dir = tmp_path / "hostdir"
    host_dir.mkdir()
    (host_dir / "HOST_MARKER").write_text("host\n")
    # getcwd (pwd -P) says "(unreachable)/..." for a directory outside the process's root
    bundle.set_args("sh", "-c", "pwd -P; ls")
    escaped, refused_badly = [], []
    for n in range(3, 13):
        bundle.process["cwd"] = f"/proc/self/fd/{n}"
        bundle.write()
        cid = orun.new_id()
        r = wrapped(orun, f"exec 7<{host_dir};", "run", "--bundle", bundle.path, cid)
        if "HOST_MARKER" in r.stdout or (r.returncode == 0 and not r.stdout.startswith("/")) \
                or "unreachable" in r.stdout:
            escaped.append(f"fd {n}: exit {r.returncode}, output {r.stdout!r}")
        elif r.returncode != 0 and "process.cwd" not in r.stderr:
            refused_badly.append(f"fd {n}: {r.stderr.strip()}")
    assert not escaped, "the container's cwd was outside its root:\n" + "\n".join(escaped)
    assert not refused_badly, "refused without naming process.cwd:\n" + "\n".join(refused_badly)


def test_runtime_binary_not_reachable_cve_2019_5736(orun, bundle, orun_bin, tmp_path):
    """While the container is being set up, its init runs orun from a read-only, detached clone of
    the binary's mount (or, where mounts cannot be cloned, a sealed memfd copy), not from the host
    file's own mount; a process in the container that grabs /proc/1/exe then writes to it after
    the runtime left cannot change the host binary; nor can a "#!/proc/self/exe" entrypoint."""
    with open(orun_bin, "rb") as f:
        before = hashlib.sha256(f.read()).hexdigest()

    # 1. during `create`, /proc/<init>/exe is the read-only clone (its path is "/": the clone's
    # root is the file itself and it is attached nowhere). Root can clone mounts on this kernel, so
    # orun's entry made it before glibc started, not ensure_sealed_exe()'s memfd fallback.
    bundle.set_args("true")
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    pid = orun.state_json(r.cid)["pid"]
    exe = os.readlink(f"/proc/{pid}/exe")
    assert exe != os.path.realpath(orun_bin), exe
    assert not exe.startswith("/memfd:"), exe
    assert os.statvfs(f"/proc/{pid}/exe").f_flag & os.ST_RDONLY, exe
    assert orun.delete(r.cid, force=True).returncode == 0

    # 2. a startContainer hook (in the container, while the init is still orun) keeps an fd on
    # /proc/1/exe and, once the init has become the user's process, reopens it for writing.
    # The hook takes the fd and the link itself (the init waits for it); a background child keeps
    # fd 3 and waits for the exec.
    attacker = ('i=0; while [ "$(readlink /proc/1/exe)" = "$(cat /dev/exe-link)" ] && [ $i -lt 200 ]; do '
                'sleep 0.05; i=$((i+1)); done; '
                # ETXTBSY only lasts while some orun still runs the same file (with the mount
                # clone, the inode is the host's): retry past it, so the refusal that counts is
                # the lasting one (the unprotected case would end in "written").
                'j=0; while :; do if echo PWNED 2>/dev/attack-err >> /proc/self/fd/3; then echo written; break; fi; '
                'if grep -q "Text file busy" /dev/attack-err && [ $j -lt 100 ]; then sleep 0.05; j=$((j+1)); '
                'else echo refused; break; fi; done > /dev/attack; '
                'touch /dev/attack-done')
    bundle.config["hooks"] = {"startContainer": [{
        "path": "/bin/sh", "env": ["PATH=/bin:/usr/bin:/sbin:/usr/sbin"],
        "args": ["sh", "-c", "exec 3</proc/1/exe; readlink /proc/1/exe > /dev/exe-link; "
                 f"setsid sh -c '{attacker}' </dev/null >/dev/null 2>&1 &"]}]}
    # create + start: the lasting refusal must come from the read-only mount (or the seals), not
    # from ETXTBSY (the unprotected case would succeed once no orun runs the file).
    bundle.set_args("sh", "-c", 'i=0; while [ ! -e /dev/attack-done ] && [ $i -lt 200 ]; do sleep 0.05; '
                                'i=$((i+1)); done; echo "link=$(cat /dev/exe-link)"; '
                                'echo "attack=$(cat /dev/attack)"; echo "why=$(cat /dev/attack-err)"')
    out = tmp_path / "out"
    with open(out, "w") as fh:
        r = orun.create(bundle, None, stdout=fh)
    assert r.returncode == 0, r.stderr
    assert orun.start(r.cid).returncode == 0
    _wait_stopped(orun, r.cid)
    f = facts(out.read_text())
    assert f.get("link") and f["link"] != os.path.realpath(orun_bin), out.read_text()
    assert f.get("attack") == "refused", out.read_text()
    assert "Read-only file system" in f.get("why", "") or "not permitted" in f.get("why", ""), out.read_text()
    orun.delete(r.cid)

    # 3. "#!/proc/self/exe" as the entrypoint runs the runtime's protected copy, not the host file
    with open(os.path.join(bundle.rootfs, "entry.sh"), "w") as fh:
        fh.write("#!/proc/self/exe\n")
    os.chmod(os.path.join(bundle.rootfs, "entry.sh"), 0o755)
    bundle.config.pop("hooks")
    bundle.set_args("/entry.sh")
    orun.run(bundle)  # whatever orun does with these arguments, it must not touch its host binary

    with open(orun_bin, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == before, "the host orun binary changed"


def test_runtime_binary_copied_where_its_mount_cannot_be_cloned(orun, bundle, orun_bin):
    """Where orun's entry cannot clone the binary's mount (here: orun is started through an fd
    opened in another mount namespace, so the mount is not ours; rootless and kernels before 5.12
    are the other cases), the init runs from a sealed memfd copy instead. The clone's marker
    variable reaches no container."""
    bundle.set_args("sleep", "60")
    bundle.write()
    cid = orun.new_id()
    # "$1" is orun's path: opened as fd 9 here, executed in a new mount namespace through the fd.
    r = wrapped(orun, 'exec 9<"$1"; shift; set -- unshare -m -- /proc/self/fd/9 "$@";',
                "create", "--bundle", bundle.path, cid)
    assert r.returncode == 0, r.stderr
    pid = orun.state_json(cid)["pid"]
    assert os.readlink(f"/proc/{pid}/exe").startswith("/memfd:orun"), os.readlink(f"/proc/{pid}/exe")
    assert orun.delete(cid, force=True).returncode == 0

    # the clone's marker never reaches the container
    bundle.set_args("sh", "-c", "echo marker=${_ORUN_CLONED_EXE:-none}")
    r = orun.run(bundle)
    assert r.returncode == 0 and facts(r.stdout).get("marker") == "none", r.stdout + r.stderr


# ---- bad process input ----

@pytest.mark.parametrize("verb", ["run", "create"])
@pytest.mark.parametrize("what,status", [("missing", 127), ("not_executable", 126), ("directory", 126),
                                         ("missing_in_path", 127)])
def test_bad_executable(orun, bundle, verb, what, status):
    """A missing executable exits 127, one that cannot be executed 126, from run and from create,
    with a one-line error naming it; nothing is left behind (the orun fixture checks)."""
    plain = os.path.join(bundle.rootfs, "plain.txt")
    with open(plain, "w") as f:
        f.write("not a program\n")
    os.chmod(plain, 0o644)
    name = {"missing": "/no/such/prog", "not_executable": "/plain.txt", "directory": "/etc",
            "missing_in_path": "no-such-prog"}[what]
    bundle.set_args(name, "arg")
    r = orun.run(bundle) if verb == "run" else orun.create(bundle)
    assert r.returncode == status, f"exit {r.returncode}: {r.stderr}"
    assert_one_line_error(r, name)
    assert_nothing_created(orun, r.cid)


def test_empty_args_rejected(orun, bundle):
    bundle.set_args()
    r = orun.create(bundle)
    assert_one_line_error(r, "process.args")
    assert_nothing_created(orun, r.cid)

