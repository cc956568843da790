"""test_qemu_update_device.py: DOMAIN_UPDATE_DEVICE_FLAGS (virsh update-device) of an
interface's link state, a display's password, and a cdrom's or floppy's medium (virsh
change-media), issue 18 item 2.

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

import contextlib
import re
import socket
import struct

import pytest

from calls import virsh
from guests import ensure_event_loop, uri_for

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


@contextlib.contextmanager
def defined_guest(uri, xml):
    """The guest of xml defined on uri, destroyed and undefined afterwards."""
    conn = libvirt.open(uri)
    dom = conn.defineXML(xml)
    try:
        yield conn, dom
    finally:
        if dom.isActive():
            dom.destroy()
        dom.undefine()
        conn.close()


def update_sequence(uri, tmp_path, status=None):
    """Guest A defined and started paused on uri, then its NIC changed: each result, the
    live and the inactive <interface> after the allowed changes, virsh update-device's
    output, and (status: our status file's path) whether the status file follows."""
    found = []
    with defined_guest(uri, XML) as (conn, dom):
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
        # An inactive guest: its definition alone, CURRENT meaning CONFIG.
        found += [attempt(dom, down, 0), iface_of(dom), attempt(dom, up, CONFIG),
                  iface_of(dom)]
    return found


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
              "Requested operation is not valid: domain is not running"),
             "ok", CONF_DOWN, "ok", CONF_UP])


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


# ---------------------------------------------------------------- display passwords

GNAME = "update-device-vnc"
GXML = ("<domain type='qemu'><name>%s</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
        "<graphics type='vnc' autoport='yes' listen='127.0.0.1' passwd='Old-Pass'/>"
        "<memballoon model='none'/></devices></domain>" % GNAME)


def vnc_auth(port, password):
    """RFB 3.8 VNC authentication against QEMU's vnc server: its SecurityResult (0 ok)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    key = bytes(int("{:08b}".format(b)[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rwb")
        assert f.read(12) == b"RFB 003.008\n"
        f.write(b"RFB 003.008\n")
        f.flush()
        types = f.read(f.read(1)[0])
        assert types == b"\x02", types
        f.write(b"\x02")
        f.flush()
        challenge = f.read(16)
        enc = Cipher(algorithms.TripleDES(key), modes.ECB()).encryptor()
        f.write(enc.update(challenge) + enc.finalize())
        f.flush()
        return struct.unpack(">I", f.read(4))[0]


def gfx(extra="", listen="127.0.0.1", kind="vnc"):
    where = " listen='%s'" % listen if listen else ""
    return "<graphics type='%s' autoport='yes'%s%s/>" % (kind, where, extra)


def graphics_of(dom, flags):
    text = dom.XMLDesc(flags | libvirt.VIR_DOMAIN_XML_SECURE)
    found = re.search(r"<graphics.*?</graphics>", text, re.S).group(0)
    return re.sub(r"port='\d{4,}'", "port='N'", re.sub(r">\s+<", "><", found))


def password_sequence(uri, status=None):
    """A paused guest with a vnc password on uri, its password changed: each result, the
    live and inactive <graphics> (secure), which passwords QEMU's vnc server takes, and
    (status: our status file) whether the status file follows."""
    found = []
    with defined_guest(uri, GXML) as (conn, dom):
        dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
        port = int(re.search(r"<graphics type='vnc' port='(\d+)'", dom.XMLDesc(0)).group(1))
        found.append(vnc_auth(port, "Old-Pass"))
        found.append(attempt(dom, gfx(" passwd='New-Pass'"), LIVE))
        found += [graphics_of(dom, 0), graphics_of(dom, 2),
                  vnc_auth(port, "New-Pass"), vnc_auth(port, "Old-Pass")]
        if status:
            found.append("passwd='New-Pass'" in status.read_text())
        found.append(attempt(dom, gfx(" passwd='ConfPass'"), CONFIG))
        found += [graphics_of(dom, 0), graphics_of(dom, 2), vnc_auth(port, "New-Pass")]
        found.append(attempt(dom, gfx(" passwd='BothPass'"), LIVE | CONFIG))
        found += [graphics_of(dom, 0), graphics_of(dom, 2), vnc_auth(port, "BothPass")]
        found.append(attempt(dom, gfx(" passwd='Exp-Pass' passwdValidTo='2010-01-01T00:00:00'"),
                             LIVE))
        found += [graphics_of(dom, 0), vnc_auth(port, "Exp-Pass")]
        for xml, flags in ((gfx(" passwd='Too-Long9'"), CONFIG),
                           (gfx(" passwd='Too-Long9'"), LIVE),
                           (gfx(" keymap='de' passwd='X'"), LIVE),
                           ("<graphics type='vnc' port='5999' listen='127.0.0.1'/>", LIVE),
                           (gfx(" passwd='X'", listen="127.0.0.2"), LIVE),
                           (gfx(" passwd='X'", listen=None), LIVE),
                           (gfx(" passwd='X'", listen=None, kind="spice"), LIVE),
                           (gfx(" passwd='X'", listen=None, kind="spice"), CONFIG)):
            found.append(attempt(dom, xml, flags))
        found.append(attempt(dom, gfx(" passwd='Now-Pass'"), 0))
        found += [graphics_of(dom, 0), vnc_auth(port, "Now-Pass")]
        found.append(attempt(dom, gfx(), LIVE))  # no password: nothing sent to QEMU
        found += [graphics_of(dom, 0), vnc_auth(port, "Now-Pass")]
        dom.destroy()  # an inactive guest: its definition alone, CURRENT meaning CONFIG
        found += [attempt(dom, gfx(" passwd='OffPass'"), 0), graphics_of(dom, 0)]
        try:
            conn.defineXML(GXML.replace("Old-Pass", "Too-Long9").replace(GNAME, GNAME + "-2"))
            found.append("ok")
        except libvirt.libvirtError as e:
            found.append((e.get_error_code(), e.get_error_domain(), e.get_error_message()))
    return found


G_LIVE = ("<graphics type='vnc' port='N' autoport='yes' listen='127.0.0.1' passwd='%s'%s>"
          "<listen type='address' address='127.0.0.1'/></graphics>")
G_CONF = ("<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='%s'>"
          "<listen type='address' address='127.0.0.1'/></graphics>")


TOO_LONG = (libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_QEMU,
            "unsupported configuration: VNC password is 9 characters long, only 8 permitted")


def password_expected(ours):
    status_live = [True] if ours else []
    return ([0, "ok", G_LIVE % ("New-Pass", ""), G_CONF % "Old-Pass", 0, 1] + status_live +
            ["ok", G_LIVE % ("New-Pass", ""), G_CONF % "ConfPass", 0] +
            ["ok", G_LIVE % ("BothPass", ""), G_CONF % "BothPass", 0] +
            ["ok", G_LIVE % ("Exp-Pass", " passwdValidTo='2010-01-01T00:00:00'"), 1] +
            [TOO_LONG, TOO_LONG,
             unsupported("cannot change keymap setting on vnc graphics"),
             unsupported("cannot change port settings on vnc graphics"),
             unsupported("cannot change listen address setting on 'vnc' graphics"),
             unsupported("cannot change listen address setting on 'vnc' graphics"),
             (libvirt.VIR_ERR_DEVICE_MISSING, libvirt.VIR_FROM_QEMU,
              "device not found: cannot find existing graphics device to modify of type "
              "'spice'"),
             (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_QEMU,
              "invalid argument: cannot find existing graphics type 'spice' device to "
              "modify")] +
            ["ok", G_LIVE % ("Now-Pass", ""), 0] +
            ["ok", G_LIVE.replace(" passwd='%s'%s", ""), 0, "ok", G_CONF % "OffPass",
             TOO_LONG])


def test_update_password(daemon):
    """Our virtqemud: QEMU's vnc server takes the new password and refuses the old one or
    an expired one; the XML, the status file and the errors are libvirtd's."""
    status = daemon.root / "run" / "libvirt" / "qemu" / (GNAME + ".xml")
    assert password_sequence(uri_for(daemon.sock), status) == password_expected(True)


@pytest.mark.slow
def test_password_equal_libvirtd(ref, daemon):
    """The same password sequence on Debian's libvirtd and on virtqemud, in the same run."""
    theirs = password_sequence(ref.uri)
    assert theirs == password_expected(False)
    assert password_sequence(uri_for(daemon.sock)) == theirs


# ---------------------------------------------------------------- cdrom media

MNAME = "update-device-media"
MXML = XML.replace(NAME, MNAME)
CD_ALIAS = "ide0-1-0"


def media_of(dom):
    """QEMU's own view of the cdrom (query-block): its medium's file (None: no medium) and
    whether the tray is open."""
    from test_qemu_tray import monitor
    found = [b for b in monitor(dom, "query-block") if b["qdev"] == CD_ALIAS]
    inserted = found[0].get("inserted")
    return (inserted["image"]["filename"] if inserted else None, found[0].get("tray_open"))


def cdrom_of_text(xml):
    """The cdrom's <disk> element of a domain's XML, on one line."""
    found = re.search(r"<disk type='file' device='cdrom'>.*?</disk>", xml, re.S)
    return re.sub(r">\s+<", "><", found.group(0))


def cdrom_of(dom, flags=0):
    return cdrom_of_text(dom.XMLDesc(flags))


def cdrom(source="", extra="", target="hdc"):
    src = "<source file='%s'/>" % source if source else ""
    return ("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>%s"
            "<target dev='%s' bus='ide'/><readonly/>%s</disk>" % (src, target, extra))


def media_sequence(uri, tmp_path, status=None):
    """Guest A (its IDE cdrom empty) started paused on uri, then its medium inserted,
    changed and ejected with virsh change-media and update-device: each answer, QEMU's view
    (query-block), the live and inactive <disk>, then the TRAY_CHANGE events."""
    from test_qemu_tray import TrayEvents
    ensure_event_loop()
    one, two = tmp_path / "one.iso", tmp_path / "two.iso"
    for path in (one, two):
        path.write_bytes(b"\0" * 65536)
        path.chmod(0o644)
    tmp_path.chmod(0o755)
    found = []
    with defined_guest(uri, MXML) as (conn, dom):
        events = TrayEvents(conn)
        try:
            dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
            found += [media_of(dom), cdrom_of(dom)]
            steps = [("--insert", str(one)), ("--update", str(two)), ("--eject",),
                     ("--eject",), ("--insert", str(one), "--config")]
            for args in steps:
                rc, out, err = virsh(uri, "change-media", MNAME, "hdc", *args)
                found += [rc, out.strip(), err.strip(), media_of(dom), cdrom_of(dom),
                          cdrom_of(dom, 2)]
                if status:  # the status file follows the live definition
                    found.append(cdrom_of_text(status.read_text()) == cdrom_of(dom))
            found.append(attempt(dom, cdrom(str(two)), LIVE | CONFIG))
            found += [media_of(dom), cdrom_of(dom), cdrom_of(dom, 2)]
            found.append(attempt(dom, cdrom(), LIVE | libvirt.VIR_DOMAIN_DEVICE_MODIFY_FORCE))
            found += [media_of(dom), cdrom_of(dom)]
            hard = cdrom(str(one)).replace("device='cdrom'", "device='disk'")
            for xml in (cdrom(str(one), "<serial>abc</serial>"), cdrom(str(one), target="hdd"),
                        hard):
                found += [attempt(dom, xml, LIVE), attempt(dom, xml, CONFIG)]
            found.append(attempt(dom, hard.replace("<readonly/>", ""), LIVE))
            # An image that is not there: refused before QEMU (its tray stays closed).
            found += [attempt(dom, cdrom(str(tmp_path / "missing.iso")), LIVE),
                      media_of(dom)]
            found += [media_of(dom), cdrom_of(dom), cdrom_of(dom, 2)]
            found.append(events.wait(10))
        finally:
            events.close()
    return found


def media_expected(where, ours):
    """libvirtd 9.0.0's answers (recorded from it, and compared in the same run by
    test_media_equal_libvirtd) for media_sequence with its images in `where`; `ours`: with
    the status file checks."""
    one, two = "%s/one.iso" % where, "%s/two.iso" % where
    tail = ("<target dev='hdc' bus='ide'/><readonly/><alias name='ide0-1-0'/>"
            "<address type='drive' controller='0' bus='1' target='0' unit='0'/></disk>")
    inactive_tail = ("<target dev='hdc' bus='ide'/><readonly/>%s<address type='drive' "
                     "controller='0' bus='1' target='0' unit='0'/></disk>")
    head = "<disk type='file' device='cdrom'><driver name='qemu'%s/>"
    raw = head % " type='raw'"

    def live(source, index):
        if source:
            return raw + "<source file='%s' index='%d'/><backingStore/>" % (source, index) + tail
        return raw + "<source index='%d'/>" % index + tail

    def inactive(source=None, extra=""):
        src = "<source file='%s'/>" % source if source else ""
        return raw + src + inactive_tail % extra

    status = [True] if ours else []
    changed = lambda verb, medium, xml, conf: (
        [0, "Successfully %s media." % verb, "", medium, xml, conf] + status)
    readonly_ide = (libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_QEMU,
                    "unsupported configuration: readonly ide disks are not supported")
    return ([(None, False), head % "" + tail] +
            changed("inserted", (one, False), live(one, 2), inactive()) +
            changed("updated", (two, False), live(two, 3), inactive()) +
            changed("ejected", (None, False), live(None, 4), inactive()) +
            # The live XML still has a <source> (its index): virsh ejects again, a no-op.
            changed("ejected", (None, False), live(None, 4), inactive()) +
            changed("inserted", (None, False), live(None, 4), inactive(one)) +
            ["ok", (two, False), live(two, 5), inactive(two)] +
            ["ok", (None, False), live(None, 6)] +
            [unsupported("cannot modify field 'serial' of the disk"), "ok",
             (libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_QEMU,
              "internal error: disk 'hdd' not found"),
             (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_QEMU,
              "invalid argument: target hdd doesn't exist."),
             readonly_ide, readonly_ide,
             unsupported("cannot modify field 'device' of the disk"),
             (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_STORAGE,
              "Cannot access storage file '%s/missing.iso': No such file or directory"
              % where), (None, False),
             (None, False), live(None, 6), inactive(one, "<serial>abc</serial>"),
             [(MNAME, CD_ALIAS, reason) for _ in range(5) for reason in (0, 1)]])


def test_media_change(daemon, tmp_path):
    """Our virtqemud: virsh change-media --insert, --update, --eject (live) and --config,
    update-device of the cdrom live and config, and the refusals, give libvirtd's answers
    (as recorded from it): QEMU's view of the medium (query-block), the live XML with the
    new node index, the inactive XML, the status file and the TRAY_CHANGE events."""
    status = daemon.root / "run" / "libvirt" / "qemu" / (MNAME + ".xml")
    found = media_sequence(uri_for(daemon.sock), tmp_path, status)
    assert found == media_expected(tmp_path, True)


@pytest.mark.slow
def test_media_equal_libvirtd(ref, daemon, tmp_path):
    """The same sequence on Debian's libvirtd and on virtqemud, in the same run."""
    theirs = media_sequence(ref.uri, tmp_path)
    assert theirs == media_expected(tmp_path, False)
    assert media_sequence(uri_for(daemon.sock), tmp_path) == theirs


FNAME = "update-device-floppy"


def floppy_sequence(uri, tmp_path):
    """A guest with a virtio disk and an empty floppy drive started paused on uri: the disk's
    source change refused (it is not removable), the same disk given again accepted, the
    floppy's medium inserted and ejected with virsh change-media; QEMU's view of the floppy
    and its live <disk> after each step."""
    image, one = tmp_path / "disk.img", tmp_path / "one.img"
    for path in (image, one):
        path.write_bytes(b"\0" * 1474560)
        path.chmod(0o644)
    tmp_path.chmod(0o755)
    disk = ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            "<source file='%s'/><target dev='vda' bus='virtio'/></disk>")
    xml = XML.replace(NAME, FNAME).replace(
        "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>",
        disk % image + "<disk type='file' device='floppy'><target dev='fda' bus='fdc'/></disk>")
    found = []
    with defined_guest(uri, xml) as (conn, dom):
        dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
        found += [attempt(dom, disk % one, LIVE), attempt(dom, disk % image, LIVE)]
        for args in (("--insert", str(one)), ("--eject",)):
            rc, out, err = virsh(uri, "change-media", FNAME, "fda", *args)
            found += [rc, out.strip(), err.strip(), floppy_of(dom)]
            found.append(re.sub(r">\s+<", "><", re.search(
                r"<disk type='file' device='floppy'>.*?</disk>", dom.XMLDesc(0),
                re.S).group(0)))
    return found


def floppy_of(dom):
    from test_qemu_tray import monitor
    found = [b for b in monitor(dom, "query-block") if b["qdev"].startswith("fdc0")]
    inserted = found[0].get("inserted")
    return (found[0]["qdev"], inserted["image"]["filename"] if inserted else None)


def floppy_expected(where):
    """libvirtd 9.0.0's answers for floppy_sequence (recorded from it, and compared in the
    same run by test_floppy_equal_libvirtd); the disk's image took node index 1, the empty
    floppy 2."""
    one = "%s/one.img" % where
    floppy = ("<disk type='file' device='floppy'><driver name='qemu' type='raw'/>%s"
              "<target dev='fda' bus='fdc'/><alias name='fdc0-0-0'/><address type='drive' "
              "controller='0' bus='0' target='0' unit='0'/></disk>")
    return [(libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_QEMU,
             "unsupported configuration: disk source can be changed only in removable drives"),
            "ok",
            0, "Successfully inserted media.", "", ("fdc0-0-0", one),
            floppy % ("<source file='%s' index='3'/><backingStore/>" % one),
            0, "Successfully ejected media.", "", ("fdc0-0-0", None),
            floppy % "<source index='4'/>"]


def test_floppy_media(daemon, tmp_path):
    """Our virtqemud: a floppy's medium inserted and ejected, and a non-removable disk's
    source change refused, as libvirtd answers (recorded from it)."""
    assert floppy_sequence(uri_for(daemon.sock), tmp_path) == floppy_expected(tmp_path)


@pytest.mark.slow
def test_floppy_equal_libvirtd(ref, daemon, tmp_path):
    """The same sequence on Debian's libvirtd and on virtqemud, in the same run."""
    theirs = floppy_sequence(ref.uri, tmp_path)
    assert theirs == floppy_expected(tmp_path)
    assert floppy_sequence(uri_for(daemon.sock), tmp_path) == theirs


def test_media_after_daemon_restart(rhost, tmp_path):
    """An ejected cdrom's live <source index='4'/> survives a daemon restart (the status
    file), and the next medium after it takes the next node index (5), as it would have
    without the restart."""
    rhost.start_daemon()
    one, two = tmp_path / "one.iso", tmp_path / "two.iso"
    for path in (one, two):
        path.write_bytes(b"\0" * 65536)
    uri = uri_for(rhost.daemon.sock)
    dom = rhost.conn.defineXML(MXML)
    dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    for args in (("--insert", str(one)), ("--update", str(two)), ("--eject",)):
        assert virsh(uri, "change-media", MNAME, "hdc", *args)[0] == 0
    before = cdrom_of(dom)
    assert "<source index='4'/>" in before
    rhost.kill_daemon()
    rhost.start_daemon()
    dom = rhost.dom(MNAME)
    assert cdrom_of(dom) == before
    assert virsh(uri_for(rhost.daemon.sock), "change-media", MNAME, "hdc", "--insert",
                 str(two))[0] == 0
    assert "<source file='%s' index='5'/>" % two in cdrom_of(dom)
    assert media_of(dom) == (str(two), False)
    dom.destroy()
    dom.undefine()
