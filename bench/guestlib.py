"""guestlib.py: what bench/domains and bench/lifecycle share on top of benchlib.

The domain XML both daemons get (Guest A, the multiboot test kernel, under TCG), a watchdog
that turns a daemon call that never returns into a reported hang instead of a stuck bench, a
lifecycle event listener (virEventRegisterDefaultImpl in a thread), clean-up of the bench's
own domains, and a raw RPC client for timing a call without python3-libvirt's own work.
Needs /usr/bin/python3 with python3-libvirt.
"""

import os
import signal
import socket
import struct
import threading
import time
from pathlib import Path

import libvirt

from benchlib import BUILD, GUEST_REL, OURS, REMOTE_PROGRAM, BenchError, log

PREFIX = "svbench-"  # every domain a bench defines is named so; leftovers are removed at start

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <cmdline>{cmdline}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <memballoon model='none'/>
  </devices>
</domain>
"""

STATE_NAMES = {libvirt.VIR_DOMAIN_NOSTATE: "nostate", libvirt.VIR_DOMAIN_RUNNING: "running",
               libvirt.VIR_DOMAIN_BLOCKED: "blocked", libvirt.VIR_DOMAIN_PAUSED: "paused",
               libvirt.VIR_DOMAIN_SHUTDOWN: "shutdown", libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
               libvirt.VIR_DOMAIN_CRASHED: "crashed", libvirt.VIR_DOMAIN_PMSUSPENDED: "pmsuspended"}
EVENT_NAMES = {libvirt.VIR_DOMAIN_EVENT_DEFINED: "DEFINED",
               libvirt.VIR_DOMAIN_EVENT_UNDEFINED: "UNDEFINED",
               libvirt.VIR_DOMAIN_EVENT_STARTED: "STARTED",
               libvirt.VIR_DOMAIN_EVENT_SUSPENDED: "SUSPENDED",
               libvirt.VIR_DOMAIN_EVENT_RESUMED: "RESUMED",
               libvirt.VIR_DOMAIN_EVENT_STOPPED: "STOPPED",
               libvirt.VIR_DOMAIN_EVENT_SHUTDOWN: "SHUTDOWN",
               libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED: "PMSUSPENDED",
               libvirt.VIR_DOMAIN_EVENT_CRASHED: "CRASHED"}


def quiet_libvirt():
    """No libvirt error printing on stderr; errors arrive as exceptions."""
    libvirt.registerErrorHandler(lambda _c, _e: None, None)


def guest_kernel(work):
    """A copy of build-bench's Guest A kernel in the work directory, for both daemons.

    A copy, so that libvirtd's security labelling never touches the build tree."""
    src = BUILD / GUEST_REL
    if not src.exists():
        raise BenchError(f"build-bench/{GUEST_REL} does not exist (did the build run?)")
    dst = work / "svguest.elf"
    dst.write_bytes(src.read_bytes())
    os.chmod(dst, 0o644)
    os.chmod(work, 0o755)  # mkdtemp makes it 0700; QEMU must reach the kernel
    return dst


def domain_xml(name, kernel, cmdline=""):
    return DOMAIN_XML.format(name=name, kernel=kernel, cmdline=cmdline)


def state_name(dom):
    st = dom.state()[0]
    return STATE_NAMES.get(st, str(st))


# ---------------------------------------------------------------------------------------------
# Watchdog


class Watchdog:
    """One thread that watches the operation in progress (one per thread of the bench).

    with wd.guard(what, daemon, seconds): ...   If it has not finished after seconds, the hang
    is logged and kept in wd.hangs, and the daemon is stopped (only one this bench started:
    procs.stop), which makes the call return with an error.  For a daemon the bench did not
    start, the bench exits instead."""

    def __init__(self, procs):
        self.procs = procs
        self.lock = threading.Lock()
        self.active = {}  # token -> (deadline, what, daemon)
        self.hangs = []
        self.hung = set()  # names of the daemons that hung
        self.token = 0
        threading.Thread(target=self._run, daemon=True, name="watchdog").start()

    def guard(self, what, daemon, seconds):
        wd = self

        class _Guard:
            def __enter__(self):
                with wd.lock:
                    wd.token += 1
                    self.token = wd.token
                    wd.active[self.token] = (time.monotonic() + seconds, what, daemon, seconds)
                return self

            def __exit__(self, *_exc):
                with wd.lock:
                    wd.active.pop(self.token, None)
                return False

        return _Guard()

    def check(self):
        """Raises BenchError once any guarded call has hung."""
        if self.hangs:
            raise BenchError(self.hangs[0])

    def _run(self):
        while True:
            time.sleep(0.25)
            now = time.monotonic()
            with self.lock:
                expired = [(k, v) for k, v in self.active.items() if v[0] < now]
                for k, _v in expired:
                    self.active.pop(k)
            for _k, (_dl, what, d, seconds) in expired:
                msg = f"HANG: {what} on {d.name} did not return within {seconds:.0f} s"
                log(msg)
                self.hangs.append(msg)
                self.hung.add(d.name)
                if d.proc is not None:
                    log(f"stopping {d.name} (pid {d.pid}) so that the call returns")
                    threading.Thread(target=self.procs.stop, args=(d.proc,), daemon=True).start()
                else:
                    log(f"{d.name} was not started by this bench: exiting")
                    os._exit(1)


# ---------------------------------------------------------------------------------------------
# Events


class EventListener:
    """Lifecycle events of every domain, as one event client sees them.

    virEventRegisterDefaultImpl must be called (start_event_loop) before any connection is
    opened.  Each event is kept as (perf_counter time of arrival in the callback, event,
    detail) per (daemon name, domain name)."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.cond = threading.Condition()
        self.events = {}
        self.conn = libvirt.open(daemon.uri)
        self.cb = self.conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                   self._on_event, None)

    def _on_event(self, _conn, dom, event, detail, _opaque):
        t = time.perf_counter()
        with self.cond:
            self.events.setdefault(dom.name(), []).append((t, event, detail))
            self.cond.notify_all()

    def clear(self, name):
        with self.cond:
            self.events.pop(name, None)

    def wait(self, name, event, timeout):
        """Arrival time of the first `event` for `name` kept so far, waiting up to timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, ev, _d in self.events.get(name, []):
                    if ev == event:
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [EVENT_NAMES.get(e, str(e)) for _t, e, _d in self.events.get(name, [])]
                    raise BenchError(f"{self.daemon.name}: no {EVENT_NAMES.get(event, event)} "
                                     f"event for {name} within {timeout:.0f} s "
                                     f"(seen: {', '.join(seen) or 'nothing'})")
                self.cond.wait(left)

    def first(self, name, event):
        with self.cond:
            for t, ev, _d in self.events.get(name, []):
                if ev == event:
                    return t
        return None

    def close(self):
        try:
            self.conn.domainEventDeregisterAny(self.cb)
            self.conn.close()
        except libvirt.libvirtError:
            pass


def start_event_loop():
    libvirt.virEventRegisterDefaultImpl()

    def loop():
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=loop, daemon=True, name="libvirt-events").start()


# ---------------------------------------------------------------------------------------------
# Clean-up


def remove_bench_domains(conn, dname, what="left over"):
    """Destroy and undefine every domain named PREFIX*; returns how many were removed."""
    n = 0
    for dom in conn.listAllDomains():
        name = dom.name()
        if not name.startswith(PREFIX):
            continue
        try:
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                dom.undefine()
            n += 1
        except libvirt.libvirtError as e:
            log(f"{dname}: cannot remove {what} domain {name}: {e}")
    if n:
        log(f"{dname}: removed {n} {what} domain(s) named {PREFIX}*")
    return n


def kill_orphan_guests(d):
    """After a daemon died: SIGKILL the QEMUs of its PREFIX* guests, found by their pid files
    and checked by their command line, so that nothing the bench made keeps running."""
    if d.qemu_run is None or not Path(d.qemu_run).is_dir():
        return
    for pidfile in Path(d.qemu_run).glob(f"{PREFIX}*.pid"):
        try:
            pid = int(pidfile.read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if b"qemu" in cmdline and f"guest={pidfile.stem}".encode() in cmdline:
            log(f"{d.name}: killing orphaned QEMU {pid} of {pidfile.stem}")
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def qemu_pid(d, name):
    path = Path(d.qemu_run) / f"{name}.pid"
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError) as e:
        raise BenchError(f"{d.name}: cannot read QEMU's pid from {path}: {e}") from None


# ---------------------------------------------------------------------------------------------
# Raw RPC: one call's round trip without python3-libvirt's own work


PROC_CONNECT_OPEN = 1
PROC_DOMAIN_LOOKUP_BY_NAME = 23
PROC_AUTH_LIST = 66
PROC_CONNECT_LIST_ALL_DOMAINS = 273


def _xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


class RawClient:
    """A blocking client on the daemon's socket: AUTH_LIST, CONNECT_OPEN, then timed calls."""

    def __init__(self, path, timeout=120):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.serial = 0
        self.buf = bytearray()
        self.call(PROC_AUTH_LIST)
        self.call(PROC_CONNECT_OPEN, struct.pack(">I", 1) + _xdr_string("qemu:///system")
                  + struct.pack(">I", 0))

    def call(self, proc, payload=b""):
        """Returns the reply payload; raises BenchError on an error reply."""
        self.serial += 1
        msg = struct.pack(">6I", REMOTE_PROGRAM, 1, proc, 0, self.serial, 0) + payload
        self.sock.sendall(struct.pack(">I", len(msg) + 4) + msg)
        while True:
            while len(self.buf) < 4 or len(self.buf) < struct.unpack_from(">I", self.buf)[0]:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise BenchError(f"raw RPC: connection closed waiting for proc {proc}")
                self.buf += chunk  # a bytearray grows in place
            n = struct.unpack_from(">I", self.buf)[0]
            frame = bytes(self.buf[:n])
            del self.buf[:n]
            prog, _v, rproc, typ, serial, status = struct.unpack_from(">6I", frame, 4)
            if prog != REMOTE_PROGRAM or typ != 1 or serial != self.serial:
                continue  # an event or something else that is not our reply
            if rproc != proc or status != 0:
                raise BenchError(f"raw RPC: proc {proc} got status {status} (proc {rproc})")
            return frame[28:]

    def lookup_by_name(self, name):
        return self.call(PROC_DOMAIN_LOOKUP_BY_NAME, _xdr_string(name))

    def list_all_domains(self):
        """Returns the number of domains in the reply."""
        reply = self.call(PROC_CONNECT_LIST_ALL_DOMAINS, struct.pack(">iI", 1, 0))
        return struct.unpack(">I", reply[:4])[0]

    def close(self):
        self.sock.close()


def ours_first(daemons, rnd):
    """The order of the daemons in round rnd: flips every round."""
    order = [t for t in (OURS, "libvirtd") if t in daemons]
    return order if rnd % 2 == 0 else order[::-1]
