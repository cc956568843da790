#!/usr/bin/env python3
"""gen-corpus.py: (re)write the generated seed files of tests/fuzz/corpus.

Frames are built with tests/e2e/rawrpc.py's encoders; domain XML and xl.cfg seeds are
copied from tests/data. Seeds added by hand (regressions, named crash-*, leak-*,
timeout-*) are left alone. Run from anywhere: python3 tests/fuzz/gen-corpus.py
"""

import os
import re
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import rawrpc as r  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")
ADMIN_PROGRAM = 0x06900690
PRIVATE_PROGRAM = 0x53564950
UUID = bytes(range(16))


def write(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def call(proc, payload=b"", serial=0, prog=r.REMOTE_PROGRAM, status=r.OK):
    return r.encode_frame(prog, 1, proc, r.CALL, serial, status, payload)


def dom(name="fuzz", dom_id=-1):
    """remote_nonnull_domain: name, uuid, id."""
    return r.string(name) + r.opaque_fixed(UUID, 16) + r.i32(dom_id)


def typed_params(params):
    out = r.u32(len(params))
    for field, kind, value in params:
        out += r.string(field) + r.i32(kind)
        out += {1: lambda v: r.i32(v), 2: lambda v: r.u32(v), 3: lambda v: struct.pack(">q", v),
                4: r.uhyper, 5: lambda v: struct.pack(">d", v), 6: lambda v: r.i32(v),
                7: r.string}[kind](value)
    return out


def remote_procs():
    """Every remote procedure number and name from sv_remote.x."""
    text = open(os.path.join(ROOT, "src", "common", "protocol", "sv_remote.x")).read()
    return [(int(n), name) for name, n in re.findall(r"REMOTE_PROC_(\w+)\s*=\s*(\d+)", text)]


OPEN = call(r.PROC_CONNECT_OPEN, r.opt_string("test:///default") + r.u32(0))
OPEN_RO = call(r.PROC_CONNECT_OPEN, r.opt_string("test:///default") + r.u32(1))
XML = open(os.path.join(ROOT, "tests", "data", "domain", "minimal.xml")).read()


def frames():
    write("frame", "open-version", b"\x03" + OPEN + call(r.PROC_CONNECT_GET_VERSION, serial=1))
    write("frame", "define-xml", b"\x10" + call(r.PROC_DOMAIN_DEFINE_XML, r.string(XML), 2))
    reply = r.encode_frame(r.REMOTE_PROGRAM, 1, r.PROC_CONNECT_GET_VERSION, r.REPLY, 1, r.OK,
                           r.uhyper(9000000))
    err = r.encode_frame(r.REMOTE_PROGRAM, 1, r.PROC_DOMAIN_LOOKUP_BY_NAME, r.REPLY, 3, r.ERROR,
                         r.i32(42) + r.i32(10) + r.opt_string("Domain not found: x")
                         + r.i32(2) + r.u32(0) + r.opt_string("x") + r.u32(0) + r.u32(0)
                         + r.i32(-1) + r.i32(-1) + r.u32(0))
    event = r.encode_frame(r.REMOTE_PROGRAM, 1, 318, r.MESSAGE, 1, r.OK,
                           r.i32(1) + dom() + r.i32(5) + r.i32(0))
    write("frame", "replies-events", b"\x00" + reply + err + event)
    ping = r.encode_frame(r.KEEPALIVE_PROGRAM, 1, r.KEEPALIVE_PING, r.MESSAGE, 0, r.OK)
    write("frame", "keepalive-split", b"\x00" + ping + ping[:13])
    write("frame", "too-small", b"\xff" + struct.pack(">I", 27) + b"\0" * 24)
    write("frame", "too-large", b"\x07" + struct.pack(">I", 0x7FFFFFFF) + b"\0" * 24)
    write("frame", "identity", b"\x05" + call(
        333, typed_params([("user-name", 7, "root"), ("unix-user-id", 4, 0),
                           ("process-id", 3, 1), ("x", 5, 1.5)]) + r.u32(0), 4))


def dispatch():
    flags_open = b"\x02"
    write("dispatch", "handshake", b"\x00" + call(r.PROC_CONNECT_SUPPORTS_FEATURE, r.i32(10))
          + call(r.PROC_AUTH_LIST, serial=1) + OPEN + call(r.PROC_CONNECT_GET_TYPE, serial=4)
          + call(r.PROC_CONNECT_GET_VERSION, serial=5) + call(r.PROC_CONNECT_CLOSE, serial=8))
    write("dispatch", "readonly-define", b"\x00" + OPEN_RO
          + call(r.PROC_DOMAIN_DEFINE_XML, r.string(XML), 1)
          + call(r.PROC_CONNECT_LIST_ALL_DOMAINS, r.i32(1) + r.u32(0), 4))
    write("dispatch", "readonly-socket", b"\x03" + call(r.PROC_DOMAIN_DEFINE_XML, r.string(XML), 1))
    write("dispatch", "not-open", b"\x00" + call(r.PROC_DOMAIN_LOOKUP_BY_NAME, r.string("x"), 1)
          + OPEN + OPEN)
    write("dispatch", "events", flags_open
          + call(r.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, r.i32(0) + r.u32(1) + dom(), 1)
          + call(r.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, r.i32(1) + r.u32(0), 4)
          + call(r.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, r.i32(1), 5)
          + call(r.PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY, r.i32(0), 8)
          + call(r.PROC_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, r.i32(0), 9)
          + call(r.PROC_CONNECT_DOMAIN_EVENT_REGISTER, serial=12)
          + call(r.PROC_CONNECT_DOMAIN_EVENT_DEREGISTER, serial=13)
          + call(r.PROC_CONNECT_REGISTER_CLOSE_CALLBACK, serial=16)
          + call(r.PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK, serial=17))
    write("dispatch", "identity", flags_open + call(
        333, typed_params([("user-name", 7, "root"), ("unix-user-id", 4, 0),
                           ("unix-group-id", 4, 0), ("process-id", 3, 1),
                           ("selinux-context", 7, "system_u")]) + r.u32(0), 4))
    write("dispatch", "host-facts", flags_open + b"".join(
        call(p, serial=4 * i) for i, p in enumerate(
            [r.PROC_NODE_GET_INFO, r.PROC_CONNECT_GET_HOSTNAME, r.PROC_NODE_GET_FREE_MEMORY,
             r.PROC_CONNECT_IS_SECURE, r.PROC_CONNECT_GET_LIB_VERSION,
             r.PROC_NODE_GET_SECURITY_MODEL, r.PROC_CONNECT_GET_URI])))
    # Every procedure once (CONNECT_CLOSE last: it ends the connection), each with a domain
    # and flags as arguments (right for most of them; the fuzzer mutates the rest into
    # shape), serials cycling through the stand-in's accept / fail / defer choices.
    procs = [n for n, _ in remote_procs() if n != r.PROC_CONNECT_CLOSE]
    write("dispatch", "every-procedure", flags_open + b"".join(
        call(n, dom() + r.u32(0), serial=i) for i, n in enumerate(procs + [r.PROC_CONNECT_CLOSE])))
    # As the storage daemon (flag bit 2): every procedure again, read-write and read-only
    # (domain calls NO_SUPPORT, other families "connection not open"), and a storage and a
    # secret call before the open.
    write("dispatch", "secondary-every-procedure", b"\x06" + b"".join(
        call(n, dom() + r.u32(0), serial=i) for i, n in enumerate(procs + [r.PROC_CONNECT_CLOSE])))
    write("dispatch", "secondary-readonly", b"\x07" + b"".join(
        call(n, dom() + r.u32(0), serial=i) for i, n in enumerate(procs[:60])))
    write("dispatch", "secondary-not-open", b"\x04" + call(281, r.i32(1) + r.u32(0), 1)
          + call(287, r.i32(1) + r.u32(0), 2) + OPEN + call(287, r.i32(1) + r.u32(0), 4))
    write("dispatch", "define-lookup", flags_open
          + call(r.PROC_DOMAIN_DEFINE_XML, r.string(XML), 1)
          + call(r.PROC_DOMAIN_LOOKUP_BY_NAME, r.string("fuzz"), 4)
          + call(21, r.opaque_fixed(UUID, 16), 5)
          + call(r.PROC_CONNECT_LIST_ALL_DOMAINS, r.i32(1) + r.u32(0), 8)
          + call(38, r.string("xen-xl") + r.string("name = 'a'\n") + r.u32(0), 9))
    write("dispatch", "admin", b"\x00" + call(1, r.u32(0), 0, ADMIN_PROGRAM)
          + call(4, r.u32(1) + r.u32(0), 1, ADMIN_PROGRAM)
          + call(5, r.string("virtqemud") + r.u32(0), 4, ADMIN_PROGRAM)
          + call(13, r.string("virtqemud") + typed_params([("nclients_max", 2, 10)]) + r.u32(0),
                 5, ADMIN_PROGRAM)
          + call(16, r.opt_string("1:stderr") + r.u32(0), 8, ADMIN_PROGRAM))
    write("dispatch", "private-adopt", b"\x00" + call(
        1, r.u32(3) + r.string(OPEN), 1, PRIVATE_PROGRAM))
    ping = r.encode_frame(r.KEEPALIVE_PROGRAM, 1, r.KEEPALIVE_PING, r.MESSAGE, 0, r.OK)
    write("dispatch", "keepalive-bad-type", b"\x00" + ping
          + r.encode_frame(r.REMOTE_PROGRAM, 1, 3, r.STREAM, 1, r.CONTINUE, b"data")
          + call(3, serial=2, status=r.ERROR) + call(9999, serial=3) + call(3, serial=4, prog=7)
          + r.encode_frame(r.REMOTE_PROGRAM, 1, 3, r.REPLY, 5, r.OK))


def copy_files(harness, src_dir, names):
    for n in names:
        shutil.copy(os.path.join(ROOT, "tests", "data", src_dir, n),
                    os.path.join(CORPUS, harness, n))


def domain_xml():
    os.makedirs(os.path.join(CORPUS, "domain-xml"), exist_ok=True)
    copy_files("domain-xml", "domain", [
        "minimal.xml", "qemu-full.xml", "lxc-container.xml", "cpu-custom.xml",
        "lifecycle-actions.xml", "live-pty-paths.xml", "memory-units-tib.xml",
        "metadata-namespaces.xml", "ports-and-indexes.xml", "escaping.xml",
        "unknown-elements-dropped.xml", "hostile-billion-laughs.xml", "hostile-xinclude.xml",
        "hostile-external-entity.xml", "err-disk-no-source.xml", "err-bad-uuid.xml",
        "display-vnc.xml", "display-spice.xml", "display-sound.xml", "inactive-disk-volume.xml",
        "net-network.xml"])
    # A network interface's port as a status file keeps it (libvirt's <actual>).
    write("domain-xml", "status-net-actual.xml",
          "<domain type='qemu'><name>s</name><memory>65536</memory><os><type>hvm</type></os>"
          "<devices><interface type='network'><mac address='52:54:00:11:22:33'/>"
          "<source network='lan' portgroup='pg' portid='926fe6f4-4782-463f-8c45-e7c823a82c03'/>"
          "<actual type='bridge'><source bridge='br0'/>"
          "<bandwidth><inbound average='10' floor='5'/></bandwidth></actual>"
          "<target dev='vnet0'/></interface></devices></domain>\n")


def qmp():
    greeting = ('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, '
                '"package": "Debian 1:7.2"}, "capabilities": ["oob"]}}\r\n')
    write("qmp", "greeting-replies", "\x00" + greeting + '{"return": {}, "id": 0}\r\n'
          + '{"return": {"running": true, "singlestep": false, "status": "running"}, "id": 1}\r\n'
          + '{"return": {}, "id": 2}\r\n')
    write("qmp", "events", "\x02" + greeting + '{"return": {}, "id": 0}\r\n'
          + '{"timestamp": {"seconds": 1700000000, "microseconds": 1}, "event": "STOP"}\r\n'
          + '{"timestamp": {"seconds": 1700000000, "microseconds": 2}, "event": "SHUTDOWN", '
          '"data": {"guest": true, "reason": "guest-shutdown"}}\r\n'
          + '{"event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}}\n')
    write("qmp", "error-reply", "\x00" + greeting + '{"return": {}, "id": 0}\r\n'
          + '{"id": 1, "error": {"class": "GenericError", "desc": "bad \\"}\\" thing"}}\r\n'
          + '{"return": [1, {"a": "}"}], "id": 2}')
    write("qmp", "garbage-split", "\x00" + 'junk {"return": {}, "id": 7}\n]]} {"QMP": '
          + '{"version": {}}}{"return":{},"id":0}{"event":"STOP","data":{"x":[{"y":"\\\\"}]}}'
          + '{"unterminated": "str')


def xl_cfg():
    os.makedirs(os.path.join(CORPUS, "xl-cfg"), exist_ok=True)
    copy_files("xl-cfg", "xl", [
        "hvm-basic.cfg", "hvm-ovmf.cfg", "legacy.in.cfg", "pv-basic.cfg", "pv-disks.cfg",
        "pv-minimal.cfg", "pv-root-extra.in.cfg", "err-hex-escape.cfg", "err-nested-list.cfg",
        "err-syntax.cfg", "err-unterminated.cfg"])


def secret_xml():
    """Secret XML seeds (issue 19 item 3): each usage type, the flags, and bad documents."""
    uuid = "<uuid>0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f</uuid>"
    seeds = {
        "volume.xml": "<secret ephemeral='no' private='yes'>%s<description>d</description>"
                      "<usage type='volume'><volume>/var/lib/a.img</volume></usage></secret>"
                      % uuid,
        "ceph.xml": "<secret ephemeral='yes'><usage type='ceph'><name>client.admin</name>"
                    "</usage></secret>",
        "iscsi.xml": "<secret>%s<usage type='iscsi'><target>t</target></usage></secret>" % uuid,
        "tls.xml": "<secret><usage type='tls'><name>t&amp;&apos;</name></usage></secret>",
        "vtpm.xml": "<secret><usage type='vtpm'><name>v</name></usage></secret>",
        "none.xml": "<secret><usage type='none'/></secret>",
        "err-usage.xml": "<secret><usage type='disk'/></secret>",
        "err-flag.xml": "<secret private='1'/>",
        "err-tag.xml": "<secret><uuid>x</secret>",
    }
    for name, text in seeds.items():
        write("secret-xml", name, text)


def storage_vol_xml():
    """Storage volume XML seeds (issue 19 item 2): vol-create input, vol-dumpxml output with
    every part, disk pool partitions, and bad documents."""
    seeds = {
        "create.xml": "<volume><name>v.qcow2</name><capacity unit='G'>1</capacity>"
                      "<allocation>10485760</allocation><target><format type='qcow2'/>"
                      "<compat>1.1</compat><features><lazy_refcounts/></features></target>"
                      "<backingStore><path>/b.img</path><format type='raw'/></backingStore>"
                      "</volume>",
        "dumped.xml": "<volume type='file'><name>e</name><key>/p/e</key>"
                      "<capacity unit='bytes'>1</capacity><allocation unit='bytes'>0</allocation>"
                      "<physical unit='bytes'>2</physical><target><path>/p/e</path>"
                      "<format type='qcow2'/><permissions><mode>0600</mode><owner>0</owner>"
                      "<group>0</group><label>l</label></permissions><timestamps>"
                      "<atime>1.5</atime><mtime>2</mtime></timestamps>"
                      "<encryption format='luks'><secret type='passphrase' "
                      "uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/><cipher name='aes' "
                      "size='256' mode='xts' hash='sha256'/><ivgen name='plain64'/>"
                      "</encryption><clusterSize unit='KiB'>64</clusterSize></target></volume>",
        "disk.xml": "<volume><name>sda1</name><capacity>1</capacity><source><device path='/d'>"
                    "<extent start='0' end='1'/></device></source><target>"
                    "<format type='linux-swap'/></target></volume>",
        "err-mode.xml": "<volume><name>a</name><capacity>1</capacity><target><permissions>"
                        "<mode>01777</mode></permissions></target></volume>",
        "err-unit.xml": "<volume><name>a</name><capacity unit='EiB'>8</capacity></volume>",
    }
    for name, text in seeds.items():
        write("storage-vol-xml", name, text)
    # A qcow2 v3 header with its backing format extension and backing file name, for the
    # header parser the harness also feeds (conf/storage_vol_probe.c).
    hdr = bytearray(1024)
    struct.pack_into(">4sIQIIQ", hdr, 0, b"QFI\xfb", 3, 512, 8, 16, 1 << 20)
    struct.pack_into(">QQQII", hdr, 72, 0, 1, 0, 4, 104)
    struct.pack_into(">II3s", hdr, 104, 0xE2792ACA, 3, b"raw")
    hdr[512:520] = b"base.img"
    write("storage-vol-xml", "qcow2-header.bin", bytes(hdr))
def storage_pool_xml():
    """Storage pool XML seeds (issue 19 item 2): each type's source, permissions, and bad
    documents."""
    uuid = "<uuid>6a0f2c1e-51b4-4d6e-9a1c-3b2f8e7d6c5b</uuid>"
    seeds = {
        "dir.xml": "<pool type='dir'><name>p</name>%s<target><path>/var//lib/p/</path>"
                   "<permissions><mode>0755</mode><owner>107</owner><group>-1</group>"
                   "<label>l&amp;</label></permissions></target></pool>" % uuid,
        "fs.xml": "<pool type='fs'><name>f</name><source><device path='/dev/loop7'/>"
                  "<format type='ext4'/></source><target><path>/mnt/f</path></target></pool>",
        "disk.xml": "<pool type='disk'><name>d</name><source><device path='/dev/sdb'/>"
                    "<format type='gpt'/></source><target><path>/dev</path></target></pool>",
        "logical.xml": "<pool type='logical'><name>vg</name><source><name>vg0</name>"
                       "<device path='/dev/loop1'/></source><target><path>/x</path></target>"
                       "</pool>",
        "netfs.xml": "<pool type='netfs'><name>n</name><source><host name='h' port='2049'/>"
                     "<dir path='/e'/><format type='nfs'/></source><target><path>/mnt/n"
                     "</path></target></pool>",
        "err-type.xml": "<pool type='bogus'/>",
        "err-name.xml": "<pool type='dir'><name>a/b</name></pool>",
        "err-format.xml": "<pool type='fs'><name>x</name><source><device path='/d'/>"
                          "<format type='zz'/></source><target><path>/x</path></target></pool>",
    }
    for name, text in seeds.items():
        write("storage-pool-xml", name, text)


def network_xml():
    """Network and network port XML seeds (issue 20): byte 0 says which (0 a network, 2 a
    network checked against the schema, 1 a port), then libvirt's documented networks and
    a few bad ones from tests/data/network, and ports of each plug type."""
    src = os.path.join(ROOT, "tests", "data", "network")
    for name in ["doc-nat", "doc-routed", "doc-isolated", "doc-open", "doc-host-bridge",
                 "doc-macvtap", "doc-ovs", "doc-dnsmasq-options", "doc-dns",
                 "doc-bandwidth-portgroups", "doc-pxe", "meta-sanitize", "hostdev",
                 "passthrough", "rangeout", "routeunreach", "refuse-txt-nl", "vlan-native2"]:
        with open(os.path.join(src, name + ".xml"), "rb") as f:
            write("network-xml", name + ".xml", b"\x00" + f.read())
    with open(os.path.join(src, "doc-nat.xml"), "rb") as f:
        write("network-xml", "validate-nat.xml", b"\x02" + f.read())
    head = ("<networkport><uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid><owner><name>g"
            "</name><uuid>c0ee7f52-1234-44e2-8744-4a2b8d5d7ab7</uuid></owner>"
            "<mac address='52:54:00:7b:35:93'/>")
    ports = {
        "port-network.xml": "<group>web</group><bandwidth classID='3'><inbound average='1'"
                            " floor='1'/></bandwidth><rxfilters trustGuest='yes'/>"
                            "<plug type='network' bridge='virbr0'/>",
        "port-bridge.xml": "<port isolated='yes'/><plug type='bridge' bridge='br0' "
                           "macTableManager='libvirt'/>",
        "port-direct.xml": "<vlan><tag id='4'/></vlan><virtualport type='802.1Qbh'>"
                           "<parameters profileid='p'/></virtualport>"
                           "<plug type='direct' dev='eth0' mode='private'/>",
        "port-err-plug.xml": "<plug type='hostdev-pci' managed='yes'/>",
    }
    for name, body in ports.items():
        write("network-xml", name, "\x01" + head + body + "</networkport>")


if __name__ == "__main__":
    frames()
    dispatch()
    domain_xml()
    qmp()
    xl_cfg()
    secret_xml()
    storage_vol_xml()
    storage_pool_xml()
    network_xml()
