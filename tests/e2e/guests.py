"""guests.py: real QEMU guests under virtqemud for the lifecycle and console tests.

What the tests share:
- domain_xml(): Guest A (tests/guest/svguest.elf, a multiboot kernel) as a TCG domain;
  its command-line words choose what the guest does (off=MS, panic=MS, reset=MS,
  ignore, echo, tick).
- Events: a python3-libvirt client on its own connection that records every
  LIFECYCLE and REBOOT event, in arrival order, as readable text such as
  "STARTED/BOOTED" or "REBOOT" (numbers: libvirt-wire-facts.md, section 4).
- ConsoleReader: the guest's serial console through virDomainOpenConsole, read
  until a marker such as READY (the ACPI button only works after READY).
- PtyProcess: a program (virsh console) on a pseudo-terminal.
- the `host` fixture (declared in conftest.py): a virtqemud with short kill timeouts,
  a connection, an event client, and, after the test, the check that nothing of any
  guest is left: no QEMU process of this root, no pid file, no domain-* directory.
- A stand-in emulator (standin_qemu.py, copied to ROOT/standin-qemu and listed in the
  daemon's allowed_emulators): host.standin, for what real QEMU cannot be made to do on
  cue.

The kernel is copied into the test's root, so every QEMU of a test names the
root on its command line and /proc tells whether one survived.
"""

import hashlib
import os
import pty
import select
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from svdaemon import build_dir

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

QEMU = "/usr/bin/qemu-system-x86_64"

# Waits are generous (a loaded 2-core machine); assertions about order and content
# are exact.
EVENT_TIMEOUT = 15.0
# After the awaited events, how long to keep listening for an unexpected extra one.
SETTLE = 0.4

# Short kill timeouts, so the SIGTERM/SIGKILL paths take 1.5 s, not 10-15 s.
GRACEFUL_MS = 1500
TERM_MS = 1500
KILL_MS = 3000


def port_window():
    """This run's share of the host's display ports: each build's tests run beside the
    others' (scripts/test.sh), and the slow ones in two runs of one build (tests/meson.build),
    so that QEMUs of two runs would otherwise race for the same free port (5900 first; one
    of them then fails to bind it). 0..7: a window of 100 ports each."""
    build = os.path.basename(os.path.normpath(os.environ.get("SV_BUILD_DIR", "build")))
    k = {"build": 0, "build-asan": 1, "build-noxen": 2}.get(build, 3)
    return k + (4 if os.environ.get("SV_E2E_NO_REF") else 0)


DAEMON_CONFIG = ("graceful_timeout_ms = %d\nterm_timeout_ms = %d\nkill_timeout_ms = %d\n"
                 "remote_display_port_min = %d\nremote_display_port_max = %d\n"
                 "websocket_port_min = %d\nwebsocket_port_max = %d\n"
                 % (GRACEFUL_MS, TERM_MS, KILL_MS, 5900 + 100 * port_window(),
                    5999 + 100 * port_window(), 7000 + 100 * port_window(),
                    7099 + 100 * port_window()))


def install_standin(root):
    """Copy the stand-in emulator into root; its path, for <emulator> and the daemon's
    allowed_emulators key."""
    path = Path(root) / "standin-qemu"
    shutil.copyfile(Path(__file__).with_name("standin_qemu.py"), path)
    os.chmod(path, 0o755)
    return path


def daemon_config(root, extra=""):
    """DAEMON_CONFIG with the stand-in emulator of root allowed."""
    return DAEMON_CONFIG + 'allowed_emulators = [ "%s" ]\n' % install_standin(root) + extra

# virDomainState and the reasons the tests see (section 4).
RUNNING, PAUSED, SHUTOFF, CRASHED = 1, 3, 5, 6

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
    """(5, 1) -> "STOPPED/DESTROYED"; numbers outside the tables stay numbers."""
    name, details = EVENT_NAMES.get(event, ("EVENT%d" % event, []))
    return "%s/%s" % (name, details[detail] if 0 <= detail < len(details) else detail)


def guest_elf():
    return build_dir() / "tests" / "guest" / "svguest.elf"


def uri_for(path):
    return "qemu+unix:///system?socket=%s" % path


def domain_xml(name, kernel, cmdline="", on_poweroff=None, on_crash=None,
               emulator=QEMU, machine="pc", memory_mib=32):
    """Guest A as a TCG domain: 32 MiB (or memory_mib; it boots in 2), 1 vCPU, ACPI,
    serial+console on a pty, pvpanic."""
    life = ""
    if on_poweroff:
        life += "<on_poweroff>%s</on_poweroff>" % on_poweroff
    if on_crash:
        life += "<on_crash>%s</on_crash>" % on_crash
    return (
        "<domain type='qemu'>"
        "<name>%s</name>"
        "<memory unit='MiB'>%d</memory>"
        "<vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='%s'>hvm</type>"
        "<kernel>%s</kernel><cmdline>%s</cmdline></os>"
        "<features><acpi/></features>"
        "%s"
        "<devices><emulator>%s</emulator>"
        "<serial type='pty'/><console type='pty'/>"
        "<panic model='isa'/><memballoon model='none'/></devices>"
        "</domain>" % (name, memory_mib, machine, kernel, cmdline, life, emulator))


# ---------------------------------------------------------------- event loop

_loop_lock = threading.Lock()
_loop_started = False


def ensure_event_loop():
    """libvirt's default event loop, run by one daemon thread for the whole session.

    Registered lazily, at the first test that needs events, so earlier tests keep
    plain connections."""
    global _loop_started
    with _loop_lock:
        if _loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run():
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name="libvirt-event-loop", daemon=True).start()
        _loop_started = True


class Events:
    """Every LIFECYCLE and REBOOT event one client receives, in order."""

    def __init__(self, uri):
        ensure_event_loop()
        self.conn = libvirt.open(uri)
        self.cond = threading.Condition()
        self.log = []  # (domain name, text)
        self.ids = [
            self.conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle, None),
            self.conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, self._reboot, None),
        ]

    def _add(self, dom, text):
        with self.cond:
            self.log.append((dom.name(), text))
            self.cond.notify_all()

    def _lifecycle(self, conn, dom, event, detail, opaque):
        self._add(dom, event_text(event, detail))

    def _reboot(self, conn, dom, opaque):
        self._add(dom, "REBOOT")

    def close(self):
        for i in self.ids:
            try:
                self.conn.domainEventDeregisterAny(i)
            except libvirt.libvirtError:
                pass
        self.ids = []
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass

    def of(self, name):
        with self.cond:
            return [text for n, text in self.log if n == name]

    def wait_for(self, name, pred, timeout=EVENT_TIMEOUT):
        """Wait until pred(events of name) holds; the events, or an assertion error."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [text for n, text in self.log if n == name]
                if pred(got):
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out after %.0f s waiting for events of %s; got %r"
                                         % (timeout, name, got))
                self.cond.wait(left)

    def wait_count(self, name, n, timeout=EVENT_TIMEOUT):
        return self.wait_for(name, lambda got: len(got) >= n, timeout)

    def wait_event(self, name, text, timeout=EVENT_TIMEOUT):
        return self.wait_for(name, lambda got: text in got, timeout)

    def expect(self, name, expected, timeout=EVENT_TIMEOUT, settle=SETTLE):
        """Wait for as many events as expected, listen settle s more, compare exactly."""
        self.wait_count(name, len(expected), timeout)
        time.sleep(settle)
        got = self.of(name)
        assert got == expected, "events of %s: got %r, expected %r" % (name, got, expected)
        return got


# ---------------------------------------------------------------- console

class ConsoleReader:
    """The guest's console through virDomainOpenConsole: a non-blocking stream read
    by the event loop thread (libvirt reads a non-blocking stream only when a
    stream event callback is registered)."""

    def __init__(self, conn, dom, flags=0, dev_name=None):
        ensure_event_loop()
        self.stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        dom.openConsole(dev_name, self.stream, flags)
        self.cond = threading.Condition()
        self.data = b""
        self.eof = False
        self.error = None
        self.stream.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE |
                                     libvirt.VIR_STREAM_EVENT_ERROR |
                                     libvirt.VIR_STREAM_EVENT_HANGUP, self._ready, None)

    def _ready(self, stream, events, opaque):
        with self.cond:
            while not self.eof and self.error is None:
                try:
                    chunk = stream.recv(65536)
                except libvirt.libvirtError as e:
                    self.error = e
                    break
                if chunk == -2:  # would block
                    break
                if not chunk:
                    self.eof = True
                    break
                self.data += chunk
            if self.eof or self.error is not None:
                try:
                    stream.eventRemoveCallback()
                except libvirt.libvirtError:
                    pass
            self.cond.notify_all()

    def wait_for(self, marker, count=1, timeout=EVENT_TIMEOUT):
        """Wait until marker has appeared count times in all the output so far."""
        marker = marker.encode() if isinstance(marker, str) else marker
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.data.count(marker) < count:
                if self.eof or self.error is not None:
                    raise AssertionError("console ended (%s) before %r x%d; output %r"
                                         % (self.error or "EOF", marker, count, self.data))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %r x%d on the console within %.0f s; output %r"
                                         % (marker, count, timeout, self.data))
                self.cond.wait(left)
            return self.data

    def wait_end(self, timeout=EVENT_TIMEOUT):
        """Wait for the end of the stream: "EOF", or the error it ended with."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.eof and self.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("console stream still open after %.0f s; output %r"
                                         % (timeout, self.data))
                self.cond.wait(left)
            return "EOF" if self.eof else self.error

    def close(self):
        with self.cond:
            done = self.eof or self.error is not None
        if not done:
            try:
                self.stream.eventRemoveCallback()
            except libvirt.libvirtError:
                pass
        try:
            if self.eof:
                self.stream.finish()
            else:
                self.stream.abort()
        except libvirt.libvirtError:
            pass


# ---------------------------------------------------------------- programs on a pty

class PtyProcess:
    """A program whose stdin, stdout and stderr are a pseudo-terminal (virsh console
    wants a controlling TTY). A thread reads everything it writes."""

    def __init__(self, argv, env=None):
        self.argv = list(argv)
        pid, fd = pty.fork()
        if pid == 0:
            try:
                os.execvpe(self.argv[0], self.argv, env or os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.cond = threading.Condition()
        self.data = b""
        self.closed = False
        self.status = None
        # The reader thread alone closes the pty: closed under its select(), the number
        # could be reused at once by another descriptor of this process (a libvirt
        # connection's socket), whose bytes it would then steal. kill() asks it through
        # this pipe instead.
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while True:
            try:
                r, _, _ = select.select([self.fd, self.stop_r], [], [], 0.5)
                if not r:
                    continue
                chunk = b"" if self.stop_r in r else os.read(self.fd, 65536)
            except OSError:  # EIO once the child side is gone
                chunk = b""
            with self.cond:
                if not chunk:
                    self.closed = True
                    self.cond.notify_all()
                    break
                self.data += chunk
                self.cond.notify_all()
        os.close(self.fd)
        os.close(self.stop_r)

    def text(self):
        with self.cond:
            return self.data.decode(errors="replace")

    def expect(self, marker, timeout=EVENT_TIMEOUT, start=0):
        """Wait until marker appears in the output after byte offset start; its end offset."""
        marker = marker.encode() if isinstance(marker, str) else marker
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                i = self.data.find(marker, start)
                if i >= 0:
                    return i + len(marker)
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError("%r: no %r within %.0f s (%s); output so far %r"
                                         % (" ".join(self.argv), marker, timeout,
                                            "it closed its terminal" if self.closed
                                            else "timed out", self.data))
                self.cond.wait(min(left, 0.5))

    def send(self, data):
        with self.cond:
            # Once the reader has closed the pty its number may name another descriptor.
            assert not self.closed, "%r: its terminal is closed" % " ".join(self.argv)
            os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def running(self):
        """True while the program has not exited (reaps it when it has)."""
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
        return self.status is None

    def wait(self, timeout=EVENT_TIMEOUT):
        """The exit status (negative: killed by that signal); AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() > deadline:
                raise AssertionError("%r still running after %.0f s; output %r"
                                     % (" ".join(self.argv), timeout, self.data))
            time.sleep(0.02)
        self.thread.join(5)
        return self.status

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.wait(5)
            except AssertionError:
                pass
        if self.stop_w >= 0:
            try:
                os.write(self.stop_w, b"x")
            except BrokenPipeError:
                pass  # the reader has finished already
            self.thread.join(5)
            os.close(self.stop_w)
            self.stop_w = -1


def virsh_env():
    env = dict(os.environ, LC_ALL="C", TERM="dumb")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    return env


# ---------------------------------------------------------------- leftovers

def qemu_processes(root):
    """{pid: cmdline} of live processes whose command line names root (zombies have none)."""
    found = {}
    needle = (str(root) + "/").encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        argv0 = cmd.split(b"\0", 1)[0]
        if needle in cmd and os.path.basename(argv0).startswith(b"qemu-system"):
            found[int(entry)] = cmd.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


class Host:
    """One test's virtqemud, a connection to it, an event client and the guest kernel."""

    def __init__(self, daemon, root):
        self.daemon = daemon
        self.root = Path(root)
        self.uri = uri_for(daemon.sock)
        self.kernel = self.root / "svguest.elf"
        shutil.copyfile(guest_elf(), self.kernel)
        self.standin = self.root / "standin-qemu"
        self.qemu_run = self.root / "run" / "libvirt" / "qemu"
        self.qemu_lib = self.root / "var" / "lib" / "libvirt" / "qemu"
        self.qemu_log = self.root / "var" / "log" / "libvirt" / "qemu"
        ensure_event_loop()  # before any connection, or it never uses the loop
        self.conn = libvirt.open(self.uri)
        self.events = Events(self.uri)
        self.extra = []  # other connections and readers to close at the end

    def xml(self, name, cmdline="", **kw):
        return domain_xml(name, self.kernel, cmdline, **kw)

    def define(self, name, cmdline="", **kw):
        return self.conn.defineXML(self.xml(name, cmdline, **kw))

    def open(self):
        c = libvirt.open(self.uri)
        self.extra.append(c)
        return c

    def pid_file(self, name):
        return self.qemu_run / ("%s.pid" % name)

    def pid(self, name):
        return int(self.pid_file(name).read_text().strip())

    def log_file(self, name):
        return self.qemu_log / ("%s.log" % name)

    def domain_dirs(self):
        return sorted(p.name for p in self.qemu_lib.glob("domain-*")) if self.qemu_lib.exists() \
            else []

    def pid_files(self):
        return sorted(p.name for p in self.qemu_run.glob("*.pid")) if self.qemu_run.exists() \
            else []

    def console(self, dom, flags=0, dev_name=None):
        c = ConsoleReader(self.conn, dom, flags, dev_name)
        self.extra.append(c)
        return c

    def start_ready(self, dom):
        """Start dom and return once the guest printed READY (its power button is armed).

        Started paused, so the console is open before the guest prints anything;
        the SUSPENDED/PAUSED and RESUMED/UNPAUSED events this adds are the callers'
        to expect. The console stays open (the reader, for more markers)."""
        dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
        con = self.console(dom)
        dom.resume()
        con.wait_for("READY")
        return con

    def cgroup_dirs(self):
        """The daemon's cgroup parent (derived from its --root) in every hierarchy: each
        guest's cgroup is in it, and it goes with the last one."""
        parent = "splitvirt-" + hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        base = Path("/sys/fs/cgroup")
        return sorted(str(p) for p in list(base.glob("*/" + parent)) + [base / parent]
                      if p.is_dir())

    def leftovers(self):
        """What a finished test must not leave: QEMU processes, pid files, domain dirs,
        cgroups."""
        out = []
        procs = qemu_processes(self.root)
        if procs:
            out.append("QEMU processes of this root still running: %r" % procs)
        if self.pid_files():
            out.append("pid files left: %r" % self.pid_files())
        if self.domain_dirs():
            out.append("domain directories left: %r" % self.domain_dirs())
        if self.cgroup_dirs():
            out.append("cgroups left: %r" % self.cgroup_dirs())
        return out

    def assert_clean(self, timeout=5.0):
        """Nothing of any guest is left (waits a little: a process may still be exiting)."""
        deadline = time.monotonic() + timeout
        while True:
            problems = self.leftovers()
            if not problems or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert not problems, "; ".join(problems)

    def finish(self, test_failed=False):
        """Destroy what a test left running; the problems found. After a failed test,
        guests it left running are only destroyed (its failure says enough)."""
        for c in self.extra:
            try:
                c.close()
            except libvirt.libvirtError:
                pass
        self.events.close()
        problems = []
        # A guest may be restarting (on_crash restart) just when it is listed: a few rounds.
        for round_ in range(3):
            try:
                running = [d.name() for d in
                           self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)]
            except libvirt.libvirtError as e:
                problems.append("cannot list domains at teardown: %s" % e)
                break
            if not running:
                break
            if round_ == 0 and not test_failed:
                problems.append("guests still running at teardown: %r" % running)
            for pid in qemu_processes(self.root):
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            for name in running:
                try:
                    self.conn.lookupByName(name).destroy()
                except libvirt.libvirtError as e:
                    if round_ == 2:
                        problems.append("destroy %s at teardown: %s" % (name, e))
            time.sleep(0.2)
        deadline = time.monotonic() + 5.0
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.05)
        problems += self.leftovers()
        for pid in qemu_processes(self.root):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass
        return problems


def host_fixture(daemons, root, request):
    """The `host` fixture's body (conftest.py): a virtqemud with short kill timeouts and
    what a guest test needs; checked after the test."""
    if not guest_elf().exists():
        pytest.skip("test guest %s not built" % guest_elf())
    if not os.path.exists(QEMU):
        pytest.skip("%s not installed" % QEMU)
    d = daemons.start(config=daemon_config(root))
    h = Host(d, root)
    yield h
    rep = getattr(request.node, "rep_call", None)
    problems = h.finish(test_failed=rep is not None and rep.failed)
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)
