"""test_frames.py: broken frames and headers, on every daemon that shares src/common/rpc.

Each target (targets.py) gets every case twice: on a connection that has only done
AUTH_LIST (the daemon's own dispatcher answers, in virtproxyd too) and on one that
has done CONNECT_OPEN (in virtproxyd the backend answers: after a hand-off directly,
in relay mode through the proxy's relay). A case expects either an ERROR reply whose
header echoes the call and whose error is libvirt's (libvirt-wire-facts.md, sections 1
and 11), after which the same connection still works; or the connection closed
without any reply. After every case a fresh client must be served.

../e2e/test_rawrpc.py covers virtqemud's pre-open answers to some of these (length
words 0, 4, 27, 32 MiB + 5 and 2^32 - 1; unknown program and version; status ERROR;
a REPLY from the client; unknown procedure 9999); here they run everywhere.
"""

import struct

import pytest

import rawrpc
import targets
from hostile import (PROC_CONNECT_SET_IDENTITY, PROC_DOMAIN_LOOKUP_BY_NAME,
                     assert_still_serving, check_rpc_error, signed)
from rawrpc import (CALL, ERROR, FROM_RPC, MESSAGE, OK, REMOTE_PROGRAM, REMOTE_VERSION, REPLY,
                    encode_frame, i32, opt_string, string, u32)

GET_TYPE = rawrpc.PROC_CONNECT_GET_TYPE
CAP = rawrpc.MESSAGE_MAX  # header plus payload; the length word may say CAP + 4


def frame(proc=GET_TYPE, payload=b"", prog=REMOTE_PROGRAM, vers=REMOTE_VERSION, mtype=CALL,
          serial=100, status=OK, length=None):
    return encode_frame(prog, vers, proc, mtype, serial, status, payload, length=length)


def decode_error(proc):
    return ("error", proc, rawrpc.ERR_RPC, FROM_RPC, "Unable to decode message payload")


# (id, bytes sent, expected). expected is "close", ("error", proc, code, domain,
# message) or "ignored" (no reply; the connection goes on).
CASES = [
    # Length words: under 28, over the cap (libvirt checks length - 4 against 32 MiB).
    ("len-0", struct.pack(">I", 0) + frame()[4:], "close"),
    ("len-27", frame(length=27), "close"),
    ("len-cap+5", frame(length=CAP + 5), "close"),
    ("len-max", frame(length=0xFFFFFFFF), "close"),
    # Header fields.
    ("bad-program", frame(prog=0x20008087 + 0x100),
     ("error", GET_TYPE, rawrpc.ERR_RPC, FROM_RPC,
      "Cannot find program %d version 1" % signed(0x20008187))),
    ("bad-version", frame(vers=0),
     ("error", GET_TYPE, rawrpc.ERR_RPC, FROM_RPC,
      "Cannot find program %d version 0" % signed(REMOTE_PROGRAM))),
    ("negative-program", frame(prog=0xFFFFFFFF, vers=0xFFFFFFFF),
     ("error", GET_TYPE, rawrpc.ERR_RPC, FROM_RPC, "Cannot find program -1 version -1")),
    ("status-continue", frame(status=rawrpc.CONTINUE),
     ("error", GET_TYPE, rawrpc.ERR_RPC, FROM_RPC, "Unexpected message status 2")),
    ("status-99", frame(status=99),
     ("error", GET_TYPE, rawrpc.ERR_RPC, FROM_RPC, "Unexpected message status 99")),
    # Message types a client must not send: replies, an fd-carrying call whose dummy
    # byte comes without its descriptor (libvirt's receiver fails the same way), and
    # types that do not exist. The bytes after them cannot be trusted.
    ("type-reply", frame(mtype=REPLY), "close"),
    ("type-reply-error", frame(mtype=REPLY, status=ERROR), "close"),
    ("type-call-with-fds", frame(mtype=4, payload=u32(1)) + b"\0", "close"),
    ("type-call-with-33-fds", frame(mtype=4, payload=u32(33)), "close"),
    ("type-reply-with-fds", frame(mtype=5, payload=u32(0)), "close"),
    ("type-7", frame(mtype=7), "close"),
    ("type-negative", frame(mtype=0xFFFFFFFF), "close"),
    # A MESSAGE of the remote program from a client means nothing (libvirt drops it).
    ("type-message", frame(mtype=MESSAGE), "ignored"),
    # Procedure numbers that name nothing.
    ("proc-9999", frame(proc=9999),
     ("error", 9999, rawrpc.ERR_RPC, FROM_RPC, "unknown procedure: 9999")),
    ("proc-0", frame(proc=0), ("error", 0, rawrpc.ERR_RPC, FROM_RPC, "unknown procedure: 0")),
    ("proc-negative", frame(proc=-5),
     ("error", -5, rawrpc.ERR_RPC, FROM_RPC, "unknown procedure: -5")),
    ("proc-int-max", frame(proc=0x7FFFFFFF),
     ("error", 0x7FFFFFFF, rawrpc.ERR_RPC, FROM_RPC, "unknown procedure: 2147483647")),
]

# Declared lengths far beyond the bytes sent, in calls that decode their arguments.
PRE_OPEN_DECODE = [
    ("open-name-4GiB", frame(proc=rawrpc.PROC_CONNECT_OPEN,
                             payload=u32(1) + u32(0xFFFFFFFF) + b"qemu" + u32(0)),
     decode_error(rawrpc.PROC_CONNECT_OPEN)),
    ("open-name-at-string-max", frame(proc=rawrpc.PROC_CONNECT_OPEN,
                                      payload=u32(1) + u32(4194304) + b"qemu" + u32(0)),
     decode_error(rawrpc.PROC_CONNECT_OPEN)),
]
# After the open, each family's own procedures (targets.py) with arguments that cannot be
# decoded; every target also gets the CONNECT_SET_IDENTITY cases.
PROC_SECRET_LOOKUP_BY_UUID, PROC_SECRET_DEFINE_XML, PROC_SECRET_SET_VALUE = 141, 142, 144
PROC_SECRET_LOOKUP_BY_USAGE, PROC_CONNECT_SECRET_EVENT_REGISTER_ANY = 147, 380
PROC_NODE_LIST_DEVICES, PROC_NODE_DEVICE_LOOKUP_BY_NAME = 112, 113
PROC_NODE_DEVICE_LOOKUP_SCSI_HOST_BY_WWN, PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY = 297, 374
PROC_STORAGE_POOL_DEFINE_XML, PROC_STORAGE_POOL_LOOKUP_BY_NAME = 77, 84
PROC_STORAGE_POOL_LOOKUP_BY_UUID, PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY = 85, 368
PROC_STORAGE_VOL_LOOKUP_BY_PATH, PROC_STORAGE_POOL_LIST_ALL_VOLUMES = 97, 282
SECRET_VALUE_MAX = 65536
NONNULL_SECRET = b"\x11" * 16 + i32(1) + string("/x")  # uuid, usage type, usage id

OWN_DECODE = {
    "domain": [
        ("lookup-name-4GiB",
         frame(proc=PROC_DOMAIN_LOOKUP_BY_NAME, payload=u32(0xFFFFFFF0) + b"abcd")),
        ("lookup-name-at-string-max",
         frame(proc=PROC_DOMAIN_LOOKUP_BY_NAME, payload=u32(4194304) + b"abcd")),
        ("define-xml-32MiB", frame(proc=rawrpc.PROC_DOMAIN_DEFINE_XML,
                                   payload=u32(32 << 20) + b"<domain/>   ")),
    ],
    "secret": [
        ("secret-define-xml-32MiB",
         frame(proc=PROC_SECRET_DEFINE_XML, payload=u32(32 << 20) + b"<secret/>   ")),
        ("secret-uuid-short", frame(proc=PROC_SECRET_LOOKUP_BY_UUID, payload=b"\x11" * 8)),
        ("secret-usage-4GiB",
         frame(proc=PROC_SECRET_LOOKUP_BY_USAGE, payload=i32(1) + u32(0xFFFFFFF0) + b"abcd")),
        ("secret-value-4GiB",
         frame(proc=PROC_SECRET_SET_VALUE, payload=NONNULL_SECRET + u32(0xFFFFFFFF) + b"v")),
        ("secret-value-over-max",
         frame(proc=PROC_SECRET_SET_VALUE,
               payload=NONNULL_SECRET + u32(SECRET_VALUE_MAX + 1)
               + b"v" * (SECRET_VALUE_MAX + 4) + u32(0))),
        ("secret-event-filter-4GiB",
         frame(proc=PROC_CONNECT_SECRET_EVENT_REGISTER_ANY,
               payload=i32(0) + u32(1) + b"\x11" * 16 + i32(1) + u32(0xFFFFFFFF) + b"x")),
    ],
    "nodedev": [
        ("nodedev-name-4GiB",
         frame(proc=PROC_NODE_DEVICE_LOOKUP_BY_NAME, payload=u32(0xFFFFFFF0) + b"abcd")),
        ("nodedev-name-at-string-max",
         frame(proc=PROC_NODE_DEVICE_LOOKUP_BY_NAME, payload=u32(4194304) + b"abcd")),
        ("nodedev-list-truncated", frame(proc=PROC_NODE_LIST_DEVICES, payload=opt_string(None))),
        ("nodedev-wwn-second-4GiB",
         frame(proc=PROC_NODE_DEVICE_LOOKUP_SCSI_HOST_BY_WWN,
               payload=string("2000001b32a9da4e") + u32(0xFFFFFFF0) + b"abcd")),
        ("nodedev-event-filter-4GiB",
         frame(proc=PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY,
               payload=i32(0) + u32(1) + u32(0xFFFFFFFF) + b"pci_")),
    ],
    "storage": [
        ("pool-define-xml-32MiB",
         frame(proc=PROC_STORAGE_POOL_DEFINE_XML, payload=u32(32 << 20) + b"<pool/>   ")),
        ("pool-name-4GiB",
         frame(proc=PROC_STORAGE_POOL_LOOKUP_BY_NAME, payload=u32(0xFFFFFFF0) + b"abcd")),
        ("pool-uuid-short", frame(proc=PROC_STORAGE_POOL_LOOKUP_BY_UUID, payload=b"\x11" * 8)),
        ("pool-event-filter-4GiB",
         frame(proc=PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY,
               payload=i32(0) + u32(1) + u32(0xFFFFFFFF) + b"pool")),
        ("vol-path-4GiB",
         frame(proc=PROC_STORAGE_VOL_LOOKUP_BY_PATH, payload=u32(0xFFFFFFF0) + b"/tmp")),
        ("vol-list-pool-name-4GiB",
         frame(proc=PROC_STORAGE_POOL_LIST_ALL_VOLUMES, payload=u32(0xFFFFFFF0) + b"pool")),
    ],
}
# CONNECT_SET_IDENTITY's typed-parameter array: 2^32 - 1 elements, the array's maximum (20)
# with none sent, one over the maximum, and a field name of 4 GiB.
IDENTITY_DECODE = [
    ("identity-array-4G", frame(proc=PROC_CONNECT_SET_IDENTITY, payload=u32(0xFFFFFFFF) + u32(0))),
    ("identity-array-at-max", frame(proc=PROC_CONNECT_SET_IDENTITY, payload=u32(20) + u32(0))),
    ("identity-array-over-max",
     frame(proc=PROC_CONNECT_SET_IDENTITY,
           payload=u32(21) + (string("x") + i32(1) + i32(0)) * 21 + u32(0))),
    ("identity-field-4GiB",
     frame(proc=PROC_CONNECT_SET_IDENTITY, payload=u32(1) + u32(0xFFFFFFFF) + b"user")),
]


def post_open_decode(family):
    return [(case_id, data, decode_error(struct.unpack(">i", data[12:16])[0]))
            for case_id, data in OWN_DECODE[family] + IDENTITY_DECODE]


def run_case(target, opened, case_id, data, expected):
    c = target.client(timeout=5.0)
    try:
        if opened:
            c.open(target.open_name)
        else:
            assert c.auth_list() == [0]
        c.send_raw(data)
        if expected == "close":
            assert c.wait_closed(5.0), "%s: connection not closed" % case_id
            replies = [m for m in c.messages if m.type == REPLY]
            assert not replies, "%s: reply before the close: %r" % (case_id, replies)
        else:
            if expected == "ignored":
                # The next call's reply is the first frame back.
                proc = GET_TYPE if opened else rawrpc.PROC_AUTH_LIST
                m = c.call_raw(proc)
                assert (m.proc, m.status) == (proc, OK), (case_id, m)
                assert not [x for x in c.messages if x.prog == REMOTE_PROGRAM], case_id
            else:
                _, proc, code, domain, message = expected
                m = c.recv_message(timeout=5.0)
                hdr = struct.unpack(">IIiIII", data[4:28])
                assert (m.prog, m.vers, m.proc, m.type, m.serial, m.status) == \
                    (hdr[0], hdr[1], proc, REPLY, hdr[4], ERROR), (case_id, m)
                check_rpc_error(rawrpc.RpcError.decode(m.payload), code, domain, message)
            # The connection that took the bad frame is still usable.
            if opened:
                assert c.get_string(GET_TYPE) == target.type_name, case_id
            else:
                assert c.auth_list() == [0], case_id
    finally:
        c.close()
    assert_still_serving(target)


@pytest.mark.parametrize("name", targets.ALL)
def test_bad_frames_and_headers(daemons, root, name):
    target = targets.start(name, daemons, root)
    for opened in (False, True):
        cases = CASES + (post_open_decode(target.family) if opened else PRE_OPEN_DECODE)
        for case_id, data, expected in cases:
            try:
                run_case(target, opened, case_id, data, expected)
            except AssertionError as e:
                raise AssertionError("%s, %s, case %s: %s" % (
                    name, "after CONNECT_OPEN" if opened else "before CONNECT_OPEN",
                    case_id, e)) from e


def test_max_message_size_cap_on_proxy_and_lxcd(daemons, root):
    """max_message_size lowers the cap on other daemons too: one word over it closes."""
    etc = root / "etc" / "libvirt"
    etc.mkdir(parents=True)
    for name in ("virtproxyd", "virtlxcd"):
        (etc / (name + ".conf")).write_text("max_message_size = 65536\n")
    for t in (targets.start_lxcd(daemons, root), targets.start_proxy(daemons, root, "proxy-relay")):
        for length, expected in ((65536 + 4, "error"), (65536 + 8, "close")):
            with t.client(timeout=5.0) as c:
                c.open(t.open_name) if t.label == "virtlxcd" else c.auth_list()
                c.send_raw(frame(proc=9999, payload=b"\0" * (length - 28)))
                if expected == "close":
                    assert c.wait_closed(5.0), (t.label, length)
                    assert not [m for m in c.messages if m.type == REPLY]
                else:
                    m = c.recv_message()
                    err = rawrpc.RpcError.decode(m.payload)
                    assert (m.serial, m.status, err.message) == \
                        (100, ERROR, "unknown procedure: 9999"), (t.label, m)
        assert_still_serving(t)


@pytest.mark.parametrize("name", targets.ALL)
def test_hostile_frames_pipelined_with_the_open(daemons, root, name):
    """Bad frames and a second CONNECT_OPEN sent in the same write as AUTH_LIST and
    CONNECT_OPEN, so they reach the daemon while the open is in progress: in virtproxyd
    they wait until the backend is chosen, then go to it (hand-off or relay). Replies
    come in call order, the proxy's own before the backend's; a second open is refused
    with libvirt's error; a broken frame closes the connection, after none, some or all
    of the replies to the calls before it."""
    t = targets.start(name, daemons, root)
    open_args = opt_string(t.open_name) + u32(0)
    hs = frame(rawrpc.PROC_AUTH_LIST, serial=0) + \
        frame(rawrpc.PROC_CONNECT_OPEN, open_args, serial=1)
    ok_hs = [(rawrpc.PROC_AUTH_LIST, 0, OK), (rawrpc.PROC_CONNECT_OPEN, 1, OK)]
    # (id, bytes, replies (proc, serial, status) in order, how it ends: "open", "closed",
    # or "prefix" for closed after a prefix of the replies).
    cases = [
        ("second-open", hs + frame(rawrpc.PROC_CONNECT_OPEN, open_args, serial=1)
         + frame(GET_TYPE, serial=1),
         ok_hs + [(rawrpc.PROC_CONNECT_OPEN, 1, ERROR), (GET_TYPE, 1, OK)], "open"),
        ("undecodable-open-then-open",
         frame(rawrpc.PROC_AUTH_LIST, serial=0)
         + frame(rawrpc.PROC_CONNECT_OPEN, u32(1) + u32(100) + b"q", serial=1)
         + frame(rawrpc.PROC_CONNECT_OPEN, open_args, serial=2) + frame(GET_TYPE, serial=3),
         [(rawrpc.PROC_AUTH_LIST, 0, OK), (rawrpc.PROC_CONNECT_OPEN, 1, ERROR),
          (rawrpc.PROC_CONNECT_OPEN, 2, OK), (GET_TYPE, 3, OK)], "open"),
        ("close-then-call", hs + frame(rawrpc.PROC_CONNECT_CLOSE, serial=2)
         + frame(GET_TYPE, serial=3),
         ok_hs + [(rawrpc.PROC_CONNECT_CLOSE, 2, OK)], "closed"),
        ("short-length", hs + frame(GET_TYPE, serial=2, length=27), ok_hs, "prefix"),
        ("reply-type", hs + frame(GET_TYPE, serial=2, mtype=REPLY) + frame(GET_TYPE, serial=3),
         ok_hs, "prefix"),
        ("huge-length", hs + u32(0xFFFFFFFF), ok_hs, "prefix"),
    ]
    errors = {("second-open", 1): (rawrpc.ERR_INTERNAL_ERROR, FROM_RPC,
                                   "internal error: connection already open"),
              ("undecodable-open-then-open", 1): decode_error(rawrpc.PROC_CONNECT_OPEN)[2:]}
    for case_id, data, want, ends in cases:
        where = "%s, %s" % (name, case_id)
        with t.client(timeout=5.0) as c:
            c.send_raw(data)
            if ends == "open":
                msgs = [c.recv_message(timeout=5.0) for _ in want]
                assert not c.wait_closed(0.2), where
            else:
                assert c.wait_closed(5.0), where
                msgs = c.messages
            got = []
            for m in msgs:
                assert m.type == REPLY, (where, m)
                if m.status == ERROR:
                    check_rpc_error(rawrpc.RpcError.decode(m.payload), *errors[case_id, m.serial])
                elif m.proc == GET_TYPE:
                    assert m.payload == string(t.type_name), where
                got.append((m.proc, m.serial, m.status))
            if ends == "prefix":
                assert got == want[:len(got)], (where, got)
            else:
                assert got == want, (where, got)
        assert_still_serving(t)
