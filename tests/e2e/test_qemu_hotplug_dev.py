"""test_qemu_hotplug_dev.py: issue 18 item 2, live hotplug of rng and input devices on
virtqemud (DOMAIN_ATTACH_DEVICE_FLAGS / DOMAIN_DETACH_DEVICE_FLAGS / DETACH_DEVICE_ALIAS
with AFFECT_LIVE): virtio-rng with its random, builtin and egd backends (chardev-add,
object-add, device_add), usb and virtio tablets, mice and keyboards (device_add), ps2
refused; unplugs with device_del, the wait and the backends deleted after QEMU let go.

Guest A never acknowledges a PCI unplug, so its PCI devices are unplugged by alias (no
wait) and stay; a USB device goes at once. The slow test compares every step with Debian's
libvirtd; the Linux-guest test of test_qemu_hotplug_chr.py shows an rng coming and going in
a guest.
"""

import re

import pytest

from calls import answer
from guests import domain_xml
from test_qemu_hotplug_chr import run_on_guest_a
from test_qemu_hotplug_live import LIVE, on_ref_and_ours, peripherals, qmp

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

RNG_RANDOM = ("<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>")
RNG_BUILTIN = "<rng model='virtio'><backend model='builtin'/></rng>"
RNG_EGD = "<rng model='virtio'><backend model='egd' type='pty'/></rng>"
USB_TABLET = "<input type='tablet' bus='usb'/>"
VIRTIO_KEYBOARD = "<input type='keyboard' bus='virtio'/>"
VIRTIO_MOUSE = "<input type='mouse' bus='virtio'/>"
PS2_MOUSE = "<input type='mouse' bus='ps2'/>"


def devices_of(dom):
    """Each live rng and input, whitespace folded, pty numbers replaced."""
    return [re.sub(r"/dev/pts/\d+", "/dev/pts/N", re.sub(r"\s+", " ", d))
            for d in re.findall(r"<rng .*?</rng>|<input [^>]*/>|<input [^>]*[^/]>.*?</input>",
                                dom.XMLDesc(0), re.S)]


def objects(uri, name):
    return sorted(o["name"] for o in qmp(uri, name, "qom-list", path="/objects")
                  if o["name"].startswith("obj"))


def dev_sequence(conn, uri, name, kernel, tmp=None):
    """rng and input devices plugged into and unplugged from a running Guest A: each
    answer, whether it came back before the unplug wait, the live devices after it, QEMU's
    devices and backend objects, the events."""
    def plan(dom, step, steps):
        attach, detach = dom.attachDeviceFlags, dom.detachDeviceFlags
        step("attach rng random", attach, RNG_RANDOM, LIVE)
        step("attach rng builtin", attach, RNG_BUILTIN, LIVE)
        step("attach rng egd", attach, RNG_EGD, LIVE)
        step("attach usb tablet", attach, USB_TABLET, LIVE)
        step("attach virtio keyboard", attach, VIRTIO_KEYBOARD, LIVE)
        step("attach virtio mouse", attach, VIRTIO_MOUSE, LIVE)
        step("attach ps2 mouse", attach, PS2_MOUSE, LIVE)
        steps.append(("devices", peripherals(uri, name), objects(uri, name)))
        step("detach usb tablet", detach, USB_TABLET, LIVE)
        step("detach ps2 mouse", detach, PS2_MOUSE, LIVE)
        step("detach missing input", detach, "<input type='tablet' bus='virtio'/>", LIVE)
        step("detach missing rng", detach, RNG_RANDOM.replace("urandom", "random"), LIVE)
        step("detach rng by alias", dom.detachDeviceAlias, "rng1", LIVE)
        step("detach mouse by alias", dom.detachDeviceAlias, "input4", LIVE)
        steps.append(("devices after", peripherals(uri, name), objects(uri, name)))

    return run_on_guest_a(conn, domain_xml(name, kernel), devices_of, plan)


def test_live_rng_input_hotplug(host):
    """The sequence on ours: the answers, QEMU's devices and backend objects, the events
    (the slow test compares every step with libvirtd)."""
    steps = dev_sequence(host.conn, host.uri, "hpd-a", host.kernel)
    assert [(s[0], s[1]) for s in steps if len(s) == 4] == [
        ("attach rng random", ("OK", 0)),
        ("attach rng builtin", ("OK", 0)),
        ("attach rng egd", ("OK", 0)),
        ("attach usb tablet", ("OK", 0)),
        ("attach virtio keyboard", ("OK", 0)),
        ("attach virtio mouse", ("OK", 0)),
        ("attach ps2 mouse", (84, 10, "Operation not supported: input device on bus 'ps2' "
                                      "cannot be hot plugged.")),
        ("detach usb tablet", ("OK", 0)),
        ("detach ps2 mouse", (84, 10, "Operation not supported: input device on bus 'ps2' "
                                      "cannot be detached")),
        ("detach missing input", (99, 10, "device not found: matching input device not "
                                          "found")),
        ("detach missing rng", (99, 10, "device not found: model 'random' RNG device not "
                                        "present in domain configuration")),
        ("detach rng by alias", ("OK", 0)),
        ("detach mouse by alias", ("OK", 0)),
    ]
    assert all(s[2] for s in steps if len(s) == 4)
    # The egd backend's pty, as QEMU made it, in the live XML.
    assert "<backend model='egd' type='pty'> <source path='/dev/pts/N'/> </backend> " \
           "<alias name='rng2'/>" in " ".join(steps[2][3])
    assert steps[7] == ("devices", ["input2", "input3", "input4", "rng0", "rng1", "rng2",
                                    "serial0", "type", "usb"],
                        ["objrng0", "objrng1", "objrng2"])
    # Guest A lets go of the USB tablet alone (its PCI devices wait for the guest).
    assert steps[-2] == ("devices after", ["input3", "input4", "rng0", "rng1", "rng2",
                                           "serial0", "type", "usb"],
                         ["objrng0", "objrng1", "objrng2"])
    assert steps[-1] == ("events", [("hpd-a", "added", a) for a in
                                    ("rng0", "rng1", "rng2", "input2", "input3", "input4")]
                         + [("hpd-a", "removed", "input2")])


@pytest.mark.slow
def test_live_rng_input_hotplug_equal_libvirtd(ref, host, tmp_path):
    """The sequence on Debian's libvirtd and on ours: every answer, the live XML of the
    rng and input devices, QEMU's devices and backend objects, the events."""
    theirs, ours = on_ref_and_ours(ref, host, tmp_path, dev_sequence, "hpd-ref")
    assert ours == theirs
