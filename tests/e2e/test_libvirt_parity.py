"""test_libvirt_parity.py: the same domain XML given to Debian's libvirtd 9.0.0 and to our
virtqemud in the same run: what each defines (dumpxml --inactive) is compared, canonicalised
(xmlparity.py), and every difference that remains is named below with its reason. The
guests of issue 17's runs 1-4 and 6-8 are also started on both (TCG, no OS: the firmware
runs): their live XML (dumpxml while running) is compared the same way, and the device tree
of our QEMU's command line (tests/qemu-devtree.py) with libvirtd's, both as
`domxml-to-native qemu-argv` gives it and as libvirtd's own QEMU runs it.

Slow: it starts (or uses) the system's libvirtd, whose first start probes QEMU. Both
daemons are started once for the module.
The allowed differences are the issue-17 work not done yet, each said so; a difference
that is not listed fails the test, and so does a listed one that no longer occurs (the
list must shrink as the work lands).
"""

import os
import re
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from guests import uri_for
from xmlparity import check_parity as check, define_both as define_both_kept, devtree, \
    native_argv, normalise, pid_argv, unexplained, virsh_on as virsh, virt_install_xml

pytestmark = pytest.mark.slow

QEMU = "/usr/bin/qemu-system-x86_64"


@pytest.fixture(scope="module")
def virtqemud(module_daemons):
    """One virtqemud for the module (QEMU as root, as svdaemon.py configures every test's),
    under a short private root; stopped and checked (exit status, sanitizer reports) at the
    end. Each test undefines what it defined there."""
    return module_daemons.start(label="virtqemud-parity")


def define_both(ref, ours_uri, xml, tmp_path):
    return define_both_kept(ref, ours_uri, xml, tmp_path, keep_ours=False)


# What libvirt's QEMU driver adds at define that ours does not yet (issue 17 item 2).
NOT_YET_DEFAULTS = []


def minimal_xml(name, machine="pc"):
    return ("<domain type='qemu'><name>%s</name><uuid>%s</uuid>"
            "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='%s'>hvm</type></os>"
            "<devices><emulator>%s</emulator></devices></domain>"
            % (name, uuid.uuid4(), machine, QEMU))


def test_minimal_pc_guest(ref, virtqemud, tmp_path):
    ours, theirs = define_both(ref, uri_for(virtqemud.sock), minimal_xml("svparity-minimal"),
                               tmp_path)
    check(ours, theirs, NOT_YET_DEFAULTS)


# The display devices of virt-manager's desktop and server guests (spice, qxl, ich9 sound,
# usb tablet and redirection; vnc, virtio video): what libvirt adds is there (ps2 inputs,
# <audio>, <listen>, video sizes and primary, PCI addresses, USB ports and the hub libvirt adds
# when the piix3's two root ports run out).
@pytest.mark.parametrize("machine,devices", [
    ("pc", "<input type='tablet' bus='usb'/>"
           "<graphics type='spice' port='-1' tlsPort='-1' autoport='yes'>"
           "<image compression='off'/></graphics><sound model='ich9'/>"
           "<video><model type='qxl'/></video><redirdev bus='usb' type='spicevmc'/>"
           "<redirdev bus='usb' type='spicevmc'/>"),
    ("pc", "<input type='tablet' bus='usb'/><graphics type='vnc' port='-1'/>"
           "<video><model type='virtio'/></video>"),
])
def test_display_devices(ref, virtqemud, tmp_path, machine, devices):
    xml = minimal_xml("svparity-display", machine).replace("</devices>", devices + "</devices>")
    ours, theirs = define_both(ref, uri_for(virtqemud.sock), xml, tmp_path)
    check(ours, theirs, NOT_YET_DEFAULTS)
# ---------------------------------------------------------------- running guests on both

class Both:
    """One XML defined and run on both daemons: inactive and live XML, QEMU command lines."""

    def __init__(self, path):
        self.path = path
        self.ours_inactive = self.theirs_inactive = None
        self.ours_live = self.theirs_live = None
        self.ours_argv = self.theirs_argv = None


def run_on(virsh_of, name, path, pid_dir, both_side, while_running=None):
    """Define, dumpxml --inactive, start (RUNNING), dumpxml, the QEMU's argv (its pid file
    in pid_dir), while_running(), destroy (shut off), undefine: returns (inactive, live,
    argv). The guests have no OS: under TCG, QEMU runs the firmware."""
    virsh_of("define", str(path))
    try:
        inactive = virsh_of("dumpxml", "--inactive", name).stdout
        virsh_of("start", name)
        assert virsh_of("domstate", name).stdout.strip() == "running", both_side
        live = virsh_of("dumpxml", name).stdout
        argv = pid_argv(Path(pid_dir) / ("%s.pid" % name))
        if while_running:
            while_running()
        virsh_of("destroy", name)
        assert virsh_of("domstate", name).stdout.strip() == "shut off", both_side
    finally:
        virsh_of("destroy", name, check=False)
        virsh_of("undefine", "--nvram", name, check=False)
    return inactive, live, argv


def run_both(ref, virtqemud, xml, tmp_path, while_running=None):
    """xml on libvirtd, then on ours, one after the other: a tap, a unix socket or a display
    port the XML names is free again for ours once libvirtd's guest is gone.
    while_running() is called while ours runs the guest."""
    path = tmp_path / "domain.xml"
    path.write_text(xml)
    name = re.search(r"<name>([^<]+)</name>", xml).group(1)
    uri = uri_for(virtqemud.sock)
    both = Both(path)
    both.theirs_inactive, both.theirs_live, both.theirs_argv = run_on(
        ref.virsh, name, path, ref.daemon.qemu_run, "libvirtd")
    both.ours_inactive, both.ours_live, both.ours_argv = run_on(
        lambda *a, check=True: virsh(uri, *a, check=check), name, path,
        virtqemud.run_dir / "qemu", "ours", while_running)
    return both


# What a running guest shows that each daemon picks for itself, made equal before the live
# XMLs are compared: (regex, replacement, reason).
LIVE_NORMALISE = [
    (r"(<domain [^>]*\bid=')\d+'", r"\1N'",
     "the domain id: each daemon numbers the guests it runs"),
    (r"/dev/pts/\d+", "/dev/pts/N",
     "pty paths: each guest gets the host's next free pty"),
    (r"/domain-\d+-", "/domain-N-",
     "the qemu-ga socket's directory names the domain id (above)"),
    (r"(<graphics [^>]*\b(?:port|tlsPort|websocket)=')\d+'", r"\1N'",
     "autoport display ports: the first free one in the range when that daemon started it"),
]


def check_live(both, virtqemud, allowed):
    """The live XMLs, normalised, differ only as allowed names."""
    # Ours runs under a private --root: its state directories (the qemu-ga channel
    # sockets, per-guest NVRAM) are below it, where libvirtd's are below /.
    ours = both.ours_live.replace(str(virtqemud.root) + "/", "/")
    check(normalise(ours, LIVE_NORMALISE), normalise(both.theirs_live, LIVE_NORMALISE),
          allowed, LIVE_HOST_DEPENDENT)


# What our live XML lacks, the same for every guest run here (each still occurs, or the
# test fails and the entry must go).
LIVE_ALLOWED = [
    # libvirt updates the guest CPU from QEMU after start (qemuProcessUpdateLiveGuestCPU:
    # check='full', and a <feature policy='require'> for each feature QEMU enabled beyond
    # the model of libvirt's CPU map, here qemu64's hypervisor and lahf_lm). Ours keeps the
    # CPU as defined: it has no x86 CPU map (models' features, feature <-> CPUID bits) to
    # decide which of QEMU's features the model lacks. Not done yet (issue 17: "the CPU
    # after start").
    (r"^cpu/@check: 'none' != 'full'$", "the CPU after start: check='full'"),
    (r"^cpu/feature\[name=(hypervisor|lahf_lm)\]: only in libvirt's$",
     "the CPU after start: the features QEMU enabled beyond the model"),
]

# Differences that depend on the host: allowed, and not required to occur.
LIVE_HOST_DEPENDENT = [
    # Where it can use cgroups, libvirt puts a started guest in the partition /machine
    # (machine.slice under systemd) and says so in <resource>; ours puts it in a cgroup
    # of its own under the daemon's parent (no machined) and has no partition to name
    # (a definition naming /machine, as a guest migrated from libvirtd brings it, is kept
    # as it is; any other partition is refused at define).
    (r"^resource: only in libvirt's$", "the cgroup partition <resource>"),
]


def check_devtree(ref, both, native_allowed):
    """Our QEMU's device tree is the one libvirtd's QEMU runs with, and the one
    domxml-to-native gives but for native_allowed [(regex, reason)]."""
    dt = devtree()
    ours = dt.tree(both.ours_argv)
    left = dt.diff(ours, dt.tree(both.theirs_argv))
    assert not left, "device tree differs from libvirtd's running QEMU:\n  " + \
        "\n  ".join(left)
    found = dt.diff(ours, dt.tree(native_argv(ref, both.path)))
    left = unexplained(found, native_allowed)
    assert not left, "device tree differs from domxml-to-native's:\n  " + "\n  ".join(left)
    stale = [r for rx, r in native_allowed if not any(re.search(rx, d) for d in found)]
    assert not stale, "allowed device-tree differences that no longer occur:\n  " + \
        "\n  ".join(stale)


# ---------------------------------------------------------------- what clients write

# virt-install 4.1 against libvirtd (--print-xml: nothing is created), as the runs
# 1-4 and 8 (virt-manager's desktop and server defaults, as virt-install writes them); run 5
# (a bridge) needs a network namespace of its own and is not here.
VIRT_INSTALL_RUNS = {
    "debian-server": ["--osinfo", "debian11", "--machine", "q35",
                      "--disk", "path=@DIR@/root.qcow2,format=qcow2,bus=virtio",
                      "--cdrom", "@DIR@/install.iso", "--network", "user",
                      "--graphics", "none", "--console", "pty,target_type=serial"],
    "fedora-spice-pc": ["--osinfo", "fedora37", "--machine", "pc",
                        "--disk", "path=@DIR@/root.qcow2,format=qcow2",
                        "--network", "user", "--graphics", "spice"],
    "windows10": ["--osinfo", "win10", "--disk", "path=@DIR@/root.qcow2,format=qcow2,bus=sata",
                  "--cdrom", "@DIR@/install.iso", "--network", "user,model=e1000e",
                  "--graphics", "vnc", "--sound", "ich9"],
    "uefi": ["--osinfo", "debian11", "--boot", "uefi",
             "--disk", "path=@DIR@/root.qcow2,format=qcow2", "--network", "user",
             "--graphics", "none"],
    "vmm-desktop": ["--osinfo", "fedora37", "--disk", "path=@DIR@/root.qcow2,format=qcow2",
                    "--network", "user", "--graphics", "spice", "--video", "qxl",
                    "--sound", "ich9", "--redirdev", "usb,type=spicevmc",
                    "--channel", "spicevmc"],
    "vmm-server": ["--osinfo", "debian11", "--disk", "path=@DIR@/root.qcow2,format=qcow2",
                   "--network", "user", "--graphics", "vnc", "--video", "virtio"],
}


@pytest.fixture
def files_dir(tmp_path):
    """A world-searchable directory with the images the runs name."""
    tmp_path.chmod(0o755)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(tmp_path / "root.qcow2"),
                    "64M"], check=True)
    (tmp_path / "install.iso").write_bytes(b"\0" * 2048)
    return tmp_path


# Issue 17 runs 1-4 and 8: each defines as on libvirtd, runs on both, and the running guest
# is the same on both (live XML, device tree).
@pytest.mark.parametrize("run", sorted(VIRT_INSTALL_RUNS))
def test_virt_install_guest_as_on_libvirtd(ref, virtqemud, tmp_path, files_dir, run):
    xml = virt_install_xml(ref, "svparity-" + run, VIRT_INSTALL_RUNS[run], files_dir)
    both = run_both(ref, virtqemud, xml, tmp_path)
    check(both.ours_inactive, both.theirs_inactive, NOT_YET_DEFAULTS)
    check_live(both, virtqemud, LIVE_ALLOWED)
    check_devtree(ref, both, [])


# ---------------------------------------------------------------- what management stacks write

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "parity")


def stack_files(path, raw=(("disk.config", 1 << 20), ("disk.img", 64 << 20))):
    """path made world-searchable, with the images Nova's and KubeVirt's XML name: a qcow2
    root disk `disk`, and raw files (name, size): a config drive `disk.config`, a container
    disk `disk.img`."""
    path.chmod(0o755)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path / "disk"), "64M"],
                   check=True)
    for name, size in raw:
        with open(path / name, "wb") as f:
            f.truncate(size)
    return path


@pytest.fixture
def stack_dir(tmp_path):
    """A world-searchable directory with the images of stack_files()."""
    return stack_files(tmp_path)


@pytest.fixture
def block_dev(stack_dir):
    """A loop device over a file in stack_dir, detached after the test."""
    backing = stack_dir / "block.img"
    with open(backing, "wb") as f:
        f.truncate(16 << 20)
    r = subprocess.run(["losetup", "--find", "--show", str(backing)], capture_output=True,
                       text=True)
    if r.returncode != 0 or not r.stdout.strip():
        pytest.skip("no loop device for the block disk (losetup: %s)" % r.stderr.strip())
    dev = r.stdout.strip()
    yield dev
    subprocess.run(["losetup", "-d", dev], check=False)


@pytest.fixture
def tap_dev():
    """An existing tap device, for an interface with managed='no'; removed after the test."""
    name = "svparity-kv0"
    subprocess.run(["ip", "link", "del", name], capture_output=True)
    r = subprocess.run(["ip", "tuntap", "add", "dev", name, "mode", "tap"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot make a tap device (ip tuntap: %s)" % r.stderr.strip())
    yield name
    subprocess.run(["ip", "link", "del", name], capture_output=True)


def stack_xml(name, files, block=None):
    """tests/data/parity/NAME with @DIR@ (and @BLOCK@, where it names one) filled in."""
    with open(os.path.join(DATA, name)) as f:
        xml = f.read()
    xml = xml.replace("@DIR@", str(files))
    assert block is not None or "@BLOCK@" not in xml
    return xml.replace("@BLOCK@", block) if block else xml


# Issue 17 run 6: what OpenStack Nova's libvirt driver writes for a q35 instance (qcow2 root
# disk with cache='none', config drive on a sata cdrom, ethernet tap with <mtu> and <driver>,
# serial with <log>, vnc, virtio video, usb tablet, rng, balloon stats, sysinfo, cputune,
# clock timers, Nova's metadata). libvirtd defines it as written. No difference remains:
# the last one (the explicit usb controller without a model: libvirt's piix3-uhci behind a
# pcie-to-pci-bridge, where ours had a qemu-xhci) is fixed (qemu-argv runs-q35-usb-no-model).
NOVA_ALLOWED = []


# domxml-to-native rewrites every interface to a plain ethernet one before it forms the
# command line (qemuConnectDomainXMLToNative keeps the MAC, model and boot order of each
# and drops the rest), so its tree lacks what the interface's XML adds: the device tree of
# the QEMU libvirtd runs (compared first) has it, as ours does.
NATIVE_NET_REWRITE = "domxml-to-native rewrites interfaces to bare ethernet ones"


def test_nova_q35_instance(ref, virtqemud, tmp_path, stack_dir):
    xml = stack_xml("nova-q35.xml", stack_dir)
    tap = Path("/sys/class/net/tap12345678-9a")

    def while_running():
        # The tap ours made for the ethernet interface, with Nova's MTU.
        assert (tap / "mtu").read_text().strip() == "1442"

    both = run_both(ref, virtqemud, xml, tmp_path, while_running)
    assert not tap.exists(), "the managed tap outlived the guest"
    check(both.ours_inactive, both.theirs_inactive, NOVA_ALLOWED)
    check_live(both, virtqemud, LIVE_ALLOWED)
    check_devtree(ref, both, [
        (r"^devices net0 (host_mtu|rx_queue_size): ours '\d+', libvirt None$",
         NATIVE_NET_REWRITE + " (<mtu>, <driver rx_queue_size>)")])


# Issue 17 run 7: KubeVirt's virt-launcher XML (virtio-non-transitional disks of types file
# and block, ethernet tap managed='no', unix serial, qemu-ga channel, vnc on a unix socket,
# user aliases, sysinfo, iothreads). No difference remains.
KUBEVIRT_ALLOWED = []

def test_kubevirt_launcher(ref, virtqemud, tmp_path, stack_dir, block_dev, tap_dev):
    # virt-launcher's tap0 lives in the pod's own network namespace; here the host's is
    # shared, so the unmanaged tap the test makes has a name of the test's own.
    xml = stack_xml("kubevirt.xml", stack_dir, block_dev).replace('"tap0"', '"%s"' % tap_dev)

    def while_running():
        # QEMU listens on the unix sockets of the serial port and of vnc.
        for sock in ("virt-serial0", "virt-vnc"):
            assert stat.S_ISSOCK(os.stat(stack_dir / sock).st_mode), sock

    both = run_both(ref, virtqemud, xml, tmp_path, while_running)
    assert Path("/sys/class/net", tap_dev).exists(), "the unmanaged tap went with the guest"
    check(both.ours_inactive, both.theirs_inactive, KUBEVIRT_ALLOWED)
    check_live(both, virtqemud, LIVE_ALLOWED)
    # The interface's user alias ua-default is its id on the command line (as in libvirtd's
    # running QEMU); domxml-to-native's rewrite renames it net0 and drops its <mtu> and
    # <rom>.
    check_devtree(ref, both, [
        (r"^devices (ua-default: only ours|net0: only libvirt's) ",
         NATIVE_NET_REWRITE + " (the user alias, <mtu>, <rom>)")])
