#!/bin/bash
# tests/vm/test_vm_smoke.sh: one boot of the pure cgroup v2 VM (tools/vm/run) that checks
#   1. the VM is pure v2: cgroup2 at /sys/fs/cgroup with cpu, io, memory and pids available and every
#      controller enabled in the root's cgroup.subtree_control; no v1 hierarchy mounted, and mounting
#      one is refused (cgroup_no_v1=all);
#   2. `orun run` of the default busybox bundle (tools/mkrootfs, made in the VM's /tmp) exits 0, prints the
#      container's output, puts the container in its own v2 cgroup, and removes that cgroup after.
# Exit 0 pass, 1 fail, 77 skip (no qemu or no kernel; under CI=true that is a failure instead).
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
ORUN=${ORUN:-${ORCH_BUILD_ROOT:-$REPO/build}/runtime/cli/orun}

. "$REPO/tests/vm/preflight.sh"
if ! why=$(vm_preflight); then
    [ "${CI:-}" = true ] && { echo "FAIL (CI=true turns this skip into a failure): $why"; exit 1; }
    echo "SKIP: $why"
    exit 77
fi
[ -x "$ORUN" ] || { echo "FAIL: orun not built at $ORUN"; exit 1; }

# Runs inside the VM. Every fact goes on a tagged line; the checks are made on the host below, so
# a VM that prints nothing fails them all.
read -r -d '' INSIDE <<'EOF'
echo "controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "subtree: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
echo "cgroup mounts: $(awk '$9 ~ /^cgroup/ {printf "%s:%s ", $5, $9}' /proc/self/mountinfo)"
mkdir -p /tmp/v1
if mount -t cgroup -o pids cgroup /tmp/v1 2>/dev/null; then echo "v1 mount: allowed"; umount /tmp/v1; else echo "v1 mount: refused"; fi
"$PYTHON" "$REPO/tools/mkrootfs" --orun "$ORUN" /tmp/bundle sh -c \
    'echo hello-from-vm; echo "in-container cgroup: $(cat /proc/self/cgroup)"; echo "in-container pids.max: $(cat /sys/fs/cgroup/pids.max)"' \
    || { echo "mkrootfs failed"; exit 1; }
# The bundle exactly as `orun spec` makes it (its device rules need the eBPF filter), plus a pids limit.
"$PYTHON" - /tmp/bundle/config.json <<'PY' || exit 1
import json, sys
c = json.load(open(sys.argv[1]))
c["linux"]["resources"]["pids"] = {"limit": 321}
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
"$ORUN" run -b /tmp/bundle vm-smoke
echo "orun exit: $?"
echo "left cgroups: $(find /sys/fs/cgroup -mindepth 1 -type d -name 'vm-smoke*' | tr '\n' ' ')"
EOF

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$REPO/tools/vm/run" --timeout "${ORCH_VM_TIMEOUT:-600}" \
    -e REPO="$REPO" -e ORUN="$ORUN" -e PYTHON=/usr/bin/python3 -- sh -c "$INSIDE" 2>&1 | tee "$out"
vm_status=${PIPESTATUS[0]}

fails=0
check() {  # check DESCRIPTION EXTENDED-REGEX: one line of the VM's output must match
    if grep -Eq -- "$2" "$out"; then
        echo "ok: $1"
    else
        echo "FAILED: $1 (no line matching /$2/)"
        fails=$((fails + 1))
    fi
}
[ "$vm_status" -eq 0 ] && echo "ok: VM command exit 0" || { echo "FAILED: VM command exit $vm_status"; fails=$((fails + 1)); }
for c in cpu io memory pids; do
    check "controller $c available" "^controllers: (.* )?$c( |$)"
    check "controller $c enabled for children" "^subtree: (.* )?$c( |$)"
done
check "the only cgroup mount is cgroup2 at /sys/fs/cgroup" '^cgroup mounts: /sys/fs/cgroup:cgroup2 $'
check "mounting a v1 hierarchy is refused" '^v1 mount: refused$'
check "container output" '^hello-from-vm$'
check "container is in its own v2 cgroup" '^in-container cgroup: 0::/.+$'
check "the container's pids limit is applied" '^in-container pids.max: 321$'
check "orun run exit 0" '^orun exit: 0$'
check "container cgroup removed after run" '^left cgroups: $'
if [ "$fails" -ne 0 ]; then
    echo "test_vm_smoke: $fails check(s) failed"
    exit 1
fi
echo "test_vm_smoke: all checks passed"
