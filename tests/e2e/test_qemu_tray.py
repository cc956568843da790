"""test_qemu_tray.py: a cdrom's tray moved in QEMU (DEVICE_TRAY_MOVED), issue 18 item 2.

libvirtd 9.0.0 (checked by hand, and in test_tray_equal_libvirtd in the same run) follows
QEMU's tray: opened through the monitor (blockdev-open-tray, as a guest's eject does it),
the live XML has <target dev='hdc' bus='ide' tray='open'/> and a TRAY_CHANGE event comes
with the disk's alias and OPEN (0); closed, the attribute goes and CLOSE (1) comes. The
event goes to both registration forms (the callback form 328, the legacy REGISTER_ANY form
268), and the live state is in the status file.
"""

import json
import re
import threading
import time

import pytest

from guests import ensure_event_loop, uri_for

libvirt = pytest.importorskip("libvirt")
libvirt_qemu = pytest.importorskip("libvirt_qemu")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

NAME = "update-tray"
ALIAS = "ide0-1-0"
PROC_EVENT_TRAY_CHANGE = 268  # REMOTE_PROC_DOMAIN_EVENT_TRAY_CHANGE (legacy form)
EVENT_ID_TRAY_CHANGE = 10     # VIR_DOMAIN_EVENT_ID_TRAY_CHANGE
TIMEOUT = 20.0
XML = ("<domain type='qemu'><name>%s</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
       "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
       "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>"
       "<memballoon model='none'/></devices></domain>" % NAME)


class TrayEvents:
    """The TRAY_CHANGE events of one connection (callback form), as (alias, reason)."""

    def __init__(self, conn):
        self.got = []
        self.cond = threading.Condition()
        self.conn = conn
        self.cid = conn.domainEventRegisterAny(None, EVENT_ID_TRAY_CHANGE, self._on, None)

    def _on(self, conn, dom, alias, reason, opaque):
        with self.cond:
            self.got.append((dom.name(), alias, reason))
            self.cond.notify_all()

    def wait(self, n):
        deadline = time.monotonic() + TIMEOUT
        with self.cond:
            while len(self.got) < n and time.monotonic() < deadline:
                self.cond.wait(deadline - time.monotonic())
            return list(self.got)

    def close(self):
        self.conn.domainEventDeregisterAny(self.cid)


def target_of(dom):
    return re.search(r"<target dev='hdc'[^>]*>", dom.XMLDesc(0)).group(0)


def monitor(dom, command, **arguments):
    cmd = {"execute": command}
    if arguments:
        cmd["arguments"] = arguments
    return json.loads(libvirt_qemu.qemuMonitorCommand(dom, json.dumps(cmd), 0))["return"]


def tray_of(dom):
    """QEMU's own view of the cdrom's tray (query-block)."""
    return [b.get("tray_open") for b in monitor(dom, "query-block") if b["qdev"] == ALIAS]


def tray_sequence(uri):
    """The guest created paused on uri, its tray opened then closed through the monitor:
    the live <target>, QEMU's view and the events after each step."""
    ensure_event_loop()
    conn = libvirt.open(uri)
    events = TrayEvents(conn)
    dom = conn.createXML(XML, libvirt.VIR_DOMAIN_START_PAUSED)
    try:
        found = [target_of(dom), tray_of(dom)]
        found.append(monitor(dom, "blockdev-open-tray", id=ALIAS))
        found += [events.wait(1), target_of(dom), tray_of(dom)]
        found.append(monitor(dom, "blockdev-close-tray", id=ALIAS))
        found += [events.wait(2), target_of(dom), tray_of(dom)]
        return found
    finally:
        events.close()
        dom.destroy()
        conn.close()


EXPECTED = [
    "<target dev='hdc' bus='ide'/>", [False], {},
    [(NAME, ALIAS, 0)], "<target dev='hdc' bus='ide' tray='open'/>", [True], {},
    [(NAME, ALIAS, 0), (NAME, ALIAS, 1)], "<target dev='hdc' bus='ide'/>", [False],
]


def decode_tray_change(c):
    """The next legacy TRAY_CHANGE message of raw client c: (name, alias, reason)."""
    import rawrpc
    m = c.messages.pop(0) if c.messages else c.recv_message(timeout=TIMEOUT)
    assert (m.prog, m.proc, m.type) == (rawrpc.REMOTE_PROGRAM, PROC_EVENT_TRAY_CHANGE,
                                        rawrpc.MESSAGE), m
    u = m.unpacker()
    name = u.string()
    u.opaque_fixed(16)
    u.i32()
    alias, reason = u.string(), u.i32()
    u.done()
    return name, alias, reason


def test_tray_moves_followed(daemon):
    """Our virtqemud: the sequence gives libvirtd's answers; the legacy form gets the same
    events; the open tray is in the status file while it is open."""
    import rawrpc
    from rawrpc import i32
    status = daemon.root / "run" / "libvirt" / "qemu" / (NAME + ".xml")
    with rawrpc.Client(str(daemon.sock)) as legacy:
        legacy.open("qemu:///system")
        legacy.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY,
                    i32(EVENT_ID_TRAY_CHANGE)).done()
        ensure_event_loop()
        conn = libvirt.open(uri_for(daemon.sock))
        dom = conn.createXML(XML, libvirt.VIR_DOMAIN_START_PAUSED)
        try:
            monitor(dom, "blockdev-open-tray", id=ALIAS)
            assert decode_tray_change(legacy) == \
                (NAME, ALIAS, 0)
            deadline = time.monotonic() + TIMEOUT
            while "tray='open'" not in status.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "<target dev='hdc' bus='ide' tray='open'/>" in status.read_text()
            monitor(dom, "blockdev-close-tray", id=ALIAS)
            assert decode_tray_change(legacy) == \
                (NAME, ALIAS, 1)
        finally:
            dom.destroy()
            conn.close()
    assert tray_sequence(uri_for(daemon.sock)) == EXPECTED


@pytest.mark.slow
def test_tray_equal_libvirtd(ref, daemon):
    """The same sequence on Debian's libvirtd and on virtqemud, in the same run."""
    theirs = tray_sequence(ref.uri)
    assert theirs == EXPECTED
    assert tray_sequence(uri_for(daemon.sock)) == theirs
