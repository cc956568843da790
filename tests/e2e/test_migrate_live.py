"""test_migrate_live.py: live migration of a running guest (Guest A, ticking on its serial
console) between two of our virtqemuds on this machine (migpair.py: each its own root and
host_uuid; QEMU to QEMU over TCP on the loopback), through the migration phases of
qemu_migrate_calls.c on migrun's QEMU side (qemu_migration.h): managed by virsh (BEGIN3 and
CONFIRM3 on the source, PREPARE3 and FINISH3 on the destination, PERFORM3 on the source)
and peer-to-peer (--p2p: the source daemon drives the destination itself).

Each checks: the destination runs the guest, whose console goes on ticking from where it
was; the source has nothing left (a transient guest) or keeps its definition (persistent,
without --undefinesource); the events are libvirt's on both sides: STARTED/MIGRATED then
RESUMED/MIGRATED on the destination, SUSPENDED/MIGRATED then STOPPED/MIGRATED on the
source; with --persistent the destination's DEFINED/ADDED comes before RESUMED/MIGRATED.
The fleet tests with network namespaces and libvirtd on the other side are hosts.py's
(test_migration.py).
"""

import re

import pytest

from guests import RUNNING
from migpair import facts, start_host, virsh

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

pytestmark = pytest.mark.slow

WAIT = 60.0


@pytest.fixture
def pair(daemons, root, request):
    hosts = [start_host(daemons, root, "a"), start_host(daemons, root, "b")]
    yield hosts
    rep = getattr(request.node, "rep_call", None)
    problems = []
    for h in hosts:
        problems += h.finish(test_failed=rep is not None and rep.failed)
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


def last_tick(con):
    ticks = re.findall(rb"TICK (\d+)", con.data)
    return int(ticks[-1]) if ticks else -1


@pytest.mark.parametrize("p2p", [False, True], ids=["managed", "p2p"])
def test_live_transient(pair, p2p):
    a, b = pair
    name = "mig-live"
    dom = a.conn.createXML(a.xml(name, "tick"), 0)
    con = a.console(dom)
    con.wait_for("TICK", count=2, timeout=WAIT)
    virsh(a.uri, "migrate", "--live", *(["--p2p"] if p2p else []), name, b.uri)
    assert facts(a.uri, name) is None
    moved = b.conn.lookupByName(name)
    assert moved.state()[0] == RUNNING
    before = last_tick(con)
    con2 = b.console(moved)
    con2.wait_for("TICK", count=2, timeout=WAIT)
    assert last_tick(con2) > before  # the same guest, counting on
    a.events.expect(name, ["STARTED/BOOTED", "SUSPENDED/MIGRATED", "STOPPED/MIGRATED"],
                    timeout=WAIT)
    b.events.expect(name, ["STARTED/MIGRATED", "RESUMED/MIGRATED"], timeout=WAIT)
    moved.destroy()


def test_live_persistent_there_and_back(pair):
    """--persistent --undefinesource there (managed), back peer-to-peer keeping the
    definition on the way: each side's definition where libvirt leaves it."""
    a, b = pair
    name = "mig-live-p"
    a.define(name, "tick").create()
    virsh(a.uri, "migrate", "--live", "--persistent", "--undefinesource", name, b.uri)
    assert facts(a.uri, name) is None
    assert facts(b.uri, name)[:2] == (RUNNING, 1)
    b.events.expect(name, ["STARTED/MIGRATED", "DEFINED/ADDED", "RESUMED/MIGRATED"],
                    timeout=WAIT)
    virsh(b.uri, "migrate", "--live", "--p2p", "--persistent", name, a.uri)
    assert facts(a.uri, name)[:2] == (RUNNING, 1)
    # without --undefinesource the source keeps its (now inactive) definition
    assert facts(b.uri, name)[:2] == (libvirt.VIR_DOMAIN_SHUTOFF, 1)
    a.conn.lookupByName(name).destroy()
