"""Fixtures for the end-to-end suite: podman and containerd, each a private instance (engines.py)
whose configuration names the orun under test as its runtime.

  podman      engines.Podman, shared by the session; after each test every container is removed
              and the test fails if one was left or a container process or orun state dir remains
  containerd  engines.Containerd (a containerd daemon of the session), same checks
Under CI=true a missing engine fails instead of skipping (orun.need).
"""
import os
import shutil
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))

from engines import Containerd, Podman, processes_with  # noqa: E402
from orun import make_base_bundle, need, orun_bin, pytest_runtest_makereport  # noqa: E402,F401

# podman as root gives the runtime no --root: orun keeps podman's containers in its default root.
ORUN_DEFAULT_ROOT = "/run/orun"


@pytest.fixture(scope="session")
def rootfs(orun_bin, tmp_path_factory):
    """The busybox rootfs of tools/mkrootfs, which both engines import as their image."""
    bundle = str(tmp_path_factory.mktemp("e2e-base") / "bundle")
    try:
        return os.path.join(make_base_bundle(orun_bin, bundle), "rootfs")
    except RuntimeError as e:
        pytest.fail(str(e))


def _engine(cls, tools, orun_bin, rootfs, tmp_path_factory):
    need(os.geteuid() == 0, "root")
    missing = [t for t in tools if not shutil.which(t)]
    need(not missing, f"{', '.join(missing)} (tools/install-deps)")
    engine = cls(orun_bin, str(tmp_path_factory.mktemp(cls.__name__.lower())), rootfs)
    yield engine
    left = engine.close()
    if left:
        pytest.fail(f"{cls.__name__} left behind:\n  " + "\n  ".join(left), pytrace=False)


@pytest.fixture(scope="session")
def podman_engine(orun_bin, rootfs, tmp_path_factory):
    yield from _engine(Podman, ["podman", "conmon"], orun_bin, rootfs, tmp_path_factory)


@pytest.fixture(scope="session")
def containerd_engine(orun_bin, rootfs, tmp_path_factory):
    yield from _engine(Containerd, ["containerd", "ctr", "containerd-shim-runc-v2", "umoci"],
                       orun_bin, rootfs, tmp_path_factory)


def _orun_states(root):
    try:
        return set(os.listdir(root))
    except FileNotFoundError:
        return set()


def _check_after_test(engine):
    """Problems left by a test: containers it did not remove, processes still in the instance's
    cgroup, orun state dirs of containers that are gone. Cleans them up so the next test starts
    clean."""
    problems = [f"container {c} not removed" for c in engine.remove_all()]
    # conmon and its `podman container cleanup` finish just after the container is removed.
    deadline = time.monotonic() + 20
    while (procs := processes_with("/" + engine.cgroup_name + "/")) and time.monotonic() < deadline:
        time.sleep(0.1)
    problems += [f"process {pid} still in the container cgroup: {cmd[:120]}" for pid, cmd in procs.items()]
    return problems


@pytest.fixture
def podman(podman_engine):
    before = _orun_states(ORUN_DEFAULT_ROOT)
    yield podman_engine
    problems = _check_after_test(podman_engine)
    ids = set(podman_engine("ps", "-aq", "--no-trunc").stdout.split())
    problems += [f"orun state {ORUN_DEFAULT_ROOT}/{s} left after podman removed the container"
                 for s in _orun_states(ORUN_DEFAULT_ROOT) - before - ids if len(s) == 64]
    if problems:
        pytest.fail("left behind after the test:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def containerd(containerd_engine):
    yield containerd_engine
    problems = _check_after_test(containerd_engine)
    root = os.path.join(containerd_engine.workdir, "orun", containerd_engine.namespace)
    problems += [f"orun state {root}/{s} left after the container was deleted" for s in _orun_states(root)]
    if problems:
        pytest.fail("left behind after the test:\n  " + "\n  ".join(problems), pytrace=False)
