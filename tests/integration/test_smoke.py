"""Smoke tests: the orun binary answers, writes a spec, and runs a busybox container to completion."""
import json
import subprocess


def test_version(orun_bin):
    r = subprocess.run([orun_bin, "--version"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "orun" in r.stdout.lower()
    assert any(ch.isdigit() for ch in r.stdout), f"no version number in {r.stdout!r}"


def test_spec_writes_config(orun_bin, tmp_path):
    r = subprocess.run([orun_bin, "spec", "--bundle", str(tmp_path)], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "config.json") as f:
        config = json.load(f)
    assert config["ociVersion"].startswith("1.")
    assert config["root"]["path"] == "rootfs"
    assert config["process"]["args"] == ["sh"]
    # Like runc, spec refuses to overwrite an existing config.json.
    again = subprocess.run([orun_bin, "spec", "--bundle", str(tmp_path)], capture_output=True, text=True,
                           timeout=10)
    assert again.returncode != 0


def test_run_echo(orun, bundle):
    bundle.set_args("echo", "hello")
    r = orun.run(bundle)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello\n"


def test_run_exit_status(orun, bundle):
    bundle.set_args("sh", "-c", "exit 3")
    r = orun.run(bundle)
    assert r.returncode == 3, r.stderr
    # run without --keep deletes the container when it exits
    assert orun.state(r.cid).returncode != 0


def test_man_page_documents_every_verb(orun_bin):
    """Each subcommand in `orun --help` has its own entry in man/orun.8.scd."""
    import os
    import re
    from orun import REPO
    r = subprocess.run([orun_bin, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    section = re.split(r"(?im)^subcommands:\s*$", r.stdout)
    assert len(section) == 2, f"no Subcommands section in:\n{r.stdout}"
    verbs = re.findall(r"(?m)^\s+([a-z][a-z-]*)[\s,]", section[1])
    assert "run" in verbs and "create" in verbs, verbs
    with open(os.path.join(REPO, "man", "orun.8.scd")) as f:
        page = f.read()
    undocumented = [v for v in verbs if not re.search(rf"(?m)^\*{re.escape(v)}\*", page)]
    assert not undocumented, f"verbs missing from man/orun.8.scd: {undocumented}"
