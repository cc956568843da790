#!/bin/sh
# run-guest.sh: boot Guest A (svguest.elf) under plain QEMU by hand, COM1 on this terminal.
#
# usage: run-guest.sh [-M MACHINE] [-q QMP-SOCKET] [WORD...] [-- QEMU-ARG...]
#   WORDs go to the guest's command line: ignore, off=MS, panic=MS, reset=MS, echo, tick.
#   -M  machine type (default pc; q35 works too)
#   -q  QMP socket path (default: a fresh one under ${TMPDIR:-/tmp}, printed on stderr)
# On a terminal COM1 shares stdio with QEMU's monitor: Ctrl-A c switches to it (try
# system_powerdown), Ctrl-A x quits. SV_BUILD_DIR names the build tree (default <repo>/build).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
elf=${SV_BUILD_DIR:-$here/../../build}/tests/guest/svguest.elf
machine=pc
qmp=

while getopts M:q:h opt; do
    case $opt in
    M) machine=$OPTARG ;;
    q) qmp=$OPTARG ;;
    *) sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

words=
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    words="$words${words:+ }$1"
    shift
done
[ "${1:-}" = "--" ] && shift

if [ ! -f "$elf" ]; then
    echo "run-guest.sh: $elf not found; build first (meson compile -C build)" >&2
    exit 1
fi
if [ -z "$qmp" ]; then
    qmp=$(mktemp -u "${TMPDIR:-/tmp}/svguest.XXXXXX.qmp")
fi
echo "run-guest.sh: QMP on $qmp" >&2

serial=stdio
[ -t 0 ] && serial=mon:stdio

exec qemu-system-x86_64 -machine "$machine" -accel tcg -m 32 \
    -nodefaults -no-user-config -display none -no-shutdown \
    -kernel "$elf" -append "$words" \
    -serial "$serial" -device pvpanic \
    -qmp "unix:$qmp,server=on,wait=off" "$@"
