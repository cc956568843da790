#!/bin/sh
# demo.sh: install what is missing, build, then start virtqemud in a private --root and
# drive it with Debian's stock virsh, exactly as a user would.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh build >/dev/null

root=$(mktemp -d /tmp/sv-demo.XXXX)
# QEMU runs as libvirt-qemu, as with Debian's libvirt: the root and the guest's kernel
# must be reachable by that user (the clone itself may be in a 0700 directory).
chmod 755 "$root"
cp build/tests/guest/svguest.elf "$root/svguest.elf"
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
run nodeinfo

# A real guest: the tiny multiboot kernel from tests/guest, under QEMU TCG.
cat > "$root/demo.xml" <<XML
<domain type='qemu'>
  <name>demo</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$root/svguest.elf</kernel>
    <cmdline>tick</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='pty'/>
    <console type='pty'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML

virsh -c "$uri" event --all --loop > "$root/events.txt" 2>&1 &
events=$!
sleep 0.3
run define "$root/demo.xml"
run list --all
run start demo
sleep 0.5
run list
run domstate --reason demo
printf '\n$ ps -o user,group,supgrp,comm -p QEMU   (QEMU runs unprivileged, as with libvirt)\n'
ps -o user,group,supgrp,comm -p "$(cat "$root/run/libvirt/qemu/demo.pid")"
run suspend demo
run domstate --reason demo
run resume demo
run shutdown demo
i=0
while [ "$(virsh -c "$uri" domstate demo)" != "shut off" ] && [ $i -lt 100 ]; do
    sleep 0.05
    i=$((i + 1))
done
run domstate --reason demo
run start demo
run destroy demo
run domstate --reason demo
run undefine demo
sleep 0.2
kill "$events" 2>/dev/null || true
wait "$events" 2>/dev/null || true
printf '\n$ virsh -c ... event --all --loop   (what a second client saw meanwhile)\n'
cat "$root/events.txt"

printf '\n$ virsh -r -c ...virtqemud-sock-ro hostname   (the read-only socket)\n'
virsh -c "qemu+unix:///system?socket=$root/run/libvirt/virtqemud-sock-ro" -r hostname
echo
echo "demo done; stopping virtqemud"
