"""test_readonly.py: the read-only table, on every daemon's read-only socket.

Which procedures a read-only connection may call comes from the .x files' `ro`
annotations (libvirt 9.0's rule: allowed exactly where the public API does not check for
a read-only connection, virCheckReadOnlyGoto). This test derives the write procedures
from the same files (gen_dispatch.py's parser), so it covers every procedure of every
program served on the main sockets (remote and splitvirt's private program; the admin
program is only on the admin socket): a raw client sends each on the read-only socket of
virtqemud, virtlxcd, virtxend (when built) and virtproxyd (hand-off and relay) and must
get libvirt's OPERATION_DENIED (code 29, domain DOMAIN 20; SECRET 30 for virSecret*, STORAGE 18
for the storage API, NETWORK 19 and INTERFACE 26 for theirs), "operation forbidden: read only
access prevents virXxx", whatever the arguments. Checks that depend on arguments
(the remote program's read-only check, sv_remote_hooks) have their own cases.
"""

import os
import sys
from pathlib import Path

import pytest

import rawrpc
from rawrpc import Client, i32, string, u32
from svdaemon import daemon_binary

SOURCE = Path(os.environ.get("SV_SOURCE_DIR", Path(__file__).resolve().parents[2]))
PROTOCOL = SOURCE / "src" / "common" / "protocol"
sys.path.insert(0, str(PROTOCOL))
import gen_dispatch  # noqa: E402

# (.x file, type prefix, program number constant)
PROGRAMS = [("sv_remote.x", "remote", "REMOTE_PROGRAM"),
            ("sv_private.x", "sv_private", "SV_PRIVATE_PROGRAM")]

ERR_OPERATION_DENIED = 29
FROM_DOMAIN = 20
FROM_SECRET = 30
FROM_STORAGE = 18
FROM_NETWORK = 19
FROM_INTERFACE = 26
PROC_DOMAIN_GET_XML_DESC = 14


def write_procedures():
    """(program number, procedure number, name, public API name) of every procedure a
    read-only connection may not call."""
    out = []
    for xfile, prefix, prog_const in PROGRAMS:
        x = gen_dispatch.XFile((PROTOCOL / xfile).read_text())
        for p in gen_dispatch.procedures(x, "%s_procedure" % prefix, prefix):
            if "ro" not in p["flags"] and "msg" not in p["flags"]:
                out.append((x.consts[prog_const], p["num"], p["short"], p["api"]))
    return out


WRITE = write_procedures()


def test_table_has_the_known_write_procedures():
    """The derivation sees what a reader of the .x files sees (a broken parse would make
    the table below empty)."""
    names = {w[2] for w in WRITE}
    assert {"DOMAIN_DEFINE_XML", "DOMAIN_CREATE", "DOMAIN_DESTROY", "DOMAIN_OPEN_CONSOLE",
            "CONNECT_DOMAIN_XML_FROM_NATIVE", "CONNECT_DOMAIN_XML_TO_NATIVE",
            "ADOPT_CLIENT"} <= names, names
    assert "CONNECT_LIST_ALL_DOMAINS" not in names


def start_target(daemons, root, name):
    """(read-only socket, open URI) of a daemon, started under root."""
    if name in ("virtqemud", "virtlxcd", "virtxend"):
        if not daemon_binary(name).exists():
            pytest.skip("%s not built in this build tree" % name)
        d = daemons.start(name=name, label=name, args=["--timeout", "0"])
        return d.sock_ro, {"virtqemud": "qemu", "virtlxcd": "lxc", "virtxend": "xen"}[name] \
            + ":///system"
    mode = name.split("-")[1]
    etc = Path(root) / "etc" / "libvirt"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "virtproxyd.conf").write_text("client_handoff = %d\n" % (mode == "handoff"))
    daemons.start(label="virtqemud", args=["--timeout", "0"])
    run = Path(root) / "run" / "libvirt"
    daemons.start(name="virtproxyd", label="virtproxyd", ready_path=run / "libvirt-sock",
                  args=["--timeout", "0"])
    return run / "libvirt-sock-ro", "qemu:///system"


TARGETS = ["virtqemud", "virtlxcd", "virtxend", "virtproxyd-handoff", "virtproxyd-relay"]


def expect_denied(c, prog, proc, payload, message):
    m = c.call_raw(proc, payload, prog=prog)
    assert (m.prog, m.proc, m.type, m.status) == (prog, proc, rawrpc.REPLY, rawrpc.ERROR), m
    err = rawrpc.RpcError.decode(m.payload)
    assert (err.code, err.domain, err.message) == (
        ERR_OPERATION_DENIED, denied_from(message), "operation forbidden: " + message), (proc, err)


def denied_from(message):
    """libvirt reports a read-only refusal in its public API's own error domain: SECRET for
    libvirt-secret.c's (test_secretd.py compares it with libvirtd), STORAGE for
    libvirt-storage.c's (test_storaged.py), NETWORK for libvirt-network.c's
    (test_networkd.py), INTERFACE for libvirt-interface.c's, DOMAIN for the rest."""
    if "virSecret" in message:
        return FROM_SECRET
    if "virNetwork" in message:
        return FROM_NETWORK
    if "virInterface" in message:
        return FROM_INTERFACE
    if "virStorage" in message or "virConnectFindStoragePoolSources" in message:
        return FROM_STORAGE
    return FROM_DOMAIN


def served(c, prog, proc):
    """False when the daemon does not serve this program at all (virtlxcd has no
    hand-off, so no private program): every call of it then gets "Cannot find program"."""
    m = c.call_raw(proc, b"", prog=prog)
    err = rawrpc.RpcError.decode(m.payload)
    if (err.code, err.message) == (rawrpc.ERR_RPC, "Cannot find program %d version 1" % prog):
        return False
    return True


@pytest.mark.parametrize("target", TARGETS)
def test_every_write_procedure_denied_on_readonly_socket(daemons, root, target):
    sock, uri = start_target(daemons, root, target)
    with Client(str(sock)) as c:
        c.open(uri)  # flags 0: the socket makes the connection read-only
        unserved = set()
        for prog, proc, name, api in WRITE:
            if prog in unserved or not served(c, prog, proc):
                assert not served(c, prog, proc), (prog, name)
                unserved.add(prog)
                continue
            # No arguments at all: the read-only check comes before decoding.
            expect_denied(c, prog, proc, b"", "read only access prevents %s" % api)
        assert rawrpc.REMOTE_PROGRAM not in unserved
        if target != "virtlxcd":
            assert not unserved, unserved
        # The connection still reads.
        c.call(rawrpc.PROC_CONNECT_LIST_ALL_DOMAINS, i32(1) + u32(0))


@pytest.mark.parametrize("target", TARGETS)
def test_open_flag_makes_readwrite_socket_readonly(daemons, root, target):
    """CONNECT_OPEN with flag bit 0 (VIR_CONNECT_RO) on the read-write socket makes the
    connection read-only, as the read-only socket does (stock clients refuse writes on
    such a connection themselves, so a raw client shows the daemon's side)."""
    sock_ro, uri = start_target(daemons, root, target)
    sock = Path(str(sock_ro)[:-len("-ro")])
    with Client(str(sock)) as c:
        c.open(uri, flags=1)
        expect_denied(c, rawrpc.REMOTE_PROGRAM, rawrpc.PROC_DOMAIN_DEFINE_XML, b"",
                      "read only access prevents virDomainDefineXML")
        c.call(rawrpc.PROC_CONNECT_LIST_ALL_DOMAINS, i32(1) + u32(0))
    with Client(str(sock)) as c:
        c.open(uri)  # flags 0 on the same socket: read-write
        _, err = c.call_error(rawrpc.PROC_DOMAIN_DEFINE_XML, string("<domain/>"))
        assert err.code != ERR_OPERATION_DENIED, err


@pytest.mark.parametrize("target", TARGETS)
def test_get_xml_desc_secure_denied_on_readonly_socket(daemons, root, target):
    """virDomainGetXMLDesc with VIR_DOMAIN_XML_SECURE (1) or MIGRATABLE (8) is refused on a
    read-only connection before the domain is looked up, as in libvirt's public API;
    without them it is allowed (and here finds no such domain)."""
    sock, uri = start_target(daemons, root, target)
    dom = string("nosuch") + b"\x11" * 16 + i32(-1)
    with Client(str(sock)) as c:
        c.open(uri)
        for flags in (1, 8, 1 | 2 | 8):
            expect_denied(c, rawrpc.REMOTE_PROGRAM, PROC_DOMAIN_GET_XML_DESC, dom + u32(flags),
                          "virDomainGetXMLDesc with secure flag")
        _, err = c.call_error(PROC_DOMAIN_GET_XML_DESC, dom + u32(2))
        assert err.code != ERR_OPERATION_DENIED, err


def test_get_vcpus_flags_guest_denied_on_readonly_socket(daemons, root):
    """virDomainGetVcpusFlags asking the guest agent (VIR_DOMAIN_VCPU_GUEST, 8) is a write for
    libvirt's public API; the other flags are reads (here: no such domain)."""
    sock, uri = start_target(daemons, root, "virtqemud")
    dom = string("nosuch") + b"\x11" * 16 + i32(-1)
    with Client(str(sock)) as c:
        c.open(uri)
        expect_denied(c, rawrpc.REMOTE_PROGRAM, 200, dom + u32(8),
                      "read only access prevents virDomainGetVcpusFlags")
        _, err = c.call_error(200, dom + u32(4))
        assert err.code != ERR_OPERATION_DENIED, err
