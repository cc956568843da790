"""benchlib.py: what bench/rpc, bench/domains and bench/lifecycle share.

Setup (packages, the release build in build-bench/, Debian's libvirtd under a subreaper the way
shared/docs/test-guests.md describes, our virtqemud on a private --root), process bookkeeping
so that a bench stops exactly what it started, and the median [min..max] formatting of the
tables.  Run as a script it is the subreaper wrapper:  benchlib.py --subreaper -- CMD ARGS...
"""

import ctypes
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BUILD = ROOT / "build-bench"
PYTHON = "/usr/bin/python3"  # python3-libvirt lives in Debian's python, not in any other one

LIBVIRTD = "/usr/sbin/libvirtd"
LIBVIRTD_SOCK = "/run/libvirt/libvirt-sock"
LIBVIRTD_PIDFILE = "/run/libvirtd.pid"
LIBVIRTD_QEMU_RUN = Path("/run/libvirt/qemu")  # libvirtd's NAME.pid files
VIRTLOGD_SOCK = "/run/libvirt/virtlogd-sock"
QEMU_CONF = Path("/etc/libvirt/qemu.conf")
PACKAGES = ["libvirt-daemon", "libvirt-daemon-driver-qemu", "libvirt-clients", "python3-libvirt"]
DAEMON_REL = "src/virtqemud/virtqemud"
GUEST_REL = "tests/guest/svguest.elf"

REMOTE_PROGRAM = 0x20008086
PROC_AUTH_LIST = 66
PR_SET_CHILD_SUBREAPER = 36

OURS, LIBVIRTD_T = "ours", "libvirtd"

_prefix = "bench"


def set_log_prefix(name):
    global _prefix
    _prefix = name


def log(msg):
    print(f"[{_prefix}] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Small helpers


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], **kw)


def tail(path, lines=15):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid):
    """utime + stime of every thread of pid so far, in seconds (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_reply(path, timeout):
    """Seconds from connect() to the complete reply to an AUTH_LIST call (serial 0)."""
    call = struct.pack(">7I", 28, REMOTE_PROGRAM, 1, PROC_AUTH_LIST, 0, 0, 0)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        t0 = time.perf_counter()
        s.connect(str(path))
        s.sendall(call)
        buf = b""
        while len(buf) < 4 or len(buf) < struct.unpack(">I", buf[:4])[0]:
            chunk = s.recv(65536)
            if not chunk:
                raise BenchError(f"{path}: connection closed before the AUTH_LIST reply")
            buf += chunk
        t1 = time.perf_counter()
    _, prog, vers, proc, typ, serial, status = struct.unpack(">7I", buf[:28])
    if (prog, vers, proc, typ, serial, status) != (REMOTE_PROGRAM, 1, PROC_AUTH_LIST, 1, 0, 0):
        raise BenchError(f"{path}: unexpected AUTH_LIST reply header {buf[:28].hex()}")
    return t1 - t0


def can_connect(path):
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(str(path))
        return True
    except OSError:
        return False


def one_connection(uri, timeout):
    """Open the URI with python3-libvirt, call getVersion once, close."""
    code = ("import libvirt, sys\n"
            "libvirt.registerErrorHandler(lambda c, e: None, None)\n"
            "c = libvirt.open(sys.argv[1]); c.getVersion(); c.close()\n")
    r = run([PYTHON, "-c", code, uri], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise BenchError(f"python3-libvirt connection to {uri} failed: {r.stderr.strip()}")


class Procs:
    """Every process this script started, so that exactly those are stopped at the end."""

    def __init__(self):
        self.procs = []

    def start(self, cmd, log_path, **kw):
        with open(log_path, "ab") as logf:
            p = subprocess.Popen([str(c) for c in cmd], stdout=kw.pop("stdout", logf),
                                 stderr=logf, stdin=subprocess.DEVNULL,
                                 start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, timeout=15):
        """SIGTERM, then SIGKILL after timeout, to p's own process group (made for it)."""
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in reversed(list(self.procs)):
            self.stop(p)


def wait_for(pred, timeout, what, proc=None, log_path=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"{what}: process exited with {proc.returncode}\n{tail(log_path)}")
        time.sleep(0.02)
    raise BenchError(f"{what}: not ready after {timeout:.0f} s\n{tail(log_path)}")


# ---------------------------------------------------------------------------------------------
# Subreaper wrapper (internal mode): what systemd does for libvirtd, reaping orphans at once.


def subreaper_main(cmd):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(2, 1)  # stdout is the pipe the parent reads our pid from
            os.execv(cmd[0], cmd)
        finally:
            os._exit(127)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: os.kill(pid, s))
    print(pid, flush=True)
    status = 0
    while True:
        try:
            wpid, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if wpid == pid:
            status = os.waitstatus_to_exitcode(st)
            break
    while True:  # reap whatever else is already dead, then leave the rest to init
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    return status if status >= 0 else 128 - status


# ---------------------------------------------------------------------------------------------
# Setup: packages, build, Debian's libvirtd, our daemon


def ensure_packages(extra=()):
    """apt-get install whichever of PACKAGES (and extra) is not installed yet."""
    missing = []
    for pkg in [*PACKAGES, *extra]:
        r = run(["dpkg-query", "-W", "-f=${db:Status-Status}", pkg], capture_output=True,
                text=True)
        if r.stdout.strip() != "installed":
            missing.append(pkg)
    if not missing:
        return
    log(f"installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if run(cmd, env=env).returncode != 0:
        run(["apt-get", "update"], env=env, check=True)
        run(cmd, env=env, check=True)


def build_tree(work, no_build, targets=()):
    """meson setup (once) and ninja in build-bench/, release mode; log in work/build.log.
    targets: build only these (paths in build-bench/), else everything."""
    if not (ROOT / "meson.build").exists() or no_build:
        return
    blog = work / "build.log"
    if not (BUILD / "build.ninja").exists():
        shutil.rmtree(BUILD, ignore_errors=True)  # left over from a failed setup
        log("meson setup build-bench --buildtype=release")
        with open(blog, "ab") as f:
            r = run(["meson", "setup", BUILD, "--buildtype=release"], cwd=ROOT, stdout=f,
                    stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise BenchError(f"meson setup failed:\n{tail(blog, 30)}")
    log(" ".join(["ninja -C build-bench", *targets]))
    with open(blog, "ab") as f:
        r = run(["ninja", "-C", BUILD, *targets], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise BenchError(f"build failed:\n{tail(blog, 30)}")


def load_bench(name):
    """Imports the bench script bench/NAME (no .py suffix) as a module, for bench/run."""
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader(f"bench_{name}", str(BENCH / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def daemon_path(override):
    """Our daemon: the override, else build-bench's; None (with a message) if missing."""
    daemon = Path(override) if override else BUILD / DAEMON_REL
    if not daemon.exists():
        log(f"{daemon.relative_to(ROOT) if daemon.is_relative_to(ROOT) else daemon} "
            "does not exist: measuring without our daemon")
        return None
    return daemon


def ensure_account():
    if run(["getent", "passwd", "libvirt-qemu"], capture_output=True).returncode == 0:
        return
    log("creating system account libvirt-qemu")
    run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
         "/var/lib/libvirt", "--shell", "/usr/sbin/nologin", "libvirt-qemu"], check=True)


def ensure_qemu_conf():
    """user/group root; stdio_handler "file" unless virtlogd is there to take QEMU's output."""
    want = {"user": '"root"', "group": '"root"'}
    if not can_connect(VIRTLOGD_SOCK):
        want["stdio_handler"] = '"file"'
    lines = QEMU_CONF.read_text().splitlines() if QEMU_CONF.exists() else []
    changed = False
    for key, value in want.items():
        found = False
        for i, line in enumerate(lines):
            k, sep, v = line.partition("=")
            if sep and k.strip() == key and not line.lstrip().startswith("#"):
                found = True
                if v.split("#")[0].strip() != value:
                    lines[i] = f"{key} = {value}"
                    lines.insert(i, f"# splitvirt bench set {key}, was: {v.strip()}")
                    changed = True
                break
        if not found:
            lines += ["# set by splitvirt bench (see shared/docs/test-guests.md)",
                      f"{key} = {value}"]
            changed = True
    if changed:
        log(f"updating {QEMU_CONF}")
        QEMU_CONF.parent.mkdir(parents=True, exist_ok=True)
        QEMU_CONF.write_text("\n".join(lines) + "\n")


class Daemon:
    """A daemon under test: where clients reach it and which pid holds its memory.

    qemu_run is the directory holding its guests' NAME.pid files."""

    def __init__(self, name, sock, uri, pid, proc=None, log_path=None, qemu_run=None):
        self.name, self.sock, self.uri, self.pid = name, sock, uri, pid
        self.proc, self.log_path, self.qemu_run = proc, log_path, qemu_run

    def alive(self):
        return self.proc is None or self.proc.poll() is None


def start_libvirtd(procs, work):
    uri = f"qemu+unix:///system?socket={LIBVIRTD_SOCK}"
    if can_connect(LIBVIRTD_SOCK):
        pid = int(Path(LIBVIRTD_PIDFILE).read_text().split()[0])
        log(f"libvirtd already running (pid {pid}); using it and leaving it running")
        one_connection(uri, 300)
        return Daemon(LIBVIRTD_T, LIBVIRTD_SOCK, uri, pid, qemu_run=LIBVIRTD_QEMU_RUN)
    ensure_account()
    ensure_qemu_conf()
    log_path = work / "libvirtd.log"
    log("starting libvirtd under a subreaper")
    p = procs.start([PYTHON, BENCH / "benchlib.py", "--subreaper", "--", LIBVIRTD],
                    log_path, stdout=subprocess.PIPE)
    line = p.stdout.readline()
    p.stdout.close()
    if not line.strip():
        raise BenchError(f"libvirtd wrapper failed\n{tail(log_path)}")
    pid = int(line)
    d = Daemon(LIBVIRTD_T, LIBVIRTD_SOCK, uri, pid, p, log_path, LIBVIRTD_QEMU_RUN)

    def ready():
        try:
            first_reply(LIBVIRTD_SOCK, 5)
            return True
        except (OSError, BenchError):
            return False

    wait_for(ready, 120, "libvirtd", p, log_path)
    # The first getVersion makes libvirtd probe QEMU (~8 s once) and fill its capability cache.
    log("warming libvirtd's QEMU capability cache")
    one_connection(uri, 300)
    return d


def start_ours(procs, work, daemon, config=None):
    """virtqemud --root work/ours --timeout 0; config is virtqemud.conf's text, if any.
    QEMU runs as root, as ensure_qemu_conf() makes libvirtd run it: like against like."""
    root = work / "ours"
    root.mkdir()
    (root / "etc/libvirt").mkdir(parents=True)
    (root / "etc/libvirt/virtqemud.conf").write_text(
        'user = "root"\ngroup = "root"\n' + (config or ""))
    sock = root / "run/libvirt/virtqemud-sock"
    log_path = work / "virtqemud.log"
    p = procs.start([daemon, "--root", root, "--timeout", "0"], log_path)
    wait_for(lambda: can_connect(sock), 30, "virtqemud", p, log_path)
    first_reply(sock, 10)
    uri = f"qemu+unix:///system?socket={sock}"
    one_connection(uri, 60)
    return Daemon(OURS, sock, uri, p.pid, p, log_path, root / "run/libvirt/qemu")


def check_alive(daemons):
    for d in daemons.values():
        if not d.alive():
            raise BenchError(f"{d.name} died (exit {d.proc.returncode})\n{tail(d.log_path)}")


# ---------------------------------------------------------------------------------------------
# Report


def fmt_rate(v):
    return f"{v:,.0f}"


def fmt_mib(v):
    return f"{v / 1024:.1f} MiB"


def fmt_ms(v):
    return f"{v * 1000:.2f} ms"


def fmt_us(v):
    return f"{v * 1e6:,.1f} us"


def fmt_s(v):
    return f"{v:.2f} s"


def fmt_time(v):
    """Seconds in the unit that reads best."""
    if v < 1e-3:
        return fmt_us(v)
    if v < 1.0:
        return fmt_ms(v)
    return fmt_s(v)


def summarize(values, fmt):
    if values is None:
        return "n/a"
    if isinstance(values, str):
        return values  # an error marker
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.median(values))} [{fmt(min(values))}..{fmt(max(values))}]"


def med(values):
    return statistics.median(values) if isinstance(values, list) and values else None


def print_table(header, cols, table):
    """table: rows of strings, one per metric, as many as cols."""
    table = [cols] + table
    widths = [max(len(r[i]) for r in table) for i in range(len(cols))]
    print()
    print(header)
    for n, r in enumerate(table):
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            print("-+-".join("-" * w for w in widths))


def print_targets(targets):
    print()
    print("targets:")
    for verdict, text in targets:
        print(f"  {verdict:4}  {text}")


def print_two(header, rows, notes=()):
    """The table of the two-daemon benches: metric | ours | libvirtd | ours/libvirtd.

    rows: (metric, fmt, {OURS: samples, LIBVIRTD_T: samples}); samples a list, "ERR" or
    missing.  A ratio is taken from the medians."""
    table = []
    for name, fmt, row in rows:
        o, lv = med(row.get(OURS)), med(row.get(LIBVIRTD_T))
        ratio = f"{o / lv:.3g}" if o is not None and lv else "n/a"
        table.append([name, summarize(row.get(OURS), fmt), summarize(row.get(LIBVIRTD_T), fmt),
                      ratio])
    print_table(header, ["metric", "ours", "libvirtd", "ours/libvirtd"], table)
    for n in notes:
        print(n)


def evaluate(res, checks):
    """checks: (metric, predicate on ours/libvirtd, text).  -> [(verdict, text)]."""
    out = []
    for metric, ok, text in checks:
        o, lv = med(res.get(metric, {}).get(OURS)), med(res.get(metric, {}).get(LIBVIRTD_T))
        if o is None or not lv:
            out.append(("n/a", f"{text}  (not measured)"))
        else:
            q = o / lv
            out.append(("PASS" if ok(q) else "MISS", f"{text}  (ours/libvirtd = {q:.3g})"))
    return out


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--subreaper" and sys.argv[2] == "--":
        sys.exit(subreaper_main(sys.argv[3:]))
    sys.exit("usage: benchlib.py --subreaper -- CMD [ARGS...]")
