"""test_qemu_balloon_event.py: VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE (issue 18, item 6) on
virtqemud and on Debian's libvirtd, with the Linux test guest (its initramfs loads
virtio_balloon, so the guest really gives the memory back).

`setmem --live` sets the balloon target; as the guest's driver inflates the balloon QEMU
sends BALLOON_CHANGE with the guest's actual size in bytes, and the daemon forwards it in
KiB to both registration forms: the callback form (python3-libvirt's
domainEventRegisterAny, procedure 331) and the legacy REGISTER_ANY (procedure 167, events
as procedure 276, read on a raw socket). The live <currentMemory>, virDomainGetInfo's
memory and the bulk stats' balloon.current follow the last event, as libvirt's handler
(qemuProcessHandleBalloonChange) updates cur_balloon. Both daemons run the same guest and
must agree on all of it; the number of events on the way may differ (QEMU sends at most
one a second, and how far the guest got by then is timing).
"""

import re
import threading
import time
from urllib.parse import parse_qs, urlparse

import pytest

import linuxguest
import rawrpc
from guests import libvirt
from rawrpc import Client, i32

pytestmark = pytest.mark.slow

PROC_EVENT_BALLOON_CHANGE = 276
EVENT_ID_BALLOON_CHANGE = libvirt.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE  # 13
MEMORY_KIB = 256 * 1024
TARGET_KIB = 200 * 1024
WAIT = 120.0  # boot under TCG on a loaded machine, then the balloon's inflation


def sock_of(uri):
    return parse_qs(urlparse(uri).query)["socket"][0]


def balloon_xml(name, guest, disk):
    return linuxguest.domain_xml(name, guest, disk).replace(
        "<memballoon model='none'/>", "<memballoon model='virtio'/>")


def legacy_events(raw, name, timeout):
    """The legacy form's BALLOON_CHANGE messages (name, actual) until one says TARGET_KIB."""
    seen = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1] != (name, TARGET_KIB):
        m = raw.messages.pop(0) if raw.messages else \
            raw.recv_message(timeout=max(0.1, deadline - time.monotonic()))
        assert (m.prog, m.proc, m.type, m.status) == \
            (rawrpc.REMOTE_PROGRAM, PROC_EVENT_BALLOON_CHANGE, rawrpc.MESSAGE, rawrpc.OK), m
        u = m.unpacker()
        dom_name = u.string()
        u.opaque_fixed(16)
        u.i32()
        seen.append((dom_name, u.uhyper()))
        u.done()
    return seen


def run_balloon(uri, xml, name):
    """On the daemon at uri: start the guest, setmem --live TARGET_KIB, and what clients
    see: the callback events, the legacy events, live <currentMemory>, info's memory and
    balloon.current."""
    conn = libvirt.open(uri)
    got, cond = [], threading.Condition()

    def on_balloon(_conn, dom, actual, _opaque):
        with cond:
            got.append((dom.name(), actual))
            cond.notify_all()

    cid = conn.domainEventRegisterAny(None, EVENT_ID_BALLOON_CHANGE, on_balloon, None)
    raw = Client(sock_of(uri), timeout=WAIT)
    raw.open()
    raw.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY, i32(EVENT_ID_BALLOON_CHANGE)).done()
    dom = conn.defineXML(xml)
    try:
        dom.create()
        dom.setMemoryFlags(TARGET_KIB, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        with cond:
            assert cond.wait_for(lambda: (name, TARGET_KIB) in got, WAIT), got
        legacy = legacy_events(raw, name, WAIT)
        live = dom.XMLDesc(0)
        seen = {
            "callback": list(got),
            "legacy": legacy,
            "currentMemory": int(re.search(r"<currentMemory unit='KiB'>(\d+)<", live).group(1)),
            "memory": int(re.search(r"<memory unit='KiB'>(\d+)<", live).group(1)),
            "info": dom.info()[1:3],
            "balloon.current": conn.domainListGetStats(
                [dom], libvirt.VIR_DOMAIN_STATS_BALLOON)[0][1]["balloon.current"],
        }
        dom.destroy()
    finally:
        if dom.isActive():
            dom.destroy()
        dom.undefine()
        conn.domainEventDeregisterAny(cid)
        conn.close()
        raw.close()
    return seen


def check(seen, name):
    # Every event names the guest and lies between the target and the full size; the
    # last says the target; the legacy form saw the same last event.
    for form in ("callback", "legacy"):
        assert seen[form], seen
        assert all(n == name and TARGET_KIB <= a <= MEMORY_KIB for n, a in seen[form]), seen
        assert seen[form][-1] == (name, TARGET_KIB), seen
    assert seen["currentMemory"] == TARGET_KIB, seen
    assert seen["memory"] == MEMORY_KIB, seen
    assert seen["info"] == [MEMORY_KIB, TARGET_KIB], seen
    assert seen["balloon.current"] == TARGET_KIB, seen


def test_balloon_change_event_both_forms_as_libvirtd(ref, host, guest, tmp_path):
    name = "scale-balloon"
    ours = run_balloon(host.uri, balloon_xml(name, guest, guest.copy_root(host.root / "b.qcow2")),
                       name)
    check(ours, name)
    theirs = run_balloon(ref.uri, balloon_xml(name, guest, guest.copy_root(tmp_path / "b.qcow2")),
                         name)
    check(theirs, name)
    print("\nBALLOON_CHANGE actual (KiB), ours: %s; libvirtd: %s"
          % ([a for _, a in ours["callback"]], [a for _, a in theirs["callback"]]))
