"""test_crash_safety.py: definitions survive a SIGKILL of virtqemud at any moment.

Each round starts virtqemud on the definitions the previous rounds left, runs a stream of
defines (new domains and redefinitions with changed memory), autostart changes and
undefines from a few connections, and SIGKILLs the daemon after a random delay. Then:

- every ROOT/etc/libvirt/qemu/*.xml parses and holds either the last acknowledged content
  of its domain or the content of the call that was in flight for it, never a mix;
- an acknowledged define is on disk and an acknowledged undefine is not; the same for
  autostart links, which always point at their domain's definition;
- files the daemon leaves besides definitions (interrupted writes) are not *.xml, so a
  daemon never loads them, and the next daemon removes them;
- the daemon starts again and lists exactly what is on disk.

The delays come from a seeded generator; the seed is printed (run with -s to see it) and
SV_CRASH_SEED=N repeats a sequence of delays (the daemon's timing still varies).
"""

import os
import random
import signal
import threading
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

ROUNDS = 20
WRITERS = 3            # connections, each with its own domains
NAMES_PER_WRITER = 6
DELAY = (0.02, 0.5)    # seconds of load before the SIGKILL
SEED = int(os.environ.get("SV_CRASH_SEED", "20240611"))


def uri_for(path):
    return "qemu+unix:///system?socket=%s" % path


def name_uuid(name):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "splitvirt-crash/" + name))


def domain_xml(name, memory_kib):
    return ("<domain type='qemu'><name>%s</name><uuid>%s</uuid>"
            "<memory unit='KiB'>%d</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64'>hvm</type></os></domain>"
            % (name, name_uuid(name), memory_kib))


class Model:
    """What the clients know: per domain, its acknowledged memory (None: not defined) and
    autostart flag, and what the call in flight at the kill would make them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.memory = {}      # name -> KiB or None
        self.autostart = {}   # name -> bool
        self.inflight = {}    # name -> ("memory" | "autostart", new value)

    def allowed_memory(self, name):
        ok = {self.memory.get(name)}
        kind, new = self.inflight.get(name, (None, None))
        if kind == "memory":
            ok.add(new)
        return ok

    def allowed_autostart(self, name):
        ok = {self.autostart.get(name, False)}
        kind, new = self.inflight.get(name, (None, None))
        if kind == "autostart":
            ok.add(new)
        if kind == "memory" and new is None:
            ok.add(False)  # an undefine removes the link first
        return ok


class Writer(threading.Thread):
    """One connection defining, redefining, toggling autostart of and undefining its
    own domains until the daemon dies under it."""

    def __init__(self, uri, model, names, rng):
        super().__init__(daemon=True)
        self.conn = libvirt.open(uri)
        self.model = model
        self.names = names
        self.rng = rng
        self.acked = 0
        self.unexpected = None

    def step(self, name):
        m = self.model
        with m.lock:
            memory = m.memory.get(name)
            autostart = m.autostart.get(name, False)
        r = self.rng.random()
        if memory is not None and r < 0.25:
            kind, new = "memory", None
        elif memory is not None and r < 0.4:
            kind, new = "autostart", not autostart
        else:
            kind, new = "memory", 32768 + 4 * self.rng.randrange(1, 100000)
        with m.lock:
            m.inflight[name] = (kind, new)
        if kind == "autostart":
            self.conn.lookupByName(name).setAutostart(int(new))
        elif new is None:
            self.conn.lookupByName(name).undefine()
        else:
            self.conn.defineXML(domain_xml(name, new))
        with m.lock:
            del m.inflight[name]
            if kind == "autostart":
                m.autostart[name] = new
            else:
                m.memory[name] = new
                if new is None:
                    m.autostart[name] = False
        self.acked += 1

    def run(self):
        try:
            while True:
                self.step(self.rng.choice(self.names))
        except libvirt.libvirtError as e:
            # The daemon died: the connection breaks. Anything else is a failure.
            if e.get_error_code() not in (libvirt.VIR_ERR_SYSTEM_ERROR,
                                          libvirt.VIR_ERR_RPC,
                                          libvirt.VIR_ERR_INTERNAL_ERROR):
                self.unexpected = e
        except Exception as e:
            self.unexpected = e
        finally:
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass


def on_disk(qemu):
    """({name: memory KiB}, {name: autostart link target}, [other files]) under qemu."""
    defs, links, other = {}, {}, []
    if not qemu.exists():
        return defs, links, other
    for p in qemu.iterdir():
        if p.is_dir():
            continue
        if p.suffix != ".xml":
            other.append(p.name)
            continue
        text = p.read_text()
        try:
            doc = ET.fromstring(text)
        except ET.ParseError as e:
            raise AssertionError("%s does not parse (%s):\n%r" % (p, e, text)) from None
        assert doc.findtext("name") == p.stem, text
        assert doc.findtext("uuid") == name_uuid(p.stem), text
        mem = doc.find("memory")
        assert mem.get("unit", "KiB") == "KiB", text
        defs[p.stem] = int(mem.text)
    auto = qemu / "autostart"
    if auto.exists():
        for p in auto.iterdir():
            links[p.stem] = os.readlink(p) if p.is_symlink() else None
    return defs, links, other


def check_disk(root, model, rnd):
    qemu = root / "etc" / "libvirt" / "qemu"
    defs, links, other = on_disk(qemu)
    for name in set(model.memory) | set(defs):
        assert defs.get(name) in model.allowed_memory(name), (
            "round %d: %s on disk has memory %r; acknowledged %r, in flight %r"
            % (rnd, name, defs.get(name), model.memory.get(name), model.inflight.get(name)))
    for name in set(model.autostart) | set(links):
        assert (name in links) in model.allowed_autostart(name), (
            "round %d: autostart link of %s %s; acknowledged %r, in flight %r"
            % (rnd, name, "present" if name in links else "absent",
               model.autostart.get(name), model.inflight.get(name)))
    for name, target in links.items():
        assert name in defs, "round %d: autostart link %s without a definition" % (rnd, name)
        assert target == str(qemu / (name + ".xml")), (rnd, name, target)
    # An interrupted write leaves only its temporary file, never a *.xml.
    assert all(".xml.new-" in f for f in other), "round %d: stray files %r" % (rnd, other)
    return defs, links, other


def listed(uri):
    conn = libvirt.open(uri)
    try:
        return {d.name(): (d.maxMemory(), bool(d.autostart()))
                for d in conn.listAllDomains(0)}
    finally:
        conn.close()


@pytest.fixture
def quiet_libvirt():
    """Broken connections are expected here: keep libvirt from printing each one."""
    libvirt.registerErrorHandler(lambda *a: None, None)
    yield
    libvirt.registerErrorHandler(None, None)


def warm_qemu_probe(daemons):
    """A define waits for the daemon's QEMU probe, which a slow (sanitizer) build may not
    finish before a round's kill, and a killed probe leaves no cache: so a first daemon
    probes and caches, and every round's daemon starts from that cache."""
    d = daemons.start(label="virtqemud-warm", args=["--timeout", "0"])
    conn = libvirt.open(uri_for(d.sock))
    try:
        conn.defineXML(domain_xml("warm", 65536)).undefine()
    finally:
        conn.close()
    d.stop()


def test_definitions_survive_sigkill(daemons, root, quiet_libvirt):
    rng = random.Random(SEED)
    print("crash-safety seed %d (SV_CRASH_SEED to repeat)" % SEED)
    model = Model()
    names = [["w%d-%d" % (w, i) for i in range(NAMES_PER_WRITER)] for w in range(WRITERS)]
    acked = 0
    leftovers = 0
    warm_qemu_probe(daemons)
    for rnd in range(ROUNDS):
        d = daemons.start(label="virtqemud-%d" % rnd, args=["--timeout", "0"])
        # The daemon starts on what is on disk and removed what an earlier kill left.
        defs, links, other = on_disk(root / "etc" / "libvirt" / "qemu")
        assert other == [], "round %d: files left from an interrupted write: %r" % (rnd, other)
        assert listed(uri_for(d.sock)) == {n: (m, n in links) for n, m in defs.items()}

        writers = [Writer(uri_for(d.sock), model, names[w], random.Random(rng.random()))
                   for w in range(WRITERS)]
        for w in writers:
            w.start()
        time.sleep(rng.uniform(*DELAY))
        d.send_signal(signal.SIGKILL)
        d.expected_status = -signal.SIGKILL
        d.wait_exit(10)
        for w in writers:
            w.join(10)
            assert not w.is_alive(), "round %d: a client hangs after the kill" % rnd
            assert w.unexpected is None, "round %d: %r" % (rnd, w.unexpected)
            acked += w.acked

        defs, links, other = check_disk(root, model, rnd)
        leftovers += len(other)
        # What was in flight resolved one way or the other: the disk is the truth now.
        # (A domain's first define, in flight at the kill, may be on disk without the model
        # ever having acknowledged it: the names on disk count too.)
        model.memory = {n: defs.get(n) for n in set(model.memory) | set(defs)}
        model.autostart = {n: n in links for n in set(model.autostart) | set(links)}
        model.inflight = {}

    d = daemons.start(label="virtqemud-last", args=["--timeout", "0"])
    defs, links, other = on_disk(root / "etc" / "libvirt" / "qemu")
    assert other == []
    assert listed(uri_for(d.sock)) == {n: (m, n in links) for n, m in defs.items()}
    print("%d rounds, %d acknowledged calls, %d interrupted writes left temporary files"
          % (ROUNDS, acked, leftovers))
    assert acked > ROUNDS  # the rounds did work before their kill


# ---------------------------------------------------------------- ordering on disk

PROC_DOMAIN_SET_AUTOSTART = 29
PROC_DOMAIN_UNDEFINE = 35
ERR_OPERATION_FAILED = 9
ERR_NO_DOMAIN = 42


def test_autostart_behind_queued_undefine_leaves_no_link(daemon, root):
    """An undefine queued behind another write, then an autostart change of the same
    domain, all in one read: the undefine wins, and no link outlives the definition."""
    import rawrpc
    from rawrpc import CALL, OK, REMOTE_PROGRAM, REMOTE_VERSION, encode_frame, i32, string

    qemu = root / "etc" / "libvirt" / "qemu"
    with rawrpc.Client(str(daemon.sock)) as c:
        c.open()
        u = c.call(rawrpc.PROC_DOMAIN_DEFINE_XML, string(domain_xml("victim", 65536)))
        start = u.pos
        u.string()
        u.opaque_fixed(16)
        u.i32()
        dom = u.data[start:]
        calls = [(rawrpc.PROC_DOMAIN_DEFINE_XML, string(domain_xml("other", 65536))),
                 (PROC_DOMAIN_UNDEFINE, dom),
                 (PROC_DOMAIN_SET_AUTOSTART, dom + i32(1))]
        serials = [c.next_serial() for _ in calls]
        c.send_raw(b"".join(encode_frame(REMOTE_PROGRAM, REMOTE_VERSION, proc, CALL, s, OK, p)
                            for s, (proc, p) in zip(serials, calls)))
        replies = {}
        for _ in calls:
            m = c.recv_message()
            replies[m.serial] = m
        define, undefine, autostart = (replies[s] for s in serials)
        # Each reply leaves after its file operation: the disk is final now.
        assert (define.status, undefine.status) == (OK, OK)
        if autostart.status != OK:
            err = rawrpc.RpcError.decode(autostart.payload)
            assert err.code in (ERR_OPERATION_FAILED, ERR_NO_DOMAIN), err
    defs, links, other = on_disk(qemu)
    assert (defs, links, other) == ({"other": 65536}, {}, [])


def test_sigterm_while_defines_wait_for_the_probe(root, quiet_libvirt):
    """SIGTERM while defines wait for the daemon's first QEMU probe, or are being written:
    each round a new root (no probe cache), three clients defining, the signal at a random
    moment. The daemon exits 0 with no sanitizer report: the waiting calls are let go, and
    a write completing during the driver's cleanup emits its event to no client (it reached
    a freed server before), and the store's worker is joined before the process exits."""
    from svdaemon import Daemon
    rng = random.Random(SEED + 2)
    for rnd in range(8):
        d = Daemon(root / ("r%d" % rnd), label="virtqemud-term-%d" % rnd,
                   args=["--timeout", "0"]).start()
        uri = uri_for(d.sock)

        def define(k):
            try:
                conn = libvirt.open(uri)
                for j in range(5):
                    conn.defineXML(domain_xml("t%d-%d" % (k, j), 65536)).undefine()
                conn.close()
            except libvirt.libvirtError:
                pass  # the daemon went away: what matters is how it went

        clients = [threading.Thread(target=define, args=(k,)) for k in range(3)]
        for t in clients:
            t.start()
        time.sleep(rng.uniform(0, 0.4))
        rc = d.stop()
        for t in clients:
            t.join(10)
        assert rc == 0 and not d.problems(), "round %d: %s\n%s" % (
            rnd, d.problems() or "exit status %s" % rc, d.stderr_tail(40))
