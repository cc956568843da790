"""test_qemu_domcaps.py: capabilities and domain capabilities, ours against Debian's libvirtd
9.0 on the same host and QEMU, through the stock virsh and python3-libvirt.

test_domcapabilities_every_machine_as_libvirtd compares every x86_64 machine, not only pc
and q35. The fast tests drive only our daemon (the procedure on the wire, its errors, the
machine list's order). The slow ones compare with libvirtd: the one already serving
qemu:///system on this host when there is one, else one the test starts and stops
(xmlparity.Reference, as the parity tests). Both documents are canonicalised (whitespace, attribute order)
and compared whole; the differences kept are named here, each with its reason:

- DIFF_I686_EMULATOR: libvirt serves i686 guests with qemu-system-i386 when it is
  installed; we probe one emulator, and an x86_64 QEMU runs i686 guests (libvirt's own
  choice when qemu-system-i386 is absent). So the i686 guest names our emulator, and its
  machines come in qemu-system-x86_64's order (the same machines).
- DIFF_OTHER_EMULATOR: libvirt probes any emulator binary a request names; we answer for
  the configured one only, and refuse another existing binary with CONFIG_UNSUPPORTED.
- DIFF_HOST_UUID: without a DMI system UUID libvirt makes up a random host UUID at each
  start; ours is derived from /etc/machine-id, so it stays the same.
- DIFF_MIGRATION: we do not migrate guests, so no <migration_features> is announced.
- DIFF_SECMODEL: the DAC <secmodel>'s base label is the user and group QEMU runs as, each
  daemon's own configuration (test_qemu_security.py checks ours); not compared here.
"""

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from domcaps_walk import VIRTTYPES, kvm_usable

libvirt = pytest.importorskip("libvirt")

VIRSH_TIMEOUT = 60
QEMU = "/usr/bin/qemu-system-x86_64"
LIBVIRTD = "/usr/sbin/libvirtd"

if not shutil.which("virsh"):
    pytest.skip("virsh (libvirt-clients) not installed", allow_module_level=True)
if not os.path.exists(QEMU):
    pytest.skip("qemu-system-x86_64 not installed", allow_module_level=True)


def ours_uri(daemon):
    return "qemu+unix:///system?socket=%s" % daemon.sock


def virsh(uri, *args):
    env = dict(os.environ, LC_ALL="C")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    r = subprocess.run(["timeout", "-k", "5", str(VIRSH_TIMEOUT), "virsh", "-c", uri] + list(args),
                       capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, "virsh %s failed (%d):\n%s" % (" ".join(args), r.returncode, r.stderr)
    return r.stdout


def canonical(elem):
    """An element as a nested tuple: tag, sorted attributes, stripped text, children in order."""
    return (elem.tag, tuple(sorted(elem.attrib.items())), (elem.text or "").strip(),
            tuple(canonical(c) for c in elem))


@pytest.fixture(scope="module")
def libvirtd_uri(tmp_path_factory):
    """Debian's libvirtd (xmlparity.Reference: the running one, or one started and stopped
    here, as the parity tests use it)."""
    if not os.path.exists(LIBVIRTD):
        pytest.skip("Debian's libvirtd is not installed (scripts/deps.sh installs it)")
    from xmlparity import Reference
    ref = Reference(tmp_path_factory.mktemp("libvirtd"))
    yield ref.uri
    ref.close()


# ---------------------------------------------------------------- ours only (fast)


def test_capabilities_default_machine_first(daemon):
    caps = ET.fromstring(virsh(ours_uri(daemon), "capabilities"))
    archs = [g.find("arch") for g in caps.findall("guest")]
    assert [a.get("name") for a in archs] == ["i686", "x86_64"]
    for arch in archs:
        machines = arch.findall("machine")
        # virt-install takes the first machine: the default, then its alias.
        assert machines[0].text.startswith("pc-i440fx-") and machines[0].get("canonical") is None
        assert machines[1].text == "pc" and machines[1].get("canonical") == machines[0].text
        assert machines[0].get("maxCpus") == "255"
        names = [m.text for m in machines]
        assert "none" not in names and "microvm" in names
        q35 = names.index("q35")
        assert names[q35 - 1] == machines[q35].get("canonical")
        assert {m.text for m in machines if m.get("deprecated") == "yes"} >= {"pc-i440fx-1.4"}
        types = [d.get("type") for d in arch.findall("domain")]
        assert types == (["qemu", "kvm"] if kvm_usable() else ["qemu"])


def user_can_use_kvm(uid, gid):
    """Whether uid:gid (no supplementary group) may open /dev/kvm read-write."""
    if not shutil.which("setpriv") or not os.path.exists("/dev/kvm"):
        return False
    r = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
                        "sh", "-c", "test -r /dev/kvm -a -w /dev/kvm"])
    return r.returncode == 0


def test_kvm_as_qemus_user(daemons):
    """The probe runs QEMU as guests run, as libvirt does: KVM is offered only when QEMU's
    user can open /dev/kvm (here nobody, who usually cannot), whatever the daemon can."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run QEMU as another user")
    d = daemons.start(config='user = "+65534"\ngroup = "+65534"\n')
    caps = ET.fromstring(virsh(ours_uri(d), "capabilities"))
    types = {t.get("type") for t in caps.findall("guest/arch/domain")}
    assert ("kvm" in types) == (kvm_usable() and user_can_use_kvm(65534, 65534))


def test_domcapabilities_over_the_wire(daemon):
    uri = ours_uri(daemon)
    doc = ET.fromstring(virsh(uri, "domcapabilities", "--virttype", "qemu", "--machine", "q35"))
    assert doc.findtext("domain") == "qemu"
    assert doc.findtext("machine").startswith("pc-q35-")
    assert doc.find("vcpu").get("max") == "288"
    custom = doc.find("cpu/mode[@name='custom']")
    assert custom.get("supported") == "yes"
    usable = {m.text: m.get("usable") for m in custom.findall("model")}
    assert usable["qemu64"] == "yes"
    assert doc.find("cpu/mode[@name='host-passthrough']").get("supported") == "no"
    # Not on a read-only connection, as libvirt's API (its client library refuses first;
    # the daemon refuses a raw call too: docs/procedures.md).
    conn = libvirt.openReadOnly(uri)
    try:
        with pytest.raises(libvirt.libvirtError) as e:
            conn.getDomainCapabilities(None, None, "pc", "qemu")
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        conn.close()


def test_domcapabilities_errors(daemon):
    conn = libvirt.open(ours_uri(daemon))
    try:
        with pytest.raises(libvirt.libvirtError) as e:
            conn.getDomainCapabilities(None, None, "nope", "qemu")
        assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
        assert e.value.get_error_domain() == libvirt.VIR_FROM_QEMU
        assert e.value.get_error_message() == (
            "invalid argument: the machine 'nope' is not supported by emulator '%s'" % QEMU)
        # DIFF_OTHER_EMULATOR (module docstring).
        with pytest.raises(libvirt.libvirtError) as e:
            conn.getDomainCapabilities("/bin/true", None, None, None)
        assert e.value.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
    finally:
        conn.close()


# ---------------------------------------------------------------- against libvirtd (slow)


@pytest.mark.slow
@pytest.mark.parametrize("virttype", VIRTTYPES)
@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_domcapabilities_as_libvirtd(daemon, libvirtd_uri, virttype, machine):
    args = ("domcapabilities", "--virttype", virttype, "--machine", machine)
    ours = ET.fromstring(virsh(ours_uri(daemon), *args))
    theirs = ET.fromstring(virsh(libvirtd_uri, *args))
    # The host-model CPU too: QEMU's "max" (TCG) or "host" (KVM) CPU decoded through
    # libvirt's CPU map.
    assert ours.find("cpu/mode[@name='host-model']").get("supported") == "yes"
    assert canonical(ours) == canonical(theirs)


@pytest.mark.slow
@pytest.mark.parametrize("virttype", VIRTTYPES)
def test_domcapabilities_every_machine_as_libvirtd(daemon, libvirtd_uri, virttype):
    """Every machine libvirtd's capabilities list for x86_64 (aliases included), through
    the API: the same document as libvirtd's."""
    ours = libvirt.open(ours_uri(daemon))
    theirs = libvirt.open(libvirtd_uri)
    try:
        caps = ET.fromstring(theirs.getCapabilities())
        machines = [m.text for m in caps.findall("guest/arch[@name='x86_64']/machine")]
        assert "isapc" in machines and "q35" in machines
        differ = []
        for machine in machines:
            a = ET.fromstring(ours.getDomainCapabilities(None, None, machine, virttype))
            b = ET.fromstring(theirs.getDomainCapabilities(None, None, machine, virttype))
            if canonical(a) != canonical(b):
                differ.append(machine)
        assert differ == []
    finally:
        ours.close()
        theirs.close()


def guests(caps_xml):
    return {g.find("arch").get("name"): g for g in ET.fromstring(caps_xml).findall("guest")}


@pytest.mark.slow
def test_capabilities_guests_as_libvirtd(daemon, libvirtd_uri):
    ours = guests(virsh(ours_uri(daemon), "capabilities"))
    theirs = guests(virsh(libvirtd_uri, "capabilities"))
    assert sorted(ours) == sorted(theirs) == ["i686", "x86_64"]
    assert canonical(ours["x86_64"]) == canonical(theirs["x86_64"])
    # DIFF_I686_EMULATOR: our emulator and its machine order; the same machines and facts.
    mine, lv = ours["i686"], theirs["i686"]
    assert mine.findtext("arch/emulator") == QEMU
    for g in (mine, lv):
        arch = g.find("arch")
        arch.remove(arch.find("emulator"))
        machines = sorted(arch.findall("machine"), key=lambda m: m.text)
        for m in arch.findall("machine"):
            arch.remove(m)
        for i, m in enumerate(machines):
            arch.insert(1 + i, m)
    assert canonical(mine) == canonical(lv)


@pytest.mark.slow
def test_domcapabilities_errors_as_libvirtd(daemon, libvirtd_uri):
    requests = [
        (None, None, None, "xyz"), (None, None, None, "lxc"), (None, None, "nope", None),
        (None, "armv7l", None, None), (None, "foo", None, None),
        ("/usr/bin/nope", None, None, None), (QEMU, "armv7l", None, None),
    ]
    if not kvm_usable():
        requests.append((None, None, None, "kvm"))

    def answer(uri, req, flags=0):
        conn = libvirt.open(uri)
        try:
            conn.getDomainCapabilities(*req, flags)
            return "ok"
        except libvirt.libvirtError as e:
            return (e.get_error_code(), e.get_error_domain(), e.get_error_message())
        finally:
            conn.close()

    for req in requests:
        assert answer(ours_uri(daemon), req) == answer(libvirtd_uri, req), req
    assert answer(ours_uri(daemon), (None,) * 4, 1) == answer(libvirtd_uri, (None,) * 4, 1)


@pytest.mark.slow
def test_capabilities_host_as_libvirtd(daemon, libvirtd_uri):
    def host(xml):
        h = ET.fromstring(xml).find("host")
        h.remove(h.find("uuid"))  # DIFF_HOST_UUID
        for tag in ("migration_features", "secmodel"):  # DIFF_MIGRATION, DIFF_SECMODEL
            for e in h.findall(tag):
                h.remove(e)
        return h

    assert canonical(host(virsh(ours_uri(daemon), "capabilities"))) == \
        canonical(host(virsh(libvirtd_uri, "capabilities")))


# What virt-install writes depends on the capabilities and domain capabilities it reads
# (the machine it picks, the firmware, the CPU mode): the same as libvirtd's, its random
# <uuid> aside.
VIRT_INSTALL_RUNS = {
    "defaults": [],
    "machine-pc": ["--machine", "pc"],
    "uefi": ["--boot", "uefi"],
    "windows": ["--osinfo", "win10", "--graphics", "vnc"],
}


@pytest.mark.slow
@pytest.mark.parametrize("virttype", VIRTTYPES)
@pytest.mark.parametrize("run", sorted(VIRT_INSTALL_RUNS))
def test_virt_install_reads_as_from_libvirtd(daemon, libvirtd_uri, virttype, run):
    if not shutil.which("virt-install"):
        pytest.skip("virt-install (virtinst) not installed")
    extra = VIRT_INSTALL_RUNS[run]
    args = ["--print-xml", "--name", "h-caps-vi", "--memory", "512", "--disk", "none",
            "--import", "--virt-type", virttype, "--network", "none"]
    if "--osinfo" not in extra:
        args += ["--osinfo", "debian11", "--graphics", "none"]

    def xml(uri):
        r = subprocess.run(["timeout", "-k", "5", str(VIRSH_TIMEOUT), "virt-install",
                            "--connect", uri] + args + extra,
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        doc = ET.fromstring(r.stdout)
        doc.remove(doc.find("uuid"))
        return doc

    ours, theirs = xml(ours_uri(daemon)), xml(libvirtd_uri)
    assert ours.find("os/type").get("machine") != "microvm"
    assert canonical(ours) == canonical(theirs)
