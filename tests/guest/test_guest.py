"""test_guest.py: boot Guest A (svguest.elf) under plain QEMU and check what QMP and COM1 show.

These pin down the guest the driver tests rely on, with no daemon involved. Each test
starts QEMU paused (-S), negotiates QMP and only then continues the guest, so no event
can slip out before the test listens. COM1 is QEMU's stdio, drained by a thread for the
whole run: a serial reader that stops makes every console byte cost the guest ~10 ms.
SV_BUILD_DIR names the build tree (default <repo>/build); SV_QEMU the emulator.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

QEMU = os.environ.get("SV_QEMU", "/usr/bin/qemu-system-x86_64")
READY_TIMEOUT = 5.0
EVENT_TIMEOUT = 5.0


def guest_elf():
    env = os.environ.get("SV_BUILD_DIR")
    build = Path(env) if env else Path(__file__).resolve().parents[2] / "build"
    return build / "tests" / "guest" / "svguest.elf"


class Qmp:
    """A blocking QMP client that keeps every event it reads, in order, in `log`."""

    def __init__(self, path, deadline):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:
            try:
                self.sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
        self.buf = b""
        self.log = []
        self.taken = set()
        greeting = self._read(deadline)
        assert "QMP" in greeting, greeting
        self.execute("qmp_capabilities")

    def close(self):
        self.sock.close()

    def _read(self, deadline):
        """The next message; raises TimeoutError once deadline passes."""
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no QMP message in time")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no QMP message in time") from None
            if not chunk:
                raise EOFError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        deadline = time.monotonic() + EVENT_TIMEOUT
        while True:
            reply = self._read(deadline)
            if "event" in reply:
                self.log.append(reply)
            elif "error" in reply:
                raise RuntimeError("%s: %s" % (command, reply["error"]))
            elif "return" in reply:
                return reply["return"]

    def wait_event(self, name, timeout=EVENT_TIMEOUT):
        """The first event called name that no earlier wait_event returned."""
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.log):
                if ev["event"] == name and i not in self.taken:
                    self.taken.add(i)
                    return ev
            try:
                self.log.append(self._read(deadline))
            except TimeoutError:
                raise TimeoutError("no %s event within %.1f s; events so far: %s"
                                   % (name, timeout, self.names())) from None

    def collect(self, seconds):
        """Read events for the given time; they land in log."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.log.append(self._read(deadline))
        except TimeoutError:
            pass

    def names(self):
        return [ev["event"] for ev in self.log]


class Serial:
    """Everything QEMU writes to stdout (COM1), read by a thread until EOF."""

    def __init__(self, stream):
        self.stream = stream
        self.data = b""
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self):
        while True:
            chunk = os.read(self.stream.fileno(), 4096)
            with self.cond:
                if not chunk:
                    self.cond.notify_all()
                    return
                self.data += chunk
                self.cond.notify_all()

    def text(self):
        with self.cond:
            return self.data.decode(errors="replace")

    def wait_for(self, needle, count=1, timeout=EVENT_TIMEOUT):
        """Wait until needle (bytes) has appeared count times; False on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.data.count(needle) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True


class Guest:
    """One paused QEMU running svguest.elf with the given command-line words."""

    def __init__(self, workdir, append, machine):
        elf = guest_elf()
        assert elf.is_file(), "%s is missing: build it first (meson compile -C build)" % elf
        self.qmp_path = workdir / "qmp.sock"
        self.stderr_path = workdir / "qemu.stderr"
        args = [QEMU, "-machine", machine, "-accel", "tcg", "-m", "32",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-shutdown", "-S",
                "-kernel", str(elf), "-append", append,
                "-serial", "stdio", "-device", "pvpanic",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        self.started = time.monotonic()
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err)
        self.serial = Serial(self.proc.stdout)
        self.qmp = Qmp(self.qmp_path, self.started + READY_TIMEOUT)
        self.continued = time.monotonic()
        self.qmp.execute("cont")

    def wait_ready(self, count=1):
        """Seconds from exec to the count-th READY line; fails the test after 5 s."""
        assert self.serial.wait_for(b"READY\r\n", count, READY_TIMEOUT), \
            "no READY within %.0f s:\n%s" % (READY_TIMEOUT, self.serial.text())
        return time.monotonic() - self.started

    def type(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def status(self):
        return self.qmp.execute("query-status")["status"]

    def cpu_seconds(self):
        fields = Path("/proc/%d/stat" % self.proc.pid).read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.qmp.close()
        self.serial.thread.join(5)
        self.proc.stdin.close()
        self.proc.stdout.close()


@pytest.fixture
def boot():
    """boot(append="", machine="pc") starts a guest; all are killed at teardown."""
    workdir = Path(tempfile.mkdtemp(prefix="svguest.", dir="/tmp"))
    guests = []

    def start(append="", machine="pc"):
        g = Guest(workdir, append, machine)
        guests.append(g)
        return g

    yield start
    for g in guests:
        g.kill()
        # Shown by pytest only when the test failed.
        print("---- serial ----\n%s\n---- stderr ----\n%s"
              % (g.serial.text(), g.stderr_path.read_text(errors="replace")))
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("machine", ["pc", "q35"])
def test_power_button_powers_off(boot, machine):
    g = boot(machine=machine)
    g.wait_ready()
    g.qmp.execute("system_powerdown")
    g.qmp.wait_event("POWERDOWN")
    shutdown = g.qmp.wait_event("SHUTDOWN")
    assert shutdown["data"] == {"guest": True, "reason": "guest-shutdown"}
    names = g.qmp.names()
    assert names.index("POWERDOWN") < names.index("SHUTDOWN")
    assert g.status() == "shutdown"
    assert g.serial.wait_for(b"GUEST: power button, powering off"), g.serial.text()
    assert g.proc.poll() is None    # -no-shutdown keeps QEMU alive


def test_ignore_keeps_running(boot):
    g = boot("ignore")
    g.wait_ready()
    cpu_before = g.cpu_seconds()
    for press in (1, 2):    # the second press shows PWRBTN_STS was cleared and re-armed
        g.qmp.execute("system_powerdown")
        g.qmp.wait_event("POWERDOWN")
        assert g.serial.wait_for(b"GUEST: power button ignored", press), g.serial.text()
    g.qmp.collect(1.0)
    assert "SHUTDOWN" not in g.qmp.names()
    assert g.status() == "running"
    # hlt between 100 Hz ticks: an idle guest must not spin a host CPU.
    assert g.cpu_seconds() - cpu_before < 0.5


def test_off_timer(boot):
    g = boot("off=300")
    g.wait_ready()
    shutdown = g.qmp.wait_event("SHUTDOWN")
    assert shutdown["data"] == {"guest": True, "reason": "guest-shutdown"}
    # The guest counts from READY, which comes after cont; 10 ms ticks give the slack.
    assert time.monotonic() - g.continued >= 0.28
    assert "POWERDOWN" not in g.qmp.names()
    assert g.status() == "shutdown"


def test_panic(boot):
    g = boot("panic=200")
    g.wait_ready()
    panicked = g.qmp.wait_event("GUEST_PANICKED")
    assert panicked["data"]["action"] == "pause"
    assert g.status() == "guest-panicked"
    assert g.serial.wait_for(b"GUEST: panicking"), g.serial.text()


def test_reset(boot):
    g = boot("reset=200")
    g.wait_ready()
    reset = g.qmp.wait_event("RESET")
    assert reset["data"] == {"guest": True, "reason": "guest-reset"}
    # SeaBIOS loads the kernel again after the reset, which then resets again.
    g.wait_ready(count=2)
    assert g.serial.wait_for(b"GUEST: booting", 2)


def test_echo_and_tick(boot):
    g = boot("echo tick")
    g.wait_ready()
    g.type(b"hi")
    assert g.serial.wait_for(b"HI"), g.serial.text()
    assert g.serial.wait_for(b"TICK 1\r\n", timeout=3.0), g.serial.text()
    g.type(b"q")
    shutdown = g.qmp.wait_event("SHUTDOWN")
    assert shutdown["data"] == {"guest": True, "reason": "guest-shutdown"}
    assert g.serial.wait_for(b"GUEST: q received, powering off"), g.serial.text()
