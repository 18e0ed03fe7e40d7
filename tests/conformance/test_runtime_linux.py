"""runtime-linux.md (OCI runtime spec v1.2): file descriptors and /dev symbolic links. One test per
statement, quoted in the docstring."""
import os
import subprocess

from oci import facts, sh


def test_only_stdio_kept_open(orun, bundle, tmp_path):
    """By default, only the stdin, stdout and stderr file descriptors are kept open for the application by
    the runtime."""
    bundle.set_args("sh", "-c", "ls /proc/self/fd")  # ls's own fds: 0-2 and the directory it reads
    bundle.write()
    # Callers leak descriptors into the runtime (podman, containerd): none may reach the container.
    leaked = [os.open("/dev/null", os.O_RDONLY) for _ in range(3)]
    with open(tmp_path / "leak", "w") as extra:
        try:
            cid = orun.new_id()
            out = tmp_path / "out"
            with open(out, "w") as f:
                r = subprocess.run([orun.binary, "--root", orun.root, "run", "--bundle", bundle.path, cid],
                                   stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.PIPE, timeout=60,
                                   pass_fds=leaked + [extra.fileno()])
            assert r.returncode == 0, r.stderr
        finally:
            for fd in leaked:
                os.close(fd)
    fds = sorted(int(x) for x in out.read_text().split())
    assert fds[:3] == [0, 1, 2] and len(fds) <= 4, f"open in the container: {fds}"


def test_dev_symlinks(orun, bundle):
    """While creating the container (step 2 in the lifecycle), runtimes MUST create the following symlinks
    if the source file exists after processing mounts: /proc/self/fd -> /dev/fd, /proc/self/fd/0 ->
    /dev/stdin, /proc/self/fd/1 -> /dev/stdout, /proc/self/fd/2 -> /dev/stderr."""
    r = sh(orun, bundle, "for l in fd stdin stdout stderr; do echo $l=$(readlink /dev/$l); done")
    assert facts(r.stdout) == {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
                               "stderr": "/proc/self/fd/2"}, r.stdout


def test_dev_symlinks_work_after_proc_is_mounted(orun, bundle):
    """... if the source file exists after processing mounts: the links resolve once /proc is mounted."""
    # (Not /dev/stdout: our stdout is a file, and reopening it would write at offset 0.)
    r = sh(orun, bundle, "echo via-stdin | cat /dev/stdin; ls /dev/fd/ | head -1")
    assert r.stdout.splitlines() == ["via-stdin", "0"], r.stdout
