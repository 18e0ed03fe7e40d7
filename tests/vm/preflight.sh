# tests/vm/preflight.sh, sourced by the VM tier's scripts: vm_preflight prints why the VM cannot run
# here (and returns 1), or returns 0. Callers skip with exit 77 outside CI and fail under CI=true.
vm_preflight() {
    [ "$(id -u)" -eq 0 ] || { echo "needs root"; return 1; }
    command -v qemu-system-x86_64 >/dev/null ||
        { echo "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"; return 1; }
    local k v found=
    for k in /boot/vmlinuz-*; do
        v=${k#/boot/vmlinuz-}
        [ -f "/lib/modules/$v/modules.dep" ] && found=$v
    done
    [ -n "$found" ] ||
        { echo "no /boot/vmlinuz-KVER with /lib/modules/KVER (apt-get install linux-image-amd64)"; return 1; }
    return 0
}
