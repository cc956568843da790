"""test_domain_events.py: lifecycle events for define, redefine and undefine.

Seen by `virsh event --all --loop`, by python3-libvirt callbacks (the callback
form, the old domainEventRegister form and a domain filter) and by raw clients
that register the legacy way and get DOMAIN_EVENT_LIFECYCLE (107) messages.
Expected values: libvirt-wire-facts.md sections 3, 4 and 10. No guest is started.
"""

import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

import eventreg
import rawrpc
from rawrpc import MESSAGE, OK, Client, i32, string, u32

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

EVENT_TIMEOUT = 5.0

# virDomainEventType and details (facts, section 4).
DEFINED, UNDEFINED = 0, 1
ADDED, UPDATED = 0, 1
REMOVED = 0

PROC_DOMAIN_EVENT_LIFECYCLE = 107
PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE = 318
PROC_DOMAIN_UNDEFINE = 35

PROBE_UUID = "5ee1e0e0-0000-4000-8000-00000000beef"


def uri_for(path):
    return "qemu+unix:///system?socket=%s" % path


def domain_xml(name, memory_mib=64, uuid=None):
    u = "<uuid>%s</uuid>" % uuid if uuid else ""
    return ("<domain type='qemu'><name>%s</name>%s<memory unit='MiB'>%d</memory>"
            "<os><type arch='x86_64'>hvm</type></os></domain>" % (name, u, memory_mib))


# ---------------------------------------------------------------- python event loop

_loop_lock = threading.Lock()
_loop_started = False


def start_event_loop():
    """libvirt's default event loop, registered once per process, run by a thread.

    It must be registered before the connections that want events are opened."""
    global _loop_started
    with _loop_lock:
        if _loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run():
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        _loop_started = True


class Recorder:
    """Collects (name, uuid, event, detail) from callbacks run by the loop thread."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def cb(self, conn, dom, event, detail, opaque):
        with self.cond:
            self.events.append((dom.name(), dom.UUIDString(), event, detail))
            self.cond.notify_all()

    def wait_for(self, n, timeout=EVENT_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.events) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.events)


# ---------------------------------------------------------------- python3-libvirt

def test_python_lifecycle_events_every_form(daemon):
    start_event_loop()
    uri = uri_for(daemon.sock)
    actor = libvirt.open(uri)
    c_any = libvirt.open(uri)
    c_old = libvirt.open(uri)
    c_filtered = libvirt.open(uri)
    r_any, r_old, r_filtered = Recorder(), Recorder(), Recorder()
    ids = []
    try:
        ids.append((c_any, c_any.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, r_any.cb, None)))
        c_old.domainEventRegister(r_old.cb, None)

        a = actor.defineXML(domain_xml("ev-a"))
        ua = a.UUIDString()
        # The filter names a domain that exists; it gets only that domain's events.
        ids.append((c_filtered, c_filtered.domainEventRegisterAny(
            c_filtered.lookupByName("ev-a"), libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
            r_filtered.cb, None)))
        # Wait until the first event is in, so the filter was registered after it.
        assert r_any.wait_for(1) == [("ev-a", ua, DEFINED, ADDED)]

        b = actor.defineXML(domain_xml("ev-b"))
        ub = b.UUIDString()
        actor.defineXML(domain_xml("ev-a", memory_mib=128, uuid=ua))
        a.setAutostart(1)  # no lifecycle event
        a.setAutostart(0)
        actor.defineXML(domain_xml("ev-b", memory_mib=96, uuid=ub))
        b.undefine()
        a.undefine()

        want = [("ev-a", ua, DEFINED, ADDED),
                ("ev-b", ub, DEFINED, ADDED),
                ("ev-a", ua, DEFINED, UPDATED),
                ("ev-b", ub, DEFINED, UPDATED),
                ("ev-b", ub, UNDEFINED, REMOVED),
                ("ev-a", ua, UNDEFINED, REMOVED)]
        assert r_any.wait_for(len(want)) == want
        assert r_old.wait_for(len(want)) == want
        want_a = [e for e in want[1:] if e[0] == "ev-a"]
        assert r_filtered.wait_for(len(want_a)) == want_a
        # Nothing more arrives (no duplicates, no events for the autostart calls).
        time.sleep(0.3)
        assert r_any.events == want and r_old.events == want
        assert r_filtered.events == want_a

        # After deregistering, a client hears nothing more; the others still do.
        c_any.domainEventDeregisterAny(ids[0][1])
        ids.pop(0)
        c = actor.defineXML(domain_xml("ev-c"))
        uc = c.UUIDString()
        assert r_old.wait_for(len(want) + 1)[-1] == ("ev-c", uc, DEFINED, ADDED)
        c.undefine()
        assert r_old.wait_for(len(want) + 2)[-1] == ("ev-c", uc, UNDEFINED, REMOVED)
        time.sleep(0.2)
        assert r_any.events == want
        assert r_filtered.events == want_a
        c_old.domainEventDeregister(r_old.cb)
        del a, b, c
    finally:
        for conn, cid in ids:
            try:
                conn.domainEventDeregisterAny(cid)
            except libvirt.libvirtError:
                pass
        for conn in (c_any, c_old, c_filtered, actor):
            conn.close()


def test_python_events_reach_many_clients(daemon):
    start_event_loop()
    uri = uri_for(daemon.sock)
    actor = libvirt.open(uri)
    conns, recs = [], []
    try:
        for _ in range(6):
            c = libvirt.open(uri)
            r = Recorder()
            c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, r.cb, None)
            conns.append(c)
            recs.append(r)
        names = ["many%d" % i for i in range(5)]
        doms = [actor.defineXML(domain_xml(n)) for n in names]
        uuids = [d.UUIDString() for d in doms]
        for d in doms:
            d.undefine()
        want = [(n, u, DEFINED, ADDED) for n, u in zip(names, uuids)] + \
               [(n, u, UNDEFINED, REMOVED) for n, u in zip(names, uuids)]
        for r in recs:
            assert r.wait_for(len(want)) == want
        del doms, d
    finally:
        for c in conns + [actor]:
            c.close()


# ---------------------------------------------------------------- raw clients

def decode_dom(u):
    name = u.string()
    uuid = u.opaque_fixed(16)
    dom_id = u.i32()
    return name, uuid, dom_id


def next_event(c, timeout=EVENT_TIMEOUT):
    """The next MESSAGE on a raw client (held-over ones first)."""
    if c.messages:
        return c.messages.pop(0)
    m = c.recv_message(timeout=timeout)
    assert m.type == MESSAGE, m
    return m


def decode_legacy(m):
    assert (m.prog, m.vers, m.proc, m.type, m.status) == \
        (rawrpc.REMOTE_PROGRAM, rawrpc.REMOTE_VERSION, PROC_DOMAIN_EVENT_LIFECYCLE, MESSAGE, OK)
    u = m.unpacker()
    dom = decode_dom(u)
    event, detail = u.i32(), u.i32()
    u.done()
    return dom + (event, detail)


def decode_callback(m):
    assert (m.prog, m.vers, m.proc, m.type, m.status) == \
        (rawrpc.REMOTE_PROGRAM, rawrpc.REMOTE_VERSION, PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
         MESSAGE, OK)
    u = m.unpacker()
    cid = u.i32()
    dom = decode_dom(u)
    event, detail = u.i32(), u.i32()
    u.done()
    return (cid,) + dom + (event, detail)


def raw_define(c, xml):
    u = c.call(rawrpc.PROC_DOMAIN_DEFINE_XML, string(xml))
    dom = decode_dom(u)
    u.done()
    return dom


def raw_undefine(c, dom):
    name, uuid, dom_id = dom
    u = c.call(PROC_DOMAIN_UNDEFINE, string(name) + uuid + i32(dom_id))
    u.done()


def test_raw_legacy_and_callback_event_messages(daemon):
    sock = str(daemon.sock)
    with Client(sock) as legacy_any, Client(sock) as legacy_old, Client(sock) as cb, \
            Client(sock) as actor:
        for c in (legacy_any, legacy_old, cb, actor):
            c.open()
        # Legacy REGISTER_ANY (167) for LIFECYCLE, and the old REGISTER (105).
        legacy_any.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY, i32(0)).done()
        u = legacy_old.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_REGISTER)
        assert u.i32() == 1
        u.done()
        # The callback form (316) with the server's callback id in every 318.
        u = cb.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, i32(0) + u32(0))
        cid = u.i32()
        u.done()

        dom = raw_define(actor, domain_xml("raw-ev"))
        name, uuid, dom_id = dom
        assert (name, dom_id) == ("raw-ev", -1)
        raw_define(actor, domain_xml("raw-ev", memory_mib=128,
                                     uuid="%s-%s-%s-%s-%s" % (uuid[:4].hex(), uuid[4:6].hex(),
                                                              uuid[6:8].hex(), uuid[8:10].hex(),
                                                              uuid[10:].hex())))
        raw_undefine(actor, dom)
        want = [(name, uuid, -1, DEFINED, ADDED),
                (name, uuid, -1, DEFINED, UPDATED),
                (name, uuid, -1, UNDEFINED, REMOVED)]
        for c in (legacy_any, legacy_old):
            assert [decode_legacy(next_event(c)) for _ in want] == want
        assert [decode_callback(next_event(cb)) for _ in want] == [(cid,) + w for w in want]
        # The acting connection registered nothing and got nothing.
        assert actor.messages == []
        assert not actor.wait_closed(0.2)
        assert actor.messages == []

        # Deregistered clients get nothing more.
        legacy_any.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, i32(0)).done()
        u = legacy_old.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_DEREGISTER)
        assert u.i32() == 0
        u.done()
        cb.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, i32(cid)).done()
        dom = raw_define(actor, domain_xml("raw-ev2"))
        raw_undefine(actor, dom)
        for c in (legacy_any, legacy_old, cb):
            assert not c.wait_closed(0.3)
            assert c.messages == [], c.messages


def test_raw_filtered_registration(daemon):
    sock = str(daemon.sock)
    with Client(sock) as actor, Client(sock) as watcher:
        actor.open()
        watcher.open()
        one = raw_define(actor, domain_xml("f-one"))
        name, uuid, dom_id = one
        u = watcher.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
                         i32(0) + u32(1) + string(name) + uuid + i32(dom_id))
        cid = u.i32()
        u.done()
        two = raw_define(actor, domain_xml("f-two"))
        raw_undefine(actor, two)
        raw_undefine(actor, one)
        assert decode_callback(next_event(watcher)) == \
            (cid, name, uuid, -1, UNDEFINED, REMOVED)
        assert not watcher.wait_closed(0.2)
        assert watcher.messages == []


def domain_registration_answers(sock):
    """The domain callback registration calls' answers (eventreg.py): domains by UUIDs no
    domain has."""
    return eventreg.registration_answers(sock, "qemu:///system", 316, 317, [
        string("nosuch%d" % k) + bytes(range(k, k + 16)) + i32(-1) for k in (0, 1)])


def test_raw_registration_errors(daemon):
    """libvirt 9.0's answers (as Debian's libvirtd gives them, test_registration_as_libvirtd):
    an event id out of range INTERNAL_ERROR "unsupported event ID N"; a second registration
    of one event id and domain filter on a connection INVALID_ARG "event callback already
    tracked" (no domain); a callback id not registered INTERNAL_ERROR "domain event callback
    N not registered", both in the RPC domain."""
    tracked = (rawrpc.ERR_INVALID_ARG, rawrpc.FROM_NONE,
               "invalid argument: event callback already tracked")
    unknown = (rawrpc.ERR_INTERNAL_ERROR, rawrpc.FROM_RPC,
               "internal error: domain event callback N not registered")
    out_of_range = [(rawrpc.ERR_INTERNAL_ERROR, rawrpc.FROM_RPC,
                     "internal error: unsupported event ID %d" % n) for n in (-1, 1 << 30)]
    # eventreg tries event ids -1, 2 and 1 << 30: 2 (REBOOT) is a domain event id
    assert domain_registration_answers(daemon.sock) == [
        out_of_range[0], "ok", out_of_range[1], [1, 2], tracked, tracked, "ok", unknown,
        unknown]


@pytest.mark.slow
def test_registration_as_libvirtd(daemon, ref):
    """The same registration answers as Debian's libvirtd 9.0.0 (callback ids compared
    relative to the first: libvirtd counts them across its connections from 0, we per
    connection from 1, 0 marking the legacy registrations; a client sees only its own)."""
    assert domain_registration_answers(daemon.sock) == \
        domain_registration_answers(ref.daemon.sock)


# ---------------------------------------------------------------- virsh event

@pytest.mark.skipif(not shutil.which("virsh"), reason="virsh (libvirt-clients) not installed")
def test_virsh_event_loop(daemon, tmp_path):
    env = dict(os.environ, LC_ALL="C")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    uri = uri_for(daemon.sock)

    def virsh(*args):
        r = subprocess.run(["timeout", "-k", "5", "30", "virsh", "-c", uri] + list(args),
                           capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, "virsh %s failed (%d):\n%s" % (" ".join(args), r.returncode,
                                                                 r.stderr)
        return r.stdout

    ev = subprocess.Popen(["virsh", "-c", uri, "event", "--all", "--loop", "--timeout", "20"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          stdin=subprocess.DEVNULL)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(ev.stdout.readline, "")),
                              daemon=True)
    reader.start()
    try:
        # virsh registers asynchronously: redefine a probe domain until it hears it.
        with Client(str(daemon.sock)) as c:
            c.open()
            deadline = time.monotonic() + 10
            while not any("'probe'" in line for line in lines):
                assert time.monotonic() < deadline, "virsh event never heard the probe"
                probe = raw_define(c, domain_xml("probe", uuid=PROBE_UUID))
                time.sleep(0.05)
            raw_undefine(c, probe)

        f = tmp_path / "gamma.xml"
        f.write_text(domain_xml("gamma", memory_mib=64))
        virsh("define", str(f))
        xml = virsh("dumpxml", "gamma")
        f.write_text(xml.replace("<memory unit='KiB'>65536</memory>",
                                 "<memory unit='KiB'>131072</memory>"))
        virsh("define", str(f))
        virsh("autostart", "gamma")
        virsh("autostart", "--disable", "gamma")
        virsh("undefine", "gamma")

        want = ["event 'lifecycle' for domain 'gamma': Defined Added\n",
                "event 'lifecycle' for domain 'gamma': Defined Updated\n",
                "event 'lifecycle' for domain 'gamma': Undefined Removed\n"]
        deadline = time.monotonic() + EVENT_TIMEOUT
        while sum("'gamma'" in line for line in lines) < len(want):
            assert time.monotonic() < deadline, "virsh event output so far: %r" % lines
            time.sleep(0.02)
        time.sleep(0.2)
    finally:
        if ev.poll() is None:
            ev.send_signal(signal.SIGINT)
        try:
            ev.wait(10)
        except subprocess.TimeoutExpired:
            ev.kill()
            ev.wait()
        reader.join(5)
    err = ev.stderr.read()
    gamma = [line for line in lines if "'gamma'" in line]
    assert gamma == want, lines
    events = [line for line in lines if line.startswith("event '")]
    assert all(line.startswith("event 'lifecycle' for domain ") for line in events), events
    # Probe events: maybe Added (if virsh was that quick), Updated, then Removed.
    probe = [line.split(": ", 1)[1] for line in events if "'probe'" in line]
    assert probe[-1] == "Undefined Removed\n", probe
    assert set(probe[1:-1]) <= {"Defined Updated\n"}, probe
    assert probe[0] in ("Defined Added\n", "Defined Updated\n"), probe
    tail = lines[len(events):]
    assert tail[:2] == ["event loop interrupted\n", "events received: %d\n" % len(events)], lines
    assert err == ""
