"""Fixtures of the netns suite: `lab` (lab.py) and, for the tests with real containers, orun's
(tests/integration/orun.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))

from lab import lab  # noqa: E402,F401 (fixture)
from orun import (base_bundle, bundle, make_bundle, orun, orun_bin,  # noqa: E402,F401 (fixtures)
                  pytest_runtest_makereport, test_mark)
