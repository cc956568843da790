"""hosts.py: several "hosts" on this one machine, for the remote-access and migration tests.

A Fleet is a set of hosts joined by a switch:
- the switch: a network namespace (`ip netns`) holding bridge br0;
- a host: network, UTS and mount namespaces held by a sleeping process (HOLDER), with
  - its own hostname (UTS) and a veth pair from its eth0 (ADDR_PREFIX.N/24) to the bridge;
  - /etc/hosts naming every host of the fleet, bound over /etc/hosts in its mount namespace:
    a destination's hostname is what libvirt puts in the URI the source's QEMU dials and
    what a client's qemu+tcp://NAME/system names, as in a real fleet;
  - its non-shared storage, a directory of its own bound on fleet.local: the same path on
    every host, each host's own files there (host.local_dir from outside); fleet.shared is
    one directory every host sees;
  - its daemons, either ours (virtqemud and virtproxyd under a private --root, with their
    own host_uuid; `virtproxyd --listen` on the host's address, relaying remote clients)
    or Debian's libvirtd (netns_libvirtd.PrivateLibvirtd entered into the host's
    namespaces, with its own host_uuid), both with a TCP listener (auth_tcp none) and,
    with Fleet(tls=True), a TLS one (certificates of a test CA made by certtool: Pki).
The test process reaches every daemon on its unix socket (host.uri: socket paths are seen
from every namespace); the daemons reach each other by hostname (host.tcp_uri,
host.tls_uri(client): the client host's certificate by ?pkipath=).

Fleet.clear() (after each test) destroys and undefines every guest of every host and checks
that no QEMU naming the fleet's directory is left; Fleet.close() stops the daemons, kills
the holders and removes the switch: nothing is left in the host's own namespaces.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import libvirt

from conftest import DaemonSet, finish_daemons
from guests import Events, ensure_event_loop, qemu_processes, uri_for
from netns_libvirtd import LIBVIRTD, Netns, PrivateLibvirtd
from svdaemon import QEMU_AS_ROOT

ADDR_PREFIX = "10.233.0"
TCP_PORT = 16509

# Run by `unshare --net --uts --mount --propagation private`: $1 hostname, $2 the fleet's
# hosts file, $3 this host's storage directory, $4 the fleet's local path.
HOLDER = """set -e
ip link set lo up
hostname "$1"
mount --bind "$2" /etc/hosts
mount --bind "$3" "$4"
echo ready
exec sleep 1000000
"""

# Teardown: how long a daemon may take to stop, guests included.
STOP_TIMEOUT = 30

CA_TEMPLATE = "cn = splitvirt test fleet CA\nca\ncert_signing_key\nexpiration_days = 30\n"
SERVER_TEMPLATE = ("organization = splitvirt tests\ncn = %(name)s\ndns_name = %(name)s\n"
                   "ip_address = %(addr)s\ntls_www_server\nencryption_key\nsigning_key\n"
                   "expiration_days = 30\n")
CLIENT_TEMPLATE = ("organization = splitvirt tests\ncn = %(name)s\ntls_www_client\n"
                   "encryption_key\nsigning_key\nexpiration_days = 30\n")


class Pki:
    """A certificate authority of the fleet's (certtool), and the certificates it signs."""

    def __init__(self, work):
        self.dir = Path(work)
        self.dir.mkdir()
        self.ca_key = self.key("ca")
        self.cacert = self.dir / "cacert.pem"
        self._certtool(["--generate-self-signed", "--load-privkey", self.ca_key],
                       CA_TEMPLATE, self.cacert)

    def _certtool(self, args, template, out):
        info = out.with_suffix(".info")
        info.write_text(template)
        subprocess.run(["certtool"] + [str(a) for a in args] +
                       ["--template", str(info), "--outfile", str(out)],
                       check=True, capture_output=True, timeout=60)

    def key(self, stem):
        path = self.dir / ("%s-key.pem" % stem)
        subprocess.run(["certtool", "--generate-privkey", "--bits", "2048", "--outfile",
                        str(path)], check=True, capture_output=True, timeout=60)
        return path

    def cert(self, stem, template, **fields):
        """(certificate, key) for stem, made from template % fields."""
        key = self.key(stem)
        out = self.dir / ("%s-cert.pem" % stem)
        self._certtool(["--generate-certificate", "--load-privkey", key,
                        "--load-ca-certificate", self.cacert, "--load-ca-privkey",
                        self.ca_key], template % fields, out)
        return out, key

    def install(self, name, addr, etc_pki):
        """A server and a client certificate for host name, with the CA's, where libvirt
        looks under etc_pki (CA/cacert.pem, libvirt/servercert.pem, libvirt/private/
        serverkey.pem, libvirt/clientcert.pem, libvirt/private/clientkey.pem); also, flat,
        in etc_pki/client (a client's ?pkipath=). The paths {key: path} of libvirtd.conf."""
        scert, skey = self.cert(name + "-server", SERVER_TEMPLATE, name=name, addr=addr)
        ccert, ckey = self.cert(name + "-client", CLIENT_TEMPLATE, name=name)
        files = {"CA/cacert.pem": self.cacert, "libvirt/servercert.pem": scert,
                 "libvirt/private/serverkey.pem": skey, "libvirt/clientcert.pem": ccert,
                 "libvirt/private/clientkey.pem": ckey, "client/cacert.pem": self.cacert,
                 "client/clientcert.pem": ccert, "client/clientkey.pem": ckey}
        for rel, src in files.items():
            dest = Path(etc_pki) / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            os.chmod(dest, 0o600 if "key" in rel else 0o644)
        return {"ca_file": Path(etc_pki) / "CA/cacert.pem",
                "cert_file": Path(etc_pki) / "libvirt/servercert.pem",
                "key_file": Path(etc_pki) / "libvirt/private/serverkey.pem"}


class Host:
    """One host: its namespaces, its storage and its daemons (kind "ours" or "libvirtd")."""

    def __init__(self, fleet, name, index, kind):
        self.fleet, self.name, self.kind = fleet, name, kind
        self.addr = "%s.%d" % (ADDR_PREFIX, index + 1)
        self.host_uuid = str(uuid.uuid4())
        self.dir = fleet.work / name
        self.local_dir = self.dir / "local"
        self.local_dir.mkdir(parents=True)
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--uts", "--mount", "--propagation", "private", "--",
             "sh", "-c", HOLDER, "sh", name, str(fleet.hosts_file), str(self.local_dir),
             str(fleet.local)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.holder.stdout.readline()
        if line.strip() != b"ready":
            self.holder.wait(30)
            raise AssertionError("host %s: no namespaces: %s"
                                 % (name, self.holder.stderr.read().decode()))
        self.wrap = [shutil.which("nsenter"), "-t", str(self.holder.pid), "-n", "-u", "-m", "--"]
        self.netns = Netns(pid=self.holder.pid)
        self.daemons = None   # ours: the DaemonSet
        self.libvirtd = None  # libvirtd: its PrivateLibvirtd
        self.conn = None
        self.events = None

    # ------------------------------------------------------------ network

    def plug(self, switch, index):
        """A veth pair: eth0 here, sw<index> on the switch's bridge."""
        port = "sw%d" % index
        subprocess.run(["ip", "link", "add", "eth0", "netns", str(self.holder.pid), "type",
                        "veth", "peer", "name", port, "netns", switch.name],
                       check=True, capture_output=True, timeout=30)
        switch.run(["ip", "link", "set", port, "master", "br0", "up"])
        self.netns.run(["ip", "addr", "add", self.addr + "/24", "dev", "eth0"])
        self.netns.run(["ip", "link", "set", "eth0", "up"])

    def cut(self):
        """The host's link down (a network cut); mend() brings it back."""
        self.netns.run(["ip", "link", "set", "eth0", "down"])

    def mend(self):
        self.netns.run(["ip", "link", "set", "eth0", "up"])

    def run(self, argv, check=True, **kw):
        """argv inside the host's namespaces; the CompletedProcess."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 120)
        r = subprocess.run(self.wrap + list(argv), **kw)
        if check and r.returncode != 0:
            raise AssertionError("%s: %s failed (%d): %s%s" % (
                self.name, " ".join(argv), r.returncode, r.stdout, r.stderr))
        return r

    # ------------------------------------------------------------ daemons

    @property
    def tcp_uri(self):
        return "qemu+tcp://%s/system" % self.name

    def tls_uri(self, client):
        """qemu+tls://NAME/system for a client on host client (its certificate by
        ?pkipath=, as libvirt's client takes it)."""
        return "qemu+tls://%s/system?pkipath=%s" % (self.name, client.pki / "client")

    def listen_conf(self):
        """The listener keys of libvirtd.conf / virtproxyd.conf for this host."""
        text = 'listen_tcp = 1\nauth_tcp = "none"\nlisten_addr = "%s"\n' % self.addr
        if self.fleet.pki is None:
            return text + "listen_tls = 0\n"
        return text + 'listen_tls = 1\nauth_tls = "none"\n' + "".join(
            '%s = "%s"\n' % kv for kv in self.tls_files.items())

    def start_ours(self):
        """virtqemud and virtproxyd under ROOT = <host dir>/root, QEMU as root."""
        self.root = self.dir / "root"
        self.root.mkdir()
        os.chmod(self.root, 0o755)
        self.daemons = DaemonSet(self.root)
        self.pki = self.root / "etc" / "pki"
        if self.fleet.pki is not None:
            self.tls_files = self.fleet.pki.install(self.name, self.addr, self.pki)
        qemud_conf = QEMU_AS_ROOT + 'host_uuid = "%s"\n' % self.host_uuid
        proxy_conf = self.listen_conf()
        etc = self.root / "etc" / "libvirt"
        etc.mkdir(parents=True)
        # Both files where a daemon started without --config reads them (virtproxyd may
        # start virtqemud itself).
        (etc / "virtqemud.conf").write_text(qemud_conf)
        (etc / "virtproxyd.conf").write_text(proxy_conf)
        self.qemud = self.daemons.start(name="virtqemud", label="virtqemud-0",
                                        args=["--timeout", "0"], wrapper=self.wrap)
        self.proxy = self.daemons.start(name="virtproxyd", label="virtproxyd-0",
                                        args=["--timeout", "0", "--listen"],
                                        ready_path=self.root / "run" / "libvirt" /
                                        "libvirt-sock", wrapper=self.wrap)
        self.uri = uri_for(self.qemud.sock)

    def start_libvirtd(self):
        self.pki = self.dir / "pki"
        if self.fleet.pki is not None:
            self.tls_files = self.fleet.pki.install(self.name, self.addr, self.pki)
        conf = 'host_uuid = "%s"\n' % self.host_uuid + self.listen_conf()
        more = {"logging": self.fleet.libvirtd_logging} if self.fleet.libvirtd_logging else {}
        self.libvirtd = PrivateLibvirtd(self.dir / "libvirtd", enter=self.wrap, conf=conf,
                                        args=["--listen"], **more)
        self.uri = self.libvirtd.uri

    def connect(self):
        """A connection and an event client on the host's daemon (again after a restart)."""
        ensure_event_loop()
        self.disconnect()
        self.conn = libvirt.open(self.uri)
        self.events = Events(self.uri)

    def disconnect(self):
        if self.events is not None:
            self.events.close()
            self.events = None
        if self.conn is not None:
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass
            self.conn = None

    def restart(self):
        """The hypervisor daemon started again (stopped first with SIGTERM if it still
        runs); its guests run on meanwhile."""
        self.disconnect()
        if self.kind == "libvirtd":
            self.libvirtd.close()
            self.libvirtd.restart()
        else:
            self.qemud.stop(timeout=STOP_TIMEOUT)
            n = len(self.daemons.daemons)
            self.qemud = self.daemons.start(name="virtqemud", label="virtqemud-%d" % n,
                                            args=["--timeout", "0"], wrapper=self.wrap)
            self.uri = uri_for(self.qemud.sock)
        self.connect()

    def kill_daemon(self):
        """SIGKILL the hypervisor daemon (it stays down until restart())."""
        self.disconnect()
        if self.kind == "libvirtd":
            self.libvirtd.kill()
        else:
            self.qemud.expected_status = -signal.SIGKILL
            self.qemud.kill()
            self.qemud.wait_exit(STOP_TIMEOUT)

    def virsh(self, *args, check=True, timeout=120):
        r = subprocess.run(["virsh", "-q", "-c", self.uri] + list(args), capture_output=True,
                           text=True, timeout=timeout, env=virsh_env())
        if check and r.returncode != 0:
            raise AssertionError("%s: virsh %s: %s%s" % (self.name, " ".join(args), r.stdout,
                                                         r.stderr))
        return r

    def domains(self, active_only=False):
        """{name: state} of the host's guests."""
        flags = libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE if active_only else 0
        return {d.name(): d.state()[0] for d in self.conn.listAllDomains(flags)}

    def qemu_pid(self, name):
        """The pid of the QEMU of guest name running in this host (its network namespace
        is the host's), or None."""
        mine = os.stat("/proc/%d/ns/net" % self.holder.pid).st_ino
        needle = ("guest=%s," % name).encode()
        for pid, _cmd in qemu_processes(self.fleet.work).items():
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if needle not in f.read():
                        continue
                if os.stat("/proc/%d/ns/net" % pid).st_ino == mine:
                    return pid
            except OSError:
                continue
        return None

    def states(self):
        """{name: (state, reason)} of the host's guests."""
        return {d.name(): tuple(d.state()) for d in self.conn.listAllDomains(0)}

    def clear(self):
        """Every guest destroyed and undefined (problems found, as text)."""
        problems = []
        for d in self.conn.listAllDomains(0):
            try:
                persistent = d.isPersistent()  # a transient one is gone once destroyed
                if d.isActive():
                    d.destroy()
                if persistent:
                    d.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
            except libvirt.libvirtError as e:
                problems.append("%s: cannot remove guest %s: %s" % (self.name, d.name(), e))
        return problems

    def stop(self):
        """The daemons stopped (their problems, as text)."""
        self.disconnect()
        problems = []
        if self.libvirtd is not None:
            self.libvirtd.close()
        if self.daemons is not None:
            # virtproxyd first: the hypervisor daemon's clients go with it
            self.daemons.daemons.reverse()
            try:
                finish_daemons(self.daemons)
            except BaseException as e:  # pytest.fail's exception: keep on stopping
                problems.append("%s: %s" % (self.name, e))
        return problems

    def close(self):
        if self.holder.poll() is None:
            self.holder.kill()
        self.holder.wait(30)
        self.holder.stdout.close()
        self.holder.stderr.close()


def virsh_env():
    env = dict(os.environ, LC_ALL="C", TERM="dumb")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    return env


class Fleet:
    """Hosts joined by a switch; kinds: e.g. ["libvirtd", "libvirtd", "ours", "ours"];
    host names a, b, c ... in that order (each also its hostname); tls: TLS listeners too,
    with certificates of the fleet's CA (host.tls_uri(client)); libvirtd_logging: the
    libvirtds' log lines (netns_libvirtd.PrivateLibvirtd's logging), None for its default."""

    def __init__(self, kinds, names=None, tls=False, libvirtd_logging=None):
        if os.geteuid() != 0:
            raise AssertionError("the hosts fixture needs root (namespaces, veth)")
        for tool in ("unshare", "nsenter", "ip", "virsh"):
            if not shutil.which(tool):
                raise AssertionError("the hosts fixture needs %s" % tool)
        if "libvirtd" in kinds and not os.path.exists(LIBVIRTD):
            raise AssertionError("Debian's libvirtd is not installed (scripts/deps.sh)")
        self.work = Path(tempfile.mkdtemp(prefix="svh.", dir="/tmp"))
        os.chmod(self.work, 0o755)
        self.shared = self.work / "shared"
        self.local = self.work / "local"
        for d in (self.shared, self.local):
            d.mkdir()
            os.chmod(d, 0o777)
        names = names or [chr(ord("a") + i) for i in range(len(kinds))]
        self.hosts_file = self.work / "hosts"
        self.hosts_file.write_text("127.0.0.1 localhost\n" + "".join(
            "%s.%d %s\n" % (ADDR_PREFIX, i + 1, n) for i, n in enumerate(names)))
        self.switch = None
        self.hosts = []
        self.pki = None
        self.libvirtd_logging = libvirtd_logging
        try:
            if tls:
                self.pki = Pki(self.work / "ca")
            self.switch = Netns.create("svsw")
            self.switch.run(["ip", "link", "add", "br0", "type", "bridge"])
            self.switch.run(["ip", "link", "set", "br0", "up"])
            for i, (n, kind) in enumerate(zip(names, kinds)):
                h = Host(self, n, i, kind)
                self.hosts.append(h)
                h.plug(self.switch, i)
            self._start_daemons()
        except BaseException:
            self.close()
            raise

    def _start_daemons(self):
        """libvirtds in parallel threads (each may take seconds), ours in turn."""
        errors = []

        def start(h):
            try:
                h.start_libvirtd()
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=start, args=(h,)) for h in self.hosts
                   if h.kind == "libvirtd"]
        for t in threads:
            t.start()
        for h in self.hosts:
            if h.kind == "ours":
                h.start_ours()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        for h in self.hosts:
            h.connect()

    def __getitem__(self, name):
        return next(h for h in self.hosts if h.name == name)

    def of_kind(self, kind):
        return [h for h in self.hosts if h.kind == kind]

    def qemus(self):
        """{pid: cmdline} of QEMUs naming the fleet's directory."""
        return qemu_processes(self.work)

    def kill_qemus(self):
        for pid in self.qemus():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def clear(self):
        """After a test: every guest gone from every host, no QEMU of the fleet left, fresh
        event clients. The problems found, as text."""
        problems = []
        for h in self.hosts:
            try:
                if h.conn is None:
                    h.connect()
                problems += h.clear()
            except libvirt.libvirtError as e:
                problems.append("%s: %s" % (h.name, e))
        deadline = time.monotonic() + 15
        while self.qemus() and time.monotonic() < deadline:
            time.sleep(0.1)
        left = self.qemus()
        if left:
            problems.append("QEMUs of the fleet still running: %r" % left)
            self.kill_qemus()
        for h in self.hosts:
            try:
                h.connect()
            except libvirt.libvirtError as e:
                problems.append("%s: cannot connect: %s" % (h.name, e))
        return problems

    def close(self):
        """Everything removed; the daemons' problems, as text."""
        problems = []
        for h in self.hosts:
            try:
                if h.conn is not None:
                    problems += h.clear()
            except libvirt.libvirtError as e:
                problems.append("%s: %s" % (h.name, e))
        for h in self.hosts:
            problems += h.stop()
        self.kill_qemus()
        for h in self.hosts:
            h.close()
        if self.switch is not None:
            self.switch.delete()
        if not os.environ.get("SV_E2E_KEEP"):
            shutil.rmtree(self.work, ignore_errors=True)
        return problems
