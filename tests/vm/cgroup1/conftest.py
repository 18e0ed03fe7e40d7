"""Fixtures for the pure cgroup v1 suite, which tests/vm/pytest-in-vm --cgroup v1 runs inside the VM
(tools/vm/run --cgroup v1): the same as tests/integration (see its conftest.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "integration"))

from orun import (base_bundle, bundle, make_bundle, orun, orun_bin,  # noqa: E402,F401 (fixtures)
                  pytest_runtest_makereport, test_mark)
