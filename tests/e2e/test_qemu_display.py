"""test_qemu_display.py: vnc and spice displays of real TCG guests (Guest A): ports taken
from the daemon's remote_display_port_min..max range, one per guest, shown in the live XML
as libvirt shows them, served by QEMU (an RFB banner on the vnc port), and given back when
the guest stops; passwords reach QEMU through QMP, never its command line."""

import re
import socket
import subprocess
import time

import pytest

import guests
from guests import Host, daemon_config, libvirt, virsh_env

# A range of its own, above what the host's libvirtd hands out first; the daemon still
# skips ports something on the host is bound to. Each build tree's run gets its own
# ranges (the builds' suites run side by side: two daemons that find one port free at the
# same moment would give it to two QEMUs).
_SLOT = guests.port_window()
PORT_MIN = 26000 + 200 * _SLOT
PORT_MAX = PORT_MIN + 99
WS_MIN = PORT_MIN + 100
WS_MAX = PORT_MIN + 199
EXTRA = ("remote_display_port_min = %d\nremote_display_port_max = %d\n"
         "websocket_port_min = %d\nwebsocket_port_max = %d\n" % (PORT_MIN, PORT_MAX, WS_MIN,
                                                                 WS_MAX))


@pytest.fixture
def vhost(daemons, root, request):
    if not guests.guest_elf().exists():
        pytest.skip("test guest not built")
    d = daemons.start(config=daemon_config(root, EXTRA))
    h = Host(d, root)
    yield h
    rep = getattr(request.node, "rep_call", None)
    problems = h.finish(test_failed=rep is not None and rep.failed)
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


def define(host, name, graphics):
    xml = host.xml(name).replace("<memballoon", graphics + "<memballoon")
    return host.conn.defineXML(xml)


def live_port(dom):
    """The port the live XML shows, with the listen address libvirt fills in."""
    xml = dom.XMLDesc(0)
    m = re.search(r"<graphics type='vnc' port='(\d+)' autoport='yes'(?: websocket='\d+')? "
                  r"listen='127.0.0.1'>\s*"
                  r"<listen type='address' address='127.0.0.1'/>", xml)
    assert m, xml
    return int(m.group(1))


def rfb_banner(port, timeout=10.0):
    """The first 12 bytes a vnc server sends."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                data = b""
                while len(data) < 12:
                    chunk = s.recv(12 - len(data))
                    if not chunk:
                        break
                    data += chunk
                return data
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_vnc_autoport_two_guests(vhost):
    a = define(vhost, "vnc-a", "<graphics type='vnc' port='-1'/>")
    b = define(vhost, "vnc-b", "<graphics type='vnc' autoport='yes' websocket='-1'/>")
    a.create()
    b.create()
    pa, pb = live_port(a), live_port(b)
    assert pa != pb
    assert PORT_MIN <= pa <= PORT_MAX and PORT_MIN <= pb <= PORT_MAX
    assert rfb_banner(pa) == b"RFB 003.008\n"
    assert rfb_banner(pb) == b"RFB 003.008\n"
    # b's websocket came from its own range, and QEMU listens there.
    ws = int(re.search(r"websocket='(\d+)'", b.XMLDesc(0)).group(1))
    assert WS_MIN <= ws <= WS_MAX
    socket.create_connection(("127.0.0.1", ws), timeout=5).close()
    assert "websocket='-1'" in b.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    # What clients read from the live XML: virsh's domdisplay, virt-viewer's address.
    out = subprocess.run(["virsh", "-c", vhost.uri, "domdisplay", "vnc-a"], env=virsh_env(),
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "vnc://127.0.0.1:%d" % (pa - 5900), out
    # The inactive XML keeps asking for a port, as libvirt's does.
    assert "<graphics type='vnc' port='-1' autoport='yes'>" in a.XMLDesc(
        libvirt.VIR_DOMAIN_XML_INACTIVE)
    # Stopped, a guest gives its port back: the next guest to start gets it.
    a.destroy()
    assert "port='-1'" in a.XMLDesc(0)
    c = define(vhost, "vnc-c", "<graphics type='vnc' port='-1'/>")
    c.create()
    assert live_port(c) == pa
    assert rfb_banner(pa) == b"RFB 003.008\n"
    b.destroy()
    c.destroy()
    vhost.assert_clean()


def test_passwords_through_qmp(vhost):
    dom = define(vhost, "pw", "<graphics type='vnc' port='-1' passwd='VncPass1'/>"
                              "<graphics type='spice' autoport='yes' passwd='Spice-Pass-2'/>")
    dom.create()  # set_password and expire_password went through QMP, or this fails
    log = vhost.log_file("pw").read_text()
    assert "password=on" in log and "Pass-" not in log
    # Only a client asking with the security info sees them.
    assert "VncPass1" not in dom.XMLDesc(0)
    assert "passwd='VncPass1'" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
    # The vnc server asks for VNC authentication (security type 2) only.
    port = live_port(dom)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        assert s.recv(12) == b"RFB 003.008\n"
        s.sendall(b"RFB 003.008\n")
        n = s.recv(1)[0]
        assert n > 0 and s.recv(n) == b"\x02"
    # Spice got its own port from the same range, and QEMU serves it.
    sp = int(re.search(r"<graphics type='spice' port='(\d+)' autoport='yes' "
                       r"listen='127.0.0.1'>", dom.XMLDesc(0)).group(1))
    assert PORT_MIN <= sp <= PORT_MAX and sp != port
    socket.create_connection(("127.0.0.1", sp), timeout=5).close()
    dom.destroy()
    vhost.assert_clean()


def test_ports_and_passwords_survive_a_restart(vhost, daemons, root):
    a = define(vhost, "keep-a", "<graphics type='vnc' port='-1' passwd='KeepPass'/>")
    a.create()
    pa = live_port(a)
    # The daemon goes (its guests run on) and another takes over from the status files.
    vhost.daemon.stop()
    vhost.daemon = daemons.start(config=daemon_config(root, EXTRA))
    vhost.uri = guests.uri_for(vhost.daemon.sock)
    vhost.conn = libvirt.open(vhost.uri)
    vhost.events.close()
    vhost.events = guests.Events(vhost.uri)
    a = vhost.conn.lookupByName("keep-a")
    assert live_port(a) == pa
    assert rfb_banner(pa) == b"RFB 003.008\n"
    # The password was kept on disk and in the status file, as libvirt keeps it.
    assert "passwd='KeepPass'" in a.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
    assert "passwd='KeepPass'" in a.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE |
                                             libvirt.VIR_DOMAIN_XML_INACTIVE)
    # The port is still taken: a new guest gets another one.
    b = define(vhost, "keep-b", "<graphics type='vnc' port='-1'/>")
    b.create()
    assert live_port(b) != pa
    a.destroy()
    b.destroy()
    vhost.assert_clean()


def test_start_refusals_and_sockets(vhost):
    # libvirt's start-time check, before the guest is active: no event, nothing left.
    two = define(vhost, "two", "<graphics type='vnc'/><graphics type='vnc'/>")
    with pytest.raises(libvirt.libvirtError) as exc:
        two.create()
    assert (exc.value.get_error_code(), exc.value.get_error_domain()) == (67, 10)
    assert "only 1 graphics device of each type" in exc.value.get_error_message()
    assert two.isActive() == 0
    vhost.events.expect("two", ["DEFINED/ADDED"])
    # A vnc socket without a path gets one in the guest's directory, as libvirt's.
    s = define(vhost, "sock", "<graphics type='vnc'><listen type='socket'/></graphics>")
    s.create()
    m = re.search(r"<graphics type='vnc' socket='([^']+)'>\s*<listen type='socket' "
                  r"socket='([^']+)'/>", s.XMLDesc(0))
    assert m and m.group(1) == m.group(2), s.XMLDesc(0)
    path = m.group(1)
    assert path == str(vhost.qemu_lib / ("domain-%d-sock" % s.ID()) / "vnc.sock")
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(5)
        c.connect(path)
        assert c.recv(12) == b"RFB 003.008\n"
    assert "<listen type='socket'/>" in s.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    s.destroy()
    vhost.assert_clean()
