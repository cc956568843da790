"""test_qemu_update_device.py: DOMAIN_UPDATE_DEVICE_FLAGS (virsh update-device) of an
interface's link state, issue 18 item 2.

libvirtd 9.0.0 (checked by hand, and in test_update_equal_libvirtd in the same run): the
running guest takes a change of <link state=> alone (QMP set_link on the NIC's alias), shown
in the live XML; AFFECT_CONFIG puts the new interface in the persistent definition; both
flags do both. Any other live change is refused with OPERATION_UNSUPPORTED naming what
changed (model, driver attributes, tap name, rom bar, the type: "unable to change config on
'bridge' network type"), an interface without its MAC gets a new random one and so "cannot
change network interface mac address", and a MAC the guest has no NIC for is DEVICE_MISSING.

QEMU shows no NIC's link state through its monitor (HMP info network does not print it,
query-rx-filter has no member for it), so what reaches QEMU is checked by its answer: a
set_link QEMU refuses (a NIC whose alias it does not know) would fail the call.
"""

import re

import pytest

from calls import virsh
from guests import uri_for

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

NAME = "update-device-a"
MAC = "52:54:00:11:22:33"
XML = ("<domain type='qemu'><name>%s</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
       "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
       "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>"
       "<interface type='user'><mac address='%s'/><model type='virtio'/></interface>"
       "<memballoon model='none'/></devices></domain>" % (NAME, MAC))
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG


def nic(inner, mac=MAC, kind="user"):
    mac_el = "<mac address='%s'/>" % mac if mac else ""
    return "<interface type='%s'>%s%s</interface>" % (kind, mac_el, inner)


def iface_of(dom, flags=0):
    """The <interface> element of the domain's XML, on one line."""
    text = dom.XMLDesc(flags)
    found = re.search(r"<interface.*?</interface>", text, re.S).group(0)
    return re.sub(r">\s+<", "><", found)


def attempt(dom, xml, flags):
    try:
        dom.updateDeviceFlags(xml, flags)
        return "ok"
    except libvirt.libvirtError as e:
        msg = e.get_error_message()
        # An interface without a MAC gets a random one: only its prefix is the same.
        msg = re.sub(r"to 52:54:00(:[0-9a-f]{2}){3}$", "to 52:54:00:RANDOM", msg)
        return (e.get_error_code(), e.get_error_domain(), msg)


def update_sequence(uri, tmp_path, status=None):
    """Guest A defined and started paused on uri, then its NIC changed: each result, the
    live and the inactive <interface> after the allowed changes, virsh update-device's
    output, and (status: our status file's path) whether the status file follows."""
    conn = libvirt.open(uri)
    dom = conn.defineXML(XML)
    found = []
    try:
        dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
        down = nic("<model type='virtio'/><link state='down'/>")
        up = nic("<model type='virtio'/><link state='up'/>")
        found += [attempt(dom, down, LIVE), iface_of(dom), iface_of(dom, 2)]
        if status:
            found.append("<link state='down'/>" in status.read_text())
        found += [attempt(dom, up, CONFIG), iface_of(dom), iface_of(dom, 2)]
        found += [attempt(dom, up, LIVE | CONFIG), iface_of(dom), iface_of(dom, 2)]
        found.append(attempt(dom, down, 0))  # CURRENT of a running guest: live
        found += [iface_of(dom), iface_of(dom, 2)]
        if status:
            found.append("<link state='down'/>" in status.read_text())
        for xml in (nic("<model type='e1000'/>"), nic(""),
                    nic("<model type='virtio'/>", mac="52:54:00:11:22:34"),
                    nic("<model type='virtio'/><link state='up'/>", mac=None),
                    nic("<source bridge='virbr0'/><model type='virtio'/>", kind="bridge"),
                    nic("<model type='virtio'/><driver name='qemu'/>"),
                    nic("<model type='virtio'/><target dev='foo'/>"),
                    nic("<model type='virtio'/><rom bar='off'/>")):
            found.append(attempt(dom, xml, LIVE))
        found.append(attempt(dom, nic("<model type='virtio'/>", mac="52:54:00:11:22:34"),
                             CONFIG))
        found.append(attempt(dom, up, LIVE | 0x8))  # a flag update-device does not know
        found += [iface_of(dom), iface_of(dom, 2)]
        path = tmp_path / "up.xml"
        path.write_text(up)
        rc, out, err = virsh(uri, "update-device", NAME, str(path), "--live", "--config")
        found += [rc, out.strip(), err.strip(), iface_of(dom), iface_of(dom, 2)]
        dom.destroy()
        found.append(attempt(dom, down, LIVE))
        return found
    finally:
        if dom.isActive():
            dom.destroy()
        dom.undefine()
        conn.close()


ADDR = "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>"
LIVE_DOWN = ("<interface type='user'><mac address='%s'/><model type='virtio'/>"
             "<link state='down'/><alias name='net0'/>%s</interface>" % (MAC, ADDR))
LIVE_UP = LIVE_DOWN.replace("down", "up")
CONF = ("<interface type='user'><mac address='%s'/><model type='virtio'/>%s</interface>"
        % (MAC, ADDR))
CONF_UP = CONF.replace("<model type='virtio'/>", "<model type='virtio'/><link state='up'/>")
CONF_DOWN = CONF_UP.replace("up", "down")
UNSUPPORTED = (libvirt.VIR_ERR_OPERATION_UNSUPPORTED, libvirt.VIR_FROM_QEMU)
MISSING = (libvirt.VIR_ERR_DEVICE_MISSING, libvirt.VIR_FROM_DOMAIN,
           "device not found: no device found at address '(<null>)' matching MAC address "
           "'52:54:00:11:22:34' and alias '(<null>)'")


def unsupported(msg):
    return UNSUPPORTED + ("Operation not supported: " + msg,)


def expected(ours):
    status_live = [True] if ours else []
    return (["ok", LIVE_DOWN, CONF] + status_live +
            ["ok", LIVE_DOWN, CONF_UP] +
            ["ok", LIVE_UP, CONF_UP] +
            ["ok", LIVE_DOWN, CONF_UP] + status_live +
            [unsupported("cannot modify network device model from virtio to e1000"),
             unsupported("cannot modify network device model from virtio to rtl8139"),
             MISSING,
             unsupported("cannot change network interface mac address from %s to "
                         "52:54:00:RANDOM" % MAC),
             unsupported("unable to change config on 'bridge' network type"),
             unsupported("cannot modify virtio network device driver attributes"),
             unsupported("cannot modify network device tap name"),
             unsupported("cannot modify network device rom bar setting"),
             MISSING,
             (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_QEMU,
              "unsupported flags (0x8) in function "
              "qemuDomainUpdateDeviceFlags"),
             LIVE_DOWN, CONF_UP,
             0, "", "", LIVE_UP, CONF_UP,  # virsh -q: no "Device updated successfully"
             (libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_DOMAIN,
              "Requested operation is not valid: domain is not running")])


def test_update_link_state(daemon, tmp_path):
    """Our virtqemud: the sequence gives libvirtd's answers (as recorded from it), and the
    status file follows each live change."""
    status = daemon.root / "run" / "libvirt" / "qemu" / (NAME + ".xml")
    assert update_sequence(uri_for(daemon.sock), tmp_path, status) == expected(True)


@pytest.mark.slow
def test_update_equal_libvirtd(ref, daemon, tmp_path):
    """The same sequence on Debian's libvirtd and on virtqemud, in the same run."""
    theirs = update_sequence(ref.uri, tmp_path)
    assert theirs == expected(False)
    assert update_sequence(uri_for(daemon.sock), tmp_path) == theirs
