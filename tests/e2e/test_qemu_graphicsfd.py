"""test_qemu_graphicsfd.py: DOMAIN_OPEN_GRAPHICS_FD (virDomainOpenGraphicsFD, what
virt-viewer and virt-manager use for a local console) on virtqemud, as libvirt 9.0's
qemuDomainOpenGraphicsFD: a socketpair whose one end QEMU takes (getfd "graphicsfd", then
add_client with the display's protocol and SKIPAUTH) and whose other end comes back with the
reply (REPLY_WITH_FDS). virtlxcd and virtxend answer NO_SUPPORT, as libvirt's lxc and libxl
drivers (neither has the call).
"""

import os
import socket

import pytest

from calls import answer
from guests import libvirt
from test_qemu_guestops import check_lxc_and_xen, flags_error, no_support, recorded

libvirt.registerErrorHandler(lambda ctx, err: None, None)

SKIPAUTH = 1
OPEN_GRAPHICS_FD = 343
NOT_RUNNING = (55, 20, "Requested operation is not valid: domain is not running")
READ_ONLY = (29, 20, "operation forbidden: read only access prevents virDomainOpenGraphicsFD")


def no_backend(idx):
    return (1, 10, "internal error: No graphics backend with index %d" % idx)


def with_devices(xml, devices):
    return xml.replace("<serial type='pty'/>", devices + "<serial type='pty'/>")


def vnc_xml(host_or_xml, name, passwd=None):
    """Guest A with a VNC display (a password when given) and a VGA card."""
    pw = " passwd='%s'" % passwd if passwd else ""
    xml = host_or_xml.xml(name) if hasattr(host_or_xml, "xml") else host_or_xml
    return with_devices(xml, "<graphics type='vnc' autoport='yes'%s><listen type='none'/>"
                        "</graphics><video><model type='vga'/></video>" % pw)


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def rfb_security_types(fd):
    """The RFB handshake on fd (taken): the server's version line, then the security types it
    offers once told 3.8 (1: none, 2: VNC authentication)."""
    s = socket.socket(fileno=fd)
    try:
        s.settimeout(30)
        version = recv_exact(s, 12)
        s.sendall(b"RFB 003.008\n")
        n = recv_exact(s, 1)
        types = recv_exact(s, n[0]) if n else b""
        return version, list(types)
    finally:
        s.close()


def open_fd(dom, idx=0, flags=0):
    """dom.openGraphicsFD's answer: ("OK", "socket") for a descriptor that is a socket (then
    closed), or libvirt's error."""
    found = answer(dom.openGraphicsFD, idx, flags)
    if found[0] == "OK":
        import stat
        kind = "socket" if stat.S_ISSOCK(os.fstat(found[1]).st_mode) else "other"
        os.close(found[1])
        return ("OK", kind)
    return found


def graphics_sequence(dom, ro_dom, bare):
    """The calls the comparison with libvirtd makes, on dom (VNC, running), ro_dom (the same
    on a read-only connection) and bare (running, no display)."""
    return [open_fd(dom), open_fd(dom, 0, SKIPAUTH), open_fd(dom, 1), open_fd(dom, 0, 2),
            open_fd(ro_dom), open_fd(bare), rfb_security_types(dom.openGraphicsFD(0, 0))]


def test_open_graphics_fd_on_guest_a(host):
    """Guest A with VNC under real QEMU: the descriptor is a socket on which QEMU's VNC server
    speaks RFB 3.8; with a password VNC authentication is offered, with SKIPAUTH none (QEMU's
    skipauth); libvirt's errors for an inactive guest, a read-only connection, flags, an index
    beyond the displays and a guest without any (libvirtd 9.0.0's, see
    test_open_graphics_fd_equal_libvirtd); the guest keeps running."""
    dom = host.conn.defineXML(vnc_xml(host, "gfx", passwd="secret"))
    bare = host.define("nogfx")
    try:
        assert open_fd(dom) == NOT_RUNNING
        assert open_fd(dom, 0, 2) == flags_error(2, "qemuDomainOpenGraphicsFD")
        host.start_ready(dom)
        bare.create()
        assert rfb_security_types(dom.openGraphicsFD(0, 0)) == (b"RFB 003.008\n", [2])
        assert rfb_security_types(dom.openGraphicsFD(0, SKIPAUTH)) == (b"RFB 003.008\n", [1])
        assert open_fd(dom, 1) == no_backend(1)
        assert open_fd(bare) == no_backend(0)
        ro = libvirt.openReadOnly(host.uri)
        try:
            assert open_fd(ro.lookupByName("gfx")) == READ_ONLY
        finally:
            ro.close()
        # Many in a row: each descriptor is the client's alone, nothing leaks into the daemon.
        for _ in range(20):
            assert open_fd(dom, 0, SKIPAUTH) == ("OK", "socket")
        assert rfb_security_types(dom.openGraphicsFD(0, SKIPAUTH))[0] == b"RFB 003.008\n"
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    finally:
        for d in (dom, bare):
            if d.isActive():
                d.destroy()
            d.undefine()


def test_open_graphics_fd_reaches_qemu(host):
    """The stand-in emulator records the QMP commands: getfd under libvirt's name
    "graphicsfd" (the descriptor along), then add_client with the protocol of the display
    (vnc, spice) and skipauth from the flag. (libvirt's error for a display of another type,
    "Can only open VNC or SPICE graphics backends", is not reached here: splitvirt starts no
    guest with another kind of display.)"""
    record = host.root / "qmp.log"
    xml = host.xml("gfxrec", "record-qmp=%s" % record, emulator=str(host.standin))
    dom = host.conn.defineXML(with_devices(
        xml, "<graphics type='vnc' autoport='yes'><listen type='none'/></graphics>"
             "<graphics type='spice' autoport='yes'/>"
             "<video><model type='vga'/></video>"))
    dom.create()
    try:
        assert open_fd(dom, 0, 0) == ("OK", "socket")
        assert open_fd(dom, 1, SKIPAUTH) == ("OK", "socket")
        assert open_fd(dom, 2) == no_backend(2)
        assert recorded(record, "getfd") == [{"fdname": "graphicsfd"}] * 2
        assert recorded(record, "add_client") == [
            {"protocol": "vnc", "fdname": "graphicsfd", "skipauth": False},
            {"protocol": "spice", "fdname": "graphicsfd", "skipauth": True}]
    finally:
        dom.destroy()
        dom.undefine()


def test_lxc_and_xen_answer_no_support(daemons):
    """Neither libvirt's lxc nor its libxl driver has domainOpenGraphicsFD."""
    from rawrpc import i32, string, u32
    args = string("nosuch") + b"\x11" * 16 + i32(-1) + u32(0) + u32(0)
    check_lxc_and_xen(daemons, [(OPEN_GRAPHICS_FD, args)],
                      [no_support("virDomainOpenGraphicsFD")])


def run_on(uri, xml, bare_xml):
    """graphics_sequence on transient guests created from xml and bare_xml on uri."""
    conn = libvirt.open(uri)
    ro = libvirt.openReadOnly(uri)
    dom = conn.createXML(xml, 0)
    bare = conn.createXML(bare_xml, 0)
    try:
        return graphics_sequence(dom, ro.lookupByName(dom.name()), bare)
    finally:
        dom.destroy()
        bare.destroy()
        ro.close()
        conn.close()


@pytest.mark.slow
def test_open_graphics_fd_equal_libvirtd(ref, host):
    """The same calls on Guest A (VNC, no password) on Debian's libvirtd and on ours, in the
    same run: the same descriptors (sockets speaking RFB 3.8 with no authentication) and the
    same errors."""
    def xmls(prefix):
        return (vnc_xml(host, prefix + "-gfx"), host.xml(prefix + "-nogfx"))
    theirs = run_on(ref.uri, *xmls("dumpgfx-ref"))
    ours = run_on(host.uri, *xmls("dumpgfx"))
    assert theirs == ours
    assert ours[0] == ("OK", "socket") and ours[-1] == (b"RFB 003.008\n", [1])


from test_proxy import stack  # noqa: E402,F401  (the fixture: virtqemud behind virtproxyd)


def test_through_virtproxyd(stack):  # noqa: F811
    """Through virtproxyd: a handed-over connection is virtqemud's own, the descriptor comes
    back. A relayed one (client_handoff = 0) carries frames only, so the proxy answers the call
    itself as libvirt answers a connection without descriptor passing, and the connection goes
    on (a difference from libvirt's virtproxyd, whose remote driver passes descriptors on)."""
    xml = stack.guest_xml("pxgfx").replace(
        "<memballoon", "<graphics type='vnc' autoport='yes'><listen type='none'/></graphics>"
        "<video><model type='vga'/></video><memballoon")
    conn = libvirt.open(stack.uri)
    dom = conn.createXML(xml, 0)
    try:
        if stack.mode == "handoff":
            fd = dom.openGraphicsFD(0, SKIPAUTH)
            assert rfb_security_types(fd) == (b"RFB 003.008\n", [1])
        else:
            assert open_fd(dom, 0, SKIPAUTH) == (
                74, 20, "argument unsupported: fd passing is not supported by this connection")
        assert dom.isActive() == 1
    finally:
        dom.destroy()
        conn.close()
