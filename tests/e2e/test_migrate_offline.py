"""test_migrate_offline.py: OFFLINE migration (issue 21, item 2: the definition only)
between two of our virtqemuds, each its own "host" (its --root, its host_uuid), over unix
sockets, as `virsh migrate --offline --persistent` does it: managed by virsh (BEGIN3 on the
source, PREPARE3 and FINISH3 on the destination, CONFIRM3 on the source) and peer-to-peer
(--p2p: the source daemon opens the destination itself and drives its phases). Then the
same with Debian's libvirtd on one side, both ways (libvirtd's own host UUID differs from
ours), and libvirt's refusals compared with libvirtd's.

What each checks: the destination has the domain, persistent and shut off, with the
source's definition (same UUID, name, memory); the source's domain is as it was (still
defined, or gone with --undefinesource); the events each side sends (the destination's
DEFINED/ADDED, nothing on the source: libvirt's confirm sends none, even when it removes
the definition).
"""

import uuid

import pytest

from guests import QEMU, Events, domain_xml, uri_for
from migpair import facts, start_daemon, virsh

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

WAIT = 30.0


@pytest.fixture
def pair(daemons, root):
    return start_daemon(daemons, root, "a"), start_daemon(daemons, root, "b")


def define(uri, name):
    xml = domain_xml(name, "/nonexistent/kernel", emulator=QEMU)
    conn = libvirt.open(uri)
    try:
        dom = conn.defineXML(xml)
        return dom.UUIDString()
    finally:
        conn.close()


@pytest.mark.parametrize("p2p", [False, True], ids=["managed", "p2p"])
def test_offline_persistent(pair, p2p):
    a, b = pair
    name = "mig-off"
    u = define(a.uri, name)
    ev_a, ev_b = Events(a.uri), Events(b.uri)
    try:
        args = ["migrate", "--offline", "--persistent"] + (["--p2p"] if p2p else [])
        virsh(a.uri, *args, name, b.uri)
        got = facts(b.uri, name)
        assert got == (libvirt.VIR_DOMAIN_SHUTOFF, 1, u, name, "32768"), got
        assert facts(a.uri, name) == got  # the source keeps its domain as it was
        ev_b.expect(name, ["DEFINED/ADDED"], timeout=WAIT)
        ev_a.expect(name, [], timeout=1)
        # Its definition is on the destination's disk: a restarted daemon has it.
        assert (b.root / "etc/libvirt/qemu" / ("%s.xml" % name)).exists()
    finally:
        ev_a.close()
        ev_b.close()


def test_offline_undefinesource(pair):
    a, b = pair
    name = "mig-off-undef"
    u = define(a.uri, name)
    ev_a = Events(a.uri)
    try:
        virsh(a.uri, "migrate", "--offline", "--persistent", "--undefinesource", name, b.uri)
        assert facts(b.uri, name) == (libvirt.VIR_DOMAIN_SHUTOFF, 1, u, name, "32768")
        assert facts(a.uri, name) is None
        assert not (a.root / "etc/libvirt/qemu" / ("%s.xml" % name)).exists()
        ev_a.expect(name, [], timeout=1)
    finally:
        ev_a.close()


def test_offline_to_existing_updates(pair):
    """The destination already has the domain (same UUID): its definition is replaced, and
    the event is DEFINED/UPDATED."""
    a, b = pair
    name = "mig-off-upd"
    u = define(a.uri, name)
    conn = libvirt.open(b.uri)
    try:
        conn.defineXML(domain_xml(name, "/nonexistent/kernel", memory_mib=64)
                       .replace("<name>", "<uuid>%s</uuid><name>" % u))
    finally:
        conn.close()
    ev_b = Events(b.uri)
    try:
        virsh(a.uri, "migrate", "--offline", "--persistent", name, b.uri)
        assert facts(b.uri, name) == (libvirt.VIR_DOMAIN_SHUTOFF, 1, u, name, "32768")
        ev_b.expect(name, ["DEFINED/UPDATED"], timeout=WAIT)
    finally:
        ev_b.close()


def test_offline_same_host_refused(daemons, root):
    """A destination with the source's host UUID is the same host: libvirt's refusal."""
    a = start_daemon(daemons, root, "a")
    b = start_daemon(daemons, root, "b", host_uuid=a.host_uuid)
    define(a.uri, "mig-same")
    r = virsh(a.uri, "migrate", "--offline", "--persistent", "mig-same", uri_for(b.sock),
              check=False)
    assert r.returncode != 0
    assert ("internal error: Attempt to migrate guest to the same host %s" % a.host_uuid) \
        in r.stderr, r.stderr
    assert facts(uri_for(b.sock), "mig-same") is None


# ---------------------------------------------------------------- with libvirtd

REFUSALS = [
    # (virsh migrate options, why)
    (["--offline"], "offline without --persistent"),
    (["--offline", "--persistent", "--copy-storage-all"], "offline with storage copy"),
    (["--live"], "a live migration of a domain that is not running"),
]


@pytest.mark.slow
@pytest.mark.parametrize("opts,why", REFUSALS, ids=[w for _, w in REFUSALS])
def test_refusals_as_libvirtd(pair, ref, opts, why):
    """The same refused migration on libvirtd and on ours: the same error text."""
    a, b = pair
    name = "mig-ref-%s" % uuid.uuid4().hex[:6]
    define(a.uri, name)
    ref.virsh("define", "/dev/stdin", input_text=domain_xml(name, "/nonexistent/kernel"))
    try:
        ours = virsh(a.uri, "migrate", *opts, name, b.uri, check=False)
        theirs = virsh(ref.uri, "migrate", *opts, name, b.uri, check=False)
        assert ours.returncode != 0 and theirs.returncode != 0, why
        assert ours.stderr.strip() == theirs.stderr.strip(), why
        assert facts(b.uri, name) is None
    finally:
        ref.virsh("undefine", name, check=False)


@pytest.mark.slow
def test_offline_with_libvirtd_both_ways(pair, ref):
    """Ours -> libvirtd and libvirtd -> ours, managed and peer-to-peer: each destination
    has the domain as the source defined it."""
    a, _ = pair
    name = "mig-lv-%s" % uuid.uuid4().hex[:6]
    u = define(a.uri, name)
    try:
        virsh(a.uri, "migrate", "--offline", "--persistent", name, ref.uri)
        assert facts(ref.uri, name) == (libvirt.VIR_DOMAIN_SHUTOFF, 1, u, name, "32768")
        virsh(a.uri, "undefine", name)
        virsh(ref.uri, "migrate", "--offline", "--persistent", "--undefinesource", name, a.uri)
        assert facts(a.uri, name) == (libvirt.VIR_DOMAIN_SHUTOFF, 1, u, name, "32768")
        assert facts(ref.uri, name) is None
        virsh(a.uri, "migrate", "--offline", "--persistent", "--p2p", "--undefinesource", name,
              ref.uri)
        assert facts(ref.uri, name) == (libvirt.VIR_DOMAIN_SHUTOFF, 1, u, name, "32768")
        assert facts(a.uri, name) is None
    finally:
        ref.virsh("undefine", name, check=False)
