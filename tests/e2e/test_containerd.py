"""containerd 1.6 through ctr and the io.containerd.runc.v2 shim with BinaryName (ctr --runc-binary)
set to orun: the path docker and Kubernetes (CRI) take too.

The shim calls orun with `--root R --log B/log.json --log-format json` before every verb:
`create --bundle B --pid-file P`, `start`, `exec --process F --detach --pid-file P`, `kill [--all]`,
`ps --format json`, `pause`, `resume`, `update --resources -`, `delete [--force]`.
`ctr run` without a tty needs its stdin from /dev/null (engines.run does that)."""
import subprocess

from orun import wait_for

from engines import IMAGE, cgroup_file, frozen

SERVE = ["sh", "-c", "trap 'exit 7' TERM; sleep 1000 & wait"]


def ok(r):
    assert r.returncode == 0, f"{r.args} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def tasks(ctr):
    """{id: (pid, status)} from `ctr task ls`."""
    lines = ok(ctr("task", "ls")).stdout.splitlines()[1:]
    return {f[0]: (int(f[1]), f[2]) for f in (line.split() for line in lines)}


def start(ctr, cid, *args, extra=()):
    ok(ctr(*ctr.run_args("-d", *extra), IMAGE, cid, *args))
    pid, status = tasks(ctr)[cid]
    assert status == "RUNNING"
    return pid


def remove(ctr, cid):
    ok(ctr("task", "delete", cid))
    ok(ctr("containers", "delete", cid))


def test_run_rm_output_and_exit_status(containerd):
    """The shim's fifos are the container's stdio, no fd the shim leaks reaches it, and ctr returns
    the init's exit status."""
    r = containerd(*containerd.run_args("--rm"), IMAGE, "hello", "sh", "-c",
                   "echo hello from orun; ls /proc/$$/fd; exit 42")
    assert r.stdout == "hello from orun\n0\n1\n2\n"
    assert r.returncode == 42, r
    assert containerd.containers() == []


def test_exec(containerd):
    pid = start(containerd, "ex", *SERVE)
    r = containerd("task", "exec", "--exec-id", "e1", "--fifo-dir", containerd.workdir + "/fifo", "ex",
                   "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; cat /proc/self/cgroup; exit 4")
    assert r.returncode == 4, r
    lines = r.stdout.splitlines()
    assert lines[0].startswith("sh -c trap")  # same pid namespace as the init
    with open(f"/proc/{pid}/cgroup") as f:
        assert sorted(lines[1:]) == sorted(f.read().splitlines())
    ok(containerd("task", "kill", "-s", "SIGKILL", "ex"))
    wait_for(lambda: tasks(containerd)["ex"][1] == "STOPPED", "the task to stop")
    remove(containerd, "ex")


def test_kill_reports_the_exit_status(containerd):
    """`ctr task kill` (orun kill ID SIGTERM) reaches the init, whose exit status the foreground
    `ctr run` returns; `kill --all` then stops every process of a second container."""
    fg = subprocess.Popen(containerd.command(*containerd.run_args("--rm"), IMAGE, "fg", *SERVE),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: tasks(containerd).get("fg", (0, ""))[1] == "RUNNING", "the task to run")
        ok(containerd("task", "kill", "-s", "SIGTERM", "fg"))
        out, err = fg.communicate(timeout=60)
    finally:
        if fg.poll() is None:
            fg.kill()
            fg.wait()
    assert fg.returncode == 7, (out, err)

    start(containerd, "all", *SERVE)
    ok(containerd("task", "kill", "--all", "-s", "SIGKILL", "all"))
    wait_for(lambda: tasks(containerd)["all"][1] == "STOPPED", "the task to stop")
    remove(containerd, "all")


def test_memory_limit(containerd):
    pid = start(containerd, "mem", "sleep", "1000", extra=("--memory-limit", str(48 << 20)))
    with open(cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max")) as f:
        assert int(f.read()) == 48 << 20
    ok(containerd("task", "kill", "-s", "SIGKILL", "mem"))
    wait_for(lambda: tasks(containerd)["mem"][1] == "STOPPED", "the task to stop")
    remove(containerd, "mem")


def test_missing_executable_reaches_the_user(containerd):
    """orun writes the error to the shim's JSON log; the shim puts its message into ctr's error."""
    r = containerd(*containerd.run_args("--rm"), IMAGE, "bad", "/no/such/program")
    assert r.returncode != 0
    assert 'exec: "/no/such/program": no such file or directory' in r.stderr
    assert containerd.containers() == []


def test_task_ps(containerd):
    """`ctr task ps` (orun ps --format json) lists exactly the processes of the container's cgroup:
    the init, its children and an exec'd process."""
    pid = start(containerd, "ps", "sh", "-c", "sleep 1000 & sleep 1000 & wait")
    ok(containerd("task", "exec", "--detach", "--exec-id", "e1", "--fifo-dir", containerd.workdir + "/fifo",
                  "ps", "sleep", "1000"))
    procs = cgroup_file(pid, "pids", "cgroup.procs", "cgroup.procs")
    wait_for(lambda: len(open(procs).read().split()) == 4, "init, two children and the exec")
    listed = ok(containerd("task", "ps", "ps")).stdout.splitlines()[1:]
    assert sorted(int(line.split()[0]) for line in listed) == sorted(map(int, open(procs).read().split()))
    assert pid in [int(line.split()[0]) for line in listed]
    ok(containerd("task", "kill", "-s", "SIGKILL", "ps"))
    wait_for(lambda: tasks(containerd)["ps"][1] == "STOPPED", "the task to stop")
    remove(containerd, "ps")


def test_pause_resume(containerd):
    pid = start(containerd, "pz", *SERVE)
    ok(containerd("task", "pause", "pz"))
    assert frozen(pid)
    assert tasks(containerd)["pz"][1] == "PAUSED"  # the shim asks `orun state`
    ok(containerd("task", "resume", "pz"))
    assert not frozen(pid)
    assert tasks(containerd)["pz"][1] == "RUNNING"
    # Thawed for real: the init handles SIGTERM and exits.
    ok(containerd("task", "kill", "-s", "SIGTERM", "pz"))
    wait_for(lambda: tasks(containerd)["pz"][1] == "STOPPED", "the task to stop")
    remove(containerd, "pz")
