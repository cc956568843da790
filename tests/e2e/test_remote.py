"""test_remote.py: remote access to virtproxyd over TLS and plain TCP from stock virsh
(issue 21 item 1), beside Debian's libvirtd 9.0 with the same certificates and settings.

Each test's virtproxyd runs in a network namespace of its own (netns_libvirtd.Netns),
started with --listen, and virsh runs in that namespace too (nsenter), reaching it on the
namespace's loopback: no port of the host is taken. virtqemud, its backend, sits beside
it under the same --root. The certificates are made here with certtool: a CA, the
server's (CN=localhost, IP address 127.0.0.1), two clients' (CN=alice, on
tls_allowed_dn_list; CN=mallory, not on it), and a client directory holding the CA
alone. The server's files go where libvirt looks for them (ROOT/etc/pki/...), the clients'
into a pkipath directory each.
"""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from netns_libvirtd import Netns, PrivateLibvirtd
from svdaemon import build_dir
from x509pki import Pki

if not shutil.which("virsh") or not shutil.which("certtool"):
    pytest.skip("virsh (libvirt-clients) or certtool (gnutls-bin) not installed",
                allow_module_level=True)

VIRSH_TIMEOUT = 60
ALLOWED_DN = Pki.ALLOWED_DN
# auth_tcp and auth_tls spelled out: libvirt's default for TCP is SASL.
LISTEN_CONF = ('listen_tls = 1\nlisten_tcp = 1\nauth_tcp = "none"\nauth_tls = "none"\n'
               'tls_allowed_dn_list = ["%s"]\n' % ALLOWED_DN)
@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


class Host:
    """Where a listening daemon runs: its namespace, and virsh in it."""

    def __init__(self, ns, pki):
        self.ns, self.pki = ns, pki

    def uri(self, transport, who=None, path="/system"):
        uri = "qemu+%s://127.0.0.1%s" % (transport, path)
        if who:
            uri += "?pkipath=%s" % self.pki.clients[who]
        return uri

    def virsh(self, uri, *args):
        return self.ns.run(["virsh", "-c", uri, "-q"] + list(args), check=False,
                           timeout=VIRSH_TIMEOUT)


@pytest.fixture
def ours_with(root, daemons, pki):
    """ours_with(extra_conf): our virtqemud and virtproxyd, the proxy listening in a network
    namespace of its own with LISTEN_CONF and extra_conf."""
    spaces = []

    def start(extra_conf=""):
        ns = Netns.create("svrem")
        spaces.append(ns)
        pki.install_server(root)
        daemons.start(name="virtqemud")
        daemons.start(name="virtproxyd", args=["--listen"], config=LISTEN_CONF + extra_conf,
                      wrapper=ns.argv([]), ready_path=root / "run" / "libvirt" / "libvirt-sock")
        return Host(ns, pki)

    try:
        yield start
    finally:
        for ns in spaces:
            ns.delete()


@pytest.fixture
def ours(ours_with):
    return ours_with()


@pytest.fixture
def theirs_with(tmp_path, pki):
    """theirs_with(extra_conf): Debian's libvirtd, listening in its namespace with the same
    settings (the caller holds the libvirtd lock)."""
    started = []

    def start(extra_conf=""):
        lv = PrivateLibvirtd(tmp_path / "libvirtd",
                             conf=LISTEN_CONF + pki.libvirtd_conf() + extra_conf,
                             args=["--listen"])
        started.append(lv)
        return Host(lv.netns, pki)

    try:
        yield start
    finally:
        for lv in started:
            lv.close()


@pytest.fixture
def theirs(theirs_with):
    return theirs_with()


def test_tls_client_on_the_allowed_list(ours, root):
    r = ours.virsh(ours.uri("tls", "alice"), "list", "--all")
    assert r.returncode == 0, r.stderr
    r = ours.virsh(ours.uri("tls", "alice"), "hostname")
    assert r.returncode == 0 and r.stdout.strip(), r.stderr
    # Messages of many TLS records (a 200 kB description) cross the relay whole both ways:
    # what comes back is what the backend's own socket gives.
    xml = root / "big.xml"
    xml.write_text("<domain type='qemu'><name>bigdesc</name><description>%s</description>"
                   "<memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
                   "<os><type arch='x86_64'>hvm</type></os></domain>" % ("0123456789" * 20000))
    r = ours.virsh(ours.uri("tls", "alice"), "define", str(xml))
    assert r.returncode == 0, r.stderr
    tls = ours.virsh(ours.uri("tls", "alice"), "dumpxml", "bigdesc")
    local = ours.virsh("qemu+unix:///system?socket=%s" % (root / "run/libvirt/virtqemud-sock"),
                       "dumpxml", "bigdesc")
    assert tls.returncode == local.returncode == 0, (tls.stderr, local.stderr)
    assert len(tls.stdout) > 200000 and tls.stdout == local.stdout
    assert ours.virsh(ours.uri("tls", "alice"), "undefine", "bigdesc").returncode == 0


@pytest.mark.parametrize("who", ["mallory", "nocert"])
def test_tls_client_refused(ours, who):
    """A certificate outside tls_allowed_dn_list, or none: the server ends the connection
    after the handshake, before the confirmation byte and any message; virsh reports it as
    against libvirtd (test_tls_as_libvirtd): the read of the confirmation failed."""
    r = ours.virsh(ours.uri("tls", who), "list", "--all")
    assert r.returncode != 0
    assert r.stderr == ("error: failed to connect to the hypervisor\n"
                        "error: Unable to read TLS confirmation: Input/output error\n"), r.stderr


NO_VERIFY = "tls_no_verify_certificate = 1\n"


@pytest.mark.parametrize("who", ["mallory", "nocert"])
def test_tls_no_verify_certificate(ours_with, who):
    """tls_no_verify_certificate = 1: the certificate's failures (outside the allowed list,
    or none at all) are logged, and the client is let in."""
    host = ours_with(NO_VERIFY)
    r = host.virsh(host.uri("tls", who), "list", "--all")
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("who", ["mallory", "nocert"])
def test_tls_no_verify_certificate_as_libvirtd(ours_with, theirs_with, who):
    mine, ref = ours_with(NO_VERIFY), theirs_with(NO_VERIFY)
    a = mine.virsh(mine.uri("tls", who), "list", "--all")
    b = ref.virsh(ref.uri("tls", who), "list", "--all")
    assert (a.returncode, a.stderr) == (b.returncode, b.stderr)


def test_tcp_with_auth_none(ours):
    r = ours.virsh(ours.uri("tcp"), "list", "--all")
    assert r.returncode == 0, r.stderr


def admin_rows(uri, *args):
    """virt-admin's table rows (after the header and its rule), split into columns."""
    out = subprocess.run(["virt-admin", "-c", uri] + list(args), capture_output=True,
                         text=True, check=True).stdout
    return [ln.split() for ln in out.splitlines()[2:] if ln.strip()]


def admin_fields(uri, *args):
    out = subprocess.run(["virt-admin", "-c", uri] + list(args), capture_output=True,
                         text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in
            (ln.split(":", 1) for ln in out.splitlines() if ":" in ln)}


def test_admin_sees_the_remote_client(ours, root):
    """virt-admin's client list and info show a TLS client as libvirt's: transport tls,
    its address and its certificate's DN."""
    if not shutil.which("virt-admin"):
        pytest.skip("virt-admin not installed")
    admin = "virtproxyd:///system?socket=%s" % (root / "run" / "libvirt" / "libvirt-admin-sock")
    # python3-libvirt holds the connection open until its stdin closes.
    hold = ("import libvirt, sys\nc = libvirt.open(sys.argv[1])\nprint('open', flush=True)\n"
            "sys.stdin.read()\nc.close()\n")
    p = ours.ns.popen(["/usr/bin/python3", "-c", hold, ours.uri("tls", "alice")],
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "open"
        tls = [r for r in admin_rows(admin, "client-list", "virtproxyd") if r[1] == "tls"]
        assert len(tls) == 1, tls
        fields = admin_fields(admin, "client-info", "virtproxyd", tls[0][0])
        assert fields["tls_x509_dname"] == ALLOWED_DN, fields
        assert fields["sock_addr"].startswith("127.0.0.1;"), fields
        assert fields["transport"] == "tls", fields
        # The backend hears of the DN with the rest of the identity the proxy forwards, as
        # libvirt's virtqemud does from its virtproxyd.
        qadmin = "virtqemud:///system?socket=%s" % (root / "run" / "libvirt" /
                                                     "virtqemud-admin-sock")
        rows = admin_rows(qadmin, "client-list", "virtqemud")
        dns = [admin_fields(qadmin, "client-info", "virtqemud", r[0]).get("tls_x509_dname")
               for r in rows]
        assert dns.count(ALLOWED_DN) == 1, dns
    finally:
        p.stdin.close()
        p.wait(timeout=VIRSH_TIMEOUT)


def test_socket_activated_tls(root, daemons, pki):
    """virtproxyd started by its sockets, virtproxyd-tls.socket among them (as systemd
    passes them: the unit names as the descriptors' names) serves TLS clients; --listen with
    sockets passed is libvirt's start-up error."""
    activate = shutil.which("systemd-socket-activate")
    if not activate:
        pytest.skip("systemd-socket-activate not installed")
    ns = Netns.create("svrem")
    try:
        pki.install_server(root)
        daemons.start(name="virtqemud")
        sock = root / "run" / "libvirt" / "libvirt-sock"
        sock.parent.mkdir(parents=True, exist_ok=True)
        wrapper = ns.argv([activate, "-l", str(sock), "-l", "127.0.0.1:16514",
                           "--fdname=virtproxyd.socket:virtproxyd-tls.socket"])
        daemons.start(name="virtproxyd", label="virtproxyd-activated", wrapper=wrapper,
                      config=LISTEN_CONF, ready_path=sock)
        host = Host(ns, pki)
        r = host.virsh(host.uri("tls", "alice"), "list", "--all")
        assert r.returncode == 0, r.stderr
        r = host.virsh(host.uri("tls", "mallory"), "list", "--all")
        assert "Unable to read TLS confirmation" in r.stderr and r.returncode != 0
    finally:
        ns.delete()


def test_listen_with_activation_refused(root, daemons):
    activate = shutil.which("systemd-socket-activate")
    if not activate:
        pytest.skip("systemd-socket-activate not installed")
    sock = root / "run" / "libvirt" / "libvirt-sock"
    sock.parent.mkdir(parents=True, exist_ok=True)
    d = daemons.new(name="virtproxyd", label="virtproxyd-listen", args=["--listen"],
                    wrapper=[activate, "-l", str(sock), "--fdname=virtproxyd.socket"],
                    ready_path=sock)
    d.expected_status = "nonzero"
    d.start(wait=False)
    # The activator execs the daemon on the first connection.
    try:
        socket_poke(sock)
    finally:
        d.wait_exit(30)
    assert d.proc.returncode != 0
    assert ("--listen parameter not permitted with systemd activation sockets, see 'man "
            "libvirtd' for further guidance") in d.stderr_text()


def socket_poke(path):
    """Connect once the activator listens on path, and wait for the other end to go."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(10)
            s.connect(str(path))
            s.recv(1)
            return
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(0.05)
        except OSError:
            return
        finally:
            s.close()


@pytest.mark.slow
@pytest.mark.parametrize("who", ["alice", "mallory", "nocert"])
def test_tls_as_libvirtd(ours, theirs, who):
    """The same client against both: what virsh reports (success, or the refusal's
    message) is the same."""
    mine = ours.virsh(ours.uri("tls", who), "list", "--all")
    ref = theirs.virsh(theirs.uri("tls", who), "list", "--all")
    assert (mine.returncode == 0) == (ref.returncode == 0), (mine.stderr, ref.stderr)
    assert mine.stderr == ref.stderr


@pytest.mark.slow
def test_tcp_as_libvirtd(ours, theirs):
    mine = ours.virsh(ours.uri("tcp"), "uri")
    ref = theirs.virsh(theirs.uri("tcp"), "uri")
    assert mine.returncode == ref.returncode == 0, (mine.stderr, ref.stderr)
    assert mine.stdout == ref.stdout


# ---------------------------------------------------------------- our own client side

def open_tool(host, uri, client_root):
    """sv_remote_uri_open as a source daemon's peer-to-peer migration uses it, from the
    host's namespace (tests/sv-remote-open-tool: the open, then CONNECT_GET_HOSTNAME)."""
    return host.ns.run([str(build_dir() / "tests" / "sv-remote-open-tool"), uri,
                        str(client_root)], check=False, timeout=VIRSH_TIMEOUT)


@pytest.mark.parametrize("transport", ["tls", "tcp"])
def test_uri_open(ours, tmp_path, pki, transport):
    """The client's files at libvirt's paths below the daemon's root."""
    croot = pki.install_client(tmp_path / "client", "alice")
    r = open_tool(ours, "qemu+%s://127.0.0.1/system" % transport, croot)
    assert r.returncode == 0 and r.stdout.strip(), r.stderr


def test_uri_open_refused(ours, tmp_path, pki):
    croot = pki.install_client(tmp_path / "client", "mallory")
    r = open_tool(ours, "qemu+tls://127.0.0.1/system", croot)
    assert r.returncode == 1
    assert r.stderr == "error 38/7: Unable to read TLS confirmation: Input/output error\n"


@pytest.mark.slow
def test_uri_open_libvirtd(theirs, ours, tmp_path, pki):
    """Our client against libvirtd: TLS and TCP open, and the refusal reads as against
    ours."""
    alice = pki.install_client(tmp_path / "alice", "alice")
    for transport in ("tls", "tcp"):
        r = open_tool(theirs, "qemu+%s://127.0.0.1/system" % transport, alice)
        assert r.returncode == 0 and r.stdout.strip(), r.stderr
    mallory = pki.install_client(tmp_path / "mallory", "mallory")
    mine = open_tool(ours, "qemu+tls://127.0.0.1/system", mallory)
    ref = open_tool(theirs, "qemu+tls://127.0.0.1/system", mallory)
    assert (mine.returncode, mine.stderr) == (ref.returncode, ref.stderr)


# ---------------------------------------------------------------- qemu+ssh, netcat mode

SSHD = "/usr/sbin/sshd"


@pytest.fixture
def sshd(ours, tmp_path, root):
    """An sshd of the test's own in the daemons' namespace: its own host key and config,
    root's login by a test key only. virsh reaches it through an ssh wrapper (the URI's
    command=) that reads the test's client config, so that the known hosts file and the
    key are the test's and nothing of the machine's ssh setup is read or changed."""
    if not Path(SSHD).exists():
        pytest.skip("openssh-server not installed")
    if not shutil.which("nc"):
        pytest.skip("netcat-openbsd not installed")
    d = tmp_path / "ssh"
    d.mkdir(mode=0o700)
    for key in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / key)],
                       check=True)
    (d / "authorized_keys").write_text((d / "client.pub").read_text())
    (d / "sshd_config").write_text(
        "ListenAddress 127.0.0.1\nPort 22\nHostKey %s\nPidFile %s\n"
        "AuthorizedKeysFile %s\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\n" % (d / "host", d / "sshd.pid", d / "authorized_keys"))
    (d / "ssh_config").write_text(
        "Host *\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n"
        "  StrictHostKeyChecking no\n  BatchMode yes\n" % (d / "client", d / "known_hosts"))
    wrapper = d / "ssh"
    wrapper.write_text("#!/usr/bin/python3\nimport os, sys\n"
                       "os.execv('/usr/bin/ssh', ['ssh', '-F', %r] + sys.argv[1:])\n"
                       % str(d / "ssh_config"))
    wrapper.chmod(0o755)
    # sshd insists on its privilege separation directory (Debian's service makes it).
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    proc = ours.ns.popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config")],
                         stdout=subprocess.DEVNULL, stderr=open(d / "sshd.log", "w"))
    try:
        for _ in range(100):
            if ours.ns.run(["nc", "-z", "127.0.0.1", "22"], check=False).returncode == 0:
                break
            assert proc.poll() is None, (d / "sshd.log").read_text()
            time.sleep(0.1)
        yield wrapper
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_ssh_netcat(ours, sshd, root):
    """qemu+ssh in netcat mode: ssh runs `nc -U` on the server's socket, virtproxyd's."""
    sock = root / "run" / "libvirt" / "libvirt-sock"
    uri = "qemu+ssh://root@127.0.0.1/system?proxy=netcat&socket=%s&command=%s" % (sock, sshd)
    r = ours.virsh(uri, "list", "--all")
    assert r.returncode == 0, r.stderr
    r = ours.virsh(uri, "hostname")
    assert r.returncode == 0 and r.stdout.strip(), r.stderr


# ---------------------------------------------------------------- host identity

HOST_UUID = "5d0ad1c8-5a4e-4d0b-9f8e-2c7a1e3b6f40"


def host_uuid_of(caps_xml):
    import xml.etree.ElementTree as ET
    return ET.fromstring(caps_xml).findtext("host/uuid")


def test_host_uuid_key(root, daemons):
    """host_uuid in virtqemud.conf is the host's UUID in the capabilities (what migration's
    cookie carries); a value libvirt would not take stops the start with its message."""
    d = daemons.start(name="virtqemud", config='host_uuid = "%s"\n' % HOST_UUID.upper())
    r = subprocess.run(["virsh", "-c", "qemu+unix:///system?socket=%s" % d.sock, "-q",
                        "capabilities"], capture_output=True, text=True, timeout=VIRSH_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert host_uuid_of(r.stdout) == HOST_UUID
    d.stop()
    bad = daemons.new(name="virtqemud", label="virtqemud-bad-uuid",
                      config='host_uuid = "11111111-1111-1111-1111-111111111111"\n')
    bad.expected_status = "nonzero"
    bad.start(wait=False)
    assert bad.wait_exit(60) != 0
    assert "invalid host UUID: 11111111-1111-1111-1111-111111111111" in bad.stderr_text()


@pytest.mark.slow
def test_host_uuid_key_as_libvirtd(tmp_path):
    lv = PrivateLibvirtd(tmp_path / "libvirtd", conf='host_uuid = "%s"\n' % HOST_UUID)
    try:
        assert host_uuid_of(lv.virsh("capabilities").stdout) == HOST_UUID
    finally:
        lv.close()


def test_hostname_is_the_uts_namespace(root, daemons):
    """CONNECT_GET_HOSTNAME (what migration's cookie names the host by) is the daemon's UTS
    hostname: a host made with `unshare --uts` and `hostname NAME` reports NAME."""
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) not installed")
    name = "svuts-%d" % os.getpid()
    d = daemons.start(name="virtqemud", wrapper=["unshare", "--uts", "sh", "-c",
                                                 'hostname "$0" && exec "$@"', name])
    r = subprocess.run(["virsh", "-c", "qemu+unix:///system?socket=%s" % d.sock, "-q",
                        "hostname"], capture_output=True, text=True, timeout=VIRSH_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == name
