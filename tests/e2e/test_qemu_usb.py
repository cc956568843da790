"""test_qemu_usb.py: the USB ports and hub given at define reach a real QEMU (TCG, Guest A).

A pc guest whose tablet, usb-serial and two redirdevs need more than the piix3's two root
ports gets the hub libvirt adds; QEMU refuses a -device whose USB port is not there (no hub
at port 1, or the port taken), so the start proves the topology, which the argv goldens
only spell."""

import libvirt

DEVICES = ("<serial type='pty'><target type='usb-serial'/></serial>"
           "<input type='tablet' bus='usb'/><graphics type='spice' autoport='yes'/>"
           "<redirdev bus='usb' type='spicevmc'/><redirdev bus='usb' type='spicevmc'/>")


def test_hub_and_ports_reach_qemu(host):
    dom = host.conn.defineXML(host.xml("usbhub").replace("<memballoon", DEVICES + "<memballoon"))
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "<hub type='usb'>\n      <address type='usb' bus='0' port='1'/>\n    </hub>" in inactive
    assert "<address type='usb' bus='0' port='1.3'/>" in inactive
    dom.create()
    # The live XML names the hub as libvirt does; QEMU got every port.
    assert "<alias name='hub0'/>" in dom.XMLDesc(0)
    log = host.log_file("usbhub").read_text()
    assert '{"driver":"usb-hub","id":"hub0","bus":"usb.0","port":"1"}' in log
    assert '{"driver":"usb-tablet","id":"input0","bus":"usb.0","port":"2"}' in log
    assert '{"driver":"usb-serial","chardev":"charserial1","id":"serial1","bus":"usb.0",' \
        '"port":"1.1"}' in log
    assert '"id":"redir1","bus":"usb.0","port":"1.3"}' in log
    dom.destroy()
    dom.undefine()
    host.assert_clean()
