#!/bin/sh
# deps.sh: install the Debian 12 packages splitvirt builds, tests and demos with (as root).
# Debian's libvirtd and virt-install are the reference the parity tests compare with.
# libvirt0 also provides what splitvirt reads of libvirt's at build and run time: the
# domain schema (/usr/share/libvirt/schemas) and the CPU map (/usr/share/libvirt/cpu_map).
# lvm2, e2fsprogs and parted: virtstoraged's logical, fs and disk pools.
# libgnutls28-dev: TLS of the remote listeners and of remote connections; gnutls-bin
# (certtool), openssh-server and netcat-openbsd: the remote-access tests' certificates and
# their qemu+ssh sshd.
# Only what is missing is installed; a machine that has everything is left untouched.
set -eu

PACKAGES="
meson ninja-build pkg-config gcc libc6-dev
libglib2.0-dev libtirpc-dev libxml2-dev libsystemd-dev libjson-glib-dev libselinux1-dev
python3 python3-libvirt python3-pytest libvirt-clients libvirt0
systemd qemu-system-x86 ovmf busybox-static util-linux procps iproute2
qemu-utils qemu-block-extra qemu-guest-agent
libxen-dev groff-base man-db
clang-14 libclang-rt-14-dev valgrind
libvirt-daemon libvirt-daemon-driver-qemu virtinst
dmidecode libpciaccess-dev pci.ids libudev-dev
scrub
dmidecode libpciaccess-dev pci.ids
lvm2 e2fsprogs parted
dnsmasq-base nftables iptables
libsasl2-dev libsasl2-modules sasl2-bin
libgnutls28-dev gnutls-bin openssh-server netcat-openbsd
ovmf
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

# QEMU's user and groups as Debian's libvirt makes them (virtqemud runs QEMU as
# libvirt-qemu:libvirt-qemu, with kvm among its groups): libvirt-qemu with primary
# group kvm, also in group libvirt-qemu; uid and gid 64055 where free.
free_id() { # free_id passwd|group ID: ID when no entry has it, else nothing
    getent "$1" "$2" >/dev/null 2>&1 || echo "$2"
}
need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: QEMU's user or group is missing and not root; run as root" >&2
        exit 1
    fi
}
if ! getent group kvm >/dev/null; then
    need_root
    groupadd --system kvm
fi
if ! getent group libvirt-qemu >/dev/null; then
    need_root
    gid=$(free_id group 64055)
    groupadd --system ${gid:+--gid "$gid"} libvirt-qemu
fi
if ! getent passwd libvirt-qemu >/dev/null; then
    need_root
    echo "deps: creating user libvirt-qemu"
    uid=$(free_id passwd 64055)
    useradd --system ${uid:+--uid "$uid"} --gid kvm --groups libvirt-qemu --no-create-home \
        --home-dir /var/lib/libvirt --shell /usr/sbin/nologin --comment "Libvirt Qemu" libvirt-qemu
fi
for g in kvm libvirt-qemu; do
    if ! id -nG libvirt-qemu | tr ' ' '\n' | grep -qx "$g"; then
        need_root
        usermod --append --groups "$g" libvirt-qemu
    fi
done

# The kernel the Linux test guest boots (tests/e2e/linuxguest.py), fetched into the
# project's cache. Without it the tests that boot Linux fail and say why.
if ! sh "$(dirname "$0")/guest-kernel.sh" >/dev/null; then
    echo "deps: the Linux test guest's kernel could not be fetched; its tests will fail" >&2
fi
