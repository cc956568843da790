#!/bin/sh
# demo.sh: install what is missing, build, then start virtqemud in a private --root and
# drive it with Debian's stock virsh, exactly as a user would.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh build >/dev/null

root=$(mktemp -d /tmp/sv-demo.XXXX)
daemon=build/src/virtqemud/virtqemud
uri="qemu+unix:///system?socket=$root/run/libvirt/virtqemud-sock"

"$daemon" --root "$root" --timeout 0 2>"$root/virtqemud.stderr" &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$root"
}
trap cleanup EXIT INT TERM

i=0
until [ -S "$root/run/libvirt/virtqemud-sock" ] || [ $i -ge 500 ]; do
    sleep 0.01
    i=$((i + 1))
done

run() {
    printf '\n$ virsh -c %s %s\n' "'qemu+unix:///system?socket=ROOT/run/libvirt/virtqemud-sock'" "$*"
    virsh -c "$uri" "$@"
}

echo "virtqemud (pid $pid) is serving $root/run/libvirt/virtqemud-sock"
run version
run uri
run hostname
run nodeinfo
run list --all
printf '\n$ virsh ... capabilities | head -12\n'
virsh -c "$uri" capabilities | head -12
printf '\n$ virsh -r -c ...virtqemud-sock-ro hostname   (the read-only socket)\n'
virsh -c "qemu+unix:///system?socket=$root/run/libvirt/virtqemud-sock-ro" -r hostname
echo
echo "demo done; stopping virtqemud"
