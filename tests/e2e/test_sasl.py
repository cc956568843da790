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


def make_sasl_dir(path):
    """libvirt.conf (SCRAM-SHA-256, the sasldb beside it) and the sasldb with USERS."""
    path.mkdir(parents=True, exist_ok=True)
    db = path / "passwd.db"
    (path / "libvirt.conf").write_text("mech_list: scram-sha-256\nsasldb_path: %s\n" % db)
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
