"""podman 4.3 (via conmon) with orun as its runtime: what a podman user does every day.

podman calls `orun --log-format=json --log F create --bundle B --pid-file P [--console-socket S] ID`,
`start`, `exec --process F --detach [--tty --console-socket S]`, `kill ID 15`, `delete --force`,
`pause`, `resume`, `update --resources=FILE` (see "What real engines call" in ARCHITECTURE.md)."""
import fcntl
import os
import pty
import struct
import subprocess
import termios

from orun import wait_for

from engines import IMAGE, cgroup_file, frozen

# A container that stays up until SIGTERM, then exits 7: the status proves the signal reached it.
SERVE = ["sh", "-c", "trap 'exit 7' TERM; sleep 1000 & wait"]


def ok(r):
    assert r.returncode == 0, f"{r.args} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def inspect(podman, name, fmt):
    return ok(podman("inspect", "--format", fmt, name)).stdout.strip()


# The shell's own fds, one a line (`true` keeps sh from exec'ing ls in its place; no $(...), whose
# pipe would be one of them).
FDS = "ls /proc/$$/fd; true"


def test_run_rm_stdio_and_exit_status(podman):
    """create+start with conmon's pipes as the container's stdio and none of the fds conmon and
    podman leak into orun; the exit status comes back."""
    r = podman("run", "--rm", "-i", IMAGE, "sh", "-c", f"echo out:$(cat); {FDS}; echo err >&2; exit 3",
               input="from-stdin")
    assert r.returncode == 3, r
    assert r.stdout == "out:from-stdin\n0\n1\n2\n"
    assert "err" in r.stderr
    assert podman.containers() == []


def test_detached_exec_stop_rm(podman):
    ok(podman("run", "-d", "--name", "web", IMAGE, *SERVE))
    assert inspect(podman, "web", "{{.State.Status}}") == "running"
    pid = int(inspect(podman, "web", "{{.State.Pid}}"))
    # The exec'd process shares the init's pid namespace (sees it as pid 1) and its cgroup.
    r = ok(podman("exec", "web", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; cat /proc/self/cgroup"))
    assert r.stdout.splitlines()[0].startswith("sh -c trap")
    with open(f"/proc/{pid}/cgroup") as f:
        assert sorted(r.stdout.splitlines()[1:]) == sorted(f.read().splitlines())
    r = podman("exec", "web", "sh", "-c", f"{FDS}; exit 4")
    assert (r.returncode, r.stdout) == (4, "0\n1\n2\n")
    ok(podman("stop", "-t", "30", "web"))
    assert inspect(podman, "web", "{{.State.ExitCode}}") == "7"
    assert not os.path.exists(f"/proc/{pid}")
    ok(podman("rm", "web"))
    assert podman.containers() == []


def in_pty(argv, env, rows=33, cols=111, timeout=60):
    """Run argv with a pty of rows x cols as its terminal; returns (exit status, bytes it printed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every holder of the slave side is gone
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.wait(timeout=timeout), out.decode(errors="replace")


def test_exec_and_run_tty(podman):
    """exec -it and run -it: orun hands conmon the pty master over the console socket; podman resizes it to the
    user's terminal, and the exec'd process's status comes back. (podman sends the size after the
    exec has started, with no consoleSize in process.json: the script waits for it.)"""
    ok(podman("run", "-d", "--name", "tty", IMAGE, *SERVE))
    script = ("tty; for i in $(seq 200); do s=$(stty size 2>/dev/null) && [ \"$s\" != '0 0' ] && break;"
              " sleep 0.05; done; echo $s; exit 5")
    status, out = in_pty(podman.command("exec", "-it", "tty", "sh", "-c", script), podman.env)
    assert status == 5, out
    # \r\n: the output went through a terminal's line discipline, not a pipe.
    assert "/dev/pts/0\r\n33 111\r\n" in out
    ok(podman("rm", "-f", "-t", "0", "tty"))
    # run -it: the console socket of `create` (the container's init on the pty).
    status, out = in_pty(podman.command("run", "--rm", "-it", IMAGE, "sh", "-c", script), podman.env)
    assert status == 5, out
    assert "/dev/pts/0\r\n33 111\r\n" in out


def test_memory_and_pids_limits_seen_inside(podman):
    # v1 (this hybrid host) or v2 names; orun mounts the container's own cgroup at /sys/fs/cgroup.
    script = ("cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max;"
              "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max")
    r = ok(podman("run", "--rm", "--memory", "64m", "--pids-limit", "50", IMAGE, "sh", "-c", script))
    assert r.stdout.split() == [str(64 << 20), "50"]


def test_missing_executable_reaches_the_user(podman):
    """orun's error goes to its JSON --log; podman reads it back and shows it, with podman's
    'command not found' exit status 127."""
    r = podman("run", "--rm", IMAGE, "/no/such/program")
    assert r.returncode == 127, r
    assert 'orun: exec: "/no/such/program": no such file or directory' in r.stderr
    assert podman.containers() == []


def test_device_and_privileged(podman):
    """--device and --privileged hand orun linux.devices with the host's st_mode as fileMode, file
    type bits included (orun refused them before); the node must be usable (device cgroup)."""
    st = os.stat("/dev/fuse")
    want = f"character special file:{os.major(st.st_rdev):x}:{os.minor(st.st_rdev):x}:{st.st_mode & 0o7777:o}"
    script = "stat -c %F:%t:%T:%a /dev/fuse; exec 3</dev/fuse && echo opened"
    for flags in (["--device", "/dev/fuse"], ["--privileged"]):
        r = ok(podman("run", "--rm", *flags, IMAGE, "sh", "-c", script))
        assert r.stdout.splitlines() == [want, "opened"], flags


def test_pause_unpause(podman, tmp_path):
    """pause freezes the container's cgroup, unpause thaws it and a counter the container writes to
    a bind-mounted file moves again; podman's state follows."""
    counter = tmp_path / "n"
    counter.write_text("0")
    ok(podman("run", "-d", "--name", "pz", "-v", f"{tmp_path}:/out", IMAGE, "sh", "-c",
              "i=0; while :; do i=$((i+1)); echo $i > /out/n.tmp; mv /out/n.tmp /out/n; sleep 0.01; done"))
    pid = int(inspect(podman, "pz", "{{.State.Pid}}"))

    def count():
        return int(counter.read_text() or 0)

    first = count()
    wait_for(lambda: count() > first, "the counter to move")
    ok(podman("pause", "pz"))
    assert frozen(pid)
    assert inspect(podman, "pz", "{{.State.Status}}") == "paused"
    stopped = count()
    ok(podman("unpause", "pz"))
    assert not frozen(pid)
    wait_for(lambda: count() > stopped, "the counter to move after unpause")
    assert inspect(podman, "pz", "{{.State.Status}}") == "running"
    ok(podman("rm", "-f", "-t", "0", "pz"))


def test_update_resources(podman):
    """podman update (orun update --resources FILE) changes the limits of a running container."""
    ok(podman("run", "-d", "--name", "up", "--memory", "64m", IMAGE, *SERVE))
    pid = int(inspect(podman, "up", "{{.State.Pid}}"))
    ok(podman("update", "--memory", "96m", "up"))
    with open(cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max")) as f:
        assert int(f.read()) == 96 << 20
    # The container keeps running and sees the new limit from inside.
    r = ok(podman("exec", "up", "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null"
                  " || cat /sys/fs/cgroup/memory.max"))
    assert int(r.stdout) == 96 << 20
    ok(podman("rm", "-f", "-t", "0", "up"))
