"""test_domain_metadata.py: DOMAIN_SET_METADATA / DOMAIN_GET_METADATA (virsh desc and
virsh metadata) and the METADATA_CHANGE event, on a defined domain and on a running Guest A.

The answers expected are Debian's libvirtd 9.0.0's for the same calls (checked on it by
hand and, in test_metadata_calls_equal_libvirtd, in the same run): the title, the
description, an element in a namespace of its own (the client's prefix given to every
element without one, the namespace gone again when read back), libvirt's errors for each
argument it refuses, and the LIVE/CONFIG/CURRENT choice of definition.
"""

import subprocess
import threading
import time

import pytest

from calls import answer, on_both, tiny_xml
from guests import uri_for, virsh_env

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

DESC, TITLE, ELEMENT = (libvirt.VIR_DOMAIN_METADATA_DESCRIPTION,
                        libvirt.VIR_DOMAIN_METADATA_TITLE, libvirt.VIR_DOMAIN_METADATA_ELEMENT)
LIVE, CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG
NOT_PRESENT = (80, 20, "metadata not found: Requested metadata element is not present")
NOT_RUNNING = (55, 20, "Requested operation is not valid: domain is not running")
EVENT_TIMEOUT = 10.0


def metadata_sequence(d):
    """The calls of the test on d (defined, not running) and their answers."""
    calls = [
        (d.metadata, DESC, None, 0),
        (d.metadata, ELEMENT, "http://x/", 0),
        (d.setMetadata, ELEMENT, '<foo a="1"><bar>x</bar><b:q xmlns:b="http://b/">z</b:q></foo>',
         "k", "http://x/", 0),
        (d.metadata, ELEMENT, "http://x/", 0),
        (d.setMetadata, ELEMENT, '<foo a="1"/>', "k", "http://y/", CONFIG),
        (d.setMetadata, ELEMENT, "<foo", "k", "http://y/", CONFIG),
        (d.setMetadata, ELEMENT, "<foo/>", "1k", "http://y/", CONFIG),
        (d.setMetadata, ELEMENT, "<foo/><bar/>", "k", "http://y/", CONFIG),
        (d.setMetadata, ELEMENT, "text", "k", "http://y/", CONFIG),
        (d.setMetadata, DESC, "hello\nworld", None, None, 0),
        (d.setMetadata, TITLE, "hello", None, None, 0),
        (d.metadata, TITLE, None, 0),
        (d.setMetadata, TITLE, "", None, None, 0),
        (d.metadata, TITLE, None, 0),
        (d.setMetadata, TITLE, "a\nb", None, None, 0),
        (d.setMetadata, DESC, "d", None, None, LIVE),
        (d.metadata, DESC, None, LIVE),
        (d.metadata, DESC, None, LIVE | CONFIG),
        (d.metadata, DESC, None, 4),
        (d.setMetadata, DESC, "d", None, None, 4),
        (d.setMetadata, 7, "d", None, None, 0),
        (d.metadata, 7, None, 0),
        (d.setMetadata, ELEMENT, "<foo/>", None, "http://z/", 0),
        (d.setMetadata, ELEMENT, "<foo/>", "k", None, 0),
        (d.setMetadata, TITLE, "x", "k", None, 0),
        (d.metadata, TITLE, "http://u/", 0),
        (d.metadata, ELEMENT, None, 0),
        (d.setMetadata, ELEMENT, '<k2:foo xmlns:k2="http://other/"><k2:a/><b/></k2:foo>', "k",
         "http://w/", 0),
        (d.metadata, ELEMENT, "http://w/", 0),
        (d.metadata, ELEMENT, "http://other/", 0),
        (d.setMetadata, ELEMENT, '<foo xmlns="http://w2/"><a/></foo>', "k", "http://w2/", 0),
        (d.metadata, ELEMENT, "http://w2/", 0),
        (d.setMetadata, DESC, "<desc & >", None, None, 0),
        (d.metadata, DESC, None, 0),
        (d.setMetadata, ELEMENT, None, None, "http://x/", 0),
        (d.setMetadata, ELEMENT, None, None, "http://nothere/", 0),
        (d.metadata, ELEMENT, "http://x/", 0),
        (d.metadata, ELEMENT, "http://y/", CONFIG),
    ]
    return [answer(fn, *args) for fn, *args in calls]


# libvirtd 9.0.0's answers to metadata_sequence, in order.
EXPECTED = [
    NOT_PRESENT,
    NOT_PRESENT,
    ("OK", 0),
    ("OK", '<foo a="1">\n  <bar>x</bar>\n  <b:q xmlns:b="http://b/">z</b:q>\n</foo>'),
    ("OK", 0),
    (35, 20, "(metadata_xml):1: Couldn't find end of Start Tag foo line 1\n<foo\n----^"),
    (1, 5, "internal error: failed to validate prefix for a new XML namespace"),
    (35, 20, "(metadata_xml):1: Extra content at the end of the document\n<foo/><bar/>\n"
             "------^"),
    (35, 20, "(metadata_xml):1: Start tag expected, '<' not found\ntext\n^"),
    ("OK", 0),
    ("OK", 0),
    ("OK", "hello"),
    ("OK", 0),
    NOT_PRESENT,
    (8, 20, "metadata title can't contain newlines"),
    NOT_RUNNING,
    NOT_RUNNING,
    (8, 20, "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually "
            "exclusive"),
    (8, 20, "unsupported flags (0x4) in function virDomainObjGetMetadata"),
    (8, 10, "unsupported flags (0x4) in function qemuDomainSetMetadata"),
    (8, 20, "invalid argument: unknown metadata type '7'"),
    (8, 20, "invalid argument: unknown metadata type '7'"),
    (8, 20, "key in virDomainSetMetadata must not be NULL"),
    (8, 20, "uri in virDomainSetMetadata must not be NULL"),
    (8, 20, "key in virDomainSetMetadata must be NULL"),
    (8, 20, "uri in virDomainGetMetadata must be NULL"),
    (8, 20, "uri in virDomainGetMetadata must not be NULL"),
    ("OK", 0),
    NOT_PRESENT,
    ("OK", '<foo xmlns:k="http://w/">\n  <a/>\n  <k:b/>\n</foo>'),
    ("OK", 0),
    ("OK", '<foo xmlns:k="http://w2/">\n  <a/>\n</foo>'),
    ("OK", 0),
    ("OK", "<desc & >"),
    ("OK", 0),
    ("OK", 0),
    NOT_PRESENT,
    ("OK", '<foo a="1"/>'),
]

# The <metadata> libvirtd shows after the sequence (the element of http://w/ was given
# prefix k on the one child without a namespace; http://w2/ keeps both declarations).
EXPECTED_METADATA = """  <metadata>
    <k:foo xmlns:k="http://y/" a="1"/>
    <k2:foo xmlns:k2="http://other/" xmlns:k="http://w/">
      <k2:a/>
      <k:b/>
    </k2:foo>
    <foo xmlns="http://w2/" xmlns:k="http://w2/">
      <a/>
    </foo>
  </metadata>
"""


def metadata_section(xml):
    start = xml.index("  <metadata>")
    end = xml.index("</metadata>\n") + len("</metadata>\n")
    return xml[start:end]


def test_metadata_calls_answer_as_libvirtd(daemons):
    d0 = daemons.start()
    conn = libvirt.open(uri_for(d0.sock))
    dom = conn.defineXML(tiny_xml("meta"))
    assert metadata_sequence(dom) == EXPECTED
    xml = dom.XMLDesc(0)
    assert metadata_section(xml) == EXPECTED_METADATA
    assert "<description>&lt;desc &amp; &gt;</description>" in xml
    assert "<title>" not in xml
    conn.close()
    # CONFIG changes are on disk: a restarted daemon reads them back.
    d0.stop()
    d0.start()
    conn = libvirt.open(uri_for(d0.sock))
    dom = conn.lookupByName("meta")
    assert metadata_section(dom.XMLDesc(0)) == EXPECTED_METADATA
    assert dom.metadata(DESC, None, 0) == "<desc & >"
    # Removing the last element leaves an empty <metadata/>, as libvirt's does.
    for uri in ("http://y/", "http://other/", "http://w2/"):
        dom.setMetadata(ELEMENT, None, None, uri, 0)
    assert "  <metadata/>\n" in dom.XMLDesc(0)
    dom.undefine()
    conn.close()


@pytest.mark.slow
def test_metadata_calls_equal_libvirtd(ref, daemon):
    """The same sequence on Debian's libvirtd and on ours, in the same run."""
    name = "sv-meta-parity"
    theirs, ours = on_both(ref, daemon, tiny_xml(name),
                           lambda dom: (metadata_sequence(dom), metadata_section(dom.XMLDesc(0))))
    assert theirs == ours


def virsh(uri, *args):
    r = subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True,
                       env=virsh_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


class MetadataEvents:
    """METADATA_CHANGE events one client receives (callback form)."""

    def __init__(self, uri, dom=None):
        self.conn = libvirt.open(uri)
        self.cond = threading.Condition()
        self.got = []
        self.id = self.conn.domainEventRegisterAny(
            dom and self.conn.lookupByName(dom), libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
            self._cb, None)

    def _cb(self, conn, dom, mtype, nsuri, opaque):
        with self.cond:
            self.got.append((dom.name(), mtype, nsuri))
            self.cond.notify_all()

    def wait(self, n):
        deadline = time.monotonic() + EVENT_TIMEOUT
        with self.cond:
            while len(self.got) < n and time.monotonic() < deadline:
                self.cond.wait(deadline - time.monotonic())
            return list(self.got)

    def close(self):
        self.conn.domainEventDeregisterAny(self.id)
        self.conn.close()


def test_metadata_live_and_config_on_running_guest(host):
    """Guest A running: LIVE changes the live definition only, CONFIG the persistent one,
    CURRENT the live one; each change sends one METADATA_CHANGE with its type and URI
    (virsh desc and virsh metadata make them)."""
    ev = MetadataEvents(host.uri)
    dom = host.define("metaguest")
    dom.create()
    try:
        virsh(host.uri, "desc", "metaguest", "--live", "--title", "live title")
        virsh(host.uri, "desc", "metaguest", "--config", "config description")
        dom.setMetadata(ELEMENT, "<app><v>1</v></app>", "app", "http://app.example/", 0)
        live = dom.XMLDesc(0)
        inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        assert "<title>live title</title>" in live
        assert "<title>" not in inactive
        assert "<description>config description</description>" in inactive
        assert "<description>" not in live
        assert '<app:app xmlns:app="http://app.example/">' in live
        assert "http://app.example/" not in inactive
        assert virsh(host.uri, "desc", "metaguest", "--title").strip() == "live title"
        assert virsh(host.uri, "desc", "metaguest", "--config").strip() == "config description"
        assert virsh(host.uri, "metadata", "metaguest", "http://app.example/").strip() == \
            "<app>\n  <v>1</v>\n</app>"
        assert answer(dom.metadata, ELEMENT, "http://app.example/", CONFIG) == NOT_PRESENT
        got = ev.wait(3)
        assert got == [("metaguest", TITLE, None), ("metaguest", DESC, None),
                       ("metaguest", ELEMENT, "http://app.example/")]
        # The live change is in the status file (a restarted daemon reads it from there),
        # the CONFIG one in the definition on disk.
        status = (host.qemu_run / "metaguest.xml").read_text()
        assert "<title>live title</title>" in status
        config = (host.root / "etc" / "libvirt" / "qemu" / "metaguest.xml").read_text()
        assert "<description>config description</description>" in config
        assert "<title>" not in config
        d2 = host.conn.lookupByName("metaguest")
        d2.destroy()
        # After the guest stops, the persistent definition is the one left.
        assert d2.metadata(DESC, None, 0) == "config description"
        assert answer(d2.metadata, TITLE, None, 0) == NOT_PRESENT
    finally:
        ev.close()
        if dom.isActive():
            dom.destroy()


def test_metadata_transient_guest_has_no_config(host):
    ev = MetadataEvents(host.uri, None)
    dom = host.conn.createXML(host.xml("metatrans"), 0)
    try:
        assert answer(dom.setMetadata, DESC, "x", None, None, CONFIG) == (
            55, 20, "Requested operation is not valid: transient domains do not have any "
                    "persistent config")
        dom.setMetadata(DESC, "x", None, None, 0)
        assert dom.metadata(DESC, None, 0) == "x"
        assert ev.wait(1) == [("metatrans", DESC, None)]
    finally:
        ev.close()
        dom.destroy()
