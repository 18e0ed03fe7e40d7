"""--systemd-cgroup where it must fail cleanly: on a host without systemd (this one), and with a
linux.cgroupsPath the driver refuses. The driver itself runs against systemd in tests/vm/systemd."""
import os

import pytest

from orun import cgroups_named, need


def create(orun, bundle, cgroups_path, *flags):
    cid = orun.new_id()
    if cgroups_path is None:
        bundle.config["linux"].pop("cgroupsPath", None)
    else:
        bundle.config["linux"]["cgroupsPath"] = cgroups_path.replace("ID", cid)
    bundle.write()
    return cid, orun.cmd(*flags, "create", "--bundle", bundle.path, cid)


def assert_nothing_left(orun, cid):
    assert not os.path.exists(os.path.join(orun.root, cid))
    assert cgroups_named([cid]) == []


def test_without_systemd_a_clear_error_and_nothing_left(orun, bundle):
    need(not os.path.exists("/run/systemd/private") and not os.path.exists("/run/dbus/system_bus_socket"),
         "a host where systemd is not reachable")
    cid, r = create(orun, bundle, None, "--systemd-cgroup")
    assert r.returncode == 1
    assert "--systemd-cgroup: cannot connect to systemd: system bus: " in r.stderr, r.stderr
    assert "/run/systemd/private: No such file or directory" in r.stderr, r.stderr
    assert_nothing_left(orun, cid)


@pytest.mark.parametrize("cgroups_path", ["/a/ID", "system.slice:orun", "x.slice:orun:../ID", "x:orun:ID"])
def test_the_driver_refuses_a_bad_path_before_anything_is_made(orun, bundle, cgroups_path):
    cid, r = create(orun, bundle, cgroups_path, "--systemd-cgroup")
    assert r.returncode == 1
    assert f'linux.cgroupsPath "{cgroups_path.replace("ID", cid)}": ' in r.stderr, r.stderr
    assert_nothing_left(orun, cid)


def test_the_slice_form_needs_the_flag(orun, bundle):
    cid, r = create(orun, bundle, "system.slice:orun:ID")
    assert r.returncode == 1
    assert "needs the systemd cgroup driver (--systemd-cgroup)" in r.stderr, r.stderr
    assert_nothing_left(orun, cid)
