"""svdaemon.py: start, probe and stop a real splitvirt daemon for end-to-end tests.

A Daemon owns one process and its stderr file. Its checks are what the suite
promises about every run: the daemon exits with the expected status and its
stderr carries no sanitizer report (the suite also runs under ASan/UBSan).
"""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import rawrpc

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

# Variables a sanitizer or GLib build reads; systemd-socket-activate passes
# only a handful of variables on, so these are handed over with -E.
PASS_ENV_PREFIXES = ("ASAN_", "UBSAN_", "LSAN_", "MSAN_", "TSAN_", "G_", "LD_PRELOAD",
                     "LD_LIBRARY_PATH")

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
POLL_STEP = 0.01


# QEMU runs as libvirt-qemu by default, as with Debian's libvirt. The tests' stand-in
# QEMUs, kernels and images live in the (maybe 0700) clone and in private temporary
# directories that user cannot reach, so tests run QEMU as root unless their own
# configuration names a user: test_qemu_unprivileged.py runs the default.
QEMU_AS_ROOT = 'user = "root"\ngroup = "root"\n'


def names_qemu_user(text):
    return re.search(r"^\s*(user|group)\s*=", text, re.M) is not None


def with_qemu_identity(text):
    """virtqemud.conf text with QEMU_AS_ROOT first, unless it names QEMU's user."""
    return text if names_qemu_user(text) else QEMU_AS_ROOT + text


def ensure_qemu_identity(root):
    """ROOT/etc/libvirt/virtqemud.conf, which a virtqemud started without --config (or by
    virtproxyd) reads, gets QEMU_AS_ROOT unless it names QEMU's user."""
    path = Path(root) / "etc" / "libvirt" / "virtqemud.conf"
    text = path.read_text() if path.exists() else ""
    if not names_qemu_user(text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(QEMU_AS_ROOT + text)


def repo_dir():
    return Path(__file__).resolve().parents[2]


def build_dir():
    """SV_BUILD_DIR (meson sets it), else <repo>/build."""
    env = os.environ.get("SV_BUILD_DIR")
    if env:
        return Path(env).resolve()
    return repo_dir() / "build"


def daemon_binary(name="virtqemud"):
    return build_dir() / "src" / name / name


def sanitizer_env():
    """The sanitizer and GLib variables of our environment, for -E options."""
    return {k: v for k, v in os.environ.items() if k.startswith(PASS_ENV_PREFIXES)}


class DaemonError(Exception):
    pass


class Daemon:
    """One daemon process under a private --root.

    expected_status is the exit status the checks accept: an int, or "nonzero"."""

    def __init__(self, root, name="virtqemud", args=(), config=None, env=None, wrapper=(),
                 label=None, ready_path=None, qemu_as_root=True):
        self.root = Path(root)
        self.name = name
        self.binary = daemon_binary(name)
        self.args = list(args)
        self.env = env
        self.wrapper = list(wrapper)
        self.label = label or name
        self.run_dir = self.root / "run" / "libvirt"
        self.sock = self.run_dir / ("%s-sock" % name)
        self.sock_ro = self.run_dir / ("%s-sock-ro" % name)
        self.sock_admin = self.run_dir / ("%s-admin-sock" % name)
        self.pid_file = self.root / "run" / ("%s.pid" % name)
        self.ready_path = Path(ready_path) if ready_path else self.sock
        self.stderr_path = self.root / ("%s.stderr" % self.label)
        self.config_path = None
        if config is not None:
            if name == "virtqemud" and qemu_as_root:
                config = with_qemu_identity(config)
            self.config_path = self.root / ("%s.conf" % self.label)
            self.config_path.write_text(config)
        self.qemu_as_root = qemu_as_root
        self.expected_status = 0
        self.proc = None
        self.killed_by_watchdog = False

    # ------------------------------------------------------------ process

    def command(self):
        cmd = self.wrapper + [str(self.binary), "--root", str(self.root), "--verbose"]
        if self.config_path:
            cmd += ["--config", str(self.config_path)]
        return cmd + self.args

    def start(self, wait=True):
        if not self.binary.exists():
            raise DaemonError("daemon binary %s not found; build first or set SV_BUILD_DIR"
                              % self.binary)
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        if self.config_path is None and self.name in ("virtqemud", "virtproxyd") and \
                self.qemu_as_root:
            ensure_qemu_identity(self.root)
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err, env=env)
        if wait:
            self.wait_ready()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=READY_TIMEOUT):
        """Poll (10 ms steps) until the socket answers an AUTH_LIST call."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DaemonError("%s exited with status %d before it was ready:\n%s"
                                  % (self.label, self.proc.returncode, self.stderr_tail()))
            try:
                with rawrpc.Client(str(self.ready_path), timeout=2.0) as c:
                    if c.auth_list() == [0]:
                        return
            except (OSError, rawrpc.ConnectionClosed) as e:
                last = e
            time.sleep(POLL_STEP)
        raise DaemonError("%s not ready on %s within %.0f s (last error: %r):\n%s"
                          % (self.label, self.ready_path, timeout, last, self.stderr_tail()))

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """The exit status, or DaemonError if still running after timeout seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise DaemonError("%s still running after %.1f s" % (self.label, timeout)) from None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Signal the daemon and wait; a daemon that does not exit is killed and reported."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise DaemonError("%s did not exit within %.0f s of signal %d"
                                  % (self.label, timeout, sig)) from None
        return self.proc.returncode

    def kill(self):
        if self.alive():
            self.proc.kill()

    # ------------------------------------------------------------ checks

    def stderr_text(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stderr_tail(self, lines=40):
        return "\n".join(self.stderr_text().splitlines()[-lines:])

    def problems(self):
        """What is wrong with this run, as readable lines; empty when all is well."""
        out = []
        text = self.stderr_text()
        for marker in SANITIZER_MARKERS + ("unexpected transition",):
            if marker in text:
                out.append("%s: stderr contains %r" % (self.label, marker))
        if self.killed_by_watchdog:
            out.append("%s: killed by the test watchdog (test hung)" % self.label)
        elif self.proc is not None and self.proc.returncode is not None:
            rc = self.proc.returncode
            if self.expected_status == "nonzero":
                if rc == 0:
                    out.append("%s: exit status 0, expected a failure" % self.label)
                elif rc < 0:
                    out.append("%s: killed by signal %d" % (self.label, -rc))
            elif rc != self.expected_status:
                out.append("%s: exit status %d, expected %d"
                           % (self.label, rc, self.expected_status))
        return out


def connect_unix(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(path))
    return s


def qemu_version():
    """(major, minor, micro) of the installed qemu-system-x86_64, or None."""
    import shutil

    exe = shutil.which("qemu-system-x86_64")
    if not exe:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"version (\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups()) if m else None


def meminfo_kib(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def assert_transitions(daemon, name, expected):
    """The daemon's lifecycle log lines for the guest name, one per state change
    ("domain NAME: OLD -> NEW, asked by WHO"), match expected: [(old, new, who)]
    regular expressions, in order."""
    got = []
    for line in daemon.stderr_text().splitlines():
        m = re.search(r"domain %s: (\S+) -> (\S+), asked by (.*)$" % re.escape(name), line)
        if m:
            got.append(m.groups())
    assert len(got) == len(expected), got
    for g, w in zip(got, expected):
        assert all(re.fullmatch(wi, gi) for gi, wi in zip(g, w)), (g, w)
