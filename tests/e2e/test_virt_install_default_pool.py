"""test_virt_install_default_pool.py: `virt-install --disk size=0.05` where no pool named
`default` exists (issue 19 item 6), against our daemons and against Debian's libvirtd 9.0.0.

virt-install itself picks /var/lib/libvirt/images for `default` and asks the storage daemon
to define, build, start and autostart it; neither daemon makes the pool or its directory
before a client asks (checked before virt-install runs). So that nothing is made on the
host, each side runs in a private mount namespace with a tmpfs over /var/lib (holding an
empty /var/lib/libvirt, as the package installs it): ours (virtsecretd, virtstoraged,
virtqemud under their private root) in one, a libvirtd of the test's own in another, which
also has a tmpfs over /run and a copy of /etc/libvirt without the host's pool, domain and
secret definitions (so it leaves the system's libvirtd, if one runs, alone). The clients
(virt-install, virsh) run in the side's namespace; the test reads the files through
/proc/PID/root.

Then both sides are compared as test_virt_install_disks.py compares them: the guest (started
under TCG), the pool and the volume, and the pool's directory and its state (persistent,
autostarted, running). Slow; starts a libvirtd (run it under the libvirtd lock).
"""

import os
import shutil
import subprocess
import time

import pytest

from guests import uri_for
from test_virt_install_disks import FAMILY, PREFIX, Side, compare_guest, compare_storage, \
    virt_install
from xmlparity import bench_lib

pytestmark = pytest.mark.slow

LIBVIRTD = "/usr/sbin/libvirtd"
IMAGES = "/var/lib/libvirt/images"

# The namespace's mounts ($1: ours or libvirtd, $2: a directory of the test's): a tmpfs over
# /var/lib holding an empty libvirt directory and, bound back from the host's /var/lib
# (first bound to $2/varlib), every other entry (/usr/share/misc/usb.ids, which virt-install
# reads, is a link into /var/lib/usbutils); for a libvirtd, also a tmpfs over /run and
# $2/etc-libvirt bound over /etc/libvirt.
NAMESPACE_SCRIPT = r"""set -e
mkdir "$2/varlib"
mount --bind /var/lib "$2/varlib"
mount -t tmpfs -o mode=0755 svvarlib /var/lib
for e in "$2"/varlib/* "$2"/varlib/.[!.]*; do
    [ -e "$e" ] || continue
    n=${e##*/}
    [ "$n" != libvirt ] || continue
    if [ -d "$e" ]; then mkdir "/var/lib/$n"; else : > "/var/lib/$n"; fi
    mount --bind "$e" "/var/lib/$n"
done
mkdir -m 0755 /var/lib/libvirt
if [ "$1" = libvirtd ]; then
    mount -t tmpfs -o mode=0755 svrun /run
    mount --bind "$2/etc-libvirt" /etc/libvirt
fi
echo ready
exec sleep 100000
"""


class Namespace:
    """A private mount namespace (NAMESPACE_SCRIPT's), held by a sleeping process; gone
    with it and with the last process inside (close() ends only the holder). With net, a
    network namespace of its own too (only `lo`, up), which the clients share."""

    def __init__(self, kind, work, net=False):
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private"] + (["--net"] if net else []) +
            ["--", "/bin/sh", "-c", ("ip link set lo up\n" if net else "") + NAMESPACE_SCRIPT,
             "sh", kind, str(work)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if line.strip() != b"ready":
            self.proc.wait(30)
            pytest.skip("no private mount namespace: %s" % self.proc.stderr.read().decode())
        self.wrap = [shutil.which("nsenter"), "-t", str(self.proc.pid), "-m"] + \
            (["-n"] if net else []) + ["--"]
        self.view = "/proc/%d/root" % self.proc.pid

    def close(self):
        self.proc.kill()
        self.proc.wait(30)
        self.proc.stdout.close()
        self.proc.stderr.close()


def skip_without_tools():
    for tool in ("unshare", "nsenter", "virt-install"):
        if not shutil.which(tool):
            pytest.skip("needs %s" % tool)
    if not os.path.exists(LIBVIRTD):
        pytest.skip("Debian's libvirtd is not installed (scripts/deps.sh installs it)")


@pytest.fixture(scope="module")
def ours_side(module_daemons, tmp_path_factory):
    """Our three daemons in a namespace of their own; their Side."""
    skip_without_tools()
    ns = Namespace("ours", tmp_path_factory.mktemp("ours-ns"))
    try:
        for name in FAMILY:
            d = module_daemons.start(name=name, label=name + "-ns", args=["--timeout", "0"],
                                     wrapper=ns.wrap)
        yield Side("ours", uri_for(d.sock), None, d.root, ns.wrap, ns.view)
    finally:
        # the daemons (and their guests) stop at module_daemons' end; the namespace goes
        # with the last of them
        ns.close()


def start_libvirtd(ns, work):
    """Debian's libvirtd in ns, under bench's subreaper (as the `ref` fixture runs it);
    (its Procs, its Side) once it answers."""
    lib = bench_lib()
    procs = lib.Procs()
    log_path = work / "libvirtd.log"
    p = procs.start([lib.PYTHON, lib.BENCH / "benchlib.py", "--subreaper", "--"] + ns.wrap +
                    [LIBVIRTD], log_path, stdout=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()
    side = Side("libvirtd", "qemu:///system", None, None, ns.wrap, ns.view)
    deadline = time.monotonic() + 120
    while side.virsh("version", check=False).returncode != 0:
        if p.poll() is not None or time.monotonic() > deadline:
            procs.stop_all()
            pytest.fail("libvirtd in its namespace did not answer:\n%s"
                        % log_path.read_text()[-3000:], pytrace=False)
        time.sleep(0.5)
    return procs, side


@pytest.fixture(scope="module")
def libvirtd_side(tmp_path_factory):
    """Debian's libvirtd in a namespace of its own (module docstring); its Side."""
    skip_without_tools()
    lib = bench_lib()
    lib.ensure_account()
    lib.ensure_qemu_conf()  # QEMU as root, as every libvirtd of the tests runs it
    work = tmp_path_factory.mktemp("libvirtd-ns")
    shutil.copytree("/etc/libvirt", work / "etc-libvirt", ignore=shutil.ignore_patterns(
        "storage", "qemu", "secrets"))
    ns = Namespace("libvirtd", work)
    try:
        procs, side = start_libvirtd(ns, work)
        try:
            yield side
        finally:
            for name in side.names("list", "--all", "--name"):
                side.virsh("destroy", name, check=False)
            procs.stop_all()
    finally:
        ns.close()


def pool_state(side):
    """What pool-info says of `default` but its figures: {field: value}."""
    fields = [ln.split(":", 1) for ln in side.virsh("pool-info", "default").stdout.splitlines()]
    return {k.strip(): v.strip() for k, v in fields
            if k.strip() in ("Name", "State", "Persistent", "Autostart")}


def dir_state(side, path):
    st = os.stat(side.file(path))
    return oct(st.st_mode), st.st_uid, st.st_gid


def test_virt_install_makes_default_pool(libvirtd_side, ours_side):
    theirs, ours = libvirtd_side, ours_side
    name = PREFIX + "default"
    for s in (theirs, ours):
        assert s.names("pool-list", "--all", "--name") == [], \
            "%s has a pool before any client asked" % s.label
        assert not s.file(IMAGES).exists(), "%s made %s on its own" % (s.label, IMAGES)
    try:
        for s in (theirs, ours):
            virt_install(s, name, ["--import", "--disk", "size=0.05"])
        compare_guest(theirs, ours, name)
        pools, _remembered = compare_storage(theirs, ours)  # xattrs: as the tmpfs allows
        assert pools == {"default": [name + ".qcow2"]}
        states = [pool_state(s) for s in (ours, theirs)]
        assert states[0] == states[1], "pool-info default: ours %r, libvirtd's %r" % tuple(
            states)
        assert states[0] == {"Name": "default", "State": "running", "Persistent": "yes",
                             "Autostart": "yes"}, states[0]
        dirs = [dir_state(s, IMAGES) for s in (ours, theirs)]
        assert dirs[0] == dirs[1], "%s: ours %r, libvirtd's %r" % (IMAGES, dirs[0], dirs[1])
    finally:
        for s in (theirs, ours):
            s.virsh("destroy", name, check=False)
            s.virsh("undefine", name, check=False)
            s.virsh("pool-destroy", "default", check=False)
            s.virsh("pool-undefine", "default", check=False)
