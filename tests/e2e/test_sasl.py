"""test_sasl.py: SASL authentication of clients (auth_unix_rw, auth_tls, auth_tcp =
"sasl"), against Debian's libvirtd 9.0 on the same configuration and the same sasldb.

SASL's own configuration is libvirt's libvirt.conf, SCRAM-SHA-256 only, with a sasldb made
here by saslpasswd2: our daemons read it as ROOT/etc/sasl2/libvirt.conf, libvirtd (which
has no --root) through SASL_CONF_PATH. Users: fred (allowed by sasl_allowed_username_list)
and joe (right password, not on the list). Clients are python3-libvirt's openAuth with a
callback and stock virsh with an auth file (LIBVIRT_AUTH_FILE), in a process of their own;
the raw client (rawrpc) sends what they would not: calls before authentication.

Over the network, virtproxyd --listen (and libvirtd --listen) run in a network namespace of
their own with TLS (test_remote.py's certificates, x509pki) and plain TCP listeners, both
asking for SASL; clients run in that namespace (nsenter) and reach 127.0.0.1.
"""

import json
import os
import shutil
import subprocess

import pytest

import rawrpc
from netns_libvirtd import Netns, PrivateLibvirtd
from rawrpc import Client, i32, string, u32
from x509pki import Pki

if not shutil.which("saslpasswd2") or not shutil.which("virsh") or \
        not shutil.which("certtool"):
    pytest.skip("saslpasswd2 (sasl2-bin), virsh (libvirt-clients) or certtool (gnutls-bin) "
                "not installed", allow_module_level=True)

PYTHON = "/usr/bin/python3"  # python3-libvirt is Debian's
USERS = {"fred": "fred-secret", "joe": "joe-secret"}
ALLOWED = 'sasl_allowed_username_list = ["fred", "admin*"]\n'
NET_CONF = ('listen_tls = 1\nlisten_tcp = 1\nauth_tcp = "sasl"\nauth_tls = "sasl"\n'
            'tls_allowed_dn_list = ["%s"]\n' % Pki.ALLOWED_DN)
PROC_AUTH_SASL_INIT, PROC_AUTH_SASL_START, PROC_AUTH_SASL_STEP = 67, 68, 69
ERR_RPC, ERR_AUTH_FAILED, FROM_RPC = 39, 45, 7

# One connection as a stock client makes it: openAuth answering the SASL prompts, then one
# call; prints what came of it as JSON, then (with "hold") keeps the connection open until
# a line arrives on stdin.
CLIENT = r"""
import json, sys
import libvirt
uri, user, password = sys.argv[1:4]
def creds(cs, data):
    for c in cs:
        c[4] = password if c[0] == libvirt.VIR_CRED_PASSPHRASE else user
    return 0
libvirt.registerErrorHandler(lambda *a: None, None)
kinds = [libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_USERNAME, libvirt.VIR_CRED_PASSPHRASE]
try:
    c = libvirt.openAuth(uri, [kinds, creds, None], 0)
    c.getLibVersion()
    print(json.dumps({"ok": True}), flush=True)
    if "hold" in sys.argv[4:]:
        sys.stdin.readline()
    c.close()
except libvirt.libvirtError as e:
    print(json.dumps({"ok": False, "code": e.get_error_code(), "domain": e.get_error_domain(),
                      "message": e.get_error_message()}), flush=True)
"""


def open_as(uri, user, password, netns_argv=()):
    """What a stock client's open as user with password comes to (CLIENT's JSON)."""
    r = subprocess.run(list(netns_argv) + [PYTHON, "-c", CLIENT, uri, user, password],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def make_sasl_dir(path, mech="scram-sha-256"):
    """libvirt.conf (mech only, the sasldb beside it) and the sasldb with USERS."""
    path.mkdir(parents=True, exist_ok=True)
    db = path / "passwd.db"
    (path / "libvirt.conf").write_text("mech_list: %s\nsasldb_path: %s\n" % (mech, db))
    for user, password in USERS.items():
        subprocess.run(["saslpasswd2", "-p", "-c", "-f", str(db), "-a", "libvirt", user],
                       input=password, text=True, check=True, capture_output=True)
    return path


def admin_client_info(admin_uri, server):
    """virt-admin client-info of the newest client of server, as a dict."""
    r = subprocess.run(["virt-admin", "-c", admin_uri, "srv-clients-list", server],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    ids = [int(line.split()[0]) for line in r.stdout.splitlines()
           if line.strip() and line.split()[0].isdigit()]
    assert ids, r.stdout
    r = subprocess.run(["virt-admin", "-c", admin_uri, "client-info", server, str(max(ids))],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return dict((k.strip(), v.strip()) for k, v in
                (line.split(":", 1) for line in r.stdout.splitlines() if ":" in line))


def info_while_open(uri, admin_uri, server, user, netns_argv=()):
    """client-info of the newest client of server while user's SASL connection (over uri)
    is open."""
    p = subprocess.Popen(list(netns_argv) + [PYTHON, "-c", CLIENT, uri, user, USERS[user],
                                             "hold"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert json.loads(p.stdout.readline()) == {"ok": True}
        return admin_client_info(admin_uri, server)
    finally:
        p.stdin.write("\n")
        p.stdin.close()
        p.wait(timeout=30)


class Ours:
    """virtqemud under root with auth_unix_rw = "sasl" and SASL's files in ROOT/etc/sasl2."""

    def __init__(self, daemons, root, extra=""):
        make_sasl_dir(root / "etc" / "sasl2")
        self.d = daemons.start(config='auth_unix_rw = "sasl"\n' + ALLOWED + extra,
                               ready_path=root / "run/libvirt/virtqemud-sock-ro")
        self.uri = "qemu+unix:///system?socket=%s" % self.d.sock
        self.sock = str(self.d.sock)
        self.admin_uri = "virtqemud:///system?socket=%s" % self.d.sock_admin
        self.server = "virtqemud"


@pytest.fixture
def ours(daemons, root):
    return Ours(daemons, root)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki"))


def net_uri(transport, pki):
    """A client's URI for the listener in its namespace (alice's certificate for TLS)."""
    if transport == "tls":
        return "qemu+tls://127.0.0.1/system?pkipath=%s" % pki.clients["alice"]
    return "qemu+tcp://127.0.0.1/system"


@pytest.fixture
def ours_net(daemons, root, pki):
    """virtqemud, and virtproxyd listening on TLS and TCP in a namespace of its own, both
    network listeners asking for SASL."""
    ns = Netns.create("svsasl")
    try:
        pki.install_server(root)
        make_sasl_dir(root / "etc" / "sasl2")
        qemud = daemons.start(name="virtqemud")
        daemons.start(name="virtproxyd", label="virtproxyd", args=["--listen"],
                      config=NET_CONF + ALLOWED, wrapper=ns.argv([]),
                      ready_path=root / "run" / "libvirt" / "libvirt-sock")
        ns.qemud = qemud
        yield ns
    finally:
        ns.delete()


@pytest.fixture(scope="module")
def theirs(tmp_path_factory, pki):
    """Debian's libvirtd on the same files: SASL on its read-write socket, and on its TLS
    and TCP listeners (in its own network namespace)."""
    work = tmp_path_factory.mktemp("sasl-libvirtd")
    sasl = make_sasl_dir(work / "sasl2")
    d = PrivateLibvirtd(work / "libvirtd", auth_unix_rw="sasl",
                        conf=ALLOWED + NET_CONF + pki.libvirtd_conf(),
                        env={"SASL_CONF_PATH": str(sasl)}, args=["--listen"])
    d.sock = str(d.sock_dir / "libvirt-sock")
    d.admin_uri = "libvirtd:///system?socket=%s/libvirt-admin-sock" % d.sock_dir
    d.server = "libvirtd"
    yield d
    d.close()


def both(ours, theirs, user, password):
    return open_as(ours.uri, user, password), open_as(theirs.uri, user, password)


# ---------------------------------------------------------------- ours alone


def test_right_password(ours):
    """fred gets in with SCRAM-SHA-256 over the unix socket; the server knows him as
    fred (virt-admin client-info's sasl_user_name)."""
    assert open_as(ours.uri, "fred", USERS["fred"]) == {"ok": True}
    info = info_while_open(ours.uri, ours.admin_uri, ours.server, "fred")
    assert info.get("sasl_user_name") == "fred", info


def test_wrong_password_and_not_allowed(ours):
    """A wrong password, and a user outside sasl_allowed_username_list, hear libvirt's
    one answer, AUTH_FAILED 'authentication failed'."""
    for user, password in (("fred", "wrong"), ("joe", USERS["joe"]), ("nobody", "x")):
        r = open_as(ours.uri, user, password)
        assert not r["ok"], (user, r)
        assert (r["code"], r["domain"]) == (ERR_AUTH_FAILED, FROM_RPC), (user, r)
        assert r["message"] == "authentication failed: authentication failed", (user, r)


def test_calls_before_auth(ours):
    """Before authentication only the AUTH_* calls are served."""
    with Client(ours.sock) as c:
        assert c.auth_list() == [1]
        _, e = c.call_error(rawrpc.PROC_CONNECT_SUPPORTS_FEATURE, i32(10))
        assert (e.code, e.domain, e.message) == (ERR_RPC, FROM_RPC, "authentication required")
        u = c.call(PROC_AUTH_SASL_INIT)
        assert u.string() == "SCRAM-SHA-256"


def test_virsh_auth_file(ours, tmp_path):
    """Stock virsh with an auth file (LIBVIRT_AUTH_FILE) opens the connection."""
    auth = tmp_path / "auth.conf"
    auth.write_text("[credentials-test]\nauthname=fred\npassword=%s\n\n"
                    "[auth-libvirt-default]\ncredentials=test\n" % USERS["fred"])
    r = subprocess.run(["virsh", "-c", ours.uri, "uri"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, LIBVIRT_AUTH_FILE=str(auth)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ours.uri


def test_proxy_relays_sasl_client(daemons, root):
    """virtproxyd asking for SASL on its socket relays the client it authenticated to
    virtqemud (which asks for nothing), telling it who the client is: virtqemud's
    client-info names fred."""
    make_sasl_dir(root / "etc" / "sasl2")
    qemud = daemons.start()
    proxy = daemons.start(name="virtproxyd", label="virtproxyd",
                          config='auth_unix_rw = "sasl"\n' + ALLOWED,
                          ready_path=root / "run/libvirt/libvirt-sock-ro")
    uri = "qemu+unix:///system?socket=%s/libvirt-sock" % proxy.run_dir
    assert open_as(uri, "fred", "wrong")["message"] == \
        "authentication failed: authentication failed"
    info = info_while_open(uri, "virtqemud:///system?socket=%s" % qemud.sock_admin,
                           "virtqemud", "fred")
    assert info.get("sasl_user_name") == "fred", info


# ---------------------------------------------------------------- against libvirtd


@pytest.mark.slow
def test_same_answers_as_libvirtd(ours, theirs):
    """The same opens on the same files: the same outcome, error code, domain and
    message, and the same sasl_user_name for the client let in."""
    for user, password in (("fred", USERS["fred"]), ("fred", "wrong"),
                           ("joe", USERS["joe"]), ("nobody", "x")):
        mine, libvirtd = both(ours, theirs, user, password)
        assert mine == libvirtd, (user, password, mine, libvirtd)
    mine = info_while_open(ours.uri, ours.admin_uri, ours.server, "fred")
    libvirtd = info_while_open(theirs.uri, theirs.admin_uri, theirs.server, "fred")
    assert mine["sasl_user_name"] == libvirtd["sasl_user_name"] == "fred"


def clients_info(admin_uri, server):
    r = subprocess.run(["virt-admin", "-c", admin_uri, "srv-clients-info", server],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return dict((k.strip(), v.strip()) for k, v in
                (line.split(":", 1) for line in r.stdout.splitlines() if ":" in line))


@pytest.mark.slow
def test_unauthenticated_clients_counted_as_libvirtd(ours, theirs):
    """A client that has not authenticated yet counts in nclients_unauth, on both; once
    it has, it no longer does."""
    for d in (ours, theirs):
        with Client(d.sock) as c:
            assert c.auth_list() == [1]
            info = clients_info(d.admin_uri, d.server)
            assert info["nclients_unauth"] == "1", (d.server, info)
            assert info["nclients_unauth_max"] == "20", (d.server, info)
        p = subprocess.Popen([PYTHON, "-c", CLIENT, d.uri, "fred", USERS["fred"], "hold"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert json.loads(p.stdout.readline()) == {"ok": True}
            assert clients_info(d.admin_uri, d.server)["nclients_unauth"] == "0", d.server
        finally:
            p.stdin.write("\n")
            p.stdin.close()
            p.wait(timeout=30)


@pytest.mark.slow
def test_raw_answers_as_libvirtd(ours, theirs):
    """Calls before and around authentication, byte for byte the same answers."""
    def run(path):
        out = []
        with Client(path) as c:
            out.append(("auth_list", c.auth_list()))
            for proc, payload in ((rawrpc.PROC_CONNECT_SUPPORTS_FEATURE, i32(10)),
                                  (rawrpc.PROC_CONNECT_OPEN, u32(0) + u32(0)),
                                  (PROC_AUTH_SASL_STEP, i32(1) + u32(0)),
                                  (PROC_AUTH_SASL_START,
                                   string("SCRAM-SHA-256") + i32(1) + u32(0))):
                _, e = c.call_error(proc, payload)
                out.append((proc, e.code, e.domain, e.message))
            out.append(("init", c.call(PROC_AUTH_SASL_INIT).string()))
            _, e = c.call_error(PROC_AUTH_SASL_INIT)
            out.append(("init again", e.code, e.domain, e.message))
        return out

    assert run(ours.sock) == run(theirs.sock)


# ---------------------------------------------------------------- over the network


def test_tls_sasl(ours_net, pki):
    """Over TLS (alice's certificate), fred gets in with SCRAM-SHA-256 and a wrong password
    does not; virtproxyd relays fred to virtqemud, which knows him as fred."""
    ns = ours_net.argv([])
    uri = net_uri("tls", pki)
    assert open_as(uri, "fred", USERS["fred"], netns_argv=ns) == {"ok": True}
    r = open_as(uri, "fred", "wrong", netns_argv=ns)
    assert (r["ok"], r.get("code"), r.get("domain"), r.get("message")) == \
        (False, ERR_AUTH_FAILED, FROM_RPC, "authentication failed: authentication failed"), r
    info = info_while_open(uri, "virtqemud:///system?socket=%s" % ours_net.qemud.sock_admin,
                           "virtqemud", "fred", netns_argv=ns)
    assert info.get("sasl_user_name") == "fred", info


def test_tcp_sasl_refused(ours_net, pki):
    """Plain TCP asks for a security layer of tcp_min_ssf bits, which SCRAM has not: no
    mechanism is left and every client is refused, the right password too."""
    r = open_as(net_uri("tcp", pki), "fred", USERS["fred"], netns_argv=ours_net.argv([]))
    assert (r["ok"], r.get("code"), r.get("domain"), r.get("message")) == \
        (False, ERR_AUTH_FAILED, FROM_RPC, "authentication failed: authentication failed"), r


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["tls", "tcp"])
def test_network_as_libvirtd(ours_net, theirs, pki, transport):
    """The same opens over TLS and plain TCP against both: the same outcomes and errors.
    Over plain TCP libvirtd 9.0 refuses SCRAM-SHA-256 whatever the password (no mechanism
    meets tcp_min_ssf: its log says 'no SASL mechanisms are available'), and so do we."""
    uri = net_uri(transport, pki)
    for user, password in (("fred", USERS["fred"]), ("fred", "wrong"), ("joe", USERS["joe"])):
        mine = open_as(uri, user, password, netns_argv=ours_net.argv([]))
        ref = open_as(uri, user, password, netns_argv=theirs.netns.argv([]))
        assert mine == ref, (transport, user, password, mine, ref)
        if transport == "tcp":
            assert not mine["ok"], mine
    if transport == "tcp":
        assert "no SASL mechanisms are available" in theirs.log_tail(), theirs.log_tail()


def virsh_with(uri, auth_dir, args, netns_argv):
    """Stock virsh as fred with an auth file, in the namespace."""
    auth = auth_dir / "auth.conf"
    auth.write_text("[credentials-test]\nauthname=fred\npassword=%s\n\n"
                    "[auth-libvirt-default]\ncredentials=test\n" % USERS["fred"])
    return subprocess.run(list(netns_argv) + ["virsh", "-c", uri] + list(args),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, LIBVIRT_AUTH_FILE=str(auth)))


def daemon_client_open(uri, password, work, netns_argv):
    """The open a source daemon's peer-to-peer migration makes (tests/sv-remote-open-tool:
    sv_remote_uri_open, then CONNECT_GET_HOSTNAME), as fred with password from the auth file
    under its root work: (exit status, hostname or error)."""
    auth = work / "etc" / "libvirt" / "auth.conf"
    auth.parent.mkdir(parents=True, exist_ok=True)
    auth.write_text("[credentials-test]\nauthname=fred\npassword=%s\n\n"
                    "[auth-libvirt-default]\ncredentials=test\n" % password)
    tool = os.path.join(os.environ["SV_BUILD_DIR"], "tests", "sv-remote-open-tool")
    r = subprocess.run(list(netns_argv) + [tool, uri, str(work)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120)
    return r.returncode, (r.stdout if r.returncode == 0 else r.stderr).strip()


@pytest.mark.slow
def test_security_layer_over_tcp(daemons, root, tmp_path):
    """DIGEST-MD5 over plain TCP negotiates a SASL security layer (128 bits), which every
    later byte crosses, encoded in blocks, also from our daemons' own client: fred gets in
    on both daemons and a wrong
    password does not, with the same answers; a definition of 200 KB (many blocks each
    way) goes in and comes back through the layer whole, as virtqemud has it."""
    ns = Netns.create("svsasl")
    try:
        make_sasl_dir(root / "etc" / "sasl2", mech="digest-md5")
        qemud = daemons.start(name="virtqemud")
        daemons.start(name="virtproxyd", label="virtproxyd", args=["--listen"],
                      config='listen_tls = 0\nlisten_tcp = 1\nauth_tcp = "sasl"\n',
                      wrapper=ns.argv([]), ready_path=root / "run" / "libvirt" / "libvirt-sock")
        mine = [open_as(net_uri("tcp", None), "fred", pw, netns_argv=ns.argv([]))
                for pw in (USERS["fred"], "wrong")]
        mine_daemon = [daemon_client_open(net_uri("tcp", None), pw, tmp_path / "ours-client",
                                          ns.argv([])) for pw in (USERS["fred"], "wrong")]
        xml = tmp_path / "big.xml"
        xml.write_text("<domain type='qemu'><name>big</name><description>%s</description>"
                       "<memory unit='MiB'>64</memory><vcpu>1</vcpu><os>"
                       "<type arch='x86_64'>hvm</type></os></domain>" % ("0123456789" * 20000))
        define = virsh_with(net_uri("tcp", None), tmp_path, ["define", str(xml)], ns.argv([]))
        over_layer = virsh_with(net_uri("tcp", None), tmp_path, ["dumpxml", "big"], ns.argv([]))
        direct = subprocess.run(["virsh", "-c", "qemu+unix:///system?socket=%s" % qemud.sock,
                                 "dumpxml", "big"], stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=120)
    finally:
        ns.delete()
    assert define.returncode == 0, define.stderr
    assert over_layer.returncode == 0 and direct.returncode == 0, (over_layer.stderr,
                                                                   direct.stderr)
    assert "0123456789" * 20000 in over_layer.stdout
    assert over_layer.stdout == direct.stdout
    sasl = make_sasl_dir(tmp_path / "sasl2", mech="digest-md5")
    lv = PrivateLibvirtd(tmp_path / "libvirtd",
                         conf='listen_tls = 0\nlisten_tcp = 1\nauth_tcp = "sasl"\n',
                         env={"SASL_CONF_PATH": str(sasl)}, args=["--listen"])
    try:
        ref = [open_as(net_uri("tcp", None), "fred", pw, netns_argv=lv.netns.argv([]))
               for pw in (USERS["fred"], "wrong")]
        ref_daemon = [daemon_client_open(net_uri("tcp", None), pw, tmp_path / "lv-client",
                                         lv.netns.argv([])) for pw in (USERS["fred"], "wrong")]
    finally:
        lv.close()
    assert mine == ref, (mine, ref)
    assert mine[0] == {"ok": True}, mine
    # Our daemons' own client (a peer-to-peer migration's source) runs the layer too: it gets
    # in to both with the right password, and is refused with the wrong one
    for got in (mine_daemon, ref_daemon):
        assert got[0] == (0, os.uname().nodename), got
        assert got[1][0] == 1 and "authentication failed" in got[1][1], got
