"""tools/bench/cni runs both rivals through ADD+DEL and reports the ratio (one iteration: a smoke
test that keeps the benchmark from rotting, not a measurement)."""
import json
import os
import subprocess

from lab import PLUGIN, REPO


def test_cni_bench_runs_both_chains(tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run([os.path.join(REPO, "tools/bench/cni"), "--iterations", "1", "--plugin", PLUGIN,
                        "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.load(open(out))
    assert set(data["ms"]) == {"orch", "reference"}
    assert all(len(data["ms"][k]["total"]) == 1 for k in data["ms"])
    assert data["ratio"]["total"] > 0 and "orch/ref" in r.stdout
