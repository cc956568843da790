"""test_secondary.py: hostile payloads for the secondary drivers' daemons (virtsecretd,
virtnodedevd): names that try to leave a directory, and floods of calls and event
registrations. test_frames.py sends them the broken frames every daemon gets.

Each case asserts libvirt's answer (code, domain, message) and that a fresh client is served
at once afterwards (hostile.assert_still_serving); the `daemons` fixture checks at teardown
that no daemon died or reported a sanitizer error.
"""

import os
import threading
import time

import libvirt
import pytest

import rawrpc
import targets
from hostile import SERVED_WITHIN, assert_still_serving, check_rpc_error, files_under, served
from rawrpc import ERROR, OK, REMOTE_PROGRAM, REMOTE_VERSION, encode_frame, i32, string, u32

PROC_SECRET_LOOKUP_BY_UUID, PROC_SECRET_DEFINE_XML = 141, 142
PROC_SECRET_SET_VALUE, PROC_SECRET_LOOKUP_BY_USAGE = 144, 147
PROC_CONNECT_LIST_ALL_SECRETS, PROC_CONNECT_SECRET_EVENT_REGISTER_ANY = 287, 380
PROC_NODE_DEVICE_LOOKUP_BY_NAME, PROC_NODE_DEVICE_GET_XML_DESC = 113, 114
PROC_NODE_DEVICE_LIST_CAPS, PROC_CONNECT_LIST_ALL_NODE_DEVICES = 117, 285
PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY = 374
PROC_CONNECT_LIST_ALL_STORAGE_POOLS, PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY = 281, 368
USAGE_VOLUME = 1

# Names that would leave a directory were they ever made into paths.
ESCAPING = ["../../../../etc/passwd", "pci_0000_00_00_0/../../x", "/sys/devices", "..", ".",
            "a/b", ""]


def nonnull_secret(uuid, usage_type, usage_id):
    return uuid + i32(usage_type) + string(usage_id)


def test_nodedev_names_never_leave_the_list(daemons, root):
    """Device names with '/', '..' or nothing at all name no device: lookups, XML and
    capability lists answer libvirt's NO_NODE_DEVICE for each, read nothing and write
    nothing. An event registration may name any device, as in libvirt (it never looks the
    name up; a name is matched against the devices' names, never made a path)."""
    t = targets.start_nodedevd(daemons, root)
    before = files_under(root)
    with t.opened() as c:
        for name in ESCAPING:
            for proc, args in ((PROC_NODE_DEVICE_LOOKUP_BY_NAME, string(name)),
                               (PROC_NODE_DEVICE_GET_XML_DESC, string(name) + u32(0)),
                               (PROC_NODE_DEVICE_LIST_CAPS, string(name) + i32(4))):
                m = c.call_raw(proc, args)
                assert m.status == ERROR, (name, proc)
                check_rpc_error(rawrpc.RpcError.decode(m.payload), libvirt.VIR_ERR_NO_NODE_DEVICE,
                                libvirt.VIR_FROM_NODEDEV,
                                "Node device not found: no node device with matching name '%s'"
                                % name)
            c.call(PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, i32(0) + u32(1) + string(name))
    assert files_under(root) == before
    assert_still_serving(t)


def test_secret_names_never_leave_the_store(daemons, root):
    """A secret's file names are its UUID, formatted from its 16 bytes: a <uuid> with '/'
    or '..' is refused as libvirt refuses it (INTERNAL_ERROR / SECRET "malformed uuid
    element") and writes nothing; a usage id full of '..' is just a string (the volume path
    libvirt keeps), stored inside ROOT/etc/libvirt/secrets/UUID.xml, never a path of its own;
    lookups by such usage ids or by UUID bytes spelling a path find nothing."""
    t = targets.start_secretd(daemons, root)
    before = files_under(root)
    with t.opened() as c:
        for bad in ("../../../../tmp/sv-hostile-secret", "a/b", "..", "/etc/passwd"):
            xml = "<secret><uuid>%s</uuid><usage type='ceph'><name>n</name></usage></secret>" % bad
            m = c.call_raw(PROC_SECRET_DEFINE_XML, string(xml) + u32(0))
            assert m.status == ERROR, bad
            check_rpc_error(rawrpc.RpcError.decode(m.payload), libvirt.VIR_ERR_INTERNAL_ERROR,
                            libvirt.VIR_FROM_SECRET, "internal error: malformed uuid element")
        assert files_under(root) == before
        assert not os.path.exists("/tmp/sv-hostile-secret")
        path = "../../../../tmp/sv-hostile-volume"
        xml = "<secret><usage type='volume'><volume>%s</volume></usage></secret>" % path
        u = c.call(PROC_SECRET_DEFINE_XML, string(xml) + u32(0))
        uuid = u.opaque_fixed(16)
        assert (u.i32(), u.string()) == (USAGE_VOLUME, path)
        c.call(PROC_SECRET_SET_VALUE, nonnull_secret(uuid, USAGE_VOLUME, path) + u32(1) + b"v"
               + b"\0" * 3 + u32(0))
        text = "%s-%s-%s-%s-%s" % tuple(uuid.hex()[a:b] for a, b in
                                       ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32)))
        secrets = os.path.join("etc", "libvirt", "secrets")
        assert files_under(root) - before == {
            os.path.join(secrets, text + ".xml"), os.path.join(secrets, text + ".base64")} | (
            {secrets} if secrets not in before else set())
        for usage in ("../../../../etc/passwd", "/", ".."):
            m = c.call_raw(PROC_SECRET_LOOKUP_BY_USAGE, i32(USAGE_VOLUME) + string(usage))
            assert m.status == ERROR
            check_rpc_error(rawrpc.RpcError.decode(m.payload), libvirt.VIR_ERR_NO_SECRET,
                            libvirt.VIR_FROM_SECRET,
                            "Secret not found: no secret with matching usage '%s'" % usage)
        m = c.call_raw(PROC_SECRET_LOOKUP_BY_UUID, b"../../etc/passwd")
        assert m.status == ERROR
        err = rawrpc.RpcError.decode(m.payload)
        assert (err.code, err.domain) == (libvirt.VIR_ERR_NO_SECRET, libvirt.VIR_FROM_SECRET)
    assert not os.path.exists("/tmp/sv-hostile-volume")
    assert_still_serving(t)


# (family's register procedure, its arguments for registration i (an object of its own: a
# second registration of the same event id and object is refused as libvirt refuses it),
# libvirt's family word)
def uuid_of(i):
    return i.to_bytes(16, "big")


REGISTER = {
    "virtsecretd": (PROC_CONNECT_SECRET_EVENT_REGISTER_ANY,
                    lambda i: i32(0) + u32(1) + uuid_of(i) + i32(1) + string("/v%d" % i),
                    "secret"),
    "virtnodedevd": (PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY,
                     lambda i: i32(0) + u32(1) + string("dev%d" % i), "node device"),
    "virtstoraged": (PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY,
                     lambda i: i32(0) + u32(1) + string("p%d" % i) + uuid_of(i), "storage pool"),
}
LIST_ALL = {
    "virtsecretd": PROC_CONNECT_LIST_ALL_SECRETS,
    "virtnodedevd": PROC_CONNECT_LIST_ALL_NODE_DEVICES,
    "virtstoraged": PROC_CONNECT_LIST_ALL_STORAGE_POOLS,
}
REGISTRATIONS_MAX = 1024


def call_frame(proc, payload, serial):
    return encode_frame(REMOTE_PROGRAM, REMOTE_VERSION, proc, rawrpc.CALL, serial, OK, payload)


@pytest.mark.parametrize("name", targets.SECONDARY)
def test_event_registration_flood(daemons, root, name):
    """1,100 event registrations in one write: the first 1,024 get callback ids counting up,
    the rest INTERNAL_ERROR / RPC "too many FAMILY event registrations" (a per-connection
    limit of this project's, as on every client-controlled resource; libvirt has none).
    Others are served meanwhile; once the flooding connection goes, a new one registers."""
    t = targets.start(name, daemons, root)
    proc, args, family = REGISTER[name]
    with t.opened() as c:
        c.send_raw(b"".join(call_frame(proc, args(i), 1000 + i) for i in range(1100)))
        assert served(t) < SERVED_WITHIN
        replies = [c.recv_message(timeout=10.0) for _ in range(1100)]
    assert [m.serial for m in replies] == list(range(1000, 2100))
    ids = [m.unpacker().i32() for m in replies[:REGISTRATIONS_MAX]]
    assert ids == list(range(ids[0], ids[0] + REGISTRATIONS_MAX))
    for m in replies[REGISTRATIONS_MAX:]:
        assert m.status == ERROR
        check_rpc_error(rawrpc.RpcError.decode(m.payload), rawrpc.ERR_INTERNAL_ERROR,
                        rawrpc.FROM_RPC, "internal error: too many %s event registrations" % family)
    with t.opened() as c:
        assert c.call(proc, args(0)).i32() > ids[-1]
    assert_still_serving(t)


@pytest.mark.parametrize("name", targets.SECONDARY)
def test_call_flood_from_a_client_that_does_not_read(daemons, root, name):
    """10,000 list calls in one write (from a thread) by a client that reads nothing for a
    while: a fresh client is served within 2 s meanwhile, and once the flooding client reads
    it gets every reply, OK, in order, each the same. (virtnodedevd's replies, some 3 MB,
    pass the 1 MiB queued after which the daemon stops reading a client's calls: the flood's
    write waits for the client's reads, and the daemon's memory does not grow with it.)"""
    t = targets.start(name, daemons, root)
    n = 10000
    with t.opened(timeout=30.0) as c:
        flood = b"".join(call_frame(LIST_ALL[name], i32(1) + u32(0), 10 + i) for i in range(n))
        sender = threading.Thread(target=c.send_raw, args=(flood,), daemon=True)
        t0 = time.monotonic()
        sender.start()
        time.sleep(0.3)
        assert served(t) < SERVED_WITHIN
        replies = [c.recv_message(timeout=20.0) for _ in range(n)]
        sender.join(timeout=20.0)
        assert not sender.is_alive()
        took = time.monotonic() - t0
    assert [(m.serial, m.status) for m in replies] == [(10 + i, OK) for i in range(n)]
    assert len({m.payload for m in replies}) == 1
    print("%s: %d list calls answered in %.2f s, %d bytes each" % (
        name, n, took, len(replies[0].payload)))
    assert_still_serving(t)


def test_secret_value_never_in_the_log(daemons, root):
    """A secret's value set over the wire appears in the daemon's log (verbose, every call
    logged) neither as sent nor in base64, as it is stored."""
    import base64

    t = targets.start_secretd(daemons, root)
    value = b"sv-hostile-VALUE-" + os.urandom(8).hex().encode()
    with t.opened() as c:
        xml = "<secret><usage type='ceph'><name>hostile-log</name></usage></secret>"
        u = c.call(PROC_SECRET_DEFINE_XML, string(xml) + u32(0))
        uuid = u.opaque_fixed(16)
        pad = b"\0" * ((4 - len(value) % 4) % 4)
        c.call(PROC_SECRET_SET_VALUE, nonnull_secret(uuid, 2, "hostile-log") + u32(len(value))
               + value + pad + u32(0))
    assert_still_serving(t)
    log = t.processes[0].stderr_tail(100000)
    assert "client" in log  # the log does hold the connections' lines
    for form in (value, base64.b64encode(value)):
        assert form.decode() not in log


@pytest.mark.parametrize("name", ["virtstoraged", "virtqemud"])
def test_relayed_secret_value_never_in_a_log(daemons, root, name):
    """A secret's value set through a daemon that relays the secret calls to virtsecretd
    (virtstoraged, which co-opens the secret driver as libvirt's; virtqemud, for its
    clients) is in neither daemon's verbose log, as sent or in base64."""
    import base64

    secretd = targets.start_secretd(daemons, root)
    t = targets.start(name, daemons, root)
    value = b"sv-hostile-RELAYED-" + os.urandom(8).hex().encode()
    with t.opened() as c:
        xml = "<secret><usage type='ceph'><name>hostile-relay</name></usage></secret>"
        uuid = c.call(PROC_SECRET_DEFINE_XML, string(xml) + u32(0)).opaque_fixed(16)
        pad = b"\0" * ((4 - len(value) % 4) % 4)
        c.call(PROC_SECRET_SET_VALUE, nonnull_secret(uuid, 2, "hostile-relay") +
               u32(len(value)) + value + pad + u32(0))
    assert_still_serving(t)
    for d in secretd.processes + t.processes:
        log = d.stderr_tail(100000)
        assert "client" in log
        for form in (value, base64.b64encode(value)):
            assert form.decode() not in log, d.label
