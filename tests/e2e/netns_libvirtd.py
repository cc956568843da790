"""netns_libvirtd.py: network namespaces for tests, and Debian's libvirtd 9.0 started in a
network and mount namespace of its own, so that its network driver (bridges, dnsmasq,
iptables) acts there and never on the host.

The private libvirtd sees the host's files except: /run/libvirt, /var/lib/libvirt and
/var/cache/libvirt (empty tmpfs: no state of the shared libvirtd, nothing left behind),
/run/dbus (empty: no system bus, so a firewalld of the host's is never asked anything) and
/etc/libvirt (a copy of the host's configuration files without any guest, network, pool or
secret definition, and a libvirtd.conf putting its sockets in the test's directory, where
clients outside the namespaces reach them). Whoever starts it holds the libvirtd lock
(/tmp/sv-libvirtd.lock: the pytest command runs under flock). At the end its networks are
destroyed, the dnsmasq processes it still has (pid files read through /proc/PID/root) are
killed, and it is stopped; its namespaces die with it.

A "host" of hosts.py runs it inside that host's namespaces instead (enter: the nsenter
argv prefix; only a mount namespace of its own then, below the host's): its state
directories are then directories of its work dir, not tmpfs, so that a libvirtd started
again (restart()) finds the guests it left running; its capability cache is a copy of the
host's (no ~8 s probe of QEMU at each start); it runs under bench's subreaper (as systemd
would reap for it: libvirt takes a zombie QEMU for a live one), with the extra
libvirtd.conf lines and arguments the host gives (host_uuid, listeners).
"""

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

LIBVIRTD = "/usr/sbin/libvirtd"
PYTHON = "/usr/bin/python3"  # python3-libvirt's
BENCHLIB = Path(__file__).resolve().parents[2] / "bench" / "benchlib.py"

# Run inside the new namespaces by `unshare -n -m --propagation private sh -c`.
SETUP = """set -e
ip link set lo up
for d in /run/libvirt /var/lib/libvirt /var/cache/libvirt /run/dbus; do
    mkdir -p "$d"
    mount -t tmpfs -o mode=0755 tmpfs "$d"
done
mount --bind "$1/etc" /etc/libvirt
work="$1"
shift
exec %s --config /etc/libvirt/libvirtd.conf --pid-file "$work/libvirtd.pid" "$@"
""" % LIBVIRTD

# The same inside a host's namespaces ($1: the work dir; $2...: libvirtd's extra arguments):
# state kept in the work dir across restarts.
HOST_SETUP = """set -e
w=$1
shift
mkdir -p /run/dbus
mount -t tmpfs -o mode=0755 tmpfs /run/dbus
for pair in run:/run/libvirt lib:/var/lib/libvirt cache:/var/cache/libvirt log:/var/log/libvirt; do
    mkdir -p "${pair#*:}"
    mount --bind "$w/${pair%%%%:*}" "${pair#*:}"
done
mount --bind "$w/etc" /etc/libvirt
exec %s --config /etc/libvirt/libvirtd.conf --pid-file "$w/libvirtd.pid" "$@"
""" % LIBVIRTD


class Netns:
    """A network namespace: a named one (`ip netns add`, removed by delete()) or another
    process's (its /proc/PID/ns/net). Commands run in it with nsenter, our mount namespace
    kept (so /run/netns names and the test's files are seen)."""

    def __init__(self, name=None, pid=None):
        self.name, self.pid = name, pid
        self.path = "/run/netns/%s" % name if name else "/proc/%d/ns/net" % pid

    @classmethod
    def create(cls, prefix):
        name = "%s-%s" % (prefix, uuid.uuid4().hex[:8])
        subprocess.run(["ip", "netns", "add", name], check=True)
        ns = cls(name=name)
        ns.run(["ip", "link", "set", "lo", "up"])
        return ns

    def argv(self, argv):
        return ["nsenter", "--net=%s" % self.path, "--"] + list(argv)

    def run(self, argv, check=True, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        r = subprocess.run(self.argv(argv), **kw)
        if check and r.returncode != 0:
            raise AssertionError("%s failed (%d): %s%s" % (" ".join(argv), r.returncode,
                                                           r.stdout, r.stderr))
        return r

    def popen(self, argv, **kw):
        return subprocess.Popen(self.argv(argv), **kw)

    def delete(self):
        if self.name:
            subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)


class PrivateLibvirtd:
    """Debian's libvirtd in namespaces of its own (or in a host's: enter, the nsenter argv
    prefix to its namespaces); uri reaches it from anywhere.
    conf: more libvirtd.conf lines; args: more arguments (--listen: its TCP and TLS
    listeners are then in its network namespace, self.netns); auth_unix_rw: that key's value
    (not "none": opening uri needs credentials, so readiness is asked on ro_uri); env: its
    environment's additions (SASL_CONF_PATH); logging: its log_filters and log_outputs lines
    (what it logs to work/libvirtd.log; warnings and errors by default)."""

    def __init__(self, work, conf="", args=(), auth_unix_rw="none", env=None, enter=None,
                 logging='log_outputs = "3:stderr"\n'):
        self.work = Path(work)
        self.enter, self.args = enter, list(args)
        self.env = dict(os.environ, **(env or {}))
        etc = self.work / "etc"
        etc.mkdir(parents=True)
        for f in Path("/etc/libvirt").glob("*.conf"):
            shutil.copy(f, etc / f.name)
        if Path("/etc/libvirt/nwfilter").is_dir():
            shutil.copytree("/etc/libvirt/nwfilter", etc / "nwfilter")
        for d in ("qemu/networks/autostart", "qemu/autostart", "storage", "secrets"):
            (etc / d).mkdir(parents=True, exist_ok=True)
        self.sock_dir = self.work / "sock"
        self.sock_dir.mkdir()
        (etc / "libvirtd.conf").write_text(
            'unix_sock_dir = "%s"\nauth_unix_rw = "%s"\nauth_unix_ro = "none"\n'
            % (self.sock_dir, auth_unix_rw) + logging + conf)
        self.uri = "qemu+unix:///system?socket=%s/libvirt-sock" % self.sock_dir
        self.ro_uri = "qemu+unix:///system?socket=%s/libvirt-sock-ro" % self.sock_dir
        self.ready_uri = self.uri if auth_unix_rw == "none" else self.ro_uri
        self.log = open(self.work / "libvirtd.log", "w")
        if enter is None:
            self.proc = subprocess.Popen(
                ["unshare", "-n", "-m", "--propagation", "private", "sh", "-c", SETUP, "sh",
                 str(self.work)] + self.args, stdout=self.log,
                stderr=subprocess.STDOUT, env=self.env)
            # exec'd by the shell: the process unshare started is libvirtd itself.
            self.pid = self.proc.pid
            self.wait_ready()
        else:
            for own in ("run", "lib", "cache", "log"):
                (self.work / own).mkdir()
            if os.path.isdir("/var/cache/libvirt/qemu"):
                shutil.copytree("/var/cache/libvirt/qemu", self.work / "cache" / "qemu",
                                symlinks=True)
            self.start_in_host()
        self.netns = Netns(pid=self.pid)

    def start_in_host(self):
        """libvirtd in the host's namespaces (a mount namespace of its own below), under
        bench's subreaper, which prints libvirtd's pid first."""
        self.proc = subprocess.Popen(
            [PYTHON, str(BENCHLIB), "--subreaper", "--"] + self.enter +
            ["unshare", "-m", "--propagation", "private", "sh", "-c", HOST_SETUP, "sh",
             str(self.work)] + self.args, stdout=subprocess.PIPE, stderr=self.log,
            env=self.env)
        line = self.proc.stdout.readline()
        self.proc.stdout.close()
        if not line.strip():
            self.proc.wait(30)
            raise AssertionError("libvirtd's subreaper failed:\n" + self.log_tail())
        self.pid = int(line)
        self.wait_ready()

    def restart(self):
        """Started again in the same host (after close() or a crash); its guests' QEMUs
        kept running meanwhile."""
        assert self.enter is not None, "restart() is for a libvirtd in a host"
        if self.log.closed:
            self.log = open(self.work / "libvirtd.log", "a")
        (self.sock_dir / "libvirt-sock").unlink(missing_ok=True)
        self.start_in_host()

    def kill(self):
        """SIGKILL, as a crash: its QEMUs live on (their parent is the subreaper)."""
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(30)

    def wait_ready(self):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("libvirtd ended at start:\n" + self.log_tail())
            if (self.sock_dir / "libvirt-sock").exists() and self.virsh(
                    "uri", check=False, uri=self.ready_uri).returncode == 0:
                break
            time.sleep(0.2)
        else:
            self.close()
            raise AssertionError("libvirtd did not answer within 120 s:\n" + self.log_tail())

    def log_tail(self):
        return (self.work / "libvirtd.log").read_text()[-4000:]

    def virsh(self, *args, check=True, uri=None):
        r = subprocess.run(["virsh", "-c", uri or self.uri, "-q"] + list(args),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120)
        if check and r.returncode != 0:
            raise AssertionError("virsh %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def dnsmasq_pids(self):
        pids = []
        base = Path("/proc/%d/root/run/libvirt/network" % self.pid)
        try:
            for f in base.glob("*.pid"):
                text = f.read_text().strip()
                if text.isdigit():
                    pids.append(int(text))
        except OSError:
            pass
        return pids

    def close(self):
        if self.proc.poll() is None:
            names = self.virsh("net-list", "--name", check=False).stdout.split()
            for n in names:
                self.virsh("net-destroy", n, check=False)
            leftovers = self.dnsmasq_pids()
            self.proc.send_signal(signal.SIGTERM)  # a subreaper passes it on
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.kill()
                self.proc.wait()
            for pid in leftovers:
                try:
                    if b"dnsmasq" in Path("/proc/%d/cmdline" % pid).read_bytes():
                        os.kill(pid, signal.SIGKILL)
                except (OSError, ProcessLookupError):
                    pass
        self.log.close()
