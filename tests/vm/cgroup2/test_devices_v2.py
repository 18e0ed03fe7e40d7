"""linux.resources.devices on pure cgroup v2: the eBPF device filter (runtime/cgroups/bpf_devices.cpp),
seen from inside real containers."""
import json
import subprocess

from orun import facts, sh

# /dev is a tmpfs without nodev (so a node made there can be opened); the root is read-only.
PROBE = r"""
try() { if "$@" 2>/dev/shm/err; then echo ok; else sed -n 's/.*: //p' /dev/shm/err | tail -n1; fi; }
echo "null=$(try sh -c 'echo x > /dev/null')"
echo "zero=$(try head -c 1 /dev/zero)"
echo "mknod=$(try mknod /dev/blk b 7 0)"
echo "is_blk=$([ -b /dev/blk ] && echo yes)"
echo "read_blk=$(try head -c 1 /dev/blk)"
echo "write_blk=$(try sh -c 'echo x > /dev/blk')"
"""


def with_mknod(bundle):
    # mknod needs CAP_MKNOD, which `orun spec` does not grant; the device filter is what is tested.
    caps = bundle.process["capabilities"]
    for kind in ("bounding", "effective", "permitted"):
        caps[kind] = caps.get(kind, []) + ["CAP_MKNOD"]
    return bundle


def test_default_rules_open_null_refuse_block_devices(orun, bundle):
    # The bundle as `orun spec` makes it: deny-all plus the default devices.
    assert bundle.config["linux"]["resources"]["devices"] == [{"allow": False, "access": "rwm"}]
    f = facts(sh(orun, with_mknod(bundle), PROBE).stdout)
    assert f["null"] == "ok"
    assert f["zero"] == "ok"
    assert f["mknod"] == "ok"  # the default rules allow mknod of any device, as runc's
    assert f["is_blk"] == "yes"
    assert f["read_blk"] == "Operation not permitted"
    assert f["write_blk"] == "Operation not permitted"


def test_config_rules_apply_in_order(orun, bundle):
    # Read access to b 7:0 only (loop0: an allowed open reaches the loop driver, whatever it answers).
    bundle.config["linux"]["resources"]["devices"] += [
        {"allow": True, "type": "b", "major": 7, "minor": 0, "access": "rw"},
        {"allow": False, "type": "b", "major": 7, "minor": 0, "access": "w"},
    ]
    f = facts(sh(orun, with_mknod(bundle), PROBE).stdout)
    assert f["is_blk"] == "yes"
    assert f["read_blk"] != "Operation not permitted", f
    assert f["write_blk"] == "Operation not permitted"
    assert f["null"] == "ok"


def test_the_filter_is_attached_to_the_container_cgroup(orun, bundle):
    bundle.set_args("sleep", "100")
    cid = orun.create(bundle).cid
    try:
        pid = orun.state_json(cid)["pid"]
        with open(f"/proc/{pid}/cgroup") as f:
            cgroup = "/sys/fs/cgroup" + f.read().strip().split("::", 1)[1]
        out = subprocess.run(["bpftool", "-j", "cgroup", "show", cgroup], capture_output=True, text=True,
                             check=True).stdout
        progs = [p for p in json.loads(out) if p["attach_type"] in ("device", "cgroup_device")]
        assert [p["name"] for p in progs] == ["orun_devices"]
    finally:
        orun.delete(cid, force=True)

