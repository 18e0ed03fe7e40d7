"""Fixtures for the systemd cgroup driver on cgroup v1, which tests/vm/pytest-in-vm --systemd --cgroup v1 runs in the
VM with systemd as PID 1: the same as tests/integration (see its conftest.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "integration"))

from orun import (base_bundle, bundle, make_bundle, orun, orun_bin,  # noqa: E402,F401 (fixtures)
                  pytest_runtest_makereport, test_mark)
