#!/usr/bin/env python3
"""activator.py: a small socket activator that behaves like systemd, for tests.

It binds the daemon's sockets itself and keeps them listening for its whole
life. Whenever one of them becomes readable while no daemon runs, it starts the
daemon with the sockets as fds 3, 4, 5 ... and LISTEN_FDS, LISTEN_PID (the
daemon's own pid) and LISTEN_FDNAMES set, as systemd does for a .socket unit.
When the daemon exits (idle timeout, signal, crash) the sockets are armed again
and the next connection starts a new daemon. Connections made while no daemon
runs wait in the listen backlog and are served by the daemon they start.

systemd-socket-activate cannot do this: it execs the program once and does not
listen again after it exits (docs: test-guests.md, "Socket activation").

The daemon's environment is what systemd would give it: PATH, the LISTEN_*
variables, the sanitizer and GLib variables of our environment (ASAN_, UBSAN_,
LSAN_, MSAN_, TSAN_, G_, LD_PRELOAD, LD_LIBRARY_PATH) and what the caller adds.

As a module:

    act = Activator([rw, ro, admin], ["virtqemud", "--root", root, "--timeout", "2"],
                    stderr_path=root / "virtqemud.stderr")
    act.start()
    ...                       # clients connect to rw/ro/admin
    act.activations           # how many times a daemon was started
    act.wait_exit(10)         # the exit status once no daemon runs
    act.stop()                # SIGTERM to a running daemon, sockets removed

As a script (runs until SIGTERM or SIGINT):

    activator.py -l RW -l RO -l ADMIN [--count-file F] [--stderr F] -- DAEMON ARG...

--count-file gets the number of activations, rewritten at every activation.
"""

import argparse
import fcntl
import os
import select
import signal
import socket
import stat
import sys
import threading
import time

PASS_ENV_PREFIXES = ("ASAN_", "UBSAN_", "LSAN_", "MSAN_", "TSAN_", "G_", "LD_PRELOAD",
                     "LD_LIBRARY_PATH")
DEFAULT_NAMES = ("virtqemud.socket", "virtqemud-ro.socket", "virtqemud-admin.socket")
# SocketMode= of the units without polkit: rw 0600, ro 0666, admin 0600.
DEFAULT_MODES = (0o600, 0o666, 0o600)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# LISTEN_PID must be the daemon's pid: the shell sets it to its own and execs the daemon.
TRAMPOLINE = 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"'
SH = "/bin/sh"

# The sockets are kept at fds from here on in this process, away from 3, 4, 5.
HIGH_FD = 100

# Like systemd's StartLimitBurst/StartLimitIntervalSec: a daemon that keeps dying at
# once while a client waits is not started for ever.
START_LIMIT_BURST = 20
START_LIMIT_INTERVAL = 10.0


class ActivatorError(Exception):
    pass


def passed_env():
    """The variables of our environment a sanitizer or GLib build reads."""
    return {k: v for k, v in os.environ.items() if k.startswith(PASS_ENV_PREFIXES)}


class Activator:
    """Listening sockets plus at most one daemon, started on demand, again and again.

    paths: the socket paths, in the order of the fds (3, 4, ...); names: their
    LISTEN_FDNAMES; modes: their permissions. argv: the daemon's command line.
    stderr_path: the daemon's stdout and stderr (appended); None: /dev/null.
    count_path: a file that holds the number of activations."""

    def __init__(self, paths, argv, names=DEFAULT_NAMES, modes=DEFAULT_MODES, env=None,
                 stderr_path=None, count_path=None, stop_timeout=10.0):
        self.paths = [str(p) for p in paths]
        if len(names) < len(self.paths) or len(modes) < len(self.paths):
            raise ActivatorError("a name and a mode are needed for every socket")
        self.names = list(names[:len(self.paths)])
        self.modes = list(modes[:len(self.paths)])
        self.argv = [str(a) for a in argv]
        self.extra_env = dict(env or {})
        self.stderr_path = str(stderr_path) if stderr_path else None
        self.count_path = str(count_path) if count_path else None
        self.stop_timeout = stop_timeout
        self.cond = threading.Condition()
        self._socks = []
        self._fds = []           # the listening fds, all >= HIGH_FD, close-on-exec
        self.inodes = []         # (st_dev, st_ino) of each socket file as bound
        self._stop_r = self._stop_w = -1
        self._thread = None
        self._stopping = False
        self._activations = 0
        self._pid = None         # the running daemon, if any
        self._exits = []         # (pid, status) of every daemon that ended, in order
        self._error = None

    # ------------------------------------------------------------ state

    @property
    def activations(self):
        """How many times a daemon was started."""
        with self.cond:
            return self._activations

    @property
    def pid(self):
        """The running daemon's pid, or None."""
        with self.cond:
            return self._pid

    def running(self):
        return self.pid is not None

    @property
    def exits(self):
        """The exit statuses of the daemons that ended, in order (negative: signal)."""
        with self.cond:
            return [st for _, st in self._exits]

    @property
    def error(self):
        """What stopped the activator's thread, if it failed."""
        with self.cond:
            return self._error

    def wait_activations(self, n, timeout):
        """Wait until at least n activations happened and that daemon runs (or ran)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self._activations < n:
                left = deadline - time.monotonic()
                if left <= 0 or self._error:
                    raise ActivatorError("%d activations after %.1f s, expected %d%s"
                                         % (self._activations, timeout, n,
                                            ": %s" % self._error if self._error else ""))
                self.cond.wait(left)
            return self._activations

    def wait_exit(self, timeout):
        """Wait until no daemon runs; the last daemon's exit status (None: never ran)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self._pid is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ActivatorError("daemon %d still running after %.1f s"
                                         % (self._pid, timeout))
                self.cond.wait(left)
            return self._exits[-1][1] if self._exits else None

    def signal_daemon(self, sig):
        """Send sig to the running daemon; False if none runs."""
        with self.cond:
            if self._pid is None:
                return False
            try:
                os.kill(self._pid, sig)
            except ProcessLookupError:
                return False
            return True

    # ------------------------------------------------------------ life

    def start(self):
        """Bind and listen on every socket, then activate on demand in a thread."""
        try:
            for path, mode in zip(self.paths, self.modes):
                self._bind(path, mode)
            self._stop_r, self._stop_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        except BaseException:
            self._close()
            raise
        self._write_count()
        self._thread = threading.Thread(target=self._run, name="activator", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout=None):
        """End a running daemon (SIGTERM, SIGKILL after timeout s) and stop listening.

        The sockets are closed and their files removed (RemoveOnStop=yes)."""
        if timeout is not None:
            self.stop_timeout = timeout
        with self.cond:
            self._stopping = True
        if self._thread is not None:
            try:
                os.write(self._stop_w, b"x")
            except OSError:
                pass
            self._thread.join()
            self._thread = None
        self._close()
        for p in self.paths:
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def replaced_sockets(self):
        """The socket paths that are no longer the files this activator bound (a
        daemon that ignored LISTEN_FDS and bound its own would replace them)."""
        out = []
        for path, ident in zip(self.paths, self.inodes):
            try:
                st = os.stat(path)
            except FileNotFoundError:
                out.append(path)
                continue
            if (st.st_dev, st.st_ino) != ident:
                out.append(path)
        return out

    def kill_daemon(self):
        """SIGKILL a running daemon (a watchdog's last resort); the activator goes on."""
        return self.signal_daemon(signal.SIGKILL)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ internals

    def _bind(self, path, mode):
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, mode=0o755, exist_ok=True)
        try:
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)  # a stale socket file, as systemd removes it
        except FileNotFoundError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socks.append(s)
        s.bind(path)
        os.chmod(path, mode)
        st = os.stat(path)
        self.inodes.append((st.st_dev, st.st_ino))
        s.listen(256)
        s.setblocking(False)
        self._fds.append(fcntl.fcntl(s.fileno(), fcntl.F_DUPFD_CLOEXEC, HIGH_FD))

    def _close(self):
        for fd in self._fds + [self._stop_r, self._stop_w]:
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._fds = []
        self._stop_r = self._stop_w = -1
        for s in self._socks:
            s.close()
        self._socks = []

    def _write_count(self):
        if self.count_path:
            tmp = self.count_path + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % self._activations)
            os.replace(tmp, self.count_path)

    def _env(self):
        env = {"PATH": os.environ.get("PATH", DEFAULT_PATH)}
        env.update(passed_env())
        env.update(self.extra_env)
        env["LISTEN_FDS"] = str(len(self._fds))
        env["LISTEN_FDNAMES"] = ":".join(self.names)
        env.pop("LISTEN_PID", None)
        return env

    def _spawn(self):
        """Start the daemon: the sockets at 3, 4, ..., stdin /dev/null, output to the log."""
        actions = []
        targets = set(range(3, 3 + len(self._fds)))
        # Nothing else of ours leaks into the daemon (systemd passes only the sockets).
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd < 3 or fd in targets or fd in self._fds:
                continue
            try:
                if not fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC:
                    actions.append((os.POSIX_SPAWN_CLOSE, fd))
            except OSError:
                pass
        actions.append((os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0))
        log_fd = -1
        if self.stderr_path:
            log_fd = os.open(self.stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND |
                             os.O_CLOEXEC, 0o644)
            actions += [(os.POSIX_SPAWN_DUP2, log_fd, 1), (os.POSIX_SPAWN_DUP2, log_fd, 2)]
        else:
            actions += [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
        # dup2 clears close-on-exec on the copies; the originals stay >= HIGH_FD.
        for i, fd in enumerate(self._fds):
            actions.append((os.POSIX_SPAWN_DUP2, fd, 3 + i))
        argv = [SH, "-c", TRAMPOLINE, "activator-trampoline"] + self.argv
        try:
            return os.posix_spawn(SH, argv, self._env(), file_actions=actions)
        finally:
            if log_fd >= 0:
                os.close(log_fd)

    def _wait_child(self, pid):
        """Wait for the daemon; on stop, end it. Its exit status."""
        pidfd = os.pidfd_open(pid)
        try:
            r, _, _ = select.select([pidfd, self._stop_r], [], [])
            if pidfd not in r:
                # Stopping: SIGTERM, then SIGKILL after stop_timeout.
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                r, _, _ = select.select([pidfd], [], [], self.stop_timeout)
                if not r:
                    os.kill(pid, signal.SIGKILL)
            _, st = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(st)
        finally:
            os.close(pidfd)

    def _run(self):
        starts = []
        try:
            while True:
                with self.cond:
                    if self._stopping:
                        return
                r, _, _ = select.select(self._fds + [self._stop_r], [], [])
                if self._stop_r in r:
                    return
                with self.cond:
                    if self._stopping:
                        return
                    now = time.monotonic()
                    starts = [t for t in starts if now - t < START_LIMIT_INTERVAL] + [now]
                    if len(starts) > START_LIMIT_BURST:
                        raise ActivatorError("start limit hit: %d starts within %.0f s"
                                             % (len(starts), START_LIMIT_INTERVAL))
                    pid = self._spawn()
                    self._pid = pid
                    self._activations += 1
                    self._write_count()
                    self.cond.notify_all()
                status = self._wait_child(pid)
                with self.cond:
                    self._exits.append((pid, status))
                    self._pid = None
                    self.cond.notify_all()
        except Exception as e:  # reported through .error and wait_*()
            with self.cond:
                self._error = "%s: %s" % (type(e).__name__, e)
                self._pid = None
                self.cond.notify_all()


# ---------------------------------------------------------------- script

def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Listen on unix sockets and start DAEMON, systemd style, whenever one "
                    "becomes readable while DAEMON is not running.")
    ap.add_argument("-l", "--listen", action="append", required=True, metavar="PATH",
                    help="a socket path; fds 3, 4, ... in this order")
    ap.add_argument("--fdname", default=":".join(DEFAULT_NAMES),
                    help="LISTEN_FDNAMES, colon separated (default %(default)s)")
    ap.add_argument("--mode", default="0600:0666:0600",
                    help="octal socket modes, colon separated (default %(default)s)")
    ap.add_argument("-E", "--setenv", action="append", default=[], metavar="VAR=VALUE",
                    help="an extra variable for the daemon")
    ap.add_argument("--count-file", help="holds the number of activations")
    ap.add_argument("--stderr", help="the daemon's stdout and stderr (default /dev/null)")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- DAEMON ARG...")
    a = ap.parse_args(argv)
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("no daemon command given")
    names = a.fdname.split(":")
    modes = [int(m, 8) for m in a.mode.split(":")]
    while len(names) < len(a.listen):
        names.append("unknown")
    while len(modes) < len(a.listen):
        modes.append(0o600)
    env = dict(kv.split("=", 1) for kv in a.setenv)

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    act = Activator(a.listen, cmd, names=names, modes=modes, env=env, stderr_path=a.stderr,
                    count_path=a.count_file)
    act.start()
    try:
        while not done.wait(0.5):
            if act.error:
                print("activator: %s" % act.error, file=sys.stderr)
                return 1
    finally:
        act.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
