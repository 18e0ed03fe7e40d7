"""/dev inside the container: linux.devices, the default devices and links, /dev/shm and /dev/pts,
and the device cgroup (v1 devices controller on hybrid hosts, eBPF on v2)."""
import os

import pytest

from helpers_ctr import facts, parse_mountinfo, sh, section
from orun import need


def test_linux_devices_char_and_block(orun, bundle):
    bundle.config["linux"]["devices"] = [
        {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640, "uid": 1000, "gid": 1001},
        {"path": "/dev/myloop", "type": "b", "major": 7, "minor": 0, "fileMode": 0o600, "uid": 0, "gid": 6},
        {"path": "/dev/sub/dir/zero", "type": "c", "major": 1, "minor": 5},
    ]
    r = sh(orun, bundle, """
        ls -ln /dev/mynull /dev/myloop
        for d in /dev/mynull /dev/myloop /dev/sub/dir/zero; do echo $d=$(stat -c '%F:%t:%T:%a:%u:%g' $d); done
        echo zero_read=$(head -c 4 /dev/sub/dir/zero | od -An -tx1 | tr -d ' ')""")
    f = facts(r.stdout)
    assert f["/dev/mynull"] == "character special file:1:3:640:1000:1001"
    assert f["/dev/myloop"] == "block special file:7:0:600:0:6"
    assert f["/dev/sub/dir/zero"].startswith("character special file:1:5:")
    lines = {line.split()[-1]: line.split() for line in r.stdout.splitlines() if line.startswith(("c", "b"))}
    assert lines["/dev/mynull"][:1] == ["crw-r-----"] and lines["/dev/mynull"][2:4] == ["1000", "1001"]
    assert lines["/dev/myloop"][0] == "brw-------"
    # linux.devices entries are allowed in the device cgroup (/dev/mynull is 0640 for uid 1000, so
    # the capability-less root cannot open it: the zero device shows the cgroup rule instead).
    assert f["zero_read"] == "00000000"


def test_default_devices_and_links(orun, bundle):
    r = sh(orun, bundle, """
        for d in null zero full random urandom tty; do echo $d=$(stat -c '%F:%t:%T:%a' /dev/$d); done
        for l in ptmx fd stdin stdout stderr core; do echo $l=$(readlink /dev/$l); done
        echo x > /dev/null && echo null_ok=yes
        echo zero_read=$(head -c 2 /dev/zero | od -An -tx1 | tr -d ' ')
        echo urandom_read=$(head -c 8 /dev/urandom | wc -c)
        (echo x > /dev/full) 2>&1 | grep -q 'No space' && echo full_enospc=yes
        echo ==mi==; cat /proc/self/mountinfo""")
    f = facts(r.stdout)
    expect = {"null": "1:3", "zero": "1:5", "full": "1:7", "random": "1:8", "urandom": "1:9", "tty": "5:0"}
    for name, nums in expect.items():
        assert f[name] == f"character special file:{nums}:666", (name, f[name])
    assert f["ptmx"] == "pts/ptmx"
    assert f["fd"] == "/proc/self/fd"
    assert (f["stdin"], f["stdout"], f["stderr"]) == ("/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2")
    # As runc: /dev/core only when the kernel has /proc/kcore.
    assert f["core"] == ("/proc/kcore" if os.path.exists("/proc/kcore") else "")
    assert f["null_ok"] == "yes" and f["zero_read"] == "0000" and f["urandom_read"] == "8" and f["full_enospc"] == "yes"
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert mi["/dev"].fstype == "tmpfs"


def test_dev_shm_and_pts(orun, bundle):
    r = sh(orun, bundle, """
        echo shared > /dev/shm/seg && echo shm=$(cat /dev/shm/seg)
        echo shm_mode=$(stat -c %a /dev/shm)
        echo ptmx=$(stat -c '%F:%t:%T' /dev/pts/ptmx)
        echo ==mi==; cat /proc/self/mountinfo""")
    f = facts(r.stdout)
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert f["shm"] == "shared" and f["shm_mode"] == "1777"
    assert mi["/dev/shm"].fstype == "tmpfs" and {"nosuid", "nodev", "noexec"} <= mi["/dev/shm"].options
    assert mi["/dev/pts"].fstype == "devpts"
    assert f["ptmx"] == "character special file:5:2"


def test_devices_from_host_bind_of_dev(orun, bundle):
    """With /dev bind-mounted from the host (privileged setups) the runtime makes no nodes of its own."""
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if not m["destination"].startswith("/dev")]
    bundle.config["mounts"].append({"destination": "/dev", "type": "bind", "source": "/dev",
                                    "options": ["rbind", "rw"]})
    r = sh(orun, bundle, "echo ==mi==; cat /proc/self/mountinfo")
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert mi["/dev"].fstype == "devtmpfs" or mi["/dev"].root == "/", mi["/dev"]


def _host_device(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return os.major(st.st_rdev), os.minor(st.st_rdev)


@pytest.mark.parametrize("allow", [False, True], ids=["denied", "allowed"])
def test_device_cgroup(orun, bundle, allow):
    """A device node the container can see but linux.resources.devices does not allow cannot be
    opened; an allow rule for it makes the same open work."""
    need(os.path.isdir("/sys/fs/cgroup/devices"), "the v1 devices controller (hybrid host)")
    dev = "/dev/loop-control"
    nums = _host_device(dev)
    need(nums is not None, dev)
    bundle.config["mounts"].append({"destination": "/dev/hostdev", "type": "bind", "source": dev,
                                    "options": ["bind"]})
    if allow:
        bundle.config["linux"]["resources"]["devices"].append(
            {"allow": True, "type": "c", "major": nums[0], "minor": nums[1], "access": "rw"})
    bundle.process["capabilities"] = {k: ["CAP_SYS_ADMIN"] for k in ("bounding", "effective", "permitted")}
    r = sh(orun, bundle, "( : </dev/hostdev ) 2>&1 && echo open=ok || echo open=failed; "
                             "echo x > /dev/null && echo null=ok")
    f = facts(r.stdout)
    assert f["null"] == "ok"  # the default allow list still holds
    if allow:
        assert f["open"] == "ok", r.stdout
    else:
        assert f["open"] == "failed" and "Operation not permitted" in r.stdout + r.stderr, r.stdout + r.stderr


def test_device_file_mode_with_type_bits(orun, bundle):
    """podman --device and --privileged copy the host node's st_mode into fileMode, S_IFCHR/S_IFBLK
    included: the node gets the permission bits; type bits of another type are refused."""
    bundle.config["linux"]["devices"] = [
        {"path": "/dev/podnull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o20640},
        {"path": "/dev/podloop", "type": "b", "major": 7, "minor": 0, "fileMode": 0o60600},
    ]
    r = sh(orun, bundle, "for d in /dev/podnull /dev/podloop; do echo $d=$(stat -c '%F:%a' $d); done")
    f = facts(r.stdout)
    assert f["/dev/podnull"] == "character special file:640"
    assert f["/dev/podloop"] == "block special file:600"

    bundle.config["linux"]["devices"] = [
        {"path": "/dev/podnull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o60640}]
    r = sh(orun, bundle, "true", rc=None)
    assert r.returncode != 0
    assert "linux.devices[0].fileMode: has bits other than the permissions (07777) and the file type " \
           'of a "c" device: 060640' in r.stderr
