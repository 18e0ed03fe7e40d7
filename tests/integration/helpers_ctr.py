"""Helpers for test_rootfs.py, test_namespaces.py, test_devices.py and test_hooks.py: run a shell
script in a container, parse mountinfo, read namespace inodes."""
import os
import re
import subprocess

from orun import facts, sh  # noqa: F401 (re-exported)


def _unescape(s):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


class MountEntry:
    def __init__(self, line):
        f = line.split()
        dash = f.index("-")
        self.id = f[0]
        self.parent = f[1]
        self.dev = f[2]
        self.root = _unescape(f[3])
        self.mountpoint = _unescape(f[4])
        self.options = set(f[5].split(","))
        self.optional = f[6:dash]
        self.fstype = f[dash + 1]
        self.source = _unescape(f[dash + 2])
        self.super_options = set(f[dash + 3].split(",")) if len(f) > dash + 3 else set()

    @property
    def propagation(self):
        """'shared', 'slave', 'shared+slave', 'unbindable' or 'private'."""
        kinds = [o.split(":")[0] for o in self.optional]
        if "unbindable" in kinds:
            return "unbindable"
        shared, slave = "shared" in kinds, "master" in kinds
        if shared and slave:
            return "shared+slave"
        return "shared" if shared else "slave" if slave else "private"

    def __repr__(self):
        return f"<{self.mountpoint} {self.fstype} {sorted(self.options)} {self.optional}>"


def parse_mountinfo(text):
    """mountpoint -> MountEntry of the topmost mount there (lines that are not mountinfo are skipped)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 10 or "-" not in parts or not parts[0].isdigit():
            continue
        e = MountEntry(line)
        out[e.mountpoint] = e
    return out


def section(text, name):
    """Lines between `==name==` and the next `==...==` marker of a script's output."""
    m = re.search(rf"^=={re.escape(name)}==\n(.*?)(?=^==|\Z)", text, re.S | re.M)
    assert m, f"no section {name} in output:\n{text}"
    return m.group(1)


def host_ns(kind, pid="self"):
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def umount_quietly(path):
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def make_traversable(path):
    """Let a container root mapped to an unprivileged host uid reach `path`: pytest's
    /tmp/pytest-of-root is 0700. Adds o+x (search only, no listing) to each ancestor."""
    path = os.path.abspath(str(path))
    while path != "/":
        st = os.stat(path)
        if not st.st_mode & 0o001:
            os.chmod(path, (st.st_mode & 0o7777) | 0o001)
        path = os.path.dirname(path)


def user_namespace(bundle, host_id=100000, size=65536):
    """A new user namespace mapping 0..size-1 to host_id..; the rootfs is left owned by host root,
    which the container sees as nobody but can read (busybox files are world-readable)."""
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": host_id, "size": size}]
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": host_id, "size": size}]
    make_traversable(bundle.rootfs)
