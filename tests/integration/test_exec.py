"""orun exec: the new process joins every namespace and the cgroup of the container, goes through the
init's security steps (capabilities, rlimits, no_new_privs, seccomp, sealed fds, the cwd check), and
gives back its exit status; runc's flags, checked from inside real containers."""
import json
import os
import re
import subprocess
import sys

from helpers_cgroups import start_running
from helpers_console import ConsoleSocket, read_until_closed
from helpers_ctr import host_ns
from orun import facts, wait_for

CAP_SYS_ADMIN = 21


def status_fields(text):
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"(?m)^(\w+):\s*(.*)$", text)}


def test_exec_joins_every_namespace_and_the_cgroup(orun, bundle):
    bundle.config["linux"]["namespaces"].append({"type": "cgroup"})
    cid, pid = start_running(orun, bundle, "exec sleep 1000")
    r = orun.cmd("exec", cid, "sh", "-c",
                 "for n in cgroup ipc mnt net pid uts; do echo $n=$(readlink /proc/self/ns/$n); done;"
                 " echo cg=$(cat /proc/self/cgroup | tr '\\n' ' '); echo cg1=$(cat /proc/1/cgroup | tr '\\n' ' ');"
                 " echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline); echo host=$(hostname)")
    assert r.returncode == 0, r.stderr
    f = facts(r.stdout)
    for n in ["cgroup", "ipc", "mnt", "net", "pid", "uts"]:
        assert f[n] == host_ns(n, pid), n
    assert f["pid1"] == "sleep 1000"  # the container's pid 1, seen from its pid namespace
    assert f["cg"] == f["cg1"] and "0::/" in f["cg"]
    assert f["host"] == bundle.config["hostname"]


def test_exec_exit_status(orun, bundle):
    cid, _ = start_running(orun, bundle, "exec sleep 1000")
    assert orun.cmd("exec", cid, "sh", "-c", "exit 7").returncode == 7
    assert orun.cmd("exec", cid, "sh", "-c", "kill -9 $$").returncode == 137
    r = orun.cmd("exec", cid, "no-such-program")
    assert r.returncode == 127 and "no-such-program" in r.stderr, r.stderr
    assert orun.cmd("exec", cid, "/etc/passwd").returncode == 126


def test_exec_flags_cwd_env_user_groups(orun, bundle):
    cid, _ = start_running(orun, bundle, "exec sleep 1000")
    r = orun.cmd("exec", "--cwd", "/dev", "--env", "FOO=bar", "-e", "PATH=/bin", "--user", "1000:1001",
                 "--additional-gids", "10", "-g", "20", cid,
                 "sh", "-c", "echo cwd=$(pwd); echo foo=$FOO; echo path=$PATH; echo id=$(id -u):$(id -g);"
                             " echo groups=$(id -G)")
    assert r.returncode == 0, r.stderr
    f = facts(r.stdout)
    assert f["cwd"] == "/dev" and f["foo"] == "bar" and f["path"] == "/bin"
    assert f["id"] == "1000:1001"
    assert set(f["groups"].split()) == {"1001", "10", "20"}


def test_exec_process_file(orun, bundle, tmp_path):
    cid, _ = start_running(orun, bundle, "exec sleep 1000")
    process = {"args": ["sh", "-c", "echo u=$(id -u); echo e=$E; echo cwd=$(pwd)"], "cwd": "/proc",
               "env": ["E=from-file", "PATH=/bin:/usr/bin"], "user": {"uid": 5, "gid": 5}}
    path = tmp_path / "process.json"
    path.write_text(json.dumps(process))
    f = facts(orun.cmd("exec", "--process", str(path), cid, check=True).stdout)
    assert f == {"u": "5", "e": "from-file", "cwd": "/proc"}
    # The same on stdin, as containerd's shim hands it over.
    f = facts(orun.cmd("exec", "--process", "-", cid, input=json.dumps(process), check=True).stdout)
    assert f["e"] == "from-file"
    bad = orun.cmd("exec", "--process", "-", cid, input=json.dumps({"args": "sh"}))
    assert bad.returncode != 0 and "args" in bad.stderr, bad.stderr


def test_exec_caps_no_new_privs_rlimits_and_seccomp_of_the_container(orun, bundle):
    bundle.process["noNewPrivileges"] = False
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 200, "soft": 100}]
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]}
    cid, _ = start_running(orun, bundle, "exec sleep 1000")
    probe = ("cat /proc/self/status; echo nofile=$(ulimit -n);"
             " mkdir /dev/x 2>/dev/null && echo mkdir=ok || echo mkdir=refused")
    plain = orun.cmd("exec", cid, "sh", "-c", probe, check=True).stdout
    s = status_fields(plain)
    assert not int(s["CapEff"], 16) & (1 << CAP_SYS_ADMIN) and not int(s["CapBnd"], 16) & (1 << CAP_SYS_ADMIN)
    assert s["NoNewPrivs"] == "0"
    assert s["Seccomp"] == "2"
    assert facts(plain)["nofile"] == "100"
    assert facts(plain)["mkdir"] == "refused"
    more = status_fields(orun.cmd("exec", "--cap", "CAP_SYS_ADMIN", "--no-new-privs", cid, "sh", "-c", probe,
                                  check=True).stdout)
    assert int(more["CapEff"], 16) & (1 << CAP_SYS_ADMIN) and int(more["CapBnd"], 16) & (1 << CAP_SYS_ADMIN)
    assert more["NoNewPrivs"] == "1"
    r = orun.cmd("exec", "--cap", "CAP_NO_SUCH", cid, "true")
    assert r.returncode != 0 and "CAP_NO_SUCH" in r.stderr, r.stderr


def run_exec(orun, *args, pass_fd=None):
    """orun exec with `pass_fd` leaked to orun as fd 3 and under its own number, as engines leak fds."""
    argv = [orun.binary, "--root", orun.root, "exec", *args]
    if pass_fd is not None:
        argv = [sys.executable, "-c", "import os, sys; os.dup2(int(sys.argv[1]), 3); os.execv(sys.argv[2], sys.argv[2:])",
                str(pass_fd), *argv]
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                          pass_fds=(pass_fd,) if pass_fd is not None else ())


def test_exec_seals_leaked_fds_unless_preserved(orun, bundle):
    cid, _ = start_running(orun, bundle, "exec sleep 1000")
    rd, wr = os.pipe()
    try:
        # The shell's own test builtin, so that no pipe or child of the shell holds an fd meanwhile.
        r = run_exec(orun, cid, "sh", "-c", f"for fd in 3 {wr}; do [ -e /proc/self/fd/$fd ] && echo leaked=$fd; done; true",
                     pass_fd=wr)
        assert r.returncode == 0, r.stderr
        assert "leaked" not in r.stdout, r.stdout
        r = run_exec(orun, "--preserve-fds", "1", cid, "sh", "-c", "echo through-fd3 >&3", pass_fd=wr)
        assert r.returncode == 0, r.stderr
        os.close(wr)
        wr = None
        assert os.read(rd, 100) == b"through-fd3\n"
    finally:
        os.close(rd)
        if wr is not None:
            os.close(wr)


def test_exec_cwd_through_a_leaked_host_fd_is_refused(orun, bundle):
    """CVE-2024-21626: a working directory reached through an fd of the host must not be entered."""
    cid, _ = start_running(orun, bundle, "exec sleep 1000")
    host_dir = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    try:
        for n in (3, host_dir):
            r = run_exec(orun, "--cwd", f"/proc/self/fd/{n}", cid, "sh", "-c", "echo escaped; ls", pass_fd=host_dir)
            assert r.returncode != 0 and "escaped" not in r.stdout, (n, r.stdout, r.stderr)
    finally:
        os.close(host_dir)


SUBREAPER = r"""
import ctypes, os, subprocess, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER, as conmon and the shim
rc = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL).returncode
pid = int(open(sys.argv[1]).read())
ppid = int(next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("PPid:")))
ns = os.readlink(f"/proc/{pid}/ns/pid")
os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
print(f"rc={rc}\nparent_is_us={ppid == os.getpid()}\nns={ns}\nreaped={os.WIFSIGNALED(status)}")
"""


def test_exec_detach_leaves_the_process_to_the_callers_subreaper(orun, bundle, tmp_path):
    cid, pid = start_running(orun, bundle, "exec sleep 1000")
    pid_file = tmp_path / "exec.pid"
    r = subprocess.run([sys.executable, "-c", SUBREAPER, str(pid_file), orun.binary, "--root", orun.root, "exec",
                        "--detach", "--pid-file", str(pid_file), cid, "sleep", "1000"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    f = facts(r.stdout)
    assert f == {"rc": "0", "parent_is_us": "True", "ns": host_ns("pid", pid), "reaped": "True"}


def test_exec_tty_gets_a_pty_through_the_console_socket(orun, bundle, tmp_path):
    cid, _ = start_running(orun, bundle, "exec sleep 1000")
    with ConsoleSocket(tmp_path / "console.sock") as cs:
        p = subprocess.Popen([orun.binary, "--root", orun.root, "exec", "--tty", "--console-socket", cs.path, cid,
                              "sh", "-c", "tty; exit 3"], stdin=subprocess.DEVNULL)
        master = cs.master()
        try:
            out = read_until_closed(master, proc=p).decode(errors="replace")
        finally:
            os.close(master)
        assert p.wait(timeout=30) == 3
    assert re.search(r"/dev/pts/\d+\r\n", out), out  # \r\n: written through a terminal


def test_exec_into_a_stopped_container_is_an_error(orun, bundle):
    cid, _ = start_running(orun, bundle, "true")
    wait_for(lambda: orun.state_json(cid)["status"] == "stopped", "the container to stop")
    r = orun.cmd("exec", cid, "true")
    assert r.returncode != 0 and "stopped" in r.stderr, r.stderr
    r = orun.cmd("exec", "no-such-container", "true")
    assert r.returncode != 0 and "no-such-container" in r.stderr, r.stderr


def test_exec_lsm_flags_without_the_lsm_are_errors(orun, bundle):
    cid, _ = start_running(orun, bundle, "exec sleep 1000")
    for flag, value in (("--apparmor", "some-profile"), ("--process-label", "system_u:system_r:container_t:s0")):
        r = orun.cmd("exec", flag, value, cid, "true")
        assert r.returncode != 0, (flag, r.stdout)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_exec_from_a_container_created_in_a_chroot_lands_in_its_rootfs(orun, bundle, tmp_path):
    # setns(mnt) sets the caller's root to the mount namespace's root, which is the host's / when
    # create ran in a chroot (a build root, a test harness): exec must take the init's root instead.
    chroot_dir = tmp_path / "host-root"
    chroot_dir.mkdir()
    with open(os.path.join(bundle.rootfs, "marker"), "w") as f:
        f.write("inside\n")
    bundle.set_args("sh", "-c", "exec sleep 1000")
    wrapper = tmp_path / "orun-in-chroot"
    wrapper.write_text(f"#!/bin/sh\nexec unshare -m sh -c 'mount --rbind / {chroot_dir} && exec chroot {chroot_dir} "
                       f"{orun.binary} \"$@\"' sh \"$@\"\n")
    wrapper.chmod(0o755)
    host_binary, orun.binary = orun.binary, str(wrapper)
    try:
        r = orun.create(bundle)
    finally:
        orun.binary = host_binary
    assert r.returncode == 0, r.stderr
    assert orun.start(r.cid).returncode == 0
    out = orun.cmd("exec", r.cid, "sh", "-c", f"cat /marker; test -e {tmp_path} && echo host-visible; cat /proc/1/cmdline")
    assert out.returncode == 0, out.stderr
    assert out.stdout.replace("\0", " ").split("\n")[:2] == ["inside", "sleep 1000 "], out.stdout
