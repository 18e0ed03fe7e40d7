"""tools/test.py, run by tools/test once tools/install-deps has brought python3: build, run every
test suite, and print the real totals.

  1. tools/install-deps                (tools/test runs it; quick when everything is installed)
  2. meson setup build; ninja -C build
  3. meson test -C build               (suites unit, integration, conformance, and fuzz: a short
                                        libFuzzer run that builds its clang target in build-fuzz)
  4. a count of every doctest test case and every pytest test, ending with the line
         N passed, N failed[, N skipped]

Exits non-zero if any test failed or a suite could not run. With CI=true, pytest turns skips into
failures (see tests/integration/orun.py). Environment: ORCH_BUILD (default build), ORCH_TEST_FUZZ=0
to leave out the fuzz run, MESON_TEST_ARGS (extra arguments to `meson test`, e.g. "--suite unit").
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("ORCH_BUILD", "build")
DOCTEST_SUMMARY = re.compile(
    r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed\s*\|\s*(\d+) skipped")


def sh(*argv, env=None):
    print("$ " + " ".join(shlex.quote(a) for a in argv), flush=True)
    return subprocess.run(argv, env=env).returncode


def tests_registered(build):
    r = subprocess.run(["meson", "introspect", "--tests", build], capture_output=True, text=True)
    try:
        return {t["name"] for t in json.loads(r.stdout)} if r.returncode == 0 else set()
    except json.JSONDecodeError:
        return set()


def configure(build, extra=(), env=None):
    """meson setup, once; later runs let ninja regenerate. Reconfigures when a test script that
    meson only looks for at configure time (tests/fuzz/run-fuzz) has appeared since."""
    if not os.path.exists(os.path.join(build, "build.ninja")):
        if sh("meson", "setup", build, *extra, env=env) == 0:
            return True
        return sh("meson", "setup", "--wipe", build, *extra, env=env) == 0
    if os.path.exists("tests/fuzz/run-fuzz") and "fuzz" not in tests_registered(build):
        return sh("meson", "setup", "--reconfigure", build, *extra, env=env) == 0
    return True


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.lines = []      # one per meson test: what it counted
        self.notes = []      # skip reasons and suites that could not run

    def add(self, label, p, f, s, note=""):
        self.passed += p
        self.failed += f
        self.skipped += s
        self.lines.append(f"  {label:<28} {p:4} passed {f:4} failed {s:4} skipped" + (f"  ({note})" if note else ""))


def junit_counts(path, label, tally):
    """(passed, failed, skipped) over the <testcase>s of a JUnit file; a test with both a pass and a
    teardown error counts once, as failed. Skip reasons go to tally.notes."""
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        key = (case.get("classname", ""), case.get("name", ""))
        if case.find("failure") is not None or case.find("error") is not None:
            status = "failed"
        elif case.find("skipped") is not None:
            status = "skipped"
            reason = case.find("skipped").get("message", "") or "(no reason given)"
            tally.notes.append(f"  skipped {label}: {key[0]}.{key[1]}: {reason}")
        else:
            status = "passed"
        if cases.get(key) != "failed":
            cases[key] = status
    vals = list(cases.values())
    return vals.count("passed"), vals.count("failed"), vals.count("skipped")


def testlog_path(build):
    return os.path.join(build, "meson-logs", "testlog.json")


def registered_by_suite(build):
    """{(suite, name)} of the tests meson knows, to notice any that never reported a result."""
    r = subprocess.run(["meson", "introspect", "--tests", build], capture_output=True, text=True)
    try:
        tests = json.loads(r.stdout) if r.returncode == 0 else []
    except json.JSONDecodeError:
        tests = []
    return {(t["suite"][0].split(":")[-1] if t.get("suite") else "", t["name"]) for t in tests}


def count_testlog(build, tally, only_suite=None, skip_suite=None, expect_all=True):
    """Add every test recorded in <build>/meson-logs/testlog.json to the tally; a registered test
    with no record there (meson test crashed or was stopped) counts as one failure."""
    path = testlog_path(build)
    entries = []
    if os.path.exists(path):
        with open(path) as f:
            entries = [json.loads(line) for line in f if line.strip()]
    seen = set()
    for e in entries:
        # "orch:unit / base" -> suite "unit", test "base"
        m = re.match(r"[^:]*:(\S+) / (.*)", e["name"])
        suite, name = (m.group(1), m.group(2)) if m else ("", e["name"])
        if (only_suite and suite != only_suite) or (skip_suite and suite == skip_suite):
            continue
        seen.add((suite, name))
        label = f"{suite}/{name}"
        ok = e["result"] in ("OK", "EXPECTEDFAIL")
        skipped = e["result"] == "SKIP"
        cmd = e.get("command") or []
        junit = next((a.split("=", 1)[1] for a in cmd if a.startswith("--junitxml=")), None)
        summary = DOCTEST_SUMMARY.findall(e.get("stdout") or "")
        if junit:
            if not os.path.exists(junit):
                tally.add(label, 0, 1, 0, f"{e['result']}: no JUnit XML, the suite did not run")
                continue
            try:
                p, f, s = junit_counts(junit, label, tally)
            except ET.ParseError as err:
                tally.add(label, 0, 1, 0, f"unreadable JUnit XML: {err}")
                continue
            note = "" if p + f + s else "no tests collected"
            if not ok and f == 0:
                f, note = 1, f"{e['result']} (exit {e.get('returncode')}) with no failed test: crash or timeout"
            tally.add(label, p, f, s, note)
        elif summary:
            total, p, f, s = map(int, summary[-1])
            note = ""
            if not ok and f == 0:
                f, note = 1, f"{e['result']} (exit {e.get('returncode')}) after its test cases"
            tally.add(label, p, f, s, note)
        else:
            tally.add(label, int(ok), int(not ok and not skipped), int(skipped),
                      "" if ok else e["result"])
            if skipped:
                tally.notes.append(f"  skipped {label}: exit 77 (see {path})")
    if expect_all:
        for suite, name in sorted(registered_by_suite(build) - seen):
            if (only_suite and suite != only_suite) or (skip_suite and suite == skip_suite):
                continue
            tally.add(f"{suite}/{name}", 0, 1, 0, "registered but never reported: meson test did not finish")


def main():
    os.chdir(REPO)
    extra_test_args = shlex.split(os.environ.get("MESON_TEST_ARGS", ""))
    tally = Tally()

    def give_up(what):
        print(f"tools/test: {what}; no test could run", flush=True)
        print("0 passed, 1 failed")
        return 1

    if not configure(BUILD):
        return give_up(f"meson setup {BUILD} failed")
    if sh("ninja", "-C", BUILD) != 0:
        return give_up(f"the build in {BUILD} failed")

    # Results of an earlier run must not be counted again.
    shutil.rmtree(os.path.join(BUILD, "test-results"), ignore_errors=True)
    if os.path.exists(testlog_path(BUILD)):
        os.unlink(testlog_path(BUILD))
    # The fuzz suite (tests/fuzz/run-fuzz) builds its clang target in build-fuzz by itself.
    no_fuzz = ["--no-suite", "fuzz"] if os.environ.get("ORCH_TEST_FUZZ", "1") == "0" else []
    sh("meson", "test", "-C", BUILD, "--print-errorlogs", *no_fuzz, *extra_test_args)
    count_testlog(BUILD, tally, skip_suite="fuzz" if no_fuzz else None, expect_all=not extra_test_args)

    print("\n==== tools/test summary ====")
    print("\n".join(tally.lines))
    if tally.notes:
        print("\n".join(tally.notes))
    total = tally.passed + tally.failed + tally.skipped
    if total == 0:
        print("tools/test: no test ran")
        tally.failed = max(tally.failed, 1)
    line = f"{tally.passed} passed, {tally.failed} failed"
    if tally.skipped:
        line += f", {tally.skipped} skipped"
    print(line, flush=True)
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
