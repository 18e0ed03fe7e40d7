"""tools/bench/bench works end to end: one iteration of every measurement, orun beside runc
(and tools/bench/variants --ops, below).

No timing is asserted (timings depend on the machine); the test checks that every operation was
measured for both runtimes, that the exec column says why orun has no number when orun has no exec
verb, that crun's state is reported rather than left out, and that the tool leaves no container,
state directory or cgroup behind.
"""
import glob
import json
import os
import re
import subprocess

from orun import REPO, need

BENCH = os.path.join(REPO, "tools", "bench", "bench")
RUNC = "/usr/sbin/runc"


def test_bench_one_iteration(orun_bin, tmp_path):
    need(os.geteuid() == 0, "bench needs root")
    need(os.access(RUNC, os.X_OK), "runc not installed (tools/install-deps)")
    out = tmp_path / "bench.json"
    r = subprocess.run([BENCH, "--orun", orun_bin, "--iterations", "1", "--warmup", "0", "--batch", "2",
                        "--batch-rounds", "1", "--json", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"bench failed:\n{r.stdout}\n{r.stderr}"
    with open(out) as f:
        res = json.load(f)

    has_exec = re.search(r"^\s+exec\s", subprocess.run([orun_bin, "--help"], capture_output=True,
                                                        text=True).stdout, re.M) is not None
    ops = ["run", "create", "start", "delete (stopped)", "kill", "delete (killed)", "kill+delete",
           "delete -f (running)", "batch of 2 run"]
    for op in ops:
        for rt in ("orun", "runc"):
            assert res["results"][op][rt]["n"] >= 1, (op, rt)
            assert res["results"][op][rt]["median"] > 0, (op, rt)
        assert res["ratios"][op]["runc"] > 0, op
    assert res["results"]["exec"]["runc"]["n"] == 1
    if has_exec:
        assert res["results"]["exec"]["orun"]["n"] == 1
    else:
        assert "orun" not in res["results"]["exec"]
        assert res["exec"]["orun"] == "n/a (orun exec not implemented)"
        assert "n/a (orun exec not implemented)" in r.stdout
    if os.access("/usr/bin/time", os.X_OK):
        for op in ("rss run", "rss create"):
            for rt in ("orun", "runc"):
                # KiB: any runtime process is above 1 MiB and far below 1 GiB
                assert 1024 < res["results"][op][rt]["median"] < 1024 * 1024, (op, rt, res["results"][op][rt])
    assert res["crun"]["status"], "crun's state (ok, refused, not installed) must be reported"
    if res["crun"]["status"] == "refused":
        assert res["crun"]["attempts"] and all(a["error"] for a in res["crun"]["attempts"])
        assert "crun: refused" in r.stdout
    for head in ("| operation", "| CPU time", "| peak RSS"):
        assert head in r.stdout
    with open("/proc/sys/kernel/randomize_va_space") as f:
        assert res["machine"]["aslr"] == (f.read().strip() != "0")

    # Nothing left behind: the tool's ids all start with id_prefix.
    prefix = res["id_prefix"]
    assert prefix.startswith("bench-")
    leftovers = [p for p in glob.glob("/sys/fs/cgroup/**/" + prefix + "*", recursive=True)]
    assert not leftovers, f"cgroups left by bench: {leftovers}"
    # A container still running (the `sleep 1000` ones) would also keep its cgroup, checked above.
    assert not glob.glob("/run/orun-bench-*/root-*/" + prefix + "*"), "state left by bench"


def test_bench_no_aslr_reaches_every_runtime(orun_bin, tmp_path):
    # --no-aslr: each runtime process starts with ADDR_NO_RANDOMIZE in its personality (a runc wrapper
    # records its own), and the result says so.
    need(os.geteuid() == 0, "bench needs root")
    need(os.access(RUNC, os.X_OK), "runc not installed (tools/install-deps)")
    log = tmp_path / "personality"
    wrapper = tmp_path / "runc"
    wrapper.write_text(f"#!/bin/sh\ncat /proc/$$/personality >> {log}\nexec {RUNC} \"$@\"\n")
    wrapper.chmod(0o755)
    out = tmp_path / "bench.json"
    r = subprocess.run([BENCH, "--no-aslr", "--orun", orun_bin, "--runc", str(wrapper), "--no-crun",
                        "--iterations", "1", "--warmup", "0", "--batch-rounds", "0", "--json", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"bench failed:\n{r.stdout}\n{r.stderr}"
    with open(out) as f:
        assert json.load(f)["machine"]["aslr"] is False
    assert "ASLR off" in r.stdout
    seen = log.read_text().split()
    assert seen and all(int(x, 16) & 0x0040000 for x in seen), seen


VARIANTS = os.path.join(REPO, "tools", "bench", "variants")


def test_variants_ops_one_iteration(orun_bin, tmp_path):
    # tools/bench/variants --ops: start, kill and delete of each build timed in the same loop as
    # run; every row is there, and no cgroup or state root is left behind.
    need(os.geteuid() == 0, "variants needs root")
    out = tmp_path / "variants.json"
    before = set(glob.glob("/sys/fs/cgroup/**/var-*", recursive=True)) | set(glob.glob("/run/orun-variants-*"))
    r = subprocess.run([VARIANTS, "--orun", orun_bin, "--no-runc", "--binaries-only", "--binary",
                        f"again={orun_bin}", "--ops", "run,start,kill,delete", "--iterations", "1",
                        "--warmup", "0", "--json", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"variants failed:\n{r.stdout}\n{r.stderr}"
    with open(out) as f:
        res = json.load(f)
    assert res["ops"] == ["run", "start", "kill", "delete"]
    for name in ("orun", "again"):
        for row in (name, f"{name} start", f"{name} kill", f"{name} delete (killed)"):
            assert res["variants"][row]["stats"]["n"] == 1, row
            assert res["variants"][row]["stats"]["median"] > 0, row
    assert res["variants"]["again kill"]["base"] == "orun kill"
    assert "| again delete (killed)" in r.stdout
    bad = subprocess.run([VARIANTS, "--ops", "delete"], capture_output=True, text=True)
    assert bad.returncode != 0 and "add kill" in bad.stderr
    after = set(glob.glob("/sys/fs/cgroup/**/var-*", recursive=True)) | set(glob.glob("/run/orun-variants-*"))
    assert not after - before, f"cgroups or roots left by variants: {after - before}"
