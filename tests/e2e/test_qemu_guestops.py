"""test_qemu_guestops.py: keys and NMIs sent to a guest (issue 18 item 2, guest operations):
DOMAIN_SEND_KEY (virsh send-key) and DOMAIN_INJECT_NMI (virsh inject-nmi) on virqemud.

On a defined guest every answer is Debian's libvirtd 9.0.0's for the same calls (checked on
it by hand, and in test_key_calls_equal_libvirtd in the same run): flags first, then the
key codes translated to QEMU's numbers (qnum) with libvirt's tables, then "domain is not
running". With the stand-in emulator (standin_qemu.py record-qmp) the QMP commands QEMU gets
are checked: send-key with each key a qnum number from every code set, hold-time only when
given, inject-nmi. On a running Guest A under real QEMU both are answered by QEMU.
"""

import json

import pytest

from calls import answer, on_both, tiny_xml, virsh
from guests import libvirt

libvirt.registerErrorHandler(lambda ctx, err: None, None)

LINUX, XT, ATSET1, ATSET2, ATSET3, OSX, XT_KBD, USB, WIN32, QNUM = range(10)
NOT_RUNNING = (55, 20, "Requested operation is not valid: domain is not running")


def key_sequence(d):
    """The calls on d (defined, not running) and their answers."""
    calls = [
        (LINUX, 0, [30], 0), (LINUX, 0, [30], 1), (LINUX, 0, [9999], 0),
        (LINUX, 0, [30, 9999], 0), (USB, 0, [4], 0), (QNUM, 0, [9999], 0),
        (XT, 0, [0x1e], 0), (OSX, 0, [0xff], 0), (LINUX, 0, [0], 0), (WIN32, 10, [700], 2),
        (ATSET2, 0, [0x9999], 0), (ATSET2, 0, [0xe011], 0), (LINUX, 0, [], 0),
        (10, 0, [30], 0), (QNUM, 0, [30], 4),
    ]
    found = [answer(d.sendKey, cs, hold, keys, len(keys), flags)
             for cs, hold, keys, flags in calls]
    return found + [answer(d.injectNMI, 0), answer(d.injectNMI, 1)]


def flags_error(n, fn):
    return (8, 10, "unsupported flags (0x%x) in function %s" % (n, fn))


def untranslatable(code, codeset):
    return (1, 10, "internal error: cannot translate keycode %d of %s codeset to qnum keycode"
            % (code, codeset))


# libvirtd 9.0.0's answers to key_sequence.
EXPECTED = [
    NOT_RUNNING, flags_error(1, "qemuDomainSendKey"), untranslatable(9999, "linux"),
    untranslatable(9999, "linux"), NOT_RUNNING, NOT_RUNNING, NOT_RUNNING, NOT_RUNNING,
    NOT_RUNNING, flags_error(2, "qemuDomainSendKey"),
    untranslatable(0x9999, "atset2"), NOT_RUNNING,
    (8, 20, "nkeycodes in virDomainSendKey must be greater than zero"),
    (8, 20, "Unsupported codeset '10'"), flags_error(4, "qemuDomainSendKey"),
    NOT_RUNNING, flags_error(1, "qemuDomainInjectNMI"),
]


def test_key_calls_on_a_defined_guest(daemon):
    from guests import uri_for
    conn = libvirt.open(uri_for(daemon.sock))
    d = conn.defineXML(tiny_xml("sv-keys"))
    try:
        assert key_sequence(d) == EXPECTED
        # virsh names keys in the set it is given; an unknown name is virsh's own error.
        rc, out, err = virsh(uri_for(daemon.sock), "send-key", "sv-keys", "KEY_A")
        assert rc == 1 and "domain is not running" in err, err
        rc, out, err = virsh(uri_for(daemon.sock), "inject-nmi", "sv-keys")
        assert rc == 1 and "domain is not running" in err, err
    finally:
        d.undefine()
        conn.close()


@pytest.mark.slow
def test_key_calls_equal_libvirtd(ref, daemon):
    """The same sequence on Debian's libvirtd and on ours, in the same run."""
    theirs, ours = on_both(ref, daemon, tiny_xml("h-ops-keys"), key_sequence)
    assert theirs == ours


def recorded(path, name):
    cmds = [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
    return [c.get("arguments") for c in cmds if c["execute"] == name]


def test_keys_and_nmi_reach_qemu(host):
    """The stand-in emulator records what virtqemud sends: each code set's keys as QEMU's
    numbers (qnum: AT set 1 with 0xe0-prefixed codes as 0x80 | code), hold-time only when
    given; virsh's key names; inject-nmi."""
    record = host.root / "qmp.log"
    dom = host.conn.defineXML(host.xml("keys", "record-qmp=%s" % record,
                                       emulator=str(host.standin)))
    dom.create()
    try:
        # KEY_A in every set, then a right-hand control key (AT set 1 0xe01d).
        assert dom.sendKey(LINUX, 0, [30, 97], 2, 0) == 0
        assert dom.sendKey(XT, 100, [0x1e], 1, 0) == 0
        assert dom.sendKey(ATSET1, 0, [0x1e, 0xe01d], 2, 0) == 0
        assert dom.sendKey(ATSET2, 0, [0x1c, 0xe014], 2, 0) == 0
        assert dom.sendKey(ATSET3, 0, [0x1c], 1, 0) == 0
        assert dom.sendKey(OSX, 0, [0x0], 1, 0) == 0
        assert dom.sendKey(XT_KBD, 0, [0x1e, 0x11d], 2, 0) == 0
        assert dom.sendKey(USB, 0, [4, 0xe4], 2, 0) == 0
        assert dom.sendKey(WIN32, 0, [0x41], 1, 0) == 0
        assert dom.sendKey(QNUM, 5, [0x1e, 0x9d, 0x1234], 3, 0) == 0
        rc, out, err = virsh(host.uri, "send-key", "keys", "--holdtime", "50",
                             "KEY_LEFTCTRL", "KEY_RIGHTALT", "KEY_DELETE")
        assert rc == 0, err
        rc, out, err = virsh(host.uri, "send-key", "keys", "--codeset", "usb", "0x2c")
        assert rc == 0, err
        rc, out, err = virsh(host.uri, "send-key", "keys", "KEY_NOSUCH")
        assert rc == 1 and "invalid keycode: 'KEY_NOSUCH'" in err, err
        assert dom.injectNMI(0) == 0
        rc, out, err = virsh(host.uri, "inject-nmi", "keys")
        assert rc == 0, err
        assert answer(dom.sendKey, LINUX, 0, [9999], 1, 0) == untranslatable(9999, "linux")

        def keys(*codes, hold=None):
            args = {"keys": [{"type": "number", "data": c} for c in codes]}
            if hold is not None:
                args["hold-time"] = hold
            return args
        assert recorded(record, "send-key") == [
            keys(0x1e, 0x9d), keys(0x1e, hold=100), keys(0x1e, 0x9d), keys(0x1e, 0x9d),
            keys(0x1e), keys(0x1e), keys(0x1e, 0x9d), keys(0x1e, 0x9d), keys(0x1e),
            keys(0x1e, 0x9d, 0x1234, hold=5), keys(0x1d, 0xb8, 0xd3, hold=50), keys(0x39),
        ]
        assert recorded(record, "inject-nmi") == [None, None]
    finally:
        dom.destroy()
        dom.undefine()


def test_keys_and_nmi_on_a_running_guest(host):
    """Guest A under real QEMU: QEMU takes the keys and the NMI; the guest keeps running."""
    dom = host.define("keysguest")
    host.start_ready(dom)
    try:
        assert dom.sendKey(LINUX, 10, [30, 48], 2, 0) == 0
        rc, out, err = virsh(host.uri, "send-key", "keysguest", "KEY_ENTER")
        assert rc == 0, err
        assert dom.injectNMI(0) == 0
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        # A read-only connection: libvirtd 9.0.0 answers exactly this (checked by hand).
        ro = libvirt.openReadOnly(host.uri)
        try:
            assert answer(ro.lookupByName("keysguest").injectNMI, 0) == (
                29, 20, "operation forbidden: read only access prevents virDomainInjectNMI")
            assert answer(ro.lookupByName("keysguest").sendKey, LINUX, 0, [30], 1, 0) == (
                29, 20, "operation forbidden: read only access prevents virDomainSendKey")
            assert screenshot(ro, ro.lookupByName("keysguest")) == (
                29, 20, "operation forbidden: read only access prevents virDomainScreenshot")
        finally:
            ro.close()
    finally:
        dom.destroy()
        dom.undefine()


def send_key_args(codeset, keys, flags=0, dom=None):
    from rawrpc import i32, string, u32
    dom = dom or string("nosuch") + b"\x11" * 16 + i32(-1)
    return dom + u32(codeset) + u32(0) + u32(len(keys)) + b"".join(u32(k) for k in keys) + \
        u32(flags)


SEND_KEY, INJECT_NMI, SCREENSHOT, BLOCK_RESIZE = 226, 210, 211, 251


def nmi_args():
    from rawrpc import i32, string, u32
    return string("nosuch") + b"\x11" * 16 + i32(-1) + u32(0)
ZERO_KEYS = (8, 20, "nkeycodes in virDomainSendKey must be greater than zero")
BAD_SET = (8, 20, "Unsupported codeset '10'")


def raw_errors(sock, uri, calls):
    from rawrpc import Client
    with Client(str(sock)) as c:
        c.open(uri)
        found = []
        for proc, payload in calls:
            _, err = c.call_error(proc, payload)
            found.append((err.code, err.domain, err.message))
        return found


def resize_args(size, flags):
    import struct
    from rawrpc import string
    return nmi_args()[:-4] + string("vda") + struct.pack(">Q", size) + struct.pack(">I", flags)


def test_argument_checks_in_the_daemon(daemon):
    """A client that skips virDomainSendKey's own checks (python and virsh make them first)
    gets them from the daemon, as libvirtd runs the public API: no keys, an unknown set;
    before the lookup, so for a domain that does not exist too. A block resize in KiB beyond
    2^64 bytes overflows before the lookup; in bytes the lookup fails. libvirtd 9.0.0 answers
    the same (checked on it by hand, raw calls on its socket)."""
    no_domain = (42, 10, "Domain not found: no domain with matching uuid "
                 "'11111111-1111-1111-1111-111111111111' (nosuch)")
    overflow = (82, 10, "numerical overflow: size must be less than 18014398509481983")
    assert raw_errors(daemon.sock, "qemu:///system", [
        (SEND_KEY, send_key_args(LINUX, [])), (SEND_KEY, send_key_args(10, [30])),
        (SEND_KEY, send_key_args(LINUX, [9999])),
        (BLOCK_RESIZE, resize_args(2 ** 64 - 1, 0)), (BLOCK_RESIZE, resize_args(2 ** 54, 0)),
        (BLOCK_RESIZE, resize_args(2 ** 54, 1)), (SCREENSHOT, nmi_args() + nmi_args()[-4:]),
    ]) == [ZERO_KEYS, BAD_SET, untranslatable(9999, "linux"), overflow, overflow, no_domain,
           no_domain]


def no_support(api):
    return (3, 20, "this function is not supported by the connection driver: " + api)


def test_lxc_and_xen_answer_no_support(daemons):
    """libvirt's lxc and libxl drivers have none of these procedures: NO_SUPPORT in the
    DOMAIN error domain, after send-key's argument checks, whatever the domain."""
    calls = [(SEND_KEY, send_key_args(LINUX, [30])), (SEND_KEY, send_key_args(LINUX, [])),
             (SEND_KEY, send_key_args(10, [30])), (INJECT_NMI, nmi_args()),
             (SCREENSHOT, nmi_args() + nmi_args()[-4:]), (BLOCK_RESIZE, resize_args(1, 0))]
    expected = [no_support("virDomainSendKey"), ZERO_KEYS, BAD_SET,
                no_support("virDomainInjectNMI"), no_support("virDomainScreenshot"),
                no_support("virDomainBlockResize")]
    check_lxc_and_xen(daemons, calls, expected)


def check_lxc_and_xen(daemons, calls, expected):
    """calls (raw: (procedure, payload)) on virtlxcd and virtxend, each that is built: their
    errors are expected; skipped when neither daemon is built."""
    from svdaemon import daemon_binary
    served = 0
    for name, uri in (("virtlxcd", "lxc:///system"), ("virtxend", "xen:///system")):
        if not daemon_binary(name).exists():
            continue
        d = daemons.start(name=name, label=name, args=["--timeout", "0"])
        assert raw_errors(d.sock, uri, calls) == expected, name
        served += 1
    if not served:
        pytest.skip("neither virtlxcd nor virtxend is built")


def png_size(data):
    """The width and height of a PNG's header (its IHDR chunk)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", data[:16]
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def screenshot(conn, dom, screen=0, flags=0):
    """dom.screenshot through a stream: ("OK", mime, data) or libvirt's error."""
    st = conn.newStream(0)
    try:
        mime = dom.screenshot(st, screen, flags)
    except libvirt.libvirtError as e:
        return (e.get_error_code(), e.get_error_domain(), e.get_error_message())
    data = b""
    while True:
        chunk = st.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    st.finish()
    return ("OK", mime, data)


SHOT_ERRORS = {
    "flags": flags_error(1, "qemuDomainScreenshot"),
    "no-screen": (55, 10, "Requested operation is not valid: no such screen ID"),
    "no-video": (55, 10, "Requested operation is not valid: no screens to take screenshot from"),
}


def test_screenshot(host):
    """Guest A with a VGA video device in text mode (720x400): the PNG libvirtd 9.0.0 with
    QEMU 7.2 gives (mime image/png, not PPM: QEMU's screendump writes PNG when asked), through
    python3-libvirt and virsh; libvirtd's errors for flags, a screen beyond the heads, a guest
    without video and one not running (checked on it by hand)."""
    xml = host.xml("shot").replace("<serial type='pty'/>",
                                   "<video><model type='vga'/></video><serial type='pty'/>")
    dom = host.conn.defineXML(xml)
    bare = host.define("noshot")
    assert screenshot(host.conn, dom) == NOT_RUNNING
    host.start_ready(dom)
    bare.create()
    try:
        ok, mime, data = screenshot(host.conn, dom)
        assert (ok, mime) == ("OK", "image/png")
        assert png_size(data) == (720, 400)
        out = host.root / "shot.png"
        rc, stdout, err = virsh(host.uri, "screenshot", "shot", "--file", str(out))
        assert rc == 0, err
        assert png_size(out.read_bytes()) == (720, 400)
        assert screenshot(host.conn, dom, 0, 1) == SHOT_ERRORS["flags"]
        assert screenshot(host.conn, dom, 1) == SHOT_ERRORS["no-screen"]
        assert screenshot(host.conn, bare) == SHOT_ERRORS["no-video"]
        # Nothing is left in the guest's directory.
        assert not list(host.qemu_lib.glob("domain-*/screendump-*"))
    finally:
        dom.destroy()
        bare.destroy()
        dom.undefine()
        bare.undefine()


def virtual_size(path):
    import subprocess
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["virtual-size"]


def test_block_resize(host):
    """Guest A with a 10 MiB qcow2 (vda), a read-only raw image (vdb) and an empty cdrom:
    QMP block_resize on vda's format node, in KiB or with BYTES, a qcow2's size rounded up to
    512 bytes, by target and by path, growing and shrinking (qemu-img info reads the image);
    libvirtd 9.0.0's answers for the same calls (checked on it by hand) for flags, an inactive
    guest, an unknown disk, a read-only and an empty one."""
    import subprocess
    qcow, raw = host.root / "a.qcow2", host.root / "b.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow), "10M"], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(raw), "10M"], check=True)
    disks = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
             "<source file='%s'/><target dev='vda' bus='virtio'/></disk>"
             "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             "<source file='%s'/><target dev='vdb' bus='virtio'/><readonly/></disk>"
             "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>"
             % (qcow, raw))
    dom = host.conn.defineXML(host.xml("resize").replace("<serial type='pty'/>",
                                                         disks + "<serial type='pty'/>"))
    try:
        assert answer(dom.blockResize, "vda", 20480, 0) == NOT_RUNNING
        assert answer(dom.blockResize, "vda", 20480, 2) == flags_error(2, "qemuDomainBlockResize")
        host.start_ready(dom)
        assert answer(dom.blockResize, "vda", 20480, 2) == flags_error(2, "qemuDomainBlockResize")
        assert answer(dom.blockResize, "vdz", 20480, 0) == (
            8, 10, "invalid argument: disk 'vdz' was not found in the domain config")
        for target in ("vdb", "hdc"):
            assert answer(dom.blockResize, target, 20480, 0) == (
                84, 10, "Operation not supported: can't resize empty or readonly disk '%s'"
                % target)
        assert virtual_size(qcow) == 10 * 1024 * 1024
        assert answer(dom.blockResize, "vda", 20000, 0) == ("OK", 0)
        assert virtual_size(qcow) == 20000 * 1024
        assert answer(dom.blockResize, str(qcow), 30000001, 1) == ("OK", 0)
        assert virtual_size(qcow) == 30000128
        rc, out, err = virsh(host.uri, "blockresize", "resize", "vda", "40M")
        assert rc == 0, err
        assert virtual_size(qcow) == 40 * 1024 * 1024
        assert answer(dom.blockResize, "vda", 1000, 1) == ("OK", 0)
        assert virtual_size(qcow) == 1024
        assert virtual_size(raw) == 10 * 1024 * 1024
    finally:
        if dom.isActive():
            dom.destroy()
        dom.undefine()
