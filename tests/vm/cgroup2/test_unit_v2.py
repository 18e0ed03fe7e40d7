"""The cgroups library's unit tests on a pure cgroup v2 host: their "real host" cases run against
whatever layout they find, and the development hosts are hybrid, so only here do they see a v2
root with every controller enabled."""
import os
import subprocess

import pytest

from orun import REPO


def test_cgroups_unit_tests_pass_on_pure_v2():
    binary = os.path.join(REPO, "build", "runtime", "cgroups", "cgroups_test")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} is not built (meson -Dtests=true, then ninja -C build)")
    r = subprocess.run([binary, "--no-colors"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "0 failed" in r.stdout and "0 skipped" in r.stdout, r.stdout[-2000:]
