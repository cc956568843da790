"""test_restarts.py: virtqemud restarting under running guests.

The daemon is killed (SIGKILL), stopped (SIGTERM), frozen (SIGSTOP) or idles out
under socket activation while real QEMU guests (Guest A, tests/guest) run, and
things happen to the guests while no daemon watches. A restarted daemon must
find every guest again through its status file (ROOT/run/libvirt/qemu/NAME.xml),
bring states and reasons up to date without replaying events, carry out what the
guest did meanwhile (power off, panic), never signal a process that only has
the old QEMU's PID, and never end a guest just because the daemon went away.

Expected values: libvirt-wire-facts.md sections 5 (events), 6 (idle exit),
7 (status file and reconnect), 8 (autostart once per boot), docs/lifecycle.md,
and libvirt's qemuProcessUpdateState/qemuMonitorVMStatusToPausedReason for the
state a reconnect finds (QMP status "paused" -> PAUSED/USER).

Every test checks at the end that no QEMU process of its root is left and that
no status or pid file outlived its guest. QEMU processes are matched by their
command line, which names the test's root (the kernel is copied there).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from svdaemon import QEMU_AS_ROOT, SANITIZER_MARKERS, build_dir, daemon_binary

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from activator import Activator  # noqa: E402  (tests/activator.py)

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

QEMU = "/usr/bin/qemu-system-x86_64"

# Short kill timeouts: a SIGSTOPped QEMU is SIGKILLed after 1.5 s, not 10 s.
DAEMON_CONFIG = "graceful_timeout_ms = 1500\nterm_timeout_ms = 1500\nkill_timeout_ms = 3000\n"

WAIT = 15.0       # generous waits (2 cores, maybe ASan); the checks themselves are exact
SETTLE = 0.5      # how long to listen for an event that must not come
IDLE = 2          # --timeout of the activated daemons

# virDomainState and reasons (facts, section 4).
RUNNING, PAUSED, SHUTDOWN, SHUTOFF, CRASHED = 1, 3, 4, 5, 6
RUNNING_BOOTED, RUNNING_UNPAUSED = 1, 5
PAUSED_UNKNOWN, PAUSED_USER = 0, 1
SHUTOFF_UNKNOWN, SHUTOFF_SHUTDOWN, SHUTOFF_DESTROYED, SHUTOFF_CRASHED = 0, 1, 2, 3
CRASHED_PANICKED = 1
STATE_NAMES = {0: "NOSTATE", 1: "RUNNING", 2: "BLOCKED", 3: "PAUSED", 4: "SHUTDOWN",
               5: "SHUTOFF", 6: "CRASHED", 7: "PMSUSPENDED"}

EVENT_NAMES = {
    0: ("DEFINED", ["ADDED", "UPDATED", "RENAMED", "FROM_SNAPSHOT"]),
    1: ("UNDEFINED", ["REMOVED", "RENAMED"]),
    2: ("STARTED", ["BOOTED", "MIGRATED", "RESTORED", "FROM_SNAPSHOT", "WAKEUP"]),
    3: ("SUSPENDED", ["PAUSED", "MIGRATED", "IOERROR", "WATCHDOG", "RESTORED",
                      "FROM_SNAPSHOT", "API_ERROR", "POSTCOPY", "POSTCOPY_FAILED"]),
    4: ("RESUMED", ["UNPAUSED", "MIGRATED", "FROM_SNAPSHOT", "POSTCOPY", "POSTCOPY_FAILED"]),
    5: ("STOPPED", ["SHUTDOWN", "DESTROYED", "CRASHED", "MIGRATED", "SAVED", "FAILED",
                    "FROM_SNAPSHOT"]),
    6: ("SHUTDOWN", ["FINISHED", "GUEST", "HOST"]),
    7: ("PMSUSPENDED", ["MEMORY", "DISK"]),
    8: ("CRASHED", ["PANICKED", "CRASHLOADED"]),
}


def event_text(event, detail):
    name, details = EVENT_NAMES.get(event, ("EVENT%d" % event, []))
    return "%s/%s" % (name, details[detail] if 0 <= detail < len(details) else detail)


def state_text(st):
    return "%s/%d" % (STATE_NAMES.get(st[0], st[0]), st[1])


def uri_for(path):
    return "qemu+unix:///system?socket=%s" % path


def guest_elf():
    return build_dir() / "tests" / "guest" / "svguest.elf"


def domain_xml(name, kernel, cmdline="", on_crash=None):
    """Guest A as a TCG domain: 32 MiB, 1 vCPU, ACPI, serial+console on a pty, pvpanic."""
    life = "<on_crash>%s</on_crash>" % on_crash if on_crash else ""
    return (
        "<domain type='qemu'><name>%s</name>"
        "<memory unit='MiB'>32</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type>"
        "<kernel>%s</kernel><cmdline>%s</cmdline></os>"
        "<features><acpi/></features>%s"
        "<devices><emulator>%s</emulator>"
        "<serial type='pty'/><console type='pty'/>"
        "<panic model='isa'/><memballoon model='none'/></devices>"
        "</domain>" % (name, kernel, cmdline, life, QEMU))


# ---------------------------------------------------------------- processes

def proc_stat(pid):
    """(state letter, start time) from /proc/PID/stat, or None if there is no such process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[19])  # fields 3 and 22


def alive(pid):
    """True for a live process (a zombie is not alive)."""
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


def start_time(pid):
    st = proc_stat(pid)
    return st[1] if st else None


def wait_gone(pid, timeout=WAIT, what="QEMU"):
    """Wait until pid is dead (gone, or a zombie waiting for a lazy reaper)."""
    deadline = time.monotonic() + timeout
    while alive(pid):
        assert time.monotonic() < deadline, "%s pid %d still alive after %.0f s" % (
            what, pid, timeout)
        time.sleep(0.02)


def qemu_processes(root):
    """{pid: cmdline} of live processes whose command line names root (zombies have none)."""
    found = {}
    needle = str(root).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if needle in cmd and b"qemu-system" in cmd:
            found[int(entry)] = cmd.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


# ---------------------------------------------------------------- QMP, by hand

class Qmp:
    """A QMP client on a guest's monitor socket, for what happens while no daemon runs.

    QEMU serves one monitor client at a time and accepts the next once the previous
    one is gone, so this works once the daemon is dead (or before it restarts)."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.file = self.sock.makefile("rwb")
        self.events = []
        greeting = self._recv()
        assert "QMP" in greeting, greeting
        self.execute("qmp_capabilities")

    def _recv(self):
        line = self.file.readline()
        if not line:
            raise ConnectionError("QMP connection closed")
        return json.loads(line)

    def execute(self, cmd, args=None):
        """Run cmd; its "return" value. Events that arrive meanwhile go to .events."""
        msg = {"execute": cmd}
        if args is not None:
            msg["arguments"] = args
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            r = self._recv()
            if "event" in r:
                self.events.append(r["event"])
                continue
            assert "error" not in r, "QMP %s failed: %r" % (cmd, r)
            return r["return"]

    def status(self):
        return self.execute("query-status")["status"]

    def wait_status(self, want, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while True:
            got = self.status()
            if got == want:
                return
            assert time.monotonic() < deadline, "QEMU status %r, expected %r" % (got, want)
            time.sleep(0.05)

    def close(self):
        try:
            self.file.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- events

_loop_lock = threading.Lock()
_loop_started = False


def ensure_event_loop():
    """libvirt's default event loop, run by one thread for the whole session.

    Shared with guests.py when that helper is there, so one loop serves all."""
    global _loop_started
    with _loop_lock:
        if _loop_started:
            return
        try:
            from guests import ensure_event_loop as shared
        except Exception:
            shared = None
        if shared is not None:
            shared()
        else:
            libvirt.virEventRegisterDefaultImpl()

            def run():
                while True:
                    libvirt.virEventRunDefaultImpl()

            threading.Thread(target=run, name="libvirt-event-loop", daemon=True).start()
        _loop_started = True


class Events:
    """Every lifecycle event one client receives, in order, as (domain, "EVENT/DETAIL")."""

    def __init__(self, uri):
        ensure_event_loop()
        self.conn = libvirt.open(uri)
        self.cond = threading.Condition()
        self.log = []
        self.cb = self.conn.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle, None)

    def _lifecycle(self, conn, dom, event, detail, opaque):
        with self.cond:
            self.log.append((dom.name(), event_text(event, detail)))
            self.cond.notify_all()

    def all(self):
        with self.cond:
            return list(self.log)

    def of(self, name):
        with self.cond:
            return [t for n, t in self.log if n == name]

    def expect(self, name, expected, timeout=WAIT, settle=SETTLE):
        """Wait for as many events of name as expected, listen settle s more, compare."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len([1 for n, _ in self.log if n == name]) < len(expected):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
        time.sleep(settle)
        got = self.of(name)
        assert got == expected, "events of %s: got %r, expected %r" % (name, got, expected)

    def close(self):
        try:
            self.conn.domainEventDeregisterAny(self.cb)
        except libvirt.libvirtError:
            pass
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass


# ---------------------------------------------------------------- the host

class Host:
    """One test's root: the guest kernel, the current daemon and a connection to it."""

    def __init__(self, daemons, root):
        self.daemons = daemons
        self.root = Path(root)
        self.kernel = self.root / "svguest.elf"
        shutil.copyfile(guest_elf(), self.kernel)
        self.qemu_run = self.root / "run" / "libvirt" / "qemu"
        self.qemu_lib = self.root / "var" / "lib" / "libvirt" / "qemu"
        self.config_dir = self.root / "etc" / "libvirt" / "qemu"
        self.daemon = None
        self.conn = None
        self.closers = []

    # ------------------------------------------------------------ daemon

    def start_daemon(self):
        self.daemon = self.daemons.start(config=DAEMON_CONFIG)
        self.conn = libvirt.open(uri_for(self.daemon.sock))
        return self.daemon

    def _drop_conn(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass
            self.conn = None

    def kill_daemon(self, sig=signal.SIGKILL):
        """End the daemon with sig (SIGKILL: no cleanup at all); its exit status."""
        d = self.daemon
        if sig != signal.SIGKILL:
            self._drop_conn()
        d.send_signal(sig)
        rc = d.wait_exit(10)
        if sig == signal.SIGKILL:
            d.expected_status = -signal.SIGKILL
            self._drop_conn()
        return rc

    def freeze_daemon(self):
        self.daemon.send_signal(signal.SIGSTOP)

    def events(self):
        ev = Events(uri_for(self.daemon.sock))
        self.closers.append(ev.close)
        return ev

    # ------------------------------------------------------------ guests

    def define(self, name, cmdline="", on_crash=None):
        self.conn.defineXML(domain_xml(name, self.kernel, cmdline, on_crash))

    def dom(self, name):
        return self.conn.lookupByName(name)

    def start(self, name):
        """Start a defined guest; its QEMU pid."""
        self.dom(name).create()
        return self.pid(name)

    def state(self, name):
        return tuple(self.dom(name).state())

    def wait_state(self, name, state, timeout=WAIT):
        """Wait until name is in state (any reason); its (state, reason)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.state(name)
            if got[0] == state:
                return got
            assert time.monotonic() < deadline, "%s is %s after %.0f s, expected %s" % (
                name, state_text(got), timeout, STATE_NAMES[state])
            time.sleep(0.02)

    def pid_file(self, name):
        return self.qemu_run / ("%s.pid" % name)

    def status_file(self, name):
        return self.qemu_run / ("%s.xml" % name)

    def pid(self, name):
        return int(self.pid_file(name).read_text().strip())

    def monitor_path(self, name):
        import xml.etree.ElementTree as ET
        return ET.parse(self.status_file(name)).getroot().find("monitor").get("path")

    def status_attrs(self, name):
        import xml.etree.ElementTree as ET
        try:
            return dict(ET.parse(self.status_file(name)).getroot().attrib)
        except (FileNotFoundError, ET.ParseError):
            return {}

    def wait_saved(self, name, state, reason, timeout=WAIT):
        """Wait until the status file of name records state (a string) and reason, and
        no start in progress.

        The daemon writes status files off its loop, so a reply can come before the
        file says what it acknowledged (the test_acknowledged_* tests
        check exactly that); the other tests wait here before they kill it."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.status_attrs(name)
            if got.get("state") == state and got.get("reason") == str(reason) and \
                    got.get("starting", "0") == "0":
                return got
            assert time.monotonic() < deadline, "status file of %s: %r, expected %s/%d" % (
                name, got, state, reason)
            time.sleep(0.005)

    def qmp(self, name):
        q = Qmp(self.monitor_path(name))
        self.closers.append(q.close)
        return q

    def wait_files_gone(self, name, timeout=WAIT):
        """The status and pid files of name are removed (they go once the guest is gone)."""
        deadline = time.monotonic() + timeout
        while self.status_file(name).exists() or self.pid_file(name).exists():
            assert time.monotonic() < deadline, "files of %s left: %r" % (
                name, sorted(p.name for p in self.qemu_run.iterdir()))
            time.sleep(0.02)

    def domain_dirs(self):
        return sorted(p.name for p in self.qemu_lib.glob("domain-*")) \
            if self.qemu_lib.exists() else []

    # ------------------------------------------------------------ after the test

    def finish(self):
        """What the test left behind, as problems; then everything of it is ended."""
        for c in self.closers:
            try:
                c()
            except Exception:
                pass
        problems = []
        if self.daemon is not None and self.daemon.alive() and self.conn is not None:
            try:
                active = self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
            except libvirt.libvirtError as e:
                active = []
                problems.append("cannot list domains at teardown: %s" % e)
            if active:
                problems.append("guests still running at teardown: %r"
                                % [d.name() for d in active])
            for pid in qemu_processes(self.root):
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            for d in active:
                try:
                    d.destroy()
                except libvirt.libvirtError as e:
                    problems.append("destroy %s at teardown: %s" % (d.name(), e))
            del active
        deadline = time.monotonic() + 5
        while qemu_processes(self.root) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = qemu_processes(self.root)
        if left:
            problems.append("QEMU processes of this root outlive their domains: %r" % left)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.daemon is not None and self.daemon.alive():
            # With a live daemon every guest is gone now, so its files must be too
            # (they are removed off the daemon's loop: give that a moment).
            deadline = time.monotonic() + 5
            while True:
                files = sorted(p.name for p in self.qemu_run.iterdir()
                               if p.suffix in (".xml", ".pid")) \
                    if self.qemu_run.exists() else []
                if not files or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            if files:
                problems.append("status/pid files left: %r" % files)
            if self.domain_dirs():
                problems.append("domain directories left: %r" % self.domain_dirs())
        self._drop_conn()
        return problems


def need_guest():
    if not guest_elf().exists():
        pytest.skip("test guest %s not built" % guest_elf())
    if not os.path.exists(QEMU):
        pytest.skip("%s not installed" % QEMU)


def restart_host(daemons, root, request):
    """The `host` fixture's body (a Host, checked after the test of request), for other
    files' fixtures of a daemon the test kills and starts again."""
    need_guest()
    h = Host(daemons, root)
    try:
        yield h
    finally:
        problems = h.finish()
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            # Guests and files a failed test left are its consequence; only what
            # survives the cleanup is worth a second report.
            problems = [p for p in problems if p.startswith("QEMU processes")]
        if problems:
            pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def host(daemons, root, request):
    yield from restart_host(daemons, root, request)


def same_process(pid, start):
    """pid is alive and is still the process that had start time start."""
    return alive(pid) and start_time(pid) == start


# ---------------------------------------------------------------- SIGKILL and reconnect

def test_sigkill_then_reconnect_running_and_paused(host):
    host.start_daemon()
    host.define("run")
    host.define("pause")
    t0 = time.monotonic()
    pids = {n: host.start(n) for n in ("run", "pause")}
    host.dom("pause").suspend()
    host.wait_saved("run", "running", RUNNING_BOOTED)
    host.wait_saved("pause", "paused", PAUSED_USER)
    ids = {n: host.dom(n).ID() for n in ("run", "pause")}
    assert host.state("run") == (RUNNING, RUNNING_BOOTED)
    assert host.state("pause") == (PAUSED, PAUSED_USER)
    starts = {n: start_time(p) for n, p in pids.items()}

    host.kill_daemon(signal.SIGKILL)
    time.sleep(0.3)
    for n, p in pids.items():
        assert same_process(p, starts[n]), "QEMU of %s died with the daemon" % n

    host.start_daemon()
    ev = host.events()
    listed = {d.name(): tuple(d.state()) for d in host.conn.listAllDomains(0)}
    assert listed == {"run": (RUNNING, RUNNING_BOOTED), "pause": (PAUSED, PAUSED_USER)}
    active = sorted(d.name() for d in host.conn.listAllDomains(
        libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
    assert active == ["pause", "run"]
    for n, p in pids.items():
        assert same_process(p, starts[n]), "QEMU of %s did not survive the restart" % n
        assert host.pid(n) == p
        assert host.dom(n).ID() == ids[n]
    time.sleep(SETTLE)
    assert ev.all() == [], "events for reconnected guests: %r" % ev.all()

    # The reconnected monitors work: suspend, resume, ACPI shutdown, destroy.
    host.dom("pause").resume()
    assert host.state("pause") == (RUNNING, RUNNING_UNPAUSED)
    ev.expect("pause", ["RESUMED/UNPAUSED"])
    host.dom("run").suspend()
    assert host.state("run") == (PAUSED, PAUSED_USER)
    host.dom("run").resume()
    assert host.state("run") == (RUNNING, RUNNING_UNPAUSED)
    ev.expect("run", ["SUSPENDED/PAUSED", "RESUMED/UNPAUSED"])

    time.sleep(max(0.0, 0.5 - (time.monotonic() - t0)))  # READY: the button is armed
    host.dom("run").shutdown()
    host.wait_state("run", SHUTOFF)
    assert host.state("run") == (SHUTOFF, SHUTOFF_SHUTDOWN)
    ev.expect("run", ["SUSPENDED/PAUSED", "RESUMED/UNPAUSED", "SHUTDOWN/GUEST",
                      "STOPPED/SHUTDOWN"])
    wait_gone(pids["run"])

    host.dom("pause").destroy()
    assert host.state("pause") == (SHUTOFF, SHUTOFF_DESTROYED)
    ev.expect("pause", ["RESUMED/UNPAUSED", "STOPPED/DESTROYED"])
    wait_gone(pids["pause"])
    for n in pids:
        host.wait_files_gone(n)
    assert host.domain_dirs() == []


def test_acknowledged_start_survives_sigkill(host):
    """What a reply acknowledged is what a restarted daemon finds, however soon the
    daemon dies after it (libvirt saves the status XML before it replies)."""
    host.start_daemon()
    host.define("ack-run")
    host.dom("ack-run").create()
    host.daemon.send_signal(signal.SIGKILL)  # at once: nothing between reply and kill
    host.kill_daemon(signal.SIGKILL)
    pid = host.pid("ack-run")
    start = start_time(pid)
    assert alive(pid)
    host.start_daemon()
    got = host.state("ack-run")
    time.sleep(SETTLE)
    assert (got, host.state("ack-run")) == ((RUNNING, RUNNING_BOOTED),) * 2, \
        "a guest whose start was acknowledged came back as %s, then %s" % (
            state_text(got), state_text(host.state("ack-run")))
    assert same_process(pid, start), \
        "the restarted daemon ended a guest whose start was acknowledged"
    host.dom("ack-run").destroy()
    wait_gone(pid)


def test_acknowledged_suspend_survives_sigkill(host):
    host.start_daemon()
    host.define("ack-pause")
    pid = host.start("ack-pause")
    host.wait_saved("ack-pause", "running", RUNNING_BOOTED)
    host.dom("ack-pause").suspend()
    host.daemon.send_signal(signal.SIGKILL)  # at once: nothing between reply and kill
    host.kill_daemon(signal.SIGKILL)
    host.start_daemon()
    time.sleep(SETTLE)
    assert host.state("ack-pause") == (PAUSED, PAUSED_USER)
    assert alive(pid)
    host.dom("ack-pause").destroy()
    wait_gone(pid)


def test_sigterm_restart_keeps_guests_and_sends_no_false_events(host):
    host.start_daemon()
    host.define("quiet-a")
    host.define("quiet-b")
    before = host.events()
    pids = {n: host.start(n) for n in ("quiet-a", "quiet-b")}
    starts = {n: start_time(p) for n, p in pids.items()}
    host.dom("quiet-b").suspend()
    before.expect("quiet-a", ["STARTED/BOOTED"], settle=0)
    before.expect("quiet-b", ["STARTED/BOOTED", "SUSPENDED/PAUSED"])
    host.wait_saved("quiet-a", "running", RUNNING_BOOTED)
    host.wait_saved("quiet-b", "paused", PAUSED_USER)

    assert host.kill_daemon(signal.SIGTERM) == 0
    for n, p in pids.items():
        assert same_process(p, starts[n]), "SIGTERM of the daemon ended QEMU of %s" % n

    host.start_daemon()
    ev = host.events()
    time.sleep(1.0)
    assert ev.all() == [], "a client registered after the restart got %r" % ev.all()
    assert host.state("quiet-a") == (RUNNING, RUNNING_BOOTED)
    assert host.state("quiet-b") == (PAUSED, PAUSED_USER)
    for n, p in pids.items():
        assert same_process(p, starts[n])

    # Exactly the events of what is done from now on.
    host.dom("quiet-a").suspend()
    host.dom("quiet-b").resume()
    ev.expect("quiet-a", ["SUSPENDED/PAUSED"])
    ev.expect("quiet-b", ["RESUMED/UNPAUSED"])
    host.dom("quiet-a").destroy()
    host.dom("quiet-b").destroy()
    ev.expect("quiet-a", ["SUSPENDED/PAUSED", "STOPPED/DESTROYED"])
    ev.expect("quiet-b", ["RESUMED/UNPAUSED", "STOPPED/DESTROYED"])
    assert host.state("quiet-a") == (SHUTOFF, SHUTOFF_DESTROYED)
    assert host.state("quiet-b") == (SHUTOFF, SHUTOFF_DESTROYED)
    assert [n for n, _ in ev.all()].count("quiet-a") == 2
    for p in pids.values():
        wait_gone(p)


# ---------------------------------------------------------------- changes while no daemon runs

def test_guest_powers_off_while_daemon_is_away(host):
    host.start_daemon()
    host.define("off", cmdline="off=700")
    pid = host.start("off")
    host.wait_saved("off", "running", RUNNING_BOOTED)
    host.freeze_daemon()  # before the guest's timer fires: the daemon never sees it
    time.sleep(0.3)
    host.kill_daemon(signal.SIGKILL)
    assert alive(pid), ("QEMU is gone before the restart: the daemon saw the power-off "
                        "before it was frozen, or QEMU died with it")
    with host.qmp("off") as q:
        # Powered off under -no-shutdown: QEMU waits for whoever manages it.
        q.wait_status("shutdown")
    assert alive(pid)

    host.start_daemon()
    host.wait_state("off", SHUTOFF)
    assert host.state("off") == (SHUTOFF, SHUTOFF_SHUTDOWN)
    wait_gone(pid)
    host.wait_files_gone("off")
    assert host.domain_dirs() == []
    assert host.dom("off").ID() == -1


def test_qmp_stop_while_daemon_is_away(host):
    host.start_daemon()
    host.define("stopped")
    pid = host.start("stopped")
    start = start_time(pid)
    host.wait_saved("stopped", "running", RUNNING_BOOTED)
    host.kill_daemon(signal.SIGKILL)
    with host.qmp("stopped") as q:
        assert q.status() == "running"
        q.execute("stop")
        assert q.status() == "paused"

    host.start_daemon()
    ev = host.events()
    got = host.wait_state("stopped", PAUSED)
    # libvirt's reconnect maps QMP status "paused" to PAUSED/USER
    # (qemuMonitorVMStatusToPausedReason), without an event.
    assert got == (PAUSED, PAUSED_USER), \
        "QMP status 'paused' found by the reconnect gave %s, libvirt gives PAUSED/1 (USER)" % (
            state_text(got))
    assert same_process(pid, start)
    time.sleep(SETTLE)
    assert ev.all() == []
    host.dom("stopped").resume()
    assert host.state("stopped") == (RUNNING, RUNNING_UNPAUSED)
    ev.expect("stopped", ["RESUMED/UNPAUSED"])
    host.dom("stopped").destroy()
    ev.expect("stopped", ["RESUMED/UNPAUSED", "STOPPED/DESTROYED"])
    wait_gone(pid)


@pytest.mark.parametrize("on_crash", ["destroy", "preserve", "restart"])
def test_guest_panics_while_daemon_is_away(host, on_crash):
    host.start_daemon()
    host.define("panic", cmdline="panic=700", on_crash=on_crash)
    pid = host.start("panic")
    start = start_time(pid)
    host.wait_saved("panic", "running", RUNNING_BOOTED)
    host.freeze_daemon()
    time.sleep(0.3)
    host.kill_daemon(signal.SIGKILL)
    assert same_process(pid, start), ("QEMU is gone before the restart: the daemon saw "
                                      "the panic before it was frozen, or QEMU died with it")
    with host.qmp("panic") as q:
        q.wait_status("guest-panicked")
    assert same_process(pid, start)
    if on_crash == "restart":
        # The next start uses the persistent definition: one that does not panic
        # (edited on disk while no daemon runs, as an admin could).
        cfg = host.config_dir / "panic.xml"
        cfg.write_text(cfg.read_text().replace("panic=700", "tick"))

    host.start_daemon()
    if on_crash == "destroy":
        host.wait_state("panic", SHUTOFF)
        assert host.state("panic") == (SHUTOFF, SHUTOFF_CRASHED)
        wait_gone(pid)
        host.wait_files_gone("panic")
    elif on_crash == "preserve":
        time.sleep(SETTLE)
        assert host.state("panic") == (CRASHED, CRASHED_PANICKED)
        assert same_process(pid, start), "a preserved crashed guest was ended"
        ev = host.events()
        host.dom("panic").destroy()
        assert host.state("panic") == (SHUTOFF, SHUTOFF_DESTROYED)
        ev.expect("panic", ["STOPPED/DESTROYED"])
        wait_gone(pid)
        host.wait_files_gone("panic")
    else:
        deadline = time.monotonic() + WAIT
        while True:
            st = host.state("panic")
            if st[0] == RUNNING and host.pid_file("panic").exists() and \
                    host.pid("panic") != pid:
                break
            assert time.monotonic() < deadline, "not restarted: %s" % state_text(st)
            time.sleep(0.05)
        assert st == (RUNNING, RUNNING_BOOTED)
        wait_gone(pid)
        new = host.pid("panic")
        assert alive(new)
        assert b"tick" in Path("/proc/%d/cmdline" % new).read_bytes()
        host.dom("panic").destroy()
        wait_gone(new)
        host.wait_files_gone("panic")
    assert host.domain_dirs() == []


def test_qemu_killed_while_daemon_is_away(host):
    host.start_daemon()
    host.define("gone")
    pid = host.start("gone")
    host.conn.createXML(domain_xml("gone-transient", host.kernel), 0)
    tpid = host.pid("gone-transient")
    host.wait_saved("gone", "running", RUNNING_BOOTED)
    host.wait_saved("gone-transient", "running", RUNNING_BOOTED)
    host.kill_daemon(signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    os.kill(tpid, signal.SIGKILL)
    wait_gone(pid)
    wait_gone(tpid)

    host.start_daemon()
    host.wait_state("gone", SHUTOFF)
    assert host.state("gone") == (SHUTOFF, SHUTOFF_CRASHED)
    assert [d.name() for d in host.conn.listAllDomains(0)] == ["gone"]
    with pytest.raises(libvirt.libvirtError) as exc:
        host.dom("gone-transient")
    assert exc.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    for n in ("gone", "gone-transient"):
        host.wait_files_gone(n)
    assert host.domain_dirs() == []
    # The domain starts again normally.
    new = host.start("gone")
    assert new != pid and alive(new)
    assert host.state("gone") == (RUNNING, RUNNING_BOOTED)
    host.dom("gone").destroy()
    wait_gone(new)


def test_status_file_with_reused_pid(host):
    host.start_daemon()
    host.define("reuse")
    pid = host.start("reuse")
    old_start = start_time(pid)
    host.wait_saved("reuse", "running", RUNNING_BOOTED)
    host.kill_daemon(signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    wait_gone(pid)
    # Another process now has "the QEMU pid" of the status file.
    other = subprocess.Popen(["sleep", "60"])
    try:
        status = host.status_file("reuse")
        text = status.read_text()
        assert "pid='%d'" % pid in text
        assert start_time(other.pid) != old_start
        status.write_text(text.replace("pid='%d'" % pid, "pid='%d'" % other.pid))
        host.pid_file("reuse").write_text("%d\n" % other.pid)

        host.start_daemon()
        host.wait_files_gone("reuse")
        assert host.state("reuse") == (SHUTOFF, SHUTOFF_CRASHED)
        time.sleep(SETTLE)
        assert other.poll() is None, "the daemon signalled pid %d (exit %r)" % (
            other.pid, other.returncode)
        assert alive(other.pid)
        assert host.domain_dirs() == []
    finally:
        other.kill()
        other.wait()


def test_destroy_in_progress_is_carried_through(host):
    """The daemon dies during a destroy (QEMU ignores SIGTERM: it is SIGSTOPped)."""
    host.start_daemon()
    host.define("dying")
    pid = host.start("dying")
    host.wait_saved("dying", "running", RUNNING_BOOTED)
    os.kill(pid, signal.SIGSTOP)
    errors = []

    def destroy():
        c = libvirt.open(uri_for(host.daemon.sock))
        try:
            c.lookupByName("dying").destroy()
        except libvirt.libvirtError as e:
            errors.append(e)
        finally:
            try:
                c.close()
            except libvirt.libvirtError:
                pass

    t = threading.Thread(target=destroy)
    t.start()
    deadline = time.monotonic() + WAIT
    while "destroying='1'" not in host.status_file("dying").read_text():
        assert time.monotonic() < deadline, "destroy not recorded in the status file"
        time.sleep(0.01)
    host.kill_daemon(signal.SIGKILL)
    t.join(WAIT)
    assert errors, "destroy returned although the daemon was killed"
    assert alive(pid)

    host.start_daemon()
    # SIGTERM, term_timeout_ms (1.5 s), SIGKILL: well within 8 s.
    host.wait_state("dying", SHUTOFF, timeout=8)
    assert host.state("dying") == (SHUTOFF, SHUTOFF_DESTROYED)
    wait_gone(pid)
    host.wait_files_gone("dying")


# ---------------------------------------------------------------- socket activation

class Activated:
    """virtqemud --timeout IDLE behind a systemd-like activator on the usual sockets."""

    def __init__(self, root):
        self.root = Path(root)
        run = self.root / "run" / "libvirt"
        self.sock = run / "virtqemud-sock"
        self.paths = [self.sock, run / "virtqemud-sock-ro", run / "virtqemud-admin-sock"]
        self.conf = self.root / "activated.conf"
        self.conf.write_text(QEMU_AS_ROOT + DAEMON_CONFIG)
        self.stderr_path = self.root / "activated.stderr"
        self.act = Activator(
            self.paths,
            [daemon_binary(), "--root", self.root, "--verbose", "--config", self.conf,
             "--timeout", str(IDLE)],
            stderr_path=self.stderr_path, count_path=self.root / "activations")
        self.kernel = self.root / "svguest.elf"
        shutil.copyfile(guest_elf(), self.kernel)
        self.watchdog_fired = False

    def start(self):
        self.act.start()

    def open(self):
        return libvirt.open(uri_for(self.sock))

    def watchdog(self):
        self.watchdog_fired = True
        self.act.kill_daemon()

    def stderr_tail(self, n=60):
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-n:])
        except FileNotFoundError:
            return ""

    def wait_idle_exit(self, since, low=IDLE - 0.5, high=IDLE + 2.0):
        """The daemon exits IDLE s after since (the last client left), with status 0."""
        rc = self.act.wait_exit(high + 5)
        dt = time.monotonic() - since
        assert rc == 0, "daemon exit status %r" % rc
        assert low <= dt <= high, "exited %.2f s after the last client left" % dt
        return dt


@pytest.fixture
def activated(root, request):
    need_guest()
    a = Activated(root)
    timer = threading.Timer(60, a.watchdog)
    timer.daemon = True
    timer.start()
    try:
        yield a
    finally:
        timer.cancel()
        problems = []
        left = qemu_processes(root)
        if left:
            problems.append("QEMU processes of this root outlive their domains: %r" % left)
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if a.act.inodes and a.act.replaced_sockets():
            problems.append("socket files not the activator's any more (the daemon bound its "
                            "own?): %r" % a.act.replaced_sockets())
        a.act.stop()
        if a.act.error:
            problems.append("activator failed: %s" % a.act.error)
        bad = [st for st in a.act.exits if st != 0]
        if bad:
            problems.append("daemon exit statuses %r, expected all 0" % a.act.exits)
        text = a.stderr_path.read_text(errors="replace") if a.stderr_path.exists() else ""
        for marker in SANITIZER_MARKERS:
            if marker in text:
                problems.append("daemon stderr contains %r" % marker)
        if a.watchdog_fired:
            problems.insert(0, "test exceeded the 60 s watchdog")
        failed = getattr(request.node, "rep_call", None)
        if problems or (failed is not None and failed.failed):
            print("---- stderr of the activated daemons ----")
            print(a.stderr_tail())
        if problems:
            pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


def states(conn):
    return {d.name(): tuple(d.state()) for d in conn.listAllDomains(0)}


def test_idle_exit_and_reactivation(activated):
    a = activated
    act = a.act
    a.start()
    assert act.activations == 0 and not act.running()

    # 1. A client activates the daemon; with no guest it idles out IDLE s after it left.
    c = a.open()
    assert act.activations == 1
    c.defineXML(domain_xml("idle-def", a.kernel))
    c.close()
    a.wait_idle_exit(time.monotonic())
    assert act.activations == 1

    # 2. Re-activated: same domains. A running guest keeps it up with no client.
    c = a.open()
    assert act.activations == 2
    assert states(c) == {"idle-def": (SHUTOFF, SHUTOFF_UNKNOWN)}
    c.defineXML(domain_xml("idle-run", a.kernel))
    c.lookupByName("idle-run").create()
    pid = int((a.root / "run" / "libvirt" / "qemu" / "idle-run.pid").read_text())
    start = start_time(pid)
    c.close()
    time.sleep(IDLE + 2)
    assert act.running(), "the daemon idled out with a guest running"
    assert act.activations == 2

    # 3. A stop of the service (SIGTERM) leaves the guest; the next client finds it.
    assert act.signal_daemon(signal.SIGTERM)
    assert act.wait_exit(10) == 0
    assert same_process(pid, start), "the daemon's exit ended the guest"
    c = a.open()
    assert act.activations == 3
    assert states(c) == {"idle-def": (SHUTOFF, SHUTOFF_UNKNOWN),
                         "idle-run": (RUNNING, RUNNING_BOOTED)}
    assert same_process(pid, start)

    # 4. Destroy: the daemon idles out IDLE s after the client left.
    time.sleep(IDLE + 1)
    assert act.running(), "the daemon idled out with a client connected"
    c.lookupByName("idle-run").destroy()
    wait_gone(pid)
    c.close()
    a.wait_idle_exit(time.monotonic())

    # 5. And comes back once more with the same definitions and states.
    c = a.open()
    assert act.activations == 4
    # A fresh daemon knows inactive domains from their definitions only: SHUTOFF/UNKNOWN,
    # as libvirt after a restart.
    assert states(c) == {"idle-def": (SHUTOFF, SHUTOFF_UNKNOWN),
                         "idle-run": (SHUTOFF, SHUTOFF_UNKNOWN)}
    c.close()
    a.wait_idle_exit(time.monotonic())
    assert (a.root / "activations").read_text().strip() == "4"


def test_autostart_once_per_boot(daemons, activated):
    a = activated
    act = a.act
    marker = a.root / "run" / "libvirt" / "qemu" / "autostarted"
    qemu_run = a.root / "run" / "libvirt" / "qemu"

    # Define with a daemon of its own, before any activation; then forget that boot.
    d = daemons.start(config=DAEMON_CONFIG)
    c = libvirt.open(uri_for(d.sock))
    c.defineXML(domain_xml("auto", a.kernel))
    c.lookupByName("auto").setAutostart(1)
    c.close()
    assert d.stop() == 0
    assert marker.exists()
    marker.unlink()
    a.start()

    # First activation: autostart, and the marker.
    c = a.open()
    assert act.activations == 1
    deadline = time.monotonic() + WAIT
    while tuple(c.lookupByName("auto").state())[0] != RUNNING:
        assert time.monotonic() < deadline, "not autostarted"
        time.sleep(0.05)
    assert tuple(c.lookupByName("auto").state()) == (RUNNING, RUNNING_BOOTED)
    assert marker.exists()
    assert oct(marker.stat().st_mode & 0o777) == oct(0o600)
    pid = int((qemu_run / "auto.pid").read_text())
    c.lookupByName("auto").destroy()
    wait_gone(pid)
    c.close()
    a.wait_idle_exit(time.monotonic())

    # Re-activated in the same "boot": not started again.
    c = a.open()
    assert act.activations == 2
    time.sleep(1.0)
    st = tuple(c.lookupByName("auto").state())
    assert st == (SHUTOFF, SHUTOFF_UNKNOWN), "autostarted again: %s" % state_text(st)
    assert c.lookupByName("auto").autostart() == 1
    assert qemu_processes(a.root) == {}
    c.close()
    a.wait_idle_exit(time.monotonic())

    # A new "boot" (the marker is gone): autostarted again.
    marker.unlink()
    c = a.open()
    assert act.activations == 3
    deadline = time.monotonic() + WAIT
    while tuple(c.lookupByName("auto").state())[0] != RUNNING:
        assert time.monotonic() < deadline, "not autostarted after the marker was removed"
        time.sleep(0.05)
    assert tuple(c.lookupByName("auto").state()) == (RUNNING, RUNNING_BOOTED)
    assert marker.exists()
    pid = int((qemu_run / "auto.pid").read_text())
    c.lookupByName("auto").destroy()
    wait_gone(pid)
    c.close()
    a.wait_idle_exit(time.monotonic())
