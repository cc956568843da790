"""test_qemu_topo.py: libvirt's define-time QEMU defaults through a real virtqemud.

libvirt knows its QEMU before it takes a definition (it probes at driver start), and the
defaults a define fills in (the canonical machine type, the implicit controllers, the PCI
addresses) come from that probe. virtqemud starts its probe when it starts, without
blocking its loop; a define that comes before the probe ends waits for it, and one whose
probe fails gets the probe's error. The defaults themselves are checked against libvirtd by
the goldens of tests/data/qemu-xml (test-qemu-xml)."""

import time
import xml.etree.ElementTree as ET

import pytest

from svdaemon import Daemon  # noqa: F401 (the daemons fixture makes them)

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

QEMU = "/usr/bin/qemu-system-x86_64"
# Each of the probe's four QEMU runs waits this long behind the wrapper.
SLOW_S = 1.5

XML = """<domain type='qemu'>
  <name>topo</name>
  <memory unit='MiB'>64</memory>
  <os><type>hvm</type></os>
  <devices><memballoon model='none'/></devices>
</domain>"""


def uri_for(path):
    return "qemu+unix:///system?socket=%s" % path


def emulator_script(root, body):
    path = root / "emulator"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


def test_probe_runs_at_start(daemons, root):
    """No client asks anything: the probe's cache appears by itself."""
    daemons.start()
    cache = root / "var" / "cache" / "libvirt" / "qemu" / "capabilities.ini"
    wait_until(cache.exists, 20, "the QEMU probe's cache")
    # The probe's QMP answer, kept in the cache: query-machines with pc's alias.
    assert '"alias": "pc"' in cache.read_text()


def test_define_waits_for_probe(daemons, root):
    """With an emulator whose every run takes SLOW_S, the probe lasts about 4 * SLOW_S from
    the daemon's start; a define sent at once waits for it and gets libvirt's defaults
    (without the wait it would fail at once: nothing is known of QEMU yet)."""
    emulator = emulator_script(root, 'sleep %s\nexec %s "$@"\n' % (SLOW_S, QEMU))
    d = daemons.start(config='emulator = "%s"\n' % emulator)
    conn = libvirt.open(uri_for(d.sock))
    try:
        begin = time.monotonic()
        dom = conn.defineXML(XML)
        waited = time.monotonic() - begin
        doc = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    finally:
        conn.close()
    print("define waited %.2f s for the probe" % waited)
    assert waited > SLOW_S / 2, waited
    ostype = doc.find("os/type")
    assert ostype.get("machine") == "pc-i440fx-7.2"
    assert ostype.get("arch") == "x86_64"
    assert doc.findtext("devices/emulator") == str(emulator)
    usb = doc.find("devices/controller[@type='usb']")
    assert usb.get("model") == "piix3-uhci"
    assert usb.find("address").attrib == {"type": "pci", "domain": "0x0000", "bus": "0x00",
                                          "slot": "0x01", "function": "0x2"}
    assert doc.find("devices/controller[@type='pci']").get("model") == "pci-root"


def test_define_fails_when_probe_fails(daemons, root):
    """An emulator that cannot even tell its version: the define gets the probe's error,
    and a later define tries the probe again (and fails the same way)."""
    emulator = emulator_script(root, "echo broken >&2\nexit 1\n")
    d = daemons.start(config='emulator = "%s"\n' % emulator)
    conn = libvirt.open(uri_for(d.sock))
    try:
        for _ in range(2):
            with pytest.raises(libvirt.libvirtError) as e:
                conn.defineXML(XML)
            assert e.value.get_error_code() == libvirt.VIR_ERR_INTERNAL_ERROR
            assert e.value.get_error_domain() == libvirt.VIR_FROM_QEMU
            assert "probe the version of QEMU '%s'" % emulator in e.value.get_error_message()
        assert conn.listDefinedDomains() == []
    finally:
        conn.close()


def test_create_xml_waits_for_probe(daemons, root):
    """The same for CREATE_XML: the guest starts, once the probe is done, with the
    defaults (its live XML shows the canonical machine type), and is destroyed."""
    emulator = emulator_script(root, 'sleep %s\nexec %s "$@"\n' % (SLOW_S, QEMU))
    d = daemons.start(config='emulator = "%s"\n' % emulator)
    conn = libvirt.open(uri_for(d.sock))
    try:
        dom = conn.createXML(XML, 0)
        try:
            assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
            doc = ET.fromstring(dom.XMLDesc(0))
            assert doc.find("os/type").get("machine") == "pc-i440fx-7.2"
        finally:
            dom.destroy()
        assert conn.listAllDomains(0) == []
    finally:
        conn.close()
