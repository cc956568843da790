"""test_payloads.py: well-framed calls whose contents are hostile, against virtqemud.

Covered elsewhere and not repeated here (README.md lists them): names that try to
leave the config directory, external entities, billion laughs and invalid UTF-8 in
domain XML (../e2e/test_domains.py); strings longer than their payload or than
REMOTE_STRING_MAX in CONNECT_OPEN (../e2e/test_rawrpc.py). Declared lengths far
beyond the bytes sent are in test_frames.py, on every daemon.
"""

import os
import re

import rawrpc
from hostile import (ERR_NO_DOMAIN, ERR_XML_DETAIL, PROC_DOMAIN_LOOKUP_BY_NAME,
                     assert_still_serving, check_rpc_error)
from rawrpc import CALL, ERROR, OK, REMOTE_PROGRAM, REMOTE_VERSION, REPLY, encode_frame, string
import targets

FROM_QEMU = 10
FROM_DOMAIN = 20


def xml(name, extra=""):
    return ("<domain type='qemu'><name>%s</name><memory>65536</memory>"
            "<os><type>hvm</type></os>%s</domain>" % (name, extra))


def files_under(root):
    """The files under root, but the daemons' stderr and the QEMU probe's cache, which
    virtqemud writes by itself once it starts."""
    cache = os.path.join(str(root), "var", "cache")
    out = set()
    for d, _, files in os.walk(root):
        if d == cache or d.startswith(cache + os.sep):
            continue
        out.update(os.path.join(d, f) for f in files if not f.endswith(".stderr"))
    return out


def lookup(c, name):
    return c.call_raw(PROC_DOMAIN_LOOKUP_BY_NAME, string(name))


def raw_error(m):
    """(code, domain, message bytes) of an ERROR reply, without decoding the text
    (it may echo bytes that are not UTF-8)."""
    assert m.status == ERROR, m
    u = rawrpc.Unpacker(m.payload)
    code, domain = u.i32(), u.i32()
    assert u.u32() == 1
    return code, domain, u._take(u.u32())


def test_embedded_nul_in_strings(daemons, root):
    """XDR strings are cut at an embedded NUL when decoded (libtirpc's xdr_string, the
    same in libvirt 9.0.0): a name "e2e\\0junk" is the name "e2e", and XML text ends at
    its first NUL. Nothing reaches past the NUL: no file is named after what follows."""
    t = targets.start_qemud(daemons, root)
    with t.opened() as c:
        u = c.call(rawrpc.PROC_DOMAIN_DEFINE_XML, string(xml("e2e")))
        assert u.string() == "e2e"
        before = files_under(root)
        # A lookup finds the part before the NUL, as libvirt does.
        m = lookup(c, b"e2e\0/../../etc/passwd")
        assert m.status == OK
        assert rawrpc.Unpacker(m.payload).string() == "e2e"
        m = lookup(c, b"nope\0e2e")
        check_rpc_error(rawrpc.RpcError.decode(m.payload), ERR_NO_DOMAIN, FROM_QEMU,
                        "Domain not found: no domain with matching name 'nope'")
        # A NUL inside the XML ends the document: a parse error, nothing defined.
        m = c.call_raw(rawrpc.PROC_DOMAIN_DEFINE_XML, string(xml("n\0../x").encode()))
        err = rawrpc.RpcError.decode(m.payload)
        assert (err.code, err.domain) == (ERR_XML_DETAIL, FROM_DOMAIN), err
        assert err.message.startswith("(domain_definition):1: Premature end of data in tag "
                                      "name line 1\n<domain type='qemu'><name>n\n"), err
        # What follows a NUL after a complete document is never seen: the define is of
        # "e2e" again (same name, new UUID: refused as libvirt refuses it).
        m = c.call_raw(rawrpc.PROC_DOMAIN_DEFINE_XML,
                       string(xml("e2e").encode() + b"\0<name>../../x</name>"))
        err = rawrpc.RpcError.decode(m.payload)
        assert (err.code, err.domain) == (9, FROM_DOMAIN), err
        assert err.message.startswith("operation failed: domain 'e2e' already exists with uuid")
        assert files_under(root) == before
        u = c.call(rawrpc.PROC_CONNECT_LIST_ALL_DOMAINS, rawrpc.i32(1) + rawrpc.u32(3))
        assert u.u32() == 1 and u.string() == "e2e"
    assert_still_serving(t)


def test_names_that_are_not_utf8(daemons, root):
    """Lookups by names that are not valid UTF-8 (lone continuation bytes, an overlong
    "/", a surrogate, 0xFF): NO_DOMAIN, the name echoed byte for byte as libvirt does.
    (A define with such a name: ../e2e/test_domains.py.)"""
    t = targets.start_qemud(daemons, root)
    names = [b"\xff\xfe", b"\x80", b"e2e\xc0\xaf", b"\xed\xa0\x80", b"\xc0\xae\xc0\xae"]
    with t.opened() as c:
        for name in names:
            code, domain, msg = raw_error(lookup(c, name))
            assert (code, domain) == (ERR_NO_DOMAIN, FROM_QEMU)
            assert msg == b"Domain not found: no domain with matching name '" + name + b"'"
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
    assert_still_serving(t)


DEPTH = 100000


def test_xml_nested_a_hundred_thousand_deep(daemons, root):
    """Elements nested 100000 deep, inside <metadata> and as the document itself:
    libxml2's depth limit (256, no XML_PARSE_HUGE) refuses it with XML_DETAIL; no stack
    is exhausted and nothing is written."""
    t = targets.start_qemud(daemons, root)
    deep_meta = xml("deep", "<metadata>" + "<a>" * DEPTH + "</a>" * DEPTH + "</metadata>")
    deep_doc = "<domain>\n" * DEPTH + "</domain>\n" * DEPTH
    want = "Excessive depth in document: 256 use XML_PARSE_HUGE option\n"
    with t.opened() as c:
        before = files_under(root)
        for doc in (deep_meta, deep_doc):
            for proc, extra in ((rawrpc.PROC_DOMAIN_DEFINE_XML, b""),
                                (350, rawrpc.u32(0)),     # DEFINE_XML_FLAGS
                                (10, rawrpc.u32(0))):     # CREATE_XML
                m = c.call_raw(proc, string(doc) + extra)
                err = rawrpc.RpcError.decode(m.payload)
                assert (err.code, err.domain) == (ERR_XML_DETAIL, FROM_DOMAIN), err
                # (domain_definition):LINE: MSG\nTEXT\nPOINTER, the line libxml2 stopped at.
                assert re.match(r"\(domain_definition\):\d+: " + re.escape(want), err.message), \
                    err.message[:200]
        assert files_under(root) == before
        u = c.call(rawrpc.PROC_CONNECT_LIST_ALL_DOMAINS, rawrpc.i32(1) + rawrpc.u32(3))
        assert (u.u32(), u.u32()) == (0, 0)
    assert_still_serving(t)


def test_duplicate_serial_of_a_pending_call(daemons, root):
    """A serial that duplicates a call still pending. libvirt does not check serials
    and neither does splitvirt: every call is answered, each reply echoing its own
    call's procedure with the shared serial, so replies are never confused. The
    pending call is GET_CAPABILITIES on a fresh daemon, which waits for the QEMU probe;
    the duplicates sent meanwhile (GET_TYPE, answered at once, and GET_VERSION, also
    waiting for the probe) come back too, GET_TYPE first."""
    t = targets.start_qemud(daemons, root)
    serial = 5
    procs = [rawrpc.PROC_CONNECT_GET_CAPABILITIES, rawrpc.PROC_CONNECT_GET_TYPE,
             rawrpc.PROC_CONNECT_GET_VERSION, rawrpc.PROC_CONNECT_GET_CAPABILITIES]
    with t.opened(timeout=30.0) as c:
        c.send_raw(b"".join(encode_frame(REMOTE_PROGRAM, REMOTE_VERSION, p, CALL, serial, OK)
                            for p in procs))
        replies = [c.recv_message(timeout=30.0) for _ in procs]
        for m in replies:
            assert (m.type, m.serial, m.status) == (REPLY, serial, OK), m
        assert sorted(m.proc for m in replies) == sorted(procs)
        # The immediate answer overtook the call that was pending.
        assert replies[0].proc == rawrpc.PROC_CONNECT_GET_TYPE, [m.proc for m in replies]
        by_proc = {}
        for m in replies:
            by_proc.setdefault(m.proc, []).append(m.payload)
        assert by_proc[rawrpc.PROC_CONNECT_GET_TYPE] == [string("QEMU")]
        caps = by_proc[rawrpc.PROC_CONNECT_GET_CAPABILITIES]
        assert len(caps) == 2 and caps[0] == caps[1]
        assert "<capabilities>" in rawrpc.Unpacker(caps[0]).string()
        u = rawrpc.Unpacker(by_proc[rawrpc.PROC_CONNECT_GET_VERSION][0])
        assert u.uhyper() > 0
        u.done()
        # The connection goes on; a later call with the same serial is answered too.
        m = c.call_raw(rawrpc.PROC_CONNECT_GET_TYPE, serial=serial)
        assert (m.serial, m.payload) == (serial, string("QEMU"))
    assert_still_serving(t)
