"""test_family_relay.py: the secondary-driver path (issue 19 item 1). A client of a hypervisor
daemon (virtqemud, virtlxcd) that calls a secret or node-device procedure is served by
virtsecretd or virtnodedevd through it, as libvirt's per-driver daemons do it: the hypervisor
daemon opens secret:///system (and so on) on the family's socket under the shared root for
that client on first use, with the client's identity, and relays calls, replies and events.
Also: the errors for a family daemon that is not there or dies with calls in flight,
read-only clients, and virtproxyd routing secret:///system to virtsecretd. The slow test
compares the answers with Debian's libvirtd 9.0.0, whose monolithic daemon serves the same
calls in-process."""

import base64
import os
import signal
import subprocess
import threading
import time

import libvirt
import pytest

from guests import ensure_event_loop

UUID = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
XML = ("<secret ephemeral='no' private='no'><uuid>%s</uuid><description>splitvirt relay"
       "</description><usage type='volume'><volume>/var/lib/sv-relay/a.qcow2</volume></usage>"
       "</secret>" % UUID)
VALUE = b"relayed-\x00-value"

VIR_ERR_SYSTEM_ERROR = libvirt.VIR_ERR_SYSTEM_ERROR
VIR_ERR_OPERATION_DENIED = libvirt.VIR_ERR_OPERATION_DENIED
VIR_FROM_RPC = libvirt.VIR_FROM_RPC
VIR_FROM_SECRET = libvirt.VIR_FROM_SECRET


def qemu_uri(d, ro=False):
    return "qemu:///system?socket=%s" % (d.sock_ro if ro else d.sock)


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as exc:
        fn(*args)
    e = exc.value
    return e.get_error_code(), e.get_error_domain(), e.get_error_message()


def virsh(uri, *args, ro=False):
    cmd = ["virsh", "-q"] + (["-r"] if ro else []) + ["-c", uri] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, LC_ALL="C"))
    if r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(cmd), r.stderr))
    return r.stdout


def start_qemud(daemons):
    return daemons.start(label="virtqemud-%d" % len(daemons.daemons), args=["--timeout", "0"])


def start_family(daemons, name):
    return daemons.start(name=name, label="%s-%d" % (name, len(daemons.daemons)),
                         args=["--timeout", "0"])


def socket_error(root, name, reason):
    return (VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, "Failed to connect socket to '%s': %s"
            % (root / "run" / "libvirt" / ("%s-sock" % name), reason))


def admin_clients(d):
    """{client id: its virt-admin client-info fields} of daemon d's main server."""
    admin = "%s:///system?socket=%s" % (d.name, d.sock_admin)

    def run(*args):
        r = subprocess.run(["virt-admin", "-c", admin] + list(args), capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout

    out = {}
    for ln in run("srv-clients-list", d.name).splitlines()[2:]:
        if ln.strip():
            cid = ln.split()[0]
            out[cid] = {k.strip(): v.strip() for k, v in
                        (f.split(":", 1) for f in run("client-info", d.name, cid).splitlines()
                         if ":" in f)}
    return out


def test_secrets_and_devices_through_qemud(daemons, root, tmp_path):
    """virsh and python3-libvirt on virtqemud's socket define, set, get, list, dump and
    undefine a secret and list node devices; virtsecretd and virtnodedevd hold the answers
    (the secret's file is virtsecretd's, the device list the one virtnodedevd gives
    directly)."""
    q = start_qemud(daemons)
    s = start_family(daemons, "virtsecretd")
    n = start_family(daemons, "virtnodedevd")
    u = qemu_uri(q)
    (tmp_path / "s.xml").write_text(XML)
    (tmp_path / "v").write_bytes(base64.b64encode(VALUE))
    virsh(u, "secret-define", str(tmp_path / "s.xml"))
    virsh(u, "secret-set-value", UUID, "--file", str(tmp_path / "v"))
    assert base64.b64decode(virsh(u, "secret-get-value", UUID).strip()) == VALUE
    assert virsh(u, "secret-list").split() == [UUID, "volume", "/var/lib/sv-relay/a.qcow2"]
    direct = "secret:///system?socket=%s" % s.sock
    assert virsh(u, "secret-dumpxml", UUID) == virsh(direct, "secret-dumpxml", UUID)
    assert (root / "etc" / "libvirt" / "secrets" / (UUID + ".xml")).exists()
    pci = virsh(u, "nodedev-list", "--cap", "pci")
    assert pci == virsh("nodedev:///system?socket=%s" % n.sock, "nodedev-list", "--cap", "pci")
    assert pci.split(), "the host has PCI devices"

    c = libvirt.open(u)
    try:
        assert [x.UUIDString() for x in c.listAllSecrets()] == [UUID]
        assert c.secretLookupByUUIDString(UUID).value() == VALUE
        names = sorted(d.name() for d in
                       c.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV))
        assert names == sorted(pci.split())
        assert sorted(c.listDevices("pci", 0)) == names
        assert c.numOfDevices("pci", 0) == len(names)
        # The hypervisor's own calls are still its own.
        assert c.getType() == "QEMU"
        c.secretLookupByUUIDString(UUID).undefine()
        assert c.listAllSecrets() == []
    finally:
        c.close()


def test_secret_event_through_qemud(daemons):
    """A secret lifecycle event registered through virtqemud arrives, with the callback id
    virtsecretd gave; deregistering goes the same way."""
    ensure_event_loop()
    q = start_qemud(daemons)
    s = start_family(daemons, "virtsecretd")
    got = []
    arrived = threading.Event()

    def lifecycle(conn, secret, event, detail, opaque):
        got.append((secret.UUIDString(), event, detail))
        arrived.set()

    c = libvirt.open(qemu_uri(q))
    other = libvirt.open("secret:///system?socket=%s" % s.sock)
    try:
        cb = c.secretEventRegisterAny(None, libvirt.VIR_SECRET_EVENT_ID_LIFECYCLE, lifecycle,
                                      None)
        other.secretDefineXML(XML)
        assert arrived.wait(10), "no event within 10 s"
        assert got == [(UUID, libvirt.VIR_SECRET_EVENT_DEFINED, 0)]
        c.secretEventDeregisterAny(cb)
        arrived.clear()
        other.secretLookupByUUIDString(UUID).undefine()
        assert not arrived.wait(1)
    finally:
        other.close()
        c.close()


def test_readonly_client(daemons):
    """A read-only client of virtqemud reads secrets (through virtsecretd's read-only
    socket) and gets libvirt's read-only refusal, in the SECRET domain, for the rest."""
    q = start_qemud(daemons)
    start_family(daemons, "virtsecretd")
    rw = libvirt.open(qemu_uri(q))
    ro = libvirt.openReadOnly(qemu_uri(q, ro=True))
    try:
        rw.secretDefineXML(XML).setValue(VALUE)
        assert [x.UUIDString() for x in ro.listAllSecrets()] == [UUID]
        s = ro.secretLookupByUUIDString(UUID)
        assert error_of(s.value) == (
            VIR_ERR_OPERATION_DENIED, VIR_FROM_SECRET,
            "operation forbidden: read only access prevents virSecretGetValue")
        assert error_of(ro.secretDefineXML, XML) == (
            VIR_ERR_OPERATION_DENIED, VIR_FROM_SECRET,
            "operation forbidden: read only access prevents virSecretDefineXML")
        del s
        rw.secretLookupByUUIDString(UUID).undefine()
    finally:
        ro.close()
        rw.close()


def test_family_daemon_missing_then_started(daemons, root):
    """No virtsecretd: the call gets libvirt's error for a socket that is not there, the
    other families and the hypervisor go on, and once virtsecretd is up the same connection's
    next call reaches it."""
    q = start_qemud(daemons)
    n = start_family(daemons, "virtnodedevd")
    c = libvirt.open(qemu_uri(q))
    try:
        assert error_of(c.listAllSecrets) == socket_error(root, "virtsecretd",
                                                          "No such file or directory")
        assert error_of(c.secretDefineXML, XML) == socket_error(root, "virtsecretd",
                                                                "No such file or directory")
        assert c.numOfDevices(None, 0) > 0
        assert c.listAllDomains() == []
        start_family(daemons, "virtsecretd")
        assert c.listAllSecrets() == []
    finally:
        c.close()
    assert n.alive()


def test_interface_calls_without_an_interface_daemon(daemons, root):
    """Issue 20 item 3: splitvirt has no virtinterfaced. A client's host-interface calls go
    the secondary-driver path like any family's and get libvirt's answer for a driver daemon
    that is not running (what virtqemud says on a host without virtinterfaced, and what
    virt-manager tolerates): the socket error, for read-write and read-only clients alike,
    and the connection goes on."""
    q = start_qemud(daemons)
    for ro in (False, True):
        c = (libvirt.openReadOnly if ro else libvirt.open)(qemu_uri(q, ro=ro))
        sock = "virtinterfaced-sock-ro" if ro else "virtinterfaced-sock"
        want = (VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC, "Failed to connect socket to '%s': %s"
                % (root / "run" / "libvirt" / sock, "No such file or directory"))
        try:
            assert error_of(c.listAllInterfaces) == want
            assert error_of(c.numOfInterfaces) == want
            assert error_of(c.interfaceLookupByName, "eth0") == want
            assert c.listAllDomains() == []
        finally:
            c.close()
    r = subprocess.run(["virsh", "-c", qemu_uri(q), "iface-list"], capture_output=True,
                       text=True, timeout=60, env=dict(os.environ, LC_ALL="C"))
    assert r.returncode == 1
    assert "virtinterfaced-sock': No such file or directory" in r.stderr


def test_family_daemon_killed_mid_call(daemons, root):
    """virtsecretd killed (by its pid) while a call is in flight: the call gets libvirt's
    error for a connection its server closed, never a hang; virtqemud and its other clients
    go on; a call while it is down gets the socket error (its socket file is left, so
    "Connection refused"); once it is back the next call reconnects.

    Difference from libvirtd kept on purpose: libvirt's per-driver daemon keeps the dead
    secondary connection, and every later secret call of that client fails with "client
    socket is closed" until it reconnects to virtqemud; here the next call opens a new one."""
    q = start_qemud(daemons)
    s = start_family(daemons, "virtsecretd")
    c = libvirt.open(qemu_uri(q))
    result = {}
    try:
        c.secretDefineXML(XML)
        os.kill(s.proc.pid, signal.SIGSTOP)  # the next call waits in its queue

        def call():
            try:
                result["ok"] = c.listAllSecrets()
            except libvirt.libvirtError as e:
                result["error"] = (e.get_error_code(), e.get_error_domain(),
                                   e.get_error_message())

        t = threading.Thread(target=call)
        t.start()
        time.sleep(1)
        assert t.is_alive(), "the call was answered while virtsecretd was stopped"
        s.expected_status = -signal.SIGKILL
        os.kill(s.proc.pid, signal.SIGKILL)
        t.join(20)
        assert not t.is_alive(), "the call in flight hung"
        assert result == {"error": (VIR_ERR_SYSTEM_ERROR, VIR_FROM_RPC,
                                    "End of file while reading data: Input/output error")}
        s.proc.wait(10)
        assert c.getType() == "QEMU"
        assert error_of(c.listAllSecrets) == socket_error(root, "virtsecretd",
                                                          "Connection refused")
        start_family(daemons, "virtsecretd")
        assert [x.UUIDString() for x in c.listAllSecrets()] == [UUID]
        c.secretLookupByUUIDString(UUID).undefine()
    finally:
        c.close()


def test_identity_and_disconnect(daemons):
    """virtsecretd sees the client's identity, not virtqemud's (virt-admin client-info: this
    process's pid); a client that goes away takes its family connections with it."""
    q = start_qemud(daemons)
    s = start_family(daemons, "virtsecretd")
    c = libvirt.open(qemu_uri(q))
    c.listAllSecrets()
    clients = admin_clients(s)
    assert [(v["unix_process_id"], v["unix_user_id"]) for v in clients.values()] == \
        [(str(os.getpid()), str(os.getuid()))]
    c.close()
    deadline = time.monotonic() + 10
    while admin_clients(s) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert admin_clients(s) == {}


@pytest.mark.parametrize("mode", ["handoff", "relay"])
def test_proxy_routes_secret_uri(daemons, root, mode):
    """virtproxyd routes secret:///system to virtsecretd and nodedev:///system to
    virtnodedevd, by hand-off and by relay; and qemu:///system through it reaches
    virtsecretd through virtqemud."""
    etc = root / "etc" / "libvirt"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "virtproxyd.conf").write_text("client_handoff = %d\n" % (mode == "handoff"))
    q = start_qemud(daemons)
    s = start_family(daemons, "virtsecretd")
    start_family(daemons, "virtnodedevd")
    sock = root / "run" / "libvirt" / "libvirt-sock"
    daemons.start(name="virtproxyd", label="virtproxyd", ready_path=sock,
                  args=["--timeout", "0"])
    c = libvirt.open("secret:///system?socket=%s" % sock)
    try:
        assert c.getURI().startswith("secret:///system")
        c.secretDefineXML(XML)
        via_qemu = libvirt.open("qemu:///system?socket=%s" % sock)
        try:
            assert [x.UUIDString() for x in via_qemu.listAllSecrets()] == [UUID]
            # Both of virtsecretd's connections stand for this process: through one hop (the
            # proxy's) or two (the proxy's, then virtqemud's).
            pids = [v["unix_process_id"] for v in admin_clients(s).values()]
            assert pids == [str(os.getpid())] * 2
        finally:
            via_qemu.close()
        ro = libvirt.openReadOnly("secret:///system?socket=%s-ro" % sock)
        try:
            assert [x.UUIDString() for x in ro.listAllSecrets()] == [UUID]
        finally:
            ro.close()
        c.secretLookupByUUIDString(UUID).undefine()
        nd = libvirt.openReadOnly("nodedev:///system?socket=%s-ro" % sock)
        try:
            assert nd.numOfDevices("pci", 0) > 0
        finally:
            nd.close()
    finally:
        c.close()
    assert q.alive()


@pytest.mark.parametrize("name,uri", [("virtnodedevd", "nodedev:///system"),
                                      ("virtlxcd", "lxc:///system"),
                                      ("virtsecretd", "secret:///system")])
def test_proxy_hands_clients_over(daemons, root, name, uri):
    """Every daemon but the proxy adopts the clients virtproxyd hands it (virtnodedevd and
    virtlxcd did not, and the proxy relayed their clients instead): with the hand-off done
    the proxy idles out under the client, which its backend goes on serving. A relayed
    client would have held the proxy up."""
    backend = start_family(daemons, name)
    sock = root / "run" / "libvirt" / "libvirt-sock"
    proxy = daemons.start(name="virtproxyd", label="virtproxyd", ready_path=sock,
                          args=["--timeout", "1"])
    c = libvirt.openReadOnly("%s?socket=%s-ro" % (uri, sock))
    try:
        assert proxy.wait_exit(8) == 0, "the proxy kept the client: not handed over"
        assert c.getURI().startswith(uri)
        if name == "virtnodedevd":
            assert c.numOfDevices("pci", 0) > 0
        elif name == "virtsecretd":
            assert c.listAllSecrets() == []
        else:
            assert c.listAllDomains() == []
    finally:
        c.close()
    assert backend.alive()


def test_storage_through_qemud_and_secrets_through_storaged(daemons, root, tmp_path):
    """A client of virtqemud defines, starts and lists a dir pool: virtqemud relays the
    storage family to virtstoraged. A client of virtstoraged reaches virtsecretd through it,
    as libvirt's storage daemon opens the secret driver too. Its other families it never
    opened: "internal error: connection not open", as libvirt's virtstoraged
    (test_family_errors.py has the rest of those answers)."""
    q = start_qemud(daemons)
    start_family(daemons, "virtstoraged")
    start_family(daemons, "virtsecretd")
    target = tmp_path / "relaypool"
    pool_xml = ("<pool type='dir'><name>relaypool</name><target><path>%s</path></target>"
                "</pool>" % target)
    c = libvirt.open("qemu:///system?socket=%s" % q.sock)
    try:
        pool = c.storagePoolDefineXML(pool_xml)
        pool.build()
        pool.create()
        assert target.is_dir()
        assert [(p.name(), p.isActive()) for p in c.listAllStoragePools()] == [
            ("relaypool", 1)]
        assert pool.info()[0] == libvirt.VIR_STORAGE_POOL_RUNNING
        pool.destroy()
        pool.undefine()
        assert c.listAllStoragePools() == []
    finally:
        c.close()
    st = libvirt.open("storage:///system?socket=%s" % (root / "run/libvirt/virtstoraged-sock"))
    try:
        st.secretDefineXML(XML)
        assert [x.UUIDString() for x in st.listAllSecrets()] == [UUID]
        st.secretLookupByUUIDString(UUID).undefine()
        with pytest.raises(libvirt.libvirtError) as e:
            st.listAllDevices(0)
        assert (e.value.get_error_code(), e.value.get_error_domain(),
                str(e.value)) == (libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_RPC,
                                  "internal error: connection not open")
    finally:
        st.close()


def test_lxcd_relays_secrets(daemons, root):
    """virtlxcd takes the same path (one quick case)."""
    lxc = daemons.start(name="virtlxcd", label="virtlxcd", args=["--timeout", "0"])
    u = "lxc:///system?socket=%s" % lxc.sock
    c = libvirt.open(u)
    try:
        assert error_of(c.listAllSecrets) == socket_error(root, "virtsecretd",
                                                          "No such file or directory")
        start_family(daemons, "virtsecretd")
        c.secretDefineXML(XML)
        assert [x.UUIDString() for x in c.listAllSecrets()] == [UUID]
        c.secretLookupByUUIDString(UUID).undefine()
    finally:
        c.close()


# ---------------------------------------------------------------- against libvirtd

PARITY_UUID = "7b2c3d4e-5f60-4a7b-9c8d-0e1f2a3b4c5d"
PARITY_XML = ("<secret ephemeral='no' private='no'><uuid>%s</uuid><description>splitvirt "
              "relay parity</description><usage type='volume'><volume>"
              "/var/lib/splitvirt-relay-parity/a.qcow2</volume></usage></secret>" % PARITY_UUID)


def qemu_steps(rw, ro, work):
    """virsh on a qemu:/// URI, secret and node-device commands that a hypervisor daemon
    passes to the secondary drivers: [(step, exit status, output, errors)]. Lines of
    secret-list that name other secrets (the host's own, on libvirtd) are left out."""
    (work / "s.xml").write_text(PARITY_XML)
    (work / "v").write_bytes(base64.b64encode(VALUE))
    first_pci = virsh(rw, "nodedev-list", "--cap", "pci").split()[0]
    steps = [
        ("define", False, ["secret-define", str(work / "s.xml")]),
        ("set-value", False, ["secret-set-value", PARITY_UUID, "--file", str(work / "v")]),
        ("get-value", False, ["secret-get-value", PARITY_UUID]),
        ("list", False, ["secret-list"]),
        ("dumpxml", False, ["secret-dumpxml", PARITY_UUID]),
        ("ro-list", True, ["secret-list"]),
        ("ro-get-value", True, ["secret-get-value", PARITY_UUID]),
        ("ro-define", True, ["secret-define", str(work / "s.xml")]),
        ("nodedev-pci", False, ["nodedev-list", "--cap", "pci"]),
        ("nodedev-dumpxml", False, ["nodedev-dumpxml", first_pci]),
        ("nodedev-tree", False, ["nodedev-list", "--tree"]),
        ("ro-nodedev-pci", True, ["nodedev-list", "--cap", "pci"]),
        ("undefine", False, ["secret-undefine", PARITY_UUID]),
        ("dumpxml-gone", False, ["secret-dumpxml", PARITY_UUID]),
    ]
    out = []
    for name, readonly, args in steps:
        cmd = ["virsh"] + (["-r"] if readonly else []) + ["-c", ro if readonly else rw] + args
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, LC_ALL="C"))
        stdout = r.stdout
        if args[0] == "secret-list":
            stdout = "".join(ln + "\n" for ln in stdout.splitlines()
                             if "splitvirt-relay-parity" in ln)
        out.append((name, r.returncode, stdout, r.stderr))
    return out


@pytest.mark.slow
def test_relay_parity(daemons, ref, tmp_path):
    """The same secret and node-device commands on qemu:///system: through virtqemud to
    virtsecretd and virtnodedevd, and on Debian's libvirtd 9.0.0 (in-process drivers): the
    same output, errors and exit statuses."""
    q = start_qemud(daemons)
    start_family(daemons, "virtsecretd")
    start_family(daemons, "virtnodedevd")
    theirs_rw = ref.uri
    theirs_ro = "qemu:///system?socket=%s-ro" % ref.daemon.sock
    subprocess.run(["virsh", "-c", theirs_rw, "secret-undefine", PARITY_UUID],
                   capture_output=True, timeout=60)  # what an interrupted run may have left
    try:
        ours = qemu_steps(qemu_uri(q), qemu_uri(q, ro=True), tmp_path)
        theirs = qemu_steps(theirs_rw, theirs_ro, tmp_path)
    finally:
        subprocess.run(["virsh", "-c", theirs_rw, "secret-undefine", PARITY_UUID],
                       capture_output=True, timeout=60)
    for o, t in zip(ours, theirs):
        assert o == t, "step %s differs:\nours:   %r\nlibvirtd: %r" % (o[0], o, t)
    assert ours[-6][2].split(), "the host has PCI devices"


def test_flood_while_family_daemon_stopped(daemons):
    """A client that sends thousands of secret calls while virtsecretd does not answer holds
    only its own connection: virtqemud takes at most its request limit of them (the rest wait
    in the socket: its reads pause), other clients are answered at once, and every call is
    answered, in order, once virtsecretd goes on."""
    import socket
    import struct

    q = start_qemud(daemons)
    s = start_family(daemons, "virtsecretd")
    prog, n = 0x20008086, 3000

    def frame(proc, serial, payload=b""):
        return struct.pack(">IIIiIII", 28 + len(payload), prog, 1, proc, 0, serial, 0) + payload

    def recv_frame(sock):
        head = b""
        while len(head) < 4:
            head += sock.recv(4 - len(head))
        (length,) = struct.unpack(">I", head)
        body = b""
        while len(body) < length - 4:
            body += sock.recv(length - 4 - len(body))
        return struct.unpack(">IIiIII", body[:24])

    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    raw.settimeout(30)
    raw.connect(str(q.sock))
    try:
        raw.sendall(frame(1, 1, struct.pack(">II", 0, 0)))  # CONNECT_OPEN, no name
        assert recv_frame(raw)[5] == 0
        os.kill(s.proc.pid, signal.SIGSTOP)
        sender = threading.Thread(
            target=raw.sendall, args=(b"".join(frame(139, 2 + i) for i in range(n)),))
        sender.start()
        time.sleep(1)
        other = libvirt.open(qemu_uri(q))
        try:
            t0 = time.monotonic()
            assert other.getType() == "QEMU"
            assert other.listAllDomains() == []
            assert time.monotonic() - t0 < 2
        finally:
            other.close()
        os.kill(s.proc.pid, signal.SIGCONT)
        serials = []
        for _ in range(n):
            _, _, proc, typ, serial, status = recv_frame(raw)
            assert (proc, typ, status) == (139, 1, 0)
            serials.append(serial)
        assert serials == list(range(2, 2 + n))
        sender.join(10)
    finally:
        raw.close()
        if s.alive():
            os.kill(s.proc.pid, signal.SIGCONT)


def test_node_device_events_through_qemud(daemons):
    """Node-device events registered through virtqemud (read-only, as Nova's are) come from
    virtnodedevd: a test network interface made, changed and removed gives CREATED, an
    update and DELETED on the client's connection to virtqemud."""
    from test_nodedevd import DeviceEvents, add_test_link, ip_link, net_name

    ensure_event_loop()
    q = start_qemud(daemons)
    start_family(daemons, "virtnodedevd")
    ifname = "svrl%d" % (os.getpid() % 100000)
    conn = libvirt.openReadOnly(qemu_uri(q, ro=True))
    events = DeviceEvents(conn)
    try:
        add_test_link(ifname)
        try:
            name = net_name(ifname)
            events.wait_for((name, libvirt.VIR_NODE_DEVICE_EVENT_CREATED, 0))
            assert name in conn.listDevices("net", 0)
            with open("/sys/class/net/%s/uevent" % ifname, "w") as f:
                f.write("change")
            events.wait_for((name, "update"))
        finally:
            ip_link("del", ifname)
        events.wait_for((name, libvirt.VIR_NODE_DEVICE_EVENT_DELETED, 0))
    finally:
        events.close()
        conn.close()
