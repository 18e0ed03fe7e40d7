"""Fixtures for the integration suite; they live in orun.py so tests/conformance can share them.

  orun_bin     path of the orun under test ($ORUN, else build/runtime/cli/orun)
  base_bundle  session-wide bundle made by tools/mkrootfs (busybox rootfs, config.json from `orun spec`)
  bundle       per-test copy of it: .config (dict), .set_args(...), .write(), .path, .rootfs
  make_bundle  make_bundle(name) for tests that need more than one bundle
  orun         Orun with a private --root: .run/.create/.start/.state/.kill/.delete/.list/.cmd,
               .new_id(); its teardown force-deletes the test's containers and fails the test if a
               state dir, process, mount or cgroup is left behind
Use orun.need(condition, why) for root or kernel features: it skips, except under CI=true where it fails.
"""
from orun import (base_bundle, bundle, make_bundle, orun, orun_bin,  # noqa: F401 (fixtures)
                  pytest_runtest_makereport, test_mark)
