"""test_rawrpc.py: virtqemud's RPC layer seen through a raw frame client.

Expected values come from libvirt-wire-facts.md sections 1, 2 and 11.
"""

import os
import struct
import time

import pytest

import rawrpc
from rawrpc import (CALL, ERROR, FROM_DOMAIN, FROM_NONE, FROM_RPC, LEVEL_ERROR, MESSAGE, OK,
                    REMOTE_PROGRAM, REMOTE_VERSION, REPLY, Client, encode_frame, i32, opt_string,
                    string, u32)

DOMAIN_XML = "<domain type='qemu'><name>e2e</name><memory>65536</memory></domain>"


# Error templates by code (section 1, "Useful error templates"); the detail fills %s.
TEMPLATES = {
    rawrpc.ERR_INTERNAL_ERROR: "internal error: %s",
    rawrpc.ERR_NO_CONNECT: "no connection driver available for %s",
    rawrpc.ERR_OPERATION_DENIED: "operation forbidden: %s",
    rawrpc.ERR_RPC: "%s",
}


def check_error(err, code, domain, message):
    """All fields libvirt fills for an ordinary error (section 1): str1 is the
    template, str2 the detail, str3 absent, int1 = int2 = -1, level 2."""
    assert (err.code, err.domain, err.message) == (code, domain, message)
    assert err.level == LEVEL_ERROR
    assert err.dom is None and err.net is None
    template = TEMPLATES[code]
    head, tail = template.split("%s")
    assert message.startswith(head) and message.endswith(tail)
    detail = message[len(head):len(message) - len(tail)]
    assert (err.str1, err.str2, err.str3) == (template, detail, None)
    assert (err.int1, err.int2) == (-1, -1)


def opened(daemon, path=None, name="qemu:///system"):
    return Client(str(path or daemon.sock)).open(name)


# ---------------------------------------------------------------- replies and errors

def test_readonly_socket_denies_define(daemon):
    with Client(str(daemon.sock_ro)) as c:
        assert c.auth_list() == [0]
        c.connect_open("qemu:///system", 0)
        m, err = c.call_error(rawrpc.PROC_DOMAIN_DEFINE_XML, string(DOMAIN_XML))
        assert (m.prog, m.vers, m.proc, m.type, m.status) == \
            (REMOTE_PROGRAM, REMOTE_VERSION, rawrpc.PROC_DOMAIN_DEFINE_XML, REPLY, ERROR)
        assert m.serial == 2
        check_error(err, rawrpc.ERR_OPERATION_DENIED, FROM_DOMAIN,
                    "operation forbidden: read only access prevents virDomainDefineXML")
        # Read-only calls still work on that connection.
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


def test_readonly_flag_on_rw_socket_denies_define(daemon):
    with Client(str(daemon.sock)) as c:
        c.auth_list()
        c.connect_open("qemu:///system", 1)  # VIR_CONNECT_RO
        _, err = c.call_error(rawrpc.PROC_DOMAIN_DEFINE_XML, string(DOMAIN_XML))
        check_error(err, rawrpc.ERR_OPERATION_DENIED, FROM_DOMAIN,
                    "operation forbidden: read only access prevents virDomainDefineXML")


def test_auth_list_reply_layout(daemon):
    with Client(str(daemon.sock)) as c:
        m = c.call_raw(rawrpc.PROC_AUTH_LIST)
        assert (m.type, m.status, m.serial) == (REPLY, OK, 0)
        assert m.payload == u32(1) + u32(0)  # types<> = [REMOTE_AUTH_NONE]


def test_reply_echoes_header(daemon):
    with opened(daemon) as c:
        for serial in (7, 0x7FFFFFFF, 0xFFFFFFFF):
            c.send_call(rawrpc.PROC_CONNECT_GET_TYPE, serial=serial)
            m = c.recv_message()
            assert (m.prog, m.vers, m.proc, m.type, m.serial, m.status) == \
                (REMOTE_PROGRAM, REMOTE_VERSION, rawrpc.PROC_CONNECT_GET_TYPE, REPLY, serial, OK)
            assert m.payload == string("QEMU")
            assert m.length == 28 + 8


def test_void_reply_has_empty_payload(daemon):
    with opened(daemon) as c:
        m = c.call_raw(rawrpc.PROC_CONNECT_REGISTER_CLOSE_CALLBACK)
        assert (m.status, m.payload, m.length) == (OK, b"", 28)
        m = c.call_raw(rawrpc.PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK)
        assert (m.status, m.payload) == (OK, b"")


def test_unknown_procedure(daemon):
    with opened(daemon) as c:
        m, err = c.call_error(9999)
        assert (m.prog, m.vers, m.proc, m.serial) == (REMOTE_PROGRAM, REMOTE_VERSION, 9999, 2)
        check_error(err, rawrpc.ERR_RPC, FROM_RPC, "unknown procedure: 9999")
        assert err.str1 == "%s"
        # The connection is still usable.
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


def test_unimplemented_known_procedure_is_unknown(daemon):
    with opened(daemon) as c:
        # NODE_ALLOC_PAGES (347) has a number libvirt clients use but no handler here.
        _, err = c.call_error(347, u32(0) + u32(0) + i32(0) + u32(0) + u32(0))
        check_error(err, rawrpc.ERR_RPC, FROM_RPC, "unknown procedure: 347")


def test_call_before_open(daemon):
    with Client(str(daemon.sock)) as c:
        c.auth_list()
        for proc in (rawrpc.PROC_CONNECT_GET_TYPE, rawrpc.PROC_CONNECT_GET_URI,
                     rawrpc.PROC_NODE_GET_INFO):
            _, err = c.call_error(proc)
            check_error(err, rawrpc.ERR_INTERNAL_ERROR, FROM_RPC,
                        "internal error: hypervisor connection not open")
        c.connect_open()
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


def test_second_open_fails(daemon):
    with opened(daemon) as c:
        _, err = c.call_error(rawrpc.PROC_CONNECT_OPEN, opt_string("qemu:///system") + u32(0))
        check_error(err, rawrpc.ERR_INTERNAL_ERROR, FROM_RPC,
                    "internal error: connection already open")


def test_second_open_keeps_the_open_connection(daemon):
    # libvirtd also drops the open connection after refusing a second open
    # (facts, section 11). That is a fault, not a contract: splitvirt refuses the
    # second open with the same error and keeps the first one working.
    with opened(daemon) as c:
        _, err = c.call_error(rawrpc.PROC_CONNECT_OPEN, opt_string("qemu:///system") + u32(0))
        check_error(err, rawrpc.ERR_INTERNAL_ERROR, FROM_RPC,
                    "internal error: connection already open")
        m = c.call_raw(rawrpc.PROC_CONNECT_GET_TYPE)
        assert m.status == OK
        assert m.payload == rawrpc.string("QEMU")


@pytest.mark.parametrize("prog,vers", [(0x12345678, 1), (REMOTE_PROGRAM, 2),
                                       (0x87654321, 1)])
def test_unknown_program(daemon, prog, vers):
    with Client(str(daemon.sock)) as c:
        m, err = c.call_error(rawrpc.PROC_CONNECT_GET_TYPE, prog=prog, vers=vers)
        assert (m.prog, m.vers, m.proc, m.type) == (prog, vers, rawrpc.PROC_CONNECT_GET_TYPE,
                                                    REPLY)
        # Printed as signed decimal (section 11).
        signed = struct.unpack(">i", struct.pack(">I", prog))[0]
        check_error(err, rawrpc.ERR_RPC, FROM_RPC,
                    "Cannot find program %d version %d" % (signed, vers))
        assert c.auth_list() == [0]


def test_call_with_error_status(daemon):
    with Client(str(daemon.sock)) as c:
        m, err = c.call_error(rawrpc.PROC_AUTH_LIST, status=ERROR)
        assert (m.proc, m.type) == (rawrpc.PROC_AUTH_LIST, REPLY)
        check_error(err, rawrpc.ERR_RPC, FROM_RPC, "Unexpected message status 1")
        assert c.auth_list() == [0]


# ---------------------------------------------------------------- CONNECT_OPEN names

@pytest.mark.parametrize("name,uri", [
    ("qemu:///system", "qemu:///system"),
    ("qemu:///session", "qemu:///session"),
    ("", "qemu:///system"),
    (None, "qemu:///system"),
])
def test_open_names_and_get_uri(daemon, name, uri):
    with Client(str(daemon.sock)) as c:
        c.auth_list()
        c.connect_open(name)
        assert c.get_string(rawrpc.PROC_CONNECT_GET_URI) == uri


def test_open_wrong_path(daemon):
    with Client(str(daemon.sock)) as c:
        c.auth_list()
        _, err = c.call_error(rawrpc.PROC_CONNECT_OPEN, opt_string("qemu:///bogus") + u32(0))
        check_error(err, rawrpc.ERR_INTERNAL_ERROR, FROM_NONE,
                    "internal error: unexpected qemu URI path '/bogus', try qemu:///system")
        # The failed open leaves the connection closed but usable for a retry.
        _, err = c.call_error(rawrpc.PROC_CONNECT_GET_TYPE)
        assert err.message == "internal error: hypervisor connection not open"
        c.connect_open("qemu:///system")
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


def test_open_unknown_scheme(daemon):
    with Client(str(daemon.sock)) as c:
        c.auth_list()
        _, err = c.call_error(rawrpc.PROC_CONNECT_OPEN, opt_string("bogus:///system") + u32(0))
        check_error(err, rawrpc.ERR_NO_CONNECT, FROM_NONE,
                    "no connection driver available for bogus:///system")


# ---------------------------------------------------------------- host calls, byte layouts

def test_node_get_info_layout(daemon):
    with opened(daemon) as c:
        u = c.call(rawrpc.PROC_NODE_GET_INFO)
        assert u.remaining() == 128 + 8 + 6 * 4  # char model[32] takes 4 bytes per char
        model = bytes(ch for ch in u.char_array(32) if ch).decode()
        memory, cpus, mhz, nodes, sockets, cores, threads = (
            u.uhyper(), u.i32(), u.i32(), u.i32(), u.i32(), u.i32(), u.i32())
        u.done()
        assert model == os.uname().machine
        with open("/proc/meminfo") as f:
            total = int(next(x for x in f if x.startswith("MemTotal:")).split()[1])
        assert memory == total
        assert cpus == os.cpu_count()
        assert nodes * sockets * cores * threads == cpus
        assert mhz >= 0


def test_node_get_security_model_layout(daemon):
    # libvirt's "none" security driver: model "none" and doi "0", each sent as a char<>
    # array whose count includes the trailing NUL, 4 bytes per char (sections 1 and 9).
    with opened(daemon) as c:
        m = c.call_raw(rawrpc.PROC_NODE_GET_SECURITY_MODEL)
        assert m.status == OK
        assert m.payload == (u32(5) + b"".join(i32(ord(ch)) for ch in "none\0") +
                             u32(2) + i32(ord("0")) + i32(0))


def test_lib_version_and_is_secure(daemon):
    with opened(daemon) as c:
        u = c.call(rawrpc.PROC_CONNECT_GET_LIB_VERSION)
        assert u.uhyper() == 9000000
        u.done()
        u = c.call(rawrpc.PROC_CONNECT_IS_SECURE)
        assert u.i32() == 1
        u.done()


def test_list_all_domains_empty(daemon):
    with opened(daemon) as c:
        u = c.call(rawrpc.PROC_CONNECT_LIST_ALL_DOMAINS, i32(1) + u32(3))
        assert (u.u32(), u.u32()) == (0, 0)  # domains<> empty, ret = 0
        u.done()
        u = c.call(rawrpc.PROC_CONNECT_NUM_OF_DOMAINS)
        assert u.i32() == 0
        u.done()


def test_supports_feature_after_open(daemon):
    # Section 2: 8, 14, 15 by the RPC layer; 9, 16 global; 2 -> 0; qemu driver
    # 1 for 3, 4, 6, 7, 11, 12, 13 and 0 for 1 and 5; 10 (keepalive) -> 1.
    want = {1: 0, 2: 0, 3: 1, 4: 1, 5: 0, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1, 11: 1, 12: 1, 13: 1,
            14: 1, 15: 1, 16: 1}
    with opened(daemon) as c:
        got = {f: c.supports_feature(f) for f in want}
    assert got == want


def test_keepalive_feature_before_open(daemon):
    with Client(str(daemon.sock)) as c:
        c.auth_list()
        assert c.supports_feature(rawrpc.FEATURE_PROGRAM_KEEPALIVE) == 1
        c.connect_open()
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


# ---------------------------------------------------------------- framing

@pytest.mark.parametrize("length", [0, 4, 27, rawrpc.MESSAGE_MAX + 5, 0xFFFFFFFF])
def test_bad_length_word_closes_connection(daemon, length):
    with Client(str(daemon.sock)) as c:
        c.send_raw(struct.pack(">I", length) + encode_frame(REMOTE_PROGRAM, REMOTE_VERSION,
                                                            rawrpc.PROC_AUTH_LIST, CALL, 0,
                                                            OK)[4:])
        assert c.wait_closed(5.0), "length word %d did not close the connection" % length
        assert not [m for m in c.messages if m.type == REPLY]
    # The daemon still serves others.
    with opened(daemon) as c2:
        assert c2.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


def test_largest_length_word_is_not_rejected(daemon):
    # 32 MiB + 4 is the largest valid length: the daemon must wait for the body
    # rather than close the connection.
    with Client(str(daemon.sock)) as c:
        c.send_raw(struct.pack(">I", rawrpc.MESSAGE_MAX + 4))
        assert not c.wait_closed(0.5)


def test_frame_in_one_byte_pieces(daemon):
    with opened(daemon) as c:
        frame = encode_frame(REMOTE_PROGRAM, REMOTE_VERSION, rawrpc.PROC_CONNECT_GET_TYPE, CALL,
                             2, OK)
        for b in frame:
            c.send_raw(bytes([b]))
            time.sleep(0.002)
        m = c.recv_message()
        assert (m.proc, m.serial, m.status, m.payload) == \
            (rawrpc.PROC_CONNECT_GET_TYPE, 2, OK, string("QEMU"))


def test_two_calls_in_one_write(daemon):
    with opened(daemon) as c:
        a = encode_frame(REMOTE_PROGRAM, REMOTE_VERSION, rawrpc.PROC_CONNECT_GET_TYPE, CALL, 2,
                         OK)
        b = encode_frame(REMOTE_PROGRAM, REMOTE_VERSION, rawrpc.PROC_CONNECT_GET_HOSTNAME, CALL,
                         3, OK)
        c.send_raw(a + b)
        m1 = c.recv_message()
        m2 = c.recv_message()
        assert (m1.proc, m1.serial, m1.payload) == (rawrpc.PROC_CONNECT_GET_TYPE, 2,
                                                    string("QEMU"))
        assert (m2.proc, m2.serial, m2.status) == (rawrpc.PROC_CONNECT_GET_HOSTNAME, 3, OK)
        assert m2.unpacker().string() == os.uname().nodename


def test_reply_from_client_closes_connection(daemon):
    with opened(daemon) as c:
        c.send_call(rawrpc.PROC_CONNECT_GET_TYPE, mtype=REPLY)
        assert c.wait_closed(5.0)
        assert not [m for m in c.messages if m.type == REPLY]
    with opened(daemon) as c2:
        assert c2.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


def test_connect_close_replies_then_closes(daemon):
    with opened(daemon) as c:
        m = c.call_raw(rawrpc.PROC_CONNECT_CLOSE)
        assert (m.proc, m.status, m.payload) == (rawrpc.PROC_CONNECT_CLOSE, OK, b"")
        assert c.wait_closed(5.0)


# ---------------------------------------------------------------- keepalive

KEEPALIVE_FAST = "keepalive_interval = 1\nkeepalive_count = 1\n"


def is_ping(m):
    return (m.prog, m.vers, m.proc, m.type, m.serial, m.status, m.length) == \
        (rawrpc.KEEPALIVE_PROGRAM, 1, rawrpc.KEEPALIVE_PING, MESSAGE, 0, OK, 28)


def test_ping_answered_with_pong(daemon):
    with opened(daemon) as c:
        c.send_keepalive(rawrpc.KEEPALIVE_PING)
        m = c.recv_message(timeout=5)
        assert (m.prog, m.vers, m.proc, m.type, m.serial, m.status, m.length) == \
            (rawrpc.KEEPALIVE_PROGRAM, 1, rawrpc.KEEPALIVE_PONG, MESSAGE, 0, OK, 28)


def test_keepalive_server_pings(daemons):
    d = daemons.start(config=KEEPALIVE_FAST)
    with Client(str(d.sock)) as c:
        c.auth_list()
        assert c.supports_feature(rawrpc.FEATURE_PROGRAM_KEEPALIVE) == 1
        t0 = time.monotonic()
        m = c.recv_message(timeout=3)
        dt = time.monotonic() - t0
        assert is_ping(m), "expected a PING, got %r" % m
        assert dt < 2.0, "first PING after %.2f s with keepalive_interval = 1" % dt
        # Our PING gets a PONG on this connection too.
        c.send_keepalive(rawrpc.KEEPALIVE_PING)
        m = c.recv_message(timeout=3)
        while is_ping(m):
            m = c.recv_message(timeout=3)
        assert (m.prog, m.proc, m.type, m.serial, m.length) == \
            (rawrpc.KEEPALIVE_PROGRAM, rawrpc.KEEPALIVE_PONG, MESSAGE, 0, 28)


def test_keepalive_closes_silent_client(daemons):
    d = daemons.start(config=KEEPALIVE_FAST)
    with Client(str(d.sock)) as c:
        c.auth_list()
        assert c.supports_feature(rawrpc.FEATURE_PROGRAM_KEEPALIVE) == 1
        t0 = time.monotonic()
        assert c.wait_closed(6.0), "silent client not closed"
        dt = time.monotonic() - t0
        # interval * (count + 1) = 2 s
        assert 1.5 <= dt <= 3.5, "closed after %.2f s, expected about 2 s" % dt
        pings = [m for m in c.messages if is_ping(m)]
        assert len(pings) == 1 and len(c.messages) == 1, c.messages
    # A client without the keepalive feature is not pinged or dropped.
    with opened(d) as c2:
        assert not c2.wait_closed(2.5)
        assert c2.messages == []
        assert c2.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


def test_keepalive_answering_client_stays(daemons):
    d = daemons.start(config=KEEPALIVE_FAST)
    with Client(str(d.sock)) as c:
        c.auth_list()
        assert c.supports_feature(rawrpc.FEATURE_PROGRAM_KEEPALIVE) == 1
        c.connect_open()
        deadline = time.monotonic() + 3.5
        pongs = 0
        while time.monotonic() < deadline:
            try:
                m = c.recv_message(timeout=deadline - time.monotonic())
            except TimeoutError:
                break
            assert is_ping(m), m
            c.send_keepalive(rawrpc.KEEPALIVE_PONG)
            pongs += 1
        assert pongs >= 1
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


# ---------------------------------------------------------------- event registration

def register_any(c, event_id):
    return c.call_raw(rawrpc.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
                      i32(event_id) + u32(0))


@pytest.mark.parametrize("event_id", [27, -1, 1000])
def test_event_register_unsupported_id(daemon, event_id):
    with opened(daemon) as c:
        m = register_any(c, event_id)
        assert m.status == ERROR
        check_error(rawrpc.RpcError.decode(m.payload), rawrpc.ERR_INTERNAL_ERROR, FROM_RPC,
                    "internal error: unsupported event ID %d" % event_id)


def test_event_register_and_deregister(daemon):
    with opened(daemon) as c:
        ids = []
        for event_id in (0, 1, 26):
            m = register_any(c, event_id)
            assert m.status == OK, rawrpc.RpcError.decode(m.payload)
            u = m.unpacker()
            ids.append(u.i32())
            u.done()
        assert all(i > 0 for i in ids) and len(set(ids)) == 3, ids
        m = c.call_raw(rawrpc.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, i32(ids[0]))
        assert (m.status, m.payload) == (OK, b"")
        m = c.call_raw(rawrpc.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, i32(ids[0]))
        assert m.status == ERROR
        err = rawrpc.RpcError.decode(m.payload)
        assert err.domain == FROM_RPC and err.level == LEVEL_ERROR
        # The others are still registered.
        m = c.call_raw(rawrpc.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, i32(ids[1]))
        assert m.status == OK


def test_event_register_with_domain_filter(daemon):
    with opened(daemon) as c:
        dom = string("e2e") + bytes(range(16)) + i32(-1)
        m = c.call_raw(rawrpc.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
                       i32(0) + u32(1) + dom)
        assert m.status == OK
        assert m.unpacker().i32() > 0


def test_legacy_event_registration(daemon):
    with opened(daemon) as c:
        m = c.call_raw(rawrpc.PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY, i32(0))
        assert (m.status, m.payload) == (OK, b"")
        m = c.call_raw(rawrpc.PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY, i32(16))
        assert m.status == ERROR
        check_error(rawrpc.RpcError.decode(m.payload), rawrpc.ERR_INTERNAL_ERROR, FROM_RPC,
                    "internal error: unsupported event ID 16")
        m = c.call_raw(rawrpc.PROC_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, i32(0))
        assert (m.status, m.payload) == (OK, b"")
        m = c.call_raw(rawrpc.PROC_CONNECT_DOMAIN_EVENT_REGISTER)
        assert (m.status, m.payload) == (OK, i32(1))
        m = c.call_raw(rawrpc.PROC_CONNECT_DOMAIN_EVENT_DEREGISTER)
        assert (m.status, m.payload) == (OK, i32(0))


# ---------------------------------------------------------------- robustness

def test_virsh_handshake_sequence(daemon):
    # The call sequence of `virsh list --all` (section 2), serials 0..8.
    with Client(str(daemon.sock)) as c:
        assert c.auth_list() == [0]
        assert c.supports_feature(rawrpc.FEATURE_PROGRAM_KEEPALIVE) == 1
        c.connect_open("qemu:///system", 0)
        assert c.supports_feature(14) == 1
        assert c.supports_feature(15) == 1
        assert c.call_raw(rawrpc.PROC_CONNECT_REGISTER_CLOSE_CALLBACK).status == OK
        u = c.call(rawrpc.PROC_CONNECT_LIST_ALL_DOMAINS, i32(1) + u32(3))
        assert (u.u32(), u.u32()) == (0, 0)
        assert c.call_raw(rawrpc.PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK).status == OK
        m = c.call_raw(rawrpc.PROC_CONNECT_CLOSE)
        assert (m.serial, m.status, m.payload) == (8, OK, b"")
        assert c.wait_closed(5.0)


@pytest.mark.parametrize("payload", [
    b"",                                  # CONNECT_OPEN args missing entirely
    u32(1) + u32(1000) + b"qemu",         # string longer than the payload
    u32(7),                               # optional flag neither 0 nor 1
    u32(1) + u32(5 * 1024 * 1024) + b"q" * (5 * 1024 * 1024) + u32(0),  # > REMOTE_STRING_MAX
], ids=["empty", "short-string", "bad-flag", "huge-string"])
def test_undecodable_arguments_get_error_reply(daemon, payload):
    with Client(str(daemon.sock)) as c:
        c.auth_list()
        m, err = c.call_error(rawrpc.PROC_CONNECT_OPEN, payload)
        assert (m.proc, m.serial) == (rawrpc.PROC_CONNECT_OPEN, 1)
        assert (err.code, err.domain, err.level) == (rawrpc.ERR_RPC, FROM_RPC, LEVEL_ERROR)
        # Nothing was opened, and the connection still works.
        c.connect_open()
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


def test_stray_stream_message_is_dropped(daemon):
    # STREAM messages that match no open stream are dropped silently (section 12).
    with opened(daemon) as c:
        for status in (OK, ERROR, rawrpc.CONTINUE):
            c.send_raw(encode_frame(REMOTE_PROGRAM, REMOTE_VERSION, 201, rawrpc.STREAM, 42,
                                    status, b"data"))
        m = c.call_raw(rawrpc.PROC_CONNECT_GET_TYPE)
        assert (m.serial, m.status, m.payload) == (2, OK, string("QEMU"))
        assert c.messages == []


def test_pipelined_calls_all_answered(daemons):
    # More calls in one write than max_client_requests, on a fresh daemon whose
    # first GET_VERSION/GET_CAPABILITIES wait for the QEMU probe.
    d = daemons.start(config="max_client_requests = 2\n")
    with opened(d) as c:
        procs = [rawrpc.PROC_CONNECT_GET_CAPABILITIES, rawrpc.PROC_CONNECT_GET_VERSION,
                 rawrpc.PROC_CONNECT_GET_TYPE] * 6
        c.send_raw(b"".join(encode_frame(REMOTE_PROGRAM, REMOTE_VERSION, p, CALL, 2 + i, OK)
                            for i, p in enumerate(procs)))
        replies = {}
        for _ in procs:
            m = c.recv_message(timeout=30)
            assert m.type == REPLY and m.status == OK, m
            replies[m.serial] = m
        assert sorted(replies) == list(range(2, 2 + len(procs)))
        for i, p in enumerate(procs):
            assert replies[2 + i].proc == p
        assert len({replies[2 + i].payload for i, p in enumerate(procs)
                    if p == rawrpc.PROC_CONNECT_GET_CAPABILITIES}) == 1
        assert len({replies[2 + i].payload for i, p in enumerate(procs)
                    if p == rawrpc.PROC_CONNECT_GET_VERSION}) == 1


def test_many_clients_at_once(daemon):
    clients = [Client(str(daemon.sock if i % 2 else daemon.sock_ro)) for i in range(40)]
    try:
        for c in clients:
            c.send_call(rawrpc.PROC_AUTH_LIST)
            c.send_call(rawrpc.PROC_CONNECT_OPEN, opt_string("qemu:///system") + u32(0))
            c.send_call(rawrpc.PROC_CONNECT_GET_HOSTNAME)
        for c in clients:
            for serial in range(3):
                m = c.recv_reply(serial)
                assert m.status == OK, rawrpc.RpcError.decode(m.payload)
            assert m.unpacker().string() == os.uname().nodename
    finally:
        for c in clients:
            c.close()


def test_max_message_size_config(daemons):
    d = daemons.start(config="max_message_size = 65536\n")
    with opened(d) as c:
        # Within the limit: an answer (the procedure is unknown).
        _, err = c.call_error(9999, b"\0" * (65536 - 24))
        assert err.message == "unknown procedure: 9999"
        # One word over: the connection is closed without a reply.
        c.send_call(9999, b"\0" * (65536 - 24 + 4))
        assert c.wait_closed(5.0)
        assert not [m for m in c.messages if m.type == REPLY]
