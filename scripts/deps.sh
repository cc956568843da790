#!/bin/sh
# deps.sh: install the Debian 12 packages splitvirt builds, tests and demos with (as root).
# Only what is missing is installed; a machine that has everything is left untouched.
set -eu

PACKAGES="
meson ninja-build pkg-config gcc libc6-dev
libglib2.0-dev libtirpc-dev libxml2-dev libsystemd-dev libjson-glib-dev libselinux1-dev
python3 python3-libvirt python3-pytest libvirt-clients libvirt0
systemd qemu-system-x86 busybox-static util-linux procps iproute2
qemu-utils qemu-block-extra
libxen-dev groff-base man-db
clang-14 libclang-rt-14-dev valgrind
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    echo "deps: installing$missing"
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: missing packages and not root; run as root or install:$missing" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
