"""Fixtures for the pure cgroup v2 suite, which tests/vm/pytest-in-vm runs inside the VM: the same
as tests/integration (see its conftest.py), plus `v2`, the facts of the VM's cgroup2 root."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "integration"))

from orun import (base_bundle, bundle, make_bundle, orun, orun_bin,  # noqa: E402,F401 (fixtures)
                  pytest_runtest_makereport, test_mark)
