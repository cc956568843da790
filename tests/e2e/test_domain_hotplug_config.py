"""test_domain_hotplug_config.py: issue 18 item 2, DOMAIN_ATTACH_DEVICE_FLAGS /
DOMAIN_DETACH_DEVICE_FLAGS / DETACH_DEVICE_ALIAS with AFFECT_CONFIG for the devices beyond
disks and interfaces (controllers, serials, consoles, channels, rng, input, watchdog,
filesystems, sound, redirdev, host devices), as libvirt 9.0's qemuDomainAttachDeviceConfig and
qemuDomainDetachDeviceConfig change a persistent definition.

The fast tests check each step's answer and the inactive definition after it on a defined
guest, and LIVE|CONFIG on a running Guest A for the kinds plugged live; the slow one runs the
same sequence on Debian's libvirtd and compares every answer and definition.
"""

import pytest

from calls import answer, guest_a_on_both, on_both, tiny_xml
from guests import uri_for
from test_domain_hotplug import devices

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

LIVE, CONFIG = 1, 2

SCSI = "<controller type='scsi' model='virtio-scsi'/>"
SCSI_0 = "<controller type='scsi' index='0' model='virtio-scsi'/>"
SCSI_1 = "<controller type='scsi' index='1'/>"
SCSI_5 = "<controller type='scsi' index='5'/>"
SERIAL = "<serial type='pty'/>"
SERIAL_0 = "<serial type='pty'><target port='0'/></serial>"
SERIAL_7 = "<serial type='pty'><target port='7'/></serial>"
SERIAL_CONSOLE = "<console type='pty'><target type='serial'/></console>"
CHANNEL = "<channel type='pty'><target type='virtio' name='org.test.0'/></channel>"
NULL_CHANNEL = "<channel type='null'><target type='virtio' name='org.test.1'/></channel>"
VIRTIO_CONSOLE = "<console type='pty'><target type='virtio'/></console>"
RNG = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
RNG_SLOT_1 = ("<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
              "<address type='pci' domain='0' bus='0' slot='1' function='2'/></rng>")
TABLET = "<input type='tablet' bus='usb'/>"
TABLET_ALIAS = "<input type='tablet' bus='usb'><alias name='ua-tab'/></input>"
WATCHDOG = "<watchdog model='i6300esb' action='poweroff'/>"
FS = ("<filesystem type='mount' accessmode='passthrough'><source dir='/var/tmp'/>"
      "<target dir='hpcfg'/></filesystem>")
SOUND = "<sound model='ich6'/>"
REDIRDEV = "<redirdev bus='usb' type='spicevmc'/>"
VIRTIO_SERIAL = "<controller type='virtio-serial'/>"
USB_HOSTDEV = ("<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/>"
               "<product id='0x5678'/></source></hostdev>")
PCI_HOSTDEV = ("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
               "<address domain='0' bus='0' slot='0x1f' function='0'/></source></hostdev>")
BALLOON = "<memballoon model='virtio'/>"
PANIC = "<panic model='isa'/>"


def base_xml(name):
    """A defined guest with spice graphics (a spicevmc redirdev needs them)."""
    return tiny_xml(name).replace("</domain>",
                                  "<devices><graphics type='spice'/></devices></domain>")


def steps(d):
    """(call, device, flags) in order: each device kind attached, attached again, detached,
    detached again; then the kinds libvirt does not change persistently."""
    a, x = d.attachDeviceFlags, d.detachDeviceFlags
    return [
        (a, SCSI, CONFIG), (a, SCSI_0, CONFIG), (a, SCSI, CONFIG), (x, SCSI_1, CONFIG),
        (x, SCSI_5, CONFIG),
        (a, SERIAL, CONFIG), (a, SERIAL_0, CONFIG), (a, SERIAL, CONFIG),
        (a, SERIAL_CONSOLE, CONFIG), (a, CHANNEL, CONFIG), (a, CHANNEL, CONFIG),
        (a, VIRTIO_CONSOLE, CONFIG), (x, SERIAL_0, CONFIG), (x, SERIAL_7, CONFIG),
        (x, SERIAL_CONSOLE, CONFIG), (x, CHANNEL, CONFIG), (x, CHANNEL, CONFIG),
        (x, VIRTIO_CONSOLE, CONFIG),
        (a, RNG, CONFIG), (a, RNG_SLOT_1, CONFIG), (x, RNG, CONFIG), (x, RNG, CONFIG),
        (a, TABLET, CONFIG), (x, TABLET, CONFIG), (x, TABLET, CONFIG),
        (a, WATCHDOG, CONFIG), (a, WATCHDOG, CONFIG), (x, WATCHDOG, CONFIG),
        (x, WATCHDOG, CONFIG),
        (a, FS, CONFIG), (a, FS, CONFIG), (x, FS, CONFIG), (x, FS, CONFIG),
        (a, SOUND, CONFIG), (x, SOUND, CONFIG), (x, SOUND, CONFIG),
        (a, REDIRDEV, CONFIG), (x, REDIRDEV, CONFIG), (x, REDIRDEV, CONFIG),
        (a, TABLET_ALIAS, CONFIG), (d.detachDeviceAlias, "ua-tab", CONFIG),
        (d.detachDeviceAlias, "ua-tab", CONFIG),
        (a, USB_HOSTDEV, CONFIG), (a, USB_HOSTDEV, CONFIG), (a, PCI_HOSTDEV, CONFIG),
        (x, USB_HOSTDEV, CONFIG), (x, USB_HOSTDEV, CONFIG), (x, PCI_HOSTDEV, CONFIG),
        (a, BALLOON, CONFIG), (x, BALLOON, CONFIG), (a, PANIC, CONFIG),
    ]


def config_sequence(d):
    """Each step's answer with the persistent <devices> after it."""
    return [(answer(fn, dev, flags), devices(d)) for fn, dev, flags in steps(d)]


OK = ("OK", 0)
INVALID = "Requested operation is not valid: "
MISSING = "device not found: "
UNSUPPORTED = "Operation not supported: "
EXPECTED = [
    OK, (55, 10, INVALID + "controller index='0' already exists"), OK, OK,
    (99, 10, MISSING + "device not present in domain configuration"),
    OK, (55, 10, INVALID + "chardev already exists"), OK,
    (84, 10, UNSUPPORTED + "attaching serial console is not supported"), OK,
    (55, 10, INVALID + "chardev already exists"), OK, OK,
    (8, 10, "invalid argument: device not present in domain configuration"),
    (55, 10, INVALID + "detaching serial console is not supported"), OK,
    (8, 10, "invalid argument: device not present in domain configuration"),
    (8, 10, "invalid argument: device not present in domain configuration"),
    OK, (67, 10, "unsupported configuration: a device with the same address already exists "),
    OK,
    (99, 10, MISSING + "no matching RNG device was found"),
    OK, OK, (99, 10, MISSING + "matching input device not found"),
    OK, (55, 10, INVALID + "domain already has a watchdog"), OK,
    (99, 10, MISSING + "domain has no watchdog"),
    OK, (55, 10, INVALID + "Target already exists"), OK,
    (99, 10, MISSING + "no matching filesystem device was found"),
    OK, OK, (99, 10, MISSING + "device not present in domain configuration"),
    OK, OK, (99, 10, MISSING + "no matching redirdev was not found"),
    OK, OK, (1, 20, "internal error: no device found with alias ua-tab"),
    OK, (55, 10, INVALID + "device is already in the domain configuration"), OK, OK,
    (99, 10, MISSING + "device not present in domain configuration"), OK,
    (84, 10, UNSUPPORTED + "persistent attach of device 'memballoon' is not supported"),
    (84, 10, UNSUPPORTED + "persistent detach of device 'memballoon' is not supported"),
    (84, 10, UNSUPPORTED + "persistent attach of device 'panic' is not supported"),
]


def test_config_other_devices(daemon):
    """Every kind attached and detached --config on a defined guest: libvirt's answers and
    errors, and the persistent definition after each step (numbers and places libvirt gives,
    the console standing for the first serial, devices gone after their detach)."""
    conn = libvirt.open(uri_for(daemon.sock))
    dom = conn.defineXML(base_xml("hpcfg"))
    try:
        base = devices(dom)
        results = config_sequence(dom)
    finally:
        dom.undefine()
        conn.close()
    assert [r[0] for r in results] == EXPECTED
    xml = [r[1] for r in results]
    assert "<controller type='scsi' index='0' model='virtio-scsi'>" in xml[0]
    assert "<controller type='scsi' index='1' model='virtio-scsi'>" in xml[2]
    assert "index='1'" not in xml[3] and "index='0' model='virtio-scsi'" in xml[3]
    # The first serial gets port 0 and the console standing for it; the next port 1.
    assert "<target type='isa-serial' port='0'>" in xml[5]
    assert "<console type='pty'>\n      <target type='serial' port='0'/>" in xml[5]
    assert "<target type='isa-serial' port='1'>" in xml[7]
    assert "<target type='virtio' name='org.test.0'/>" in xml[9]
    assert "<controller type='virtio-serial' index='0'>" in xml[9]
    assert "<target type='virtio' port='1'/>" in xml[11]
    assert "port='0'>" not in xml[12].split("<console")[0]
    assert "org.test.0" not in xml[15]
    assert "/dev/urandom" in xml[18] and "/dev/urandom" not in xml[20]
    assert "<input type='tablet' bus='usb'>" in xml[22]
    assert "tablet" not in xml[23]
    assert "<watchdog model='i6300esb' action='poweroff'>" in xml[25]
    assert "<watchdog" not in xml[27]
    assert "<target dir='hpcfg'/>" in xml[29] and "hpcfg" not in xml[31]
    assert "<sound model='ich6'>" in xml[33] and "<sound" not in xml[34]
    assert "<redirdev bus='usb' type='spicevmc'>" in xml[36] and "<redirdev" not in xml[37]
    assert "<alias name='ua-tab'/>" in xml[39] and "ua-tab" not in xml[40]
    assert "<vendor id='0x1234'/>" in xml[42] and "slot='0x1f'" in xml[44]
    assert "0x1234" not in xml[45] and "<hostdev" not in xml[47]
    assert xml[-1] == xml[40]
    assert "<controller type='scsi'" in xml[-1] and "<serial" in xml[-1]
    assert base != xml[-1]


LIVE_KINDS = [SCSI_1, RNG, TABLET, WATCHDOG, CHANNEL]


def test_live_and_config_other_devices(host):
    """LIVE|CONFIG on a running Guest A for the kinds plugged live: each device in the live
    and in the persistent definition; --config alone leaves the live one as it is, and the
    guest's next start has the device."""
    dom = host.define("hpcfglive")
    # The channel's virtio-serial controller, added to the definition before the start.
    assert answer(dom.attachDeviceFlags, VIRTIO_SERIAL, CONFIG) == OK
    dom.create()
    try:
        for dev in LIVE_KINDS:
            assert answer(dom.attachDeviceFlags, dev, LIVE | CONFIG) == OK, dev
        live, config = dom.XMLDesc(0), devices(dom)
        for xml in (live, config):
            assert "<controller type='scsi' index='1'" in xml
            assert "/dev/urandom" in xml and "<input type='tablet' bus='usb'>" in xml
            assert "<watchdog model='i6300esb' action='poweroff'>" in xml
            assert "name='org.test.0'" in xml
        # The USB tablet and a virtio-serial port go without the guest's help: both
        # definitions lose them. (A pty channel is matched by its pty path, which only the
        # live definition has: libvirt's rule, so the null one here.)
        assert answer(dom.attachDeviceFlags, NULL_CHANNEL, LIVE | CONFIG) == OK
        for dev in (TABLET, NULL_CHANNEL):
            assert answer(dom.detachDeviceFlags, dev, LIVE | CONFIG) == OK, dev
        live, config = dom.XMLDesc(0), devices(dom)
        for xml in (live, config):
            assert "tablet" not in xml and "org.test.1" not in xml
        # The live step failing leaves the persistent definition as it was.
        assert answer(dom.detachDeviceFlags, CHANNEL, LIVE | CONFIG) == (
            99, 10, "device not found: chr type 'channel' device not present in domain "
                    "configuration")
        assert "name='org.test.0'" in devices(dom)
        assert answer(dom.attachDeviceFlags, SOUND, CONFIG) == OK
        assert answer(dom.detachDeviceFlags, WATCHDOG, CONFIG) == OK
        assert "<sound" in devices(dom) and "<sound" not in dom.XMLDesc(0)
        assert "<watchdog" not in devices(dom) and "<watchdog" in dom.XMLDesc(0)
    finally:
        dom.destroy()
    try:
        assert "<sound model='ich6'>" in dom.XMLDesc(0)
        assert "name='org.test.0'" in dom.XMLDesc(0)
    finally:
        dom.undefine()


@pytest.mark.slow
def test_config_other_devices_equal_libvirtd(ref, daemon):
    """The sequence on Debian's libvirtd and on ours: every answer, error and persistent
    <devices> (no uuid, no run-dependent value in them) the same, step by step."""
    theirs, ours = on_both(ref, daemon, base_xml("h-hpcfg-api"), config_sequence)
    for i, (t, o) in enumerate(zip(theirs, ours)):
        assert (i, o) == (i, t)
    assert len(ours) == len(theirs)


def live_config_sequence(dom):
    """On a running Guest A: the kinds plugged live attached LIVE|CONFIG, two of them
    detached so, a detach whose live step fails, and --config changes beside; each answer
    with the persistent <devices> after it."""
    calls = [(dom.attachDeviceFlags, dev, LIVE | CONFIG) for dev in LIVE_KINDS + [NULL_CHANNEL]]
    calls += [(dom.detachDeviceFlags, TABLET, LIVE | CONFIG),
              (dom.detachDeviceFlags, NULL_CHANNEL, LIVE | CONFIG),
              (dom.detachDeviceFlags, CHANNEL, LIVE | CONFIG),
              (dom.attachDeviceFlags, SOUND, CONFIG),
              (dom.detachDeviceFlags, WATCHDOG, CONFIG)]
    return [(answer(fn, dev, flags), devices(dom)) for fn, dev, flags in calls]


@pytest.mark.slow
def test_live_and_config_equal_libvirtd(host, ref, tmp_path):
    """LIVE|CONFIG on a running Guest A here and on Debian's libvirtd: the same answers and
    persistent definitions after each step."""
    rconn = libvirt.open(ref.uri)
    try:
        with guest_a_on_both(host, rconn, tmp_path, "h-hpcfg-live", VIRTIO_SERIAL) as doms:
            results = []
            for d in doms:
                d.create()
                results.append(live_config_sequence(d))
    finally:
        rconn.close()
    ours, theirs = results
    for i, (t, o) in enumerate(zip(theirs, ours)):
        assert (i, o) == (i, t)
