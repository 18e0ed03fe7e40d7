"""runtime.md (OCI runtime spec v1.2): state, lifecycle, errors, warnings and operations. One test per
statement, named after it, the statement quoted in the docstring."""
import json
import os
import subprocess

import pytest

from oci import (created, hook_logger, in_rootfs, nothing_left, ns_of, orun_raw, read_hook_log, read_text,
                 running, status, stopped, wait_for, writable)

STATUSES = {"creating", "created", "running", "stopped", "paused"}


# ---- Scope of a container ----

def test_scope_entity_that_created_can_operate(orun, bundle):
    """Barring access control concerns, the entity using a runtime to create a container MUST be able to
    use the operations defined in this specification against that same container."""
    cid = created(orun, bundle)
    assert orun.state(cid).returncode == 0
    assert orun.start(cid).returncode == 0
    assert orun.kill(cid, "KILL").returncode == 0
    wait_for(lambda: status(orun, cid) == "stopped", "stopped")
    assert orun.delete(cid).returncode == 0


# ---- State ----

def test_state_id_unique_on_host(orun, bundle):
    """id (string, REQUIRED) is the container's ID. This MUST be unique across all containers on this host."""
    cid = created(orun, bundle)
    again = orun.create(bundle, cid)
    assert again.returncode != 0
    assert orun.list("-q").stdout.split() == [cid]


def test_state_status_additional_values_only_for_new_states(orun, bundle):
    """Additional values MAY be defined by the runtime, however, they MUST be used to represent new runtime
    states not defined above."""
    seen = set()
    cid = created(orun, bundle)
    seen.add(status(orun, cid))
    orun.start(cid)
    seen.add(status(orun, cid))
    orun.kill(cid, "KILL")
    wait_for(lambda: status(orun, cid) == "stopped", "stopped")
    seen.add(status(orun, cid))
    assert seen == {"created", "running", "stopped"}, seen
    assert seen <= STATUSES


def test_state_pid_required_when_created_or_running(orun, bundle):
    """pid (int, REQUIRED when status is created or running on Linux, OPTIONAL on other platforms) is the
    ID of the container process."""
    cid = created(orun, bundle)
    for want in ("created", "running"):
        st = orun.state_json(cid)
        assert st["status"] == want
        assert isinstance(st["pid"], int) and st["pid"] > 0
        # As seen by the runtime (the host): the process exists in our pid namespace, in its own.
        assert ns_of(st["pid"], "pid") != ns_of("self", "pid")
        if want == "created":
            orun.start(cid)


def test_state_bundle_is_absolute_path(orun, bundle):
    """bundle (string, REQUIRED) is the absolute path to the container's bundle directory."""
    bundle.set_args("sleep", "1000")
    bundle.write()
    cid = orun.new_id()
    parent, name = os.path.split(bundle.path)
    r = subprocess.run([orun.binary, "--root", orun.root, "create", "--bundle", name, cid], cwd=parent,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    assert r.returncode == 0
    st = orun.state_json(cid)
    assert os.path.isabs(st["bundle"])
    assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path)


def test_state_serialization_pattern(orun, bundle):
    """When serialized in JSON, the format MUST adhere to the following pattern: {"ociVersion": ...,
    "id": ..., "status": ..., "pid": ..., "bundle": ..., "annotations": {...}}"""
    bundle.config["annotations"] = {"org.example.key": "value"}
    cid = created(orun, bundle)
    st = orun.state_json(cid)
    assert isinstance(st["ociVersion"], str) and st["ociVersion"] == bundle.config["ociVersion"]
    assert st["id"] == cid
    assert st["status"] in STATUSES
    assert isinstance(st["pid"], int)
    assert isinstance(st["bundle"], str)
    assert st["annotations"] == {"org.example.key": "value"}


def test_state_annotations_absent_or_empty_without_any(orun, bundle):
    """If no annotations were provided then this property MAY either be absent or an empty map."""
    bundle.config.pop("annotations", None)
    cid = created(orun, bundle)
    assert orun.state_json(cid).get("annotations", {}) == {}


# ---- Lifecycle ----

def test_lifecycle_create_does_not_run_user_program(orun, bundle):
    """While the resources requested in the config.json MUST be created, the user-specified program (from
    process) MUST NOT be run at this time."""
    marker = in_rootfs(writable(bundle), "/ran")
    cid = created(orun, bundle, "sh", "-c", "touch /ran; exec sleep 1000")
    pid = orun.state_json(cid)["pid"]
    assert not os.path.exists(marker)
    assert b"sleep" not in open(f"/proc/{pid}/cmdline", "rb").read()
    # ... while the resources exist: the cgroup is there and the init is inside it.
    assert os.path.exists(f"/proc/{pid}")
    assert orun.start(cid).returncode == 0
    wait_for(lambda: os.path.exists(marker), "the program after start")


def test_lifecycle_config_updates_after_create_do_not_affect_container(orun, bundle):
    """Any updates to config.json after this step MUST NOT affect the container."""
    writable(bundle)
    cid = created(orun, bundle, "sh", "-c", "echo original > /which; exec sleep 1000")
    bundle.set_args("sh", "-c", "echo updated > /which; exec sleep 1000")
    bundle.config["hostname"] = "updated"
    bundle.write()
    assert orun.start(cid).returncode == 0
    wait_for(lambda: read_text(in_rootfs(bundle, "/which")), "the program")
    assert read_text(in_rootfs(bundle, "/which")) == "original\n"


@pytest.mark.parametrize("hook", ["prestart", "createRuntime", "createContainer"])
def test_lifecycle_create_hook_failure_stops_container(orun, bundle, tmp_path, test_mark, hook):
    """If any prestart (createRuntime, createContainer) hook fails, the runtime MUST generate an error,
    stop the container, and continue the lifecycle at step 12 (destroy), then 13 (poststop hooks)."""
    log = tmp_path / "poststop.log"
    bundle.config["hooks"] = {hook: [{"path": "/bin/false"}],
                              "poststop": [{"path": "/bin/sh", "args": ["sh", "-c", f"echo ran >> {log}"]}]}
    r = orun.create(bundle)
    assert r.returncode != 0
    assert hook in r.stderr
    assert nothing_left(orun, r.cid, bundle, test_mark) == []
    assert read_text(log) == "ran\n", "poststop hooks did not run after the failed hook"


def test_lifecycle_start_container_hook_failure(orun, bundle, tmp_path):
    """If any startContainer hook fails, the runtime MUST generate an error, stop the container, and
    continue the lifecycle at step 12."""
    marker = in_rootfs(writable(bundle), "/ran")
    bundle.config["hooks"] = {"startContainer": [{"path": "/bin/false"}]}
    cid = created(orun, bundle, "touch", "/ran")
    s = orun.start(cid)
    assert s.returncode != 0 and "startContainer" in s.stderr, s.stderr
    wait_for(lambda: status(orun, cid) == "stopped", "the container to stop")
    assert not os.path.exists(marker), "the program ran although startContainer failed"
    assert orun.delete(cid).returncode == 0


def test_lifecycle_runs_user_program_on_start(orun, bundle):
    """The runtime MUST run the user-specified program, as specified by process."""
    marker = in_rootfs(writable(bundle), "/ran")
    cid = created(orun, bundle, "sh", "-c", "echo $0 $1 > /ran", "zero", "one")
    assert orun.start(cid).returncode == 0
    wait_for(lambda: read_text(marker), "the program")
    assert read_text(marker) == "zero one\n"


@pytest.mark.parametrize("hook", ["poststart", "poststop"])
def test_lifecycle_post_hook_failure_is_a_warning(orun, bundle, tmp_path, hook):
    """If any poststart (poststop) hook fails, the runtime MUST log a warning, but the remaining hooks and
    lifecycle continue as if the hook had succeeded."""
    log = tmp_path / "hooks.log"
    orun.global_args = ["--log", str(tmp_path / "log.json"), "--log-format", "json"]
    bundle.config["hooks"] = {hook: [{"path": "/bin/false"},
                                     {"path": "/bin/sh", "args": ["sh", "-c", f"echo second >> {log}"]}]}
    cid = running(orun, bundle)
    assert status(orun, cid) == "running"
    if hook == "poststop":
        assert orun.delete(cid, force=True).returncode == 0
        assert orun.state(cid).returncode != 0
    assert read_text(log) == "second\n"
    entries = [json.loads(line) for line in read_text(tmp_path / "log.json").splitlines() if line.strip()]
    assert any(e["level"] in ("warning", "warn") and hook in e["msg"] for e in entries), entries


def test_lifecycle_delete_destroys_container(orun, bundle, test_mark):
    """The container MUST be destroyed by undoing the steps performed during create phase (step 2)."""
    cid = stopped(orun, bundle)
    assert nothing_left(orun, cid, bundle, test_mark) != [], "nothing to destroy?"
    assert orun.delete(cid).returncode == 0
    assert nothing_left(orun, cid, bundle, test_mark) == []


# ---- Errors and warnings ----

def test_errors_leave_environment_unchanged(orun, bundle, test_mark):
    """Unless otherwise stated, generating an error MUST leave the state of the environment as if the
    operation were never attempted - modulo any possible trivial ancillary changes such as logging."""
    # A create that fails late: after the cgroup, the state dir and the mount namespace exist.
    bundle.config["mounts"].append({"destination": "/x", "type": "bind", "source": "/no/such/path",
                                    "options": ["bind"]})
    r = orun.create(bundle)
    assert r.returncode != 0
    assert nothing_left(orun, r.cid, bundle, test_mark) == []
    assert orun.list("-q").stdout == ""


def test_warning_does_not_change_flow(orun, bundle, tmp_path):
    """Unless otherwise stated, logging a warning does not change the flow of the operation; it MUST
    continue as if the warning had not been logged."""
    marker = in_rootfs(writable(bundle), "/ran")
    bundle.config["hooks"] = {"poststart": [{"path": "/bin/false"}]}
    cid = created(orun, bundle, "sh", "-c", "touch /ran; exec sleep 1000")
    s = orun.start(cid)
    assert s.returncode == 0, s.stderr
    wait_for(lambda: os.path.exists(marker), "the program")
    assert status(orun, cid) == "running"


# ---- Operations: query state ----

def test_state_op_error_without_id(orun):
    """This operation MUST generate an error if it is not provided the ID of a container."""
    assert orun_raw(orun, "state").returncode != 0


def test_state_op_error_for_unknown_container(orun):
    """Attempting to query a container that does not exist MUST generate an error."""
    r = orun.state("does-not-exist")
    assert r.returncode != 0 and r.stdout == ""


def test_state_op_returns_state(orun, bundle):
    """This operation MUST return the state of a container as specified in the State section."""
    cid = created(orun, bundle)
    st = orun.state_json(cid)
    assert {"ociVersion", "id", "status", "pid", "bundle"} <= set(st)


# ---- Operations: create ----

def test_create_error_without_bundle_or_id(orun, bundle, tmp_path):
    """This operation MUST generate an error if it is not provided a path to the bundle and the container
    ID to associate with the container."""
    bundle.write()
    assert orun_raw(orun, "create", "--bundle", bundle.path).returncode != 0
    # Without --bundle the bundle is the working directory: one without config.json is an error.
    r = subprocess.run([orun.binary, "--root", orun.root, "create", orun.new_id()], cwd=tmp_path,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode != 0
    assert orun.list("-q").stdout == ""


@pytest.mark.parametrize("bad", ["dup", "../escape", "a/b", ""])
def test_create_invalid_or_duplicate_id_creates_nothing(orun, bundle, bad):
    """If the ID provided is not unique across all containers within the scope of the runtime, or is not
    valid in any other way, the implementation MUST generate an error and a new container MUST NOT be
    created."""
    existing = created(orun, bundle)
    cid = existing if bad == "dup" else bad
    before = orun.state_json(existing)
    r = orun.cmd("create", "--bundle", bundle.path, cid)
    assert r.returncode != 0
    assert orun.list("-q").stdout.split() == [existing]
    assert orun.state_json(existing) == before
    assert sorted(os.listdir(orun.root)) == [existing]


def test_create_applies_all_properties_but_process(orun, bundle):
    """All of the properties configured in config.json except for process MUST be applied."""
    bundle.config["hostname"] = "conformance"
    bundle.config["linux"]["sysctl"] = {"kernel.shmmax": "12345678"}
    cid = created(orun, bundle)
    pid = orun.state_json(cid)["pid"]
    # Mounts: the init's mount table already has the config's /dev tmpfs and /proc.
    mountinfo = read_text(f"/proc/{pid}/mountinfo")
    assert " /dev " in mountinfo and " /proc " in mountinfo
    # Hostname and sysctl, read in the init's namespaces.
    out = subprocess.run(["nsenter", "-t", str(pid), "-u", "-i", "sh", "-c",
                          "hostname; cat /proc/sys/kernel/shmmax"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["conformance", "12345678"]


def test_create_does_not_apply_process_args(orun, bundle):
    """process.args MUST NOT be applied until triggered by the start operation."""
    cid = created(orun, bundle, "sleep", "1000")
    pid = orun.state_json(cid)["pid"]
    assert open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:2] != [b"sleep", b"1000"]
    assert orun.start(cid).returncode == 0
    wait_for(lambda: open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:2] == [b"sleep", b"1000"],
             "args applied by start")


def test_create_error_when_property_cannot_be_applied(orun, bundle, test_mark):
    """If the runtime cannot apply a property as specified in the configuration, it MUST generate an
    error and a new container MUST NOT be created."""
    bundle.config["mounts"].append({"destination": "/x", "type": "no-such-fs", "source": "none"})
    r = orun.create(bundle)
    assert r.returncode != 0
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


# ---- Operations: start ----

def test_start_error_without_id(orun):
    """This operation MUST generate an error if it is not provided the container ID."""
    assert orun_raw(orun, "start").returncode != 0


@pytest.mark.parametrize("state", ["running", "stopped"])
def test_start_not_created_no_effect_and_error(orun, bundle, state):
    """Attempting to start a container that is not created MUST have no effect on the container and MUST
    generate an error."""
    marker = in_rootfs(writable(bundle), "/runs")
    args = ("sh", "-c", "echo run >> /runs; exec sleep 1000") if state == "running" else \
           ("sh", "-c", "echo run >> /runs")
    cid = running(orun, bundle, *args)
    wait_for(lambda: read_text(marker), "the program")
    if state == "stopped":
        wait_for(lambda: status(orun, cid) == "stopped", "stopped")
    before = orun.state_json(cid)
    assert orun.start(cid).returncode != 0
    assert orun.state_json(cid) == before
    assert read_text(marker) == "run\n"


def test_start_error_without_process(orun, bundle):
    """This operation MUST generate an error if process was not set."""
    del bundle.config["process"]
    r = orun.create(bundle)
    assert r.returncode == 0, r.stderr
    s = orun.start(r.cid)
    assert s.returncode != 0 and "process" in s.stderr


# ---- Operations: kill ----

def test_kill_error_without_id(orun):
    """This operation MUST generate an error if it is not provided the container ID."""
    assert orun_raw(orun, "kill").returncode != 0


def test_kill_not_created_or_running_no_effect_and_error(orun, bundle):
    """Attempting to send a signal to a container that is neither created nor running MUST have no effect
    on the container and MUST generate an error."""
    cid = stopped(orun, bundle)
    before = orun.state_json(cid)
    assert orun.kill(cid, "KILL").returncode != 0
    assert orun.state_json(cid) == before


def test_kill_sends_signal_to_container_process(orun, bundle):
    """This operation MUST send the specified signal to the container process."""
    log = in_rootfs(writable(bundle), "/got")
    cid = running(orun, bundle, "sh", "-c",
                  "trap 'echo HUP > /got; exit 0' HUP; touch /ready; while :; do sleep 1000 & wait $!; done")
    wait_for(lambda: os.path.exists(in_rootfs(bundle, "/ready")), "the trap")
    assert orun.kill(cid, "HUP").returncode == 0
    wait_for(lambda: read_text(log) == "HUP\n", "the signal")


# ---- Operations: delete ----

def test_delete_error_without_id(orun):
    """This operation MUST generate an error if it is not provided the container ID."""
    assert orun_raw(orun, "delete").returncode != 0


@pytest.mark.parametrize("state", ["created", "running"])
def test_delete_not_stopped_no_effect_and_error(orun, bundle, state):
    """Attempting to delete a container that is not stopped MUST have no effect on the container and MUST
    generate an error."""
    cid = created(orun, bundle) if state == "created" else running(orun, bundle)
    before = orun.state_json(cid)
    assert orun.delete(cid).returncode != 0
    assert orun.state_json(cid) == before
    assert os.path.exists(f"/proc/{before['pid']}")


def test_delete_removes_created_resources(orun, bundle, test_mark):
    """Deleting a container MUST delete the resources that were created during the create step."""
    cid = stopped(orun, bundle)
    assert orun.delete(cid).returncode == 0
    assert nothing_left(orun, cid, bundle, test_mark) == []


def test_delete_keeps_resources_not_created_by_container(orun, bundle, tmp_path):
    """Note that resources associated with the container, but not created by this container, MUST NOT be
    deleted."""
    # A network namespace held by our own process, joined by path; and a bind-mounted host directory.
    holder = subprocess.Popen(["unshare", "--net", "sleep", "1000"])
    try:
        wait_for(lambda: ns_of(holder.pid, "net") != ns_of("self", "net"), "the holder's namespace")
        netns = ns_of(holder.pid, "net")
        shared = tmp_path / "shared"
        shared.mkdir()
        (shared / "keep").write_text("keep")
        bundle.config["linux"]["namespaces"] = [n for n in bundle.config["linux"]["namespaces"]
                                                if n["type"] != "network"]
        bundle.config["linux"]["namespaces"].append({"type": "network", "path": f"/proc/{holder.pid}/ns/net"})
        bundle.config["mounts"].append({"destination": "/shared", "type": "bind", "source": str(shared),
                                        "options": ["rbind", "rw"]})
        cid = running(orun, bundle)
        assert ns_of(orun.state_json(cid)["pid"], "net") == netns
        assert orun.delete(cid, force=True).returncode == 0
        assert holder.poll() is None, "the process holding the joined namespace was killed"
        assert ns_of(holder.pid, "net") == netns
        assert (shared / "keep").read_text() == "keep"
    finally:
        holder.kill()
        holder.wait()


def test_delete_id_may_be_reused(orun, bundle):
    """Once a container is deleted its ID MAY be used by a subsequent container."""
    cid = stopped(orun, bundle)
    assert orun.delete(cid).returncode == 0
    bundle.set_args("true")
    again = orun.create(bundle, cid)
    assert again.returncode == 0, again.stderr
    assert status(orun, cid) == "created"


# ---- Hooks (config.md, "POSIX-platform Hooks"): order, namespaces, state on stdin ----

def test_hooks_called_in_order_in_their_namespaces_with_state(orun, bundle, tmp_path):
    """Hooks MUST be called in the listed order. The state of the container MUST be passed to hooks over
    stdin. The prestart hooks MUST be called before the createRuntime hooks; the createContainer hooks
    MUST be called after the createRuntime hooks. prestart, createRuntime, poststart and poststop hooks
    MUST be executed in the runtime namespace; createContainer and startContainer hooks MUST be
    executed in the container namespace; the startContainer hooks' path MUST resolve in the container
    namespace."""
    writable(bundle)
    host_log = in_rootfs(bundle, "/hooks.log")  # the same file seen from the host and the container
    hooks = {}
    for kind in ("prestart", "createRuntime", "createContainer", "poststart", "poststop"):
        hooks[kind] = [hook_logger(host_log, f"{kind}-1"), hook_logger(host_log, f"{kind}-2")]
    hooks["startContainer"] = [hook_logger("/hooks.log", "startContainer-1"),
                               hook_logger("/hooks.log", "startContainer-2")]
    bundle.config["hooks"] = hooks
    bundle.config["annotations"] = {"org.example.hooks": "yes"}
    cid = created(orun, bundle, "sh", "-c", "echo program >> /hooks.log; exec sleep 1000")
    assert orun.start(cid).returncode == 0
    wait_for(lambda: "program" in read_text(host_log), "the program")
    container_mnt = ns_of(orun.state_json(cid)["pid"], "mnt")
    assert orun.delete(cid, force=True).returncode == 0
    entries = read_hook_log(host_log)
    names = [e[0] for e in entries]
    order = ["prestart-1", "prestart-2", "createRuntime-1", "createRuntime-2", "createContainer-1",
             "createContainer-2", "startContainer-1", "startContainer-2"]
    assert names[:8] == order, names
    assert set(names[8:11]) == {"program", "poststart-1", "poststart-2"}
    assert names.index("poststart-1") < names.index("poststart-2")
    assert names[11:] == ["poststop-1", "poststop-2"], names
    host_mnt = ns_of("self", "mnt")
    for name, ns, state in entries:
        if name == "program":
            continue
        if name.startswith(("createContainer", "startContainer")):
            assert ns == container_mnt, f"{name} ran outside the container's mount namespace"
        else:
            assert ns == host_mnt, f"{name} ran outside the runtime namespace"
        assert state is not None, f"{name} got no state on stdin"
        assert state["id"] == cid and os.path.realpath(state["bundle"]) == os.path.realpath(bundle.path)
        assert state["annotations"] == {"org.example.hooks": "yes"}
        assert state["status"] in STATUSES
        if not name.startswith("poststop"):
            assert state["pid"] > 0, name


def test_poststart_before_start_returns(orun, bundle, tmp_path):
    """The poststart hooks MUST be called after the user-specified process is executed but before the
    start operation returns."""
    log = tmp_path / "poststart"
    bundle.config["hooks"] = {"poststart": [{"path": "/bin/sh", "args": ["sh", "-c", f"sleep 0.2; touch {log}"]}]}
    cid = created(orun, bundle)
    assert orun.start(cid).returncode == 0
    assert log.exists(), "start returned before its poststart hook finished"


def test_poststop_before_delete_returns(orun, bundle, tmp_path):
    """The poststop hooks MUST be called after the container is deleted but before the delete operation
    returns."""
    log = tmp_path / "poststop"
    bundle.config["hooks"] = {"poststop": [{"path": "/bin/sh", "args": ["sh", "-c", f"sleep 0.2; touch {log}"]}]}
    cid = stopped(orun, bundle)
    assert orun.delete(cid).returncode == 0
    assert log.exists(), "delete returned before its poststop hook finished"


def test_hook_timeout_must_be_positive(orun, bundle):
    """timeout (int, OPTIONAL) is the number of seconds before aborting the hook. If set, timeout MUST be
    greater than zero."""
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/true", "timeout": 0}]}
    r = orun.create(bundle)
    assert r.returncode != 0 and "hooks.prestart[0].timeout" in r.stderr, r.stderr


def test_hook_timeout_aborts_hook(orun, bundle, test_mark):
    """timeout (int, OPTIONAL) is the number of seconds before aborting the hook."""
    bundle.config["hooks"] = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}
    r = orun.create(bundle, None, timeout=20)
    assert r.returncode != 0
    assert nothing_left(orun, r.cid, bundle, test_mark) == []


def test_hook_path_must_be_absolute(orun, bundle):
    """path (string, REQUIRED) with similar semantics to IEEE Std 1003.1-2008 execv's path. This
    specification extends the IEEE standard in that path MUST be absolute."""
    bundle.config["hooks"] = {"poststart": [{"path": "bin/true"}]}
    r = orun.create(bundle)
    assert r.returncode != 0 and "hooks.poststart[0].path" in r.stderr, r.stderr

