"""The container's root file system and mounts, checked from inside real containers: root.path,
root.readonly, hostname/domainname, every mount type and option, propagation, symlinked destinations,
idmapped mounts, rootfsPropagation, maskedPaths, readonlyPaths, sysctl, --no-pivot, --no-new-keyring."""
import os
import shutil
import subprocess

import pytest

from helpers_ctr import facts, make_traversable, parse_mountinfo, sh, section, umount_quietly, user_namespace
from orun import need


def add_mount(bundle, destination, type_, source, options=(), **extra):
    m = {"destination": destination, "type": type_, "source": str(source), "options": list(options)}
    m.update(extra)
    bundle.config.setdefault("mounts", []).append(m)
    return m


def drop_namespace(bundle, kind):
    bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"] if n["type"] != kind]


# ---- root ---------------------------------------------------------------------------------------

def test_root_path_relative_to_bundle(orun, bundle):
    with open(os.path.join(bundle.rootfs, "marker"), "w") as f:
        f.write("relative-root\n")
    assert bundle.config["root"]["path"] == "rootfs"
    r = sh(orun, bundle, "cat /marker")
    assert r.stdout == "relative-root\n"


def test_root_path_absolute_elsewhere(orun, bundle, tmp_path):
    # The rootfs lives outside the bundle; an absolute root.path must not be joined to the bundle.
    elsewhere = tmp_path / "elsewhere" / "myroot"
    elsewhere.parent.mkdir()
    shutil.move(bundle.rootfs, elsewhere)
    (elsewhere / "marker").write_text("absolute-root\n")
    bundle.config["root"]["path"] = str(elsewhere)
    r = sh(orun, bundle, "cat /marker")
    assert r.stdout == "absolute-root\n"


def test_root_path_missing_is_an_error(orun, bundle):
    bundle.config["root"]["path"] = "no-such-rootfs"
    r = sh(orun, bundle, "true", rc=None)
    assert r.returncode != 0
    assert "root.path" in r.stderr, r.stderr


def test_root_readonly(orun, bundle):
    bundle.config["root"]["readonly"] = True
    add_mount(bundle, "/tmp", "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777"])
    r = sh(orun, bundle,
               "touch /newfile 2>&1; echo touch_root=$?; "
               "echo data > /tmp/x && echo tmp=$(cat /tmp/x); "
               "echo ==mi==; cat /proc/self/mountinfo")
    f = facts(r.stdout)
    assert f["touch_root"] != "0"
    assert "Read-only file system" in r.stdout
    assert f["tmp"] == "data"
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert "ro" in mi["/"].options
    assert mi["/tmp"].fstype == "tmpfs" and "rw" in mi["/tmp"].options
    assert not os.path.exists(os.path.join(bundle.rootfs, "newfile"))


def test_root_writable(orun, bundle):
    bundle.config["root"]["readonly"] = False
    r = sh(orun, bundle, "echo written > /newfile; echo ==mi==; cat /proc/self/mountinfo")
    assert "rw" in parse_mountinfo(section(r.stdout, "mi"))["/"].options
    with open(os.path.join(bundle.rootfs, "newfile")) as f:
        assert f.read() == "written\n"


# ---- hostname, domainname ------------------------------------------------------------------------

def test_hostname_and_domainname(orun, bundle):
    bundle.config["hostname"] = "box-one"
    bundle.config["domainname"] = "example.test"
    r = sh(orun, bundle, "echo h=$(hostname); echo d=$(cat /proc/sys/kernel/domainname)")
    f = facts(r.stdout)
    assert f == {"h": "box-one", "d": "example.test"}
    assert os.uname().nodename != "box-one"


def test_hostname_needs_uts_namespace(orun, bundle):
    drop_namespace(bundle, "uts")
    bundle.config["hostname"] = "box-one"
    r = sh(orun, bundle, "true", rc=None)
    assert r.returncode != 0
    assert "hostname" in r.stderr and "UTS" in r.stderr, r.stderr


# ---- bind mounts ---------------------------------------------------------------------------------

@pytest.fixture
def host_tree(tmp_path):
    """tmp_path/src with a file, an executable script and a submount (tmpfs at src/sub) holding a file."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "file").write_text("top\n")
    script = src / "run.sh"
    script.write_text("#!/bin/sh\necho executed\n")
    script.chmod(0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "subtmp", str(src / "sub")], check=True)
    (src / "sub" / "subfile").write_text("below\n")
    yield src
    umount_quietly(src / "sub")


def test_bind_ro_rw_and_recursion(orun, bundle, host_tree):
    add_mount(bundle, "/b-ro", "bind", host_tree, ["bind", "ro"])
    add_mount(bundle, "/b-rw", "bind", host_tree, ["bind", "rw"])
    add_mount(bundle, "/rb-ro", "bind", host_tree, ["rbind", "ro"])
    add_mount(bundle, "/rb-rro", "bind", host_tree, ["rbind", "rro"])
    r = sh(orun, bundle, """
        echo bro=$(cat /b-ro/file)
        touch /b-ro/new 2>/dev/null; echo bro_write=$?
        echo from-container > /b-rw/written; echo brw_write=$?
        ls /b-rw/sub | grep -q subfile; echo bind_sees_sub=$?
        echo rb_sub=$(cat /rb-ro/sub/subfile)
        touch /rb-ro/sub/rw-below 2>/dev/null; echo rbro_sub_write=$?
        touch /rb-rro/sub/ro-below 2>/dev/null; echo rbrro_sub_write=$?
        echo ==mi==; cat /proc/self/mountinfo""")
    f = facts(r.stdout)
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert f["bro"] == "top"
    assert f["bro_write"] != "0" and "ro" in mi["/b-ro"].options
    assert f["brw_write"] == "0" and "rw" in mi["/b-rw"].options
    assert (host_tree / "written").read_text() == "from-container\n"
    # A plain bind does not carry the submount; rbind does.
    assert f["bind_sees_sub"] != "0" and "/b-rw/sub" not in mi
    assert f["rb_sub"] == "below" and mi["/rb-ro/sub"].fstype == "tmpfs"
    # "ro" applies to the top mount only (as in runc); "rro" makes the submounts read-only too.
    assert f["rbro_sub_write"] == "0" and "rw" in mi["/rb-ro/sub"].options
    assert f["rbrro_sub_write"] != "0" and "ro" in mi["/rb-rro/sub"].options
    assert "ro" in mi["/rb-rro"].options
    # Nothing in the container changed the host's mount.
    assert not os.path.exists(host_tree / "new") and not os.path.exists(host_tree / "sub" / "ro-below")


def test_bind_nosuid_nodev_noexec_and_recursive(orun, bundle, host_tree):
    add_mount(bundle, "/plain", "bind", host_tree, ["rbind"])
    add_mount(bundle, "/flags", "bind", host_tree, ["rbind", "nosuid", "nodev", "noexec"])
    add_mount(bundle, "/rflags", "bind", host_tree, ["rbind", "rnosuid", "rnodev", "rnoexec"])
    r = sh(orun, bundle, """
        echo plain=$(/plain/run.sh 2>&1)
        /flags/run.sh >/dev/null 2>&1; echo flags_exec=$?
        echo ==mi==; cat /proc/self/mountinfo""")
    f = facts(r.stdout)
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert f["plain"] == "executed"
    assert f["flags_exec"] == "126"  # noexec: permission denied
    sec = {"nosuid", "nodev", "noexec"}
    assert not (mi["/plain"].options & sec)
    assert sec <= mi["/flags"].options
    assert not (mi["/flags/sub"].options & sec)  # non-recursive flags stop at the top mount
    assert sec <= mi["/rflags"].options and sec <= mi["/rflags/sub"].options


def test_file_bind_mount(orun, bundle, tmp_path):
    f = tmp_path / "hosts.custom"
    f.write_text("10.1.2.3 custom\n")
    add_mount(bundle, "/etc/hosts", "bind", f, ["bind", "ro"])
    add_mount(bundle, "/new/dir/file", "bind", f, ["bind"])  # destination created as a file
    r = sh(orun, bundle, "cat /etc/hosts; [ -f /new/dir/file ] && echo is_file=yes")
    assert r.stdout == "10.1.2.3 custom\nis_file=yes\n"


def test_relative_bind_source_is_relative_to_bundle(orun, bundle):
    os.makedirs(os.path.join(bundle.path, "data"))
    with open(os.path.join(bundle.path, "data", "f"), "w") as fh:
        fh.write("in-bundle\n")
    add_mount(bundle, "/data", "bind", "data", ["bind"])
    assert sh(orun, bundle, "cat /data/f").stdout == "in-bundle\n"


# ---- propagation of mounts -----------------------------------------------------------------------

@pytest.fixture
def shared_src(tmp_path):
    """tmp_path/shared: a bind mount of itself made shared on the host, so that propagation has a
    peer group to work with (the host's mounts are private)."""
    src = tmp_path / "shared"
    src.mkdir()
    subprocess.run(["mount", "--bind", str(src), str(src)], check=True)
    subprocess.run(["mount", "--make-shared", str(src)], check=True)
    yield src
    subprocess.run(["umount", "-R", "-l", str(src)], capture_output=True)


def test_mount_propagation_options(orun, bundle, shared_src):
    kinds = ["shared", "slave", "private", "unbindable"]
    for k in kinds:
        add_mount(bundle, f"/p-{k}", "bind", shared_src, ["bind", k])
        add_mount(bundle, f"/rp-{k}", "bind", shared_src, ["rbind", "r" + k])
    r = sh(orun, bundle, "cat /proc/self/mountinfo")
    mi = parse_mountinfo(r.stdout)
    got = {k: (mi[f"/p-{k}"].propagation, mi[f"/rp-{k}"].propagation) for k in kinds}
    # The default rootfsPropagation (rslave) made the container's copy a slave of the host's peer
    # group first; "shared" then adds a peer group of its own (shared:N master:M), as with runc.
    want = {k: (k, k) for k in kinds}
    want["shared"] = ("shared+slave", "shared+slave")
    assert got == want, got


def test_slave_mount_receives_host_mounts_private_does_not(orun, bundle, shared_src, tmp_path):
    add_mount(bundle, "/slave", "bind", shared_src, ["rbind", "rslave"])
    add_mount(bundle, "/private", "bind", shared_src, ["rbind", "rprivate"])
    ready = shared_src / "ready"
    bundle.set_args("sh", "-c", "touch /slave/ready; while [ ! -e /slave/go ]; do sleep 0.05; done; "
                                "echo slave=$(cat /slave/late/f 2>&1); echo private=$(cat /private/late/f 2>&1)")
    late = shared_src / "late"
    late.mkdir()
    proc = None
    try:
        bundle.write()
        cid = orun.new_id()
        proc = subprocess.Popen([orun.binary, "--root", orun.root, "run", "--bundle", bundle.path, cid],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(400):
            if ready.exists() or proc.poll() is not None:
                break
            subprocess.run(["sleep", "0.05"])
        assert ready.exists(), proc.communicate(timeout=5)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "late", str(late)], check=True)
        (late / "f").write_text("from-host\n")
        (shared_src / "go").write_text("")
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        umount_quietly(late)
    f = facts(out)
    assert f["slave"] == "from-host"
    assert "No such file" in f["private"]


# ---- file system mounts --------------------------------------------------------------------------

def test_tmpfs_size_mode_and_tmpcopyup(orun, bundle):
    seed = os.path.join(bundle.rootfs, "seeded")
    os.makedirs(os.path.join(seed, "d"))
    with open(os.path.join(seed, "d", "f"), "w") as fh:
        fh.write("copied\n")
    os.chmod(os.path.join(seed, "d", "f"), 0o640)
    add_mount(bundle, "/sized", "tmpfs", "tmpfs", ["size=2m", "mode=0710", "nosuid"])
    add_mount(bundle, "/seeded", "tmpfs", "tmpfs", ["tmpcopyup", "size=1m"])
    r = sh(orun, bundle, """
        echo mode=$(stat -c %a /sized)
        echo copied=$(cat /seeded/d/f) fmode=$(stat -c %a /seeded/d/f)
        echo overlay > /seeded/new
        echo ==mi==; cat /proc/self/mountinfo""")
    f = facts(r.stdout.replace(" fmode=", "\nfmode="))
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert mi["/sized"].fstype == "tmpfs" and "size=2048k" in mi["/sized"].super_options
    assert "nosuid" in mi["/sized"].options
    assert f["mode"] == "710"
    assert mi["/seeded"].fstype == "tmpfs"
    assert f["copied"] == "copied" and f["fmode"] == "640"
    # The copy went to the tmpfs, not the other way.
    assert not os.path.exists(os.path.join(seed, "new"))


def test_proc_sysfs_mqueue_devpts_mounted(orun, bundle):
    r = sh(orun, bundle, """
        echo pid1=$(cat /proc/1/comm)
        [ -d /sys/kernel ] && echo sys=yes
        echo ==mi==; cat /proc/self/mountinfo""")
    f = facts(r.stdout)
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert mi["/proc"].fstype == "proc"
    assert f["pid1"] == "sh"  # our own pid namespace's proc
    assert mi["/sys"].fstype == "sysfs" and "ro" in mi["/sys"].options and f["sys"] == "yes"
    assert mi["/dev/mqueue"].fstype == "mqueue"
    assert {"nosuid", "nodev", "noexec"} <= mi["/dev/mqueue"].options
    assert mi["/dev/pts"].fstype == "devpts"
    assert {"ptmxmode=666", "mode=620", "gid=5"} <= mi["/dev/pts"].super_options
    assert mi["/dev/shm"].fstype == "tmpfs" and "size=65536k" in mi["/dev/shm"].super_options


V1_CONTROLLERS = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"]


def _cgroup_mounts(mi):
    return {mp[len("/sys/fs/cgroup/"):]: e for mp, e in mi.items() if mp.startswith("/sys/fs/cgroup/")}


@pytest.mark.parametrize("cgroupns", [False, True], ids=["host-cgroupns", "new-cgroupns"])
def test_cgroup_mount(orun, bundle, cgroupns):
    need(os.path.isdir("/sys/fs/cgroup/memory"), "a hybrid/v1 cgroup host")
    if cgroupns:
        bundle.config["linux"]["namespaces"].append({"type": "cgroup"})
    r = sh(orun, bundle, "cat /sys/fs/cgroup/memory/cgroup.procs; echo ==mi==; cat /proc/self/mountinfo")
    mi = parse_mountinfo(section(r.stdout, "mi"))
    cg = _cgroup_mounts(mi)
    for ctrl in V1_CONTROLLERS:
        assert ctrl in cg, f"/sys/fs/cgroup/{ctrl} missing: {sorted(cg)}"
        assert cg[ctrl].fstype == "cgroup" and "ro" in cg[ctrl].options
    # Each hierarchy shows the container's own cgroup (pid 1 is its first member), never the host root.
    assert "1" in r.stdout.split("==mi==")[0].split(), r.stdout.split("==mi==")[0]
    for ctrl in V1_CONTROLLERS:
        root = cg[ctrl].root
        if cgroupns:
            assert root == "/", (ctrl, root)
        else:
            assert root != "/" and r.cid in root, (ctrl, root)


# ---- destinations through symlinks ---------------------------------------------------------------

def test_mount_destination_through_malicious_symlink(orun, bundle, tmp_path):
    """A symlink in the rootfs pointing at a host path (absolute, and by ..) must resolve inside
    the rootfs: the mount lands in the container, never on the host."""
    target = tmp_path / "host-target"
    target.mkdir()
    (target / "hostfile").write_text("host\n")
    os.symlink(str(target), os.path.join(bundle.rootfs, "evil-abs"))
    os.symlink("../../../../../../../../" + str(target).lstrip("/"), os.path.join(bundle.rootfs, "evil-rel"))
    add_mount(bundle, "/evil-abs", "tmpfs", "tmpfs", ["size=1m"])
    add_mount(bundle, "/evil-rel/sub", "tmpfs", "tmpfs", ["size=1m"])
    bundle.config["root"]["readonly"] = False
    r = sh(orun, bundle, """
        echo x > /evil-abs/from-container
        echo y > /evil-rel/sub/from-container
        echo ==mi==; cat /proc/self/mountinfo""")
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert mi[str(target)].fstype == "tmpfs"
    assert mi[str(target) + "/sub"].fstype == "tmpfs"
    # The host directory is untouched and nothing is mounted on it (the orun fixture also checks that
    # no mount is left below tmp_path).
    assert sorted(os.listdir(target)) == ["hostfile"]
    assert os.path.isdir(os.path.join(bundle.rootfs, str(target).lstrip("/")))


# ---- idmapped mounts -----------------------------------------------------------------------------

def test_idmapped_bind_mount(orun, bundle, tmp_path):
    src = tmp_path / "idsrc"
    src.mkdir()
    for name, uid in [("root-owned", 0), ("uid5", 5), ("uid500", 500)]:
        (src / name).write_text(name)
        os.chown(src / name, uid, uid)
    add_mount(bundle, "/mapped", "bind", src, ["bind"],
              uidMappings=[{"containerID": 0, "hostID": 1000, "size": 10}],
              gidMappings=[{"containerID": 0, "hostID": 2000, "size": 10}])
    r = sh(orun, bundle, "cd /mapped && for f in root-owned uid5 uid500; do "
                             "echo $f=$(stat -c %u:%g $f); done")
    f = facts(r.stdout)
    assert f == {"root-owned": "1000:2000", "uid5": "1005:2005", "uid500": "65534:65534"}, r.stdout
    # The host's view is unchanged.
    assert os.stat(src / "root-owned").st_uid == 0


def test_idmapped_bind_mount_in_user_namespace(orun, bundle, tmp_path):
    src = tmp_path / "idsrc"
    src.mkdir()
    (src / "f").write_text("x")
    os.chown(src / "f", 0, 0)
    user_namespace(bundle)
    make_traversable(src)
    os.mkdir(os.path.join(bundle.rootfs, "mapped"))  # container root cannot mkdir in a host-owned rootfs
    # Files owned by host 0 appear as host 100000, which the container's user namespace shows as 0.
    add_mount(bundle, "/mapped", "bind", src, ["bind"],
              uidMappings=[{"containerID": 0, "hostID": 100000, "size": 65536}],
              gidMappings=[{"containerID": 0, "hostID": 100000, "size": 65536}])
    r = sh(orun, bundle, "echo owner=$(stat -c %u:%g /mapped/f); echo ok > /mapped/f && echo write=ok")
    f = facts(r.stdout)
    assert f["owner"] == "0:0" and f["write"] == "ok"
    st = os.stat(src / "f")
    assert (st.st_uid, st.st_gid) == (0, 0)


# ---- rootfsPropagation, maskedPaths, readonlyPaths -----------------------------------------------

@pytest.mark.parametrize("prop,expect", [("shared", "shared"), ("rslave", "slave"), ("private", "private"),
                                         ("rprivate", "private")])
def test_rootfs_propagation(orun, bundle, prop, expect, shared_src):
    # The host's mounts are private; with the rootfs below a shared mount a slave has a master.
    rootfs = shared_src / "rootfs"
    shutil.move(bundle.rootfs, rootfs)
    bundle.config["root"]["path"] = str(rootfs)
    bundle.config["linux"]["rootfsPropagation"] = prop
    r = sh(orun, bundle, "cat /proc/self/mountinfo")
    mi = parse_mountinfo(r.stdout)
    assert mi["/"].propagation == expect, mi["/"]
    # The container's peer group is its own: nothing it mounts propagates back to the host's
    # (the orun fixture fails the test if a mount is left below tmp_path).
    if prop == "shared":
        with open("/proc/self/mountinfo") as fh:
            host_groups = {o for line in fh for o in line.split()[6:line.split().index("-")]}
        assert not set(mi["/"].optional) & host_groups, (mi["/"].optional, host_groups)


def test_masked_paths(orun, bundle):
    os.makedirs(os.path.join(bundle.rootfs, "secret-dir"))
    with open(os.path.join(bundle.rootfs, "secret-dir", "key"), "w") as fh:
        fh.write("secret\n")
    with open(os.path.join(bundle.rootfs, "secret-file"), "w") as fh:
        fh.write("secret\n")
    masked = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/secret-dir", "/secret-file", "/no/such/path"]
    bundle.config["linux"]["maskedPaths"] = masked
    bundle.config["root"]["readonly"] = False
    r = sh(orun, bundle, """
        for p in /proc/keys /proc/timer_list /secret-file; do
          echo "$p=$(stat -c %F:%t:%T $p):$(wc -c < $p)"
        done
        [ -e /proc/kcore ] && echo "/proc/kcore=$(stat -c %F:%t:%T /proc/kcore):$(wc -c < /proc/kcore)"
        echo "/secret-dir=$(ls -A /secret-dir | wc -l)"
        touch /secret-dir/x 2>/dev/null; echo dir_write=$?
        echo ==mi==; cat /proc/self/mountinfo""")
    f = facts(r.stdout)
    for p in ["/proc/keys", "/proc/timer_list", "/secret-file"] + (["/proc/kcore"] if "/proc/kcore" in f else []):
        assert f[p] == "character special file:1:3:0", (p, f[p])  # /dev/null, empty read
    assert f["/secret-dir"] == "0" and f["dir_write"] != "0"
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert mi["/secret-dir"].fstype == "tmpfs" and "ro" in mi["/secret-dir"].options
    with open(os.path.join(bundle.rootfs, "secret-file")) as fh:
        assert fh.read() == "secret\n"


def test_readonly_paths(orun, bundle):
    os.makedirs(os.path.join(bundle.rootfs, "ro-dir"))
    bundle.config["root"]["readonly"] = False
    bundle.config["linux"]["readonlyPaths"] = ["/proc/sys", "/ro-dir", "/no/such/path"]
    r = sh(orun, bundle, """
        echo new-name > /proc/sys/kernel/hostname 2>/dev/null; echo sys_write=$?
        touch /ro-dir/x 2>/dev/null; echo dir_write=$?
        touch /rw-file; echo root_write=$?
        echo ==mi==; cat /proc/self/mountinfo""")
    f = facts(r.stdout)
    assert f["sys_write"] != "0" and f["dir_write"] != "0" and f["root_write"] == "0"
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert "ro" in mi["/proc/sys"].options and "ro" in mi["/ro-dir"].options


def test_default_masks_and_readonly_proc_sys(orun, bundle):
    """The config `orun spec` writes masks /proc/keys and makes /proc/sys read-only."""
    r = sh(orun, bundle, "(echo x > /proc/sys/kernel/hostname) 2>&1; echo rc=$?; wc -c < /proc/keys")
    assert "Read-only file system" in r.stdout
    assert r.stdout.strip().splitlines()[-1] == "0"


# ---- sysctl --------------------------------------------------------------------------------------

def test_sysctl_namespaced(orun, bundle):
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789",
                                        "net/ipv4/conf/lo/forwarding": "1"}
    r = sh(orun, bundle, "echo fwd=$(cat /proc/sys/net/ipv4/ip_forward); "
                             "echo shm=$(cat /proc/sys/kernel/shmmax); "
                             "echo lo=$(cat /proc/sys/net/ipv4/conf/lo/forwarding)")
    assert facts(r.stdout) == {"fwd": "1", "shm": "123456789", "lo": "1"}
    with open("/proc/sys/kernel/shmmax") as fh:
        assert fh.read().strip() != "123456789"


@pytest.mark.parametrize("key,drop", [("kernel.panic", None), ("vm.swappiness", None),
                                      ("net.ipv4.ip_forward", "network"), ("kernel.shmmax", "ipc")])
def test_sysctl_rejected(orun, bundle, key, drop):
    if drop:
        drop_namespace(bundle, drop)
    bundle.config["linux"]["sysctl"] = {key: "1"}
    r = sh(orun, bundle, "true", rc=None)
    assert r.returncode != 0
    assert key in r.stderr and "linux.sysctl" in r.stderr, r.stderr


# ---- --no-pivot, --no-new-keyring ----------------------------------------------------------------

def test_no_pivot(orun, bundle):
    with open(os.path.join(bundle.rootfs, "marker"), "w") as fh:
        fh.write("no-pivot\n")
    r = sh(orun, bundle, "cat /marker; echo ==mi==; cat /proc/self/mountinfo", "--no-pivot")
    assert r.stdout.startswith("no-pivot\n")
    mi = parse_mountinfo(section(r.stdout, "mi"))
    assert mi["/"].root.endswith("/rootfs")
    assert "/proc" in mi


def _own_keyrings():
    try:
        with open("/proc/keys") as fh:
            return fh.read()
    except OSError:
        return None


def test_session_keyring(orun, make_bundle):
    """Without --no-new-keyring the process gets a fresh session keyring named for the container;
    with it, the caller's session keyring is inherited. Seen through /proc/keys (unmasked here)."""
    need(_own_keyrings() is not None, "/proc/keys (CONFIG_KEYS with proc support)")
    outputs = {}
    for flag in (False, True):
        b = make_bundle("kr-" + str(flag))
        b.config["linux"]["maskedPaths"] = []
        b.set_args("sh", "-c", "cat /proc/keys")
        r = orun.run(b, None, *(["--no-new-keyring"] if flag else []))
        assert r.returncode == 0, r.stderr
        outputs[flag] = (r.cid, r.stdout)
    cid, text = outputs[False]
    assert cid in text and "keyring" in text, text
    cid2, text2 = outputs[True]
    assert cid2 not in text2, text2
