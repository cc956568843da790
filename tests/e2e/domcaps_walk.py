"""domcaps_walk.py: every value a domain capabilities document lists, each as a small
domain XML that uses it (test_qemu_domcaps_define.py defines them on our daemon, and on
Debian's libvirtd for the comparison).

cases(doc) reads the document (xml.etree) and yields (label, xml): one case per value of
every enum it lists (os firmware and loader, CPU modes and every custom model, memory
backing, disk, graphics, video, hostdev, rng, filesystem, tpm, redirdev, channel) and
per feature it says is supported. The XML is the document's domain type, machine and
arch, 64 MiB and only what the value needs, so what refuses it is the value itself.
"""

import os
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

# The test's domains are named with this prefix (libvirtd's are undefined after).
PREFIX = "h-caps-"

# The disk source each case names: never opened at define (a test that starts the guests
# sets it to an image of its own).
DISK_SOURCE = "/var/lib/libvirt/images/h-caps-disk.img"


def kvm_usable():
    """Whether this process can open /dev/kvm read-write (the daemon's test for the kvm
    domain type, as libvirt's)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    return True


# The domain types the tests walk: kvm too where the host has it.
VIRTTYPES = ["qemu", "kvm"] if kvm_usable() else ["qemu"]


def domain(doc, name, devices="", os_extra="", os_attrs="", top=""):
    """A domain of doc's type, machine and arch with the given pieces."""
    return ("<domain type=%s><name>%s</name><memory unit='MiB'>64</memory>"
            "<os%s><type arch=%s machine=%s>hvm</type>%s</os>%s"
            "<devices>%s</devices></domain>"
            % (quoteattr(doc.findtext("domain")), escape(name), os_attrs,
               quoteattr(doc.findtext("arch")), quoteattr(doc.findtext("machine")),
               os_extra, top, devices))


def values(doc, path):
    """The values of the enum at path ("devices/disk/enum[@name='bus']")."""
    return [v.text for v in doc.findall(path + "/value")]


# UEFI on x86 wants ACPI (libvirt's define-time check), a secure loader SMM too.
ACPI = "<features><acpi/></features>"
ACPI_SMM = "<features><acpi/><smm state='on'/></features>"


def os_cases(doc):
    loader = "os/loader"
    for fw in values(doc, "os/enum[@name='firmware']"):
        yield "firmware-" + fw, dict(os_attrs=" firmware=%s" % quoteattr(fw), top=ACPI)
    paths = [v.text for v in doc.findall(loader + "/value")]
    for i, path in enumerate(paths):
        # A loader with "secboot" in its name only runs with SMM (its descriptor's
        # requires-smm); libvirt does not look at the name at define.
        yield "loader-%d" % i, dict(
            os_extra="<loader readonly='yes' type='pflash'>%s</loader>" % escape(path),
            top=ACPI)
    path = escape(paths[0])
    for t in values(doc, loader + "/enum[@name='type']"):
        yield "loader-type-" + t, dict(
            os_extra="<loader type=%s>%s</loader>" % (quoteattr(t), path), top=ACPI)
    for ro in values(doc, loader + "/enum[@name='readonly']"):
        yield "loader-readonly-" + ro, dict(
            os_extra="<loader readonly=%s type='pflash'>%s</loader>" % (quoteattr(ro), path),
            top=ACPI)
    for sec in values(doc, loader + "/enum[@name='secure']"):
        yield "loader-secure-" + sec, dict(
            os_extra="<loader readonly='yes' secure=%s type='pflash'>%s</loader>"
            % (quoteattr(sec), path),
            top=ACPI_SMM if sec == "yes" else ACPI)


def cpu_cases(doc):
    for mode in doc.findall("cpu/mode"):
        name = mode.get("name")
        if mode.get("supported") != "yes":
            continue
        if name == "custom":
            for m in mode.findall("model"):
                yield "cpu-model-" + m.text, dict(
                    top="<cpu mode='custom' match='exact'><model fallback='forbid'>%s</model>"
                        "</cpu>" % escape(m.text))
            continue
        yield "cpu-" + name, dict(top="<cpu mode=%s/>" % quoteattr(name))
        for enum in mode.findall("enum"):
            for v in enum.findall("value"):
                yield "cpu-%s-migratable-%s" % (name, v.text), dict(
                    top="<cpu mode=%s migratable=%s/>" % (quoteattr(name), quoteattr(v.text)))


def memory_cases(doc):
    for t in values(doc, "memoryBacking/enum[@name='sourceType']"):
        yield "memory-source-" + t, dict(
            top="<memoryBacking><source type=%s/></memoryBacking>" % quoteattr(t))


def disk_xml(device="disk", bus="virtio", model=None, source=None):
    dev = {"cdrom": "hdc", "floppy": "fda"}.get(device, "vda" if bus == "virtio" else "sda")
    if device == "lun":
        # A lun is a block device on a SCSI bus.
        return ("<disk type='block' device='lun'><source dev='/dev/h-caps-lun'/>"
                "<target dev='sda' bus='scsi'/></disk>")
    if device == "floppy":
        bus = "fdc"
    elif device == "cdrom" and bus == "virtio":
        bus = "sata"
    if bus == "fdc":
        device, dev = "floppy", "fda"
    elif bus == "ide":
        dev = "hda"
    attrs = " model=%s" % quoteattr(model) if model else ""
    return ("<disk type='file' device=%s%s><source file=%s/><target dev=%s bus=%s/></disk>"
            % (quoteattr(device), attrs, quoteattr(source or DISK_SOURCE), quoteattr(dev),
               quoteattr(bus)))


def graphics_xml(t):
    if t == "vnc":
        return "<graphics type='vnc' autoport='yes'/>"
    if t == "spice":
        return "<graphics type='spice' autoport='yes'/>"
    return "<graphics type=%s/>" % quoteattr(t)


HOSTDEV_SOURCES = {
    "usb": "<source><vendor id='0x1d6b'/><product id='0x0002'/></source>",
    "pci": "<source><address domain='0x0000' bus='0x00' slot='0x1f' function='0x7'/></source>",
    "scsi": "<source><adapter name='scsi_host0'/>"
            "<address bus='0' target='0' unit='0'/></source>",
}


def hostdev_xml(subsys="usb", policy=None, backend=None):
    """A hostdev of subsystem type subsys (a host device no guest of a test starts).
    SCSI host devices are never managed (libvirt refuses that at start)."""
    managed = "no" if subsys == "scsi" else "yes"
    extra = ""
    if backend:
        extra = "<driver name=%s/>" % quoteattr(backend)
    src = HOSTDEV_SOURCES[subsys]
    if policy and policy != "default":
        # "default" is libvirt's name for no policy: its XML parser refuses the word.
        src = src.replace("<source>", "<source startupPolicy=%s>" % quoteattr(policy))
    return ("<hostdev mode='subsystem' type=%s managed=%s>%s%s</hostdev>"
            % (quoteattr(subsys), quoteattr(managed), extra, src))


def tpm_xml(model="tpm-tis", backend="passthrough"):
    inner = ("<device path='/dev/tpm0'/>" if backend == "passthrough" else "")
    return ("<tpm model=%s><backend type=%s>%s</backend></tpm>"
            % (quoteattr(model), quoteattr(backend), inner))


def rng_xml(model="virtio", backend="random"):
    inner = {
        "random": "<backend model='random'>/dev/urandom</backend>",
        "egd": "<backend model='egd' type='tcp'>"
               "<source mode='connect' host='127.0.0.1' service='708'/></backend>",
        "builtin": "<backend model='builtin'/>",
    }[backend]
    return "<rng model=%s>%s</rng>" % (quoteattr(model), inner)


SHARED_MEMORY = ("<memoryBacking><source type='memfd'/><access mode='shared'/>"
                 "</memoryBacking>")


def filesystem_xml(driver):
    extra = "<binary path='/usr/lib/qemu/virtiofsd'/>" if driver == "virtiofs" else ""
    return ("<filesystem type='mount' accessmode=%s><driver type=%s/>%s"
            "<source dir='/tmp'/><target dir='h-caps-share'/></filesystem>"
            % (quoteattr("passthrough"), quoteattr(driver), extra))


def channel_xml(t):
    if t == "unix":
        return ("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
                "</channel>")
    if t == "spicevmc":
        return ("<graphics type='spice' autoport='yes'/>"
                "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/>"
                "</channel>")
    return "<channel type=%s><target type='virtio' name='h-caps.0'/></channel>" % quoteattr(t)


# Each device enum a document lists: its path under devices/, the label its values get, and
# the case for one value v (domain()'s keyword arguments; image: the disks' source).
DEVICE_ENUMS = [
    ("disk/enum[@name='diskDevice']", "disk-device-",
     lambda v, image: dict(devices=disk_xml(device=v, source=image))),
    ("disk/enum[@name='bus']", "disk-bus-",
     lambda v, image: dict(devices=disk_xml(bus=v, source=image))),
    ("disk/enum[@name='model']", "disk-model-",
     lambda v, image: dict(devices=disk_xml(model=v, source=image))),
    ("graphics/enum[@name='type']", "graphics-", lambda v, _: dict(devices=graphics_xml(v))),
    ("video/enum[@name='modelType']", "video-",
     lambda v, _: dict(devices="<video><model type=%s/></video>" % quoteattr(v))),
    # libvirt takes a startupPolicy on USB host devices only.
    ("hostdev/enum[@name='startupPolicy']", "hostdev-policy-",
     lambda v, _: dict(devices=hostdev_xml("usb", policy=v))),
    ("hostdev/enum[@name='subsysType']", "hostdev-subsys-",
     lambda v, _: dict(devices=hostdev_xml(v))),
    ("hostdev/enum[@name='pciBackend']", "hostdev-pci-",
     lambda v, _: dict(devices=hostdev_xml("pci", backend=v))),
    ("rng/enum[@name='model']", "rng-model-", lambda v, _: dict(devices=rng_xml(model=v))),
    ("rng/enum[@name='backendModel']", "rng-backend-",
     lambda v, _: dict(devices=rng_xml(backend=v))),
    # virtiofs needs the guest's memory shared with virtiofsd.
    ("filesystem/enum[@name='driverType']", "filesystem-",
     lambda v, _: dict(devices=filesystem_xml(v),
                       top=SHARED_MEMORY if v == "virtiofs" else "")),
    ("tpm/enum[@name='model']", "tpm-model-", lambda v, _: dict(devices=tpm_xml(model=v))),
    ("tpm/enum[@name='backendModel']", "tpm-backend-",
     lambda v, _: dict(devices=tpm_xml(backend=v))),
    ("redirdev/enum[@name='bus']", "redirdev-",
     lambda v, _: dict(devices="<graphics type='spice' autoport='yes'/>"
                               "<redirdev bus=%s type='spicevmc'/>" % quoteattr(v))),
    ("channel/enum[@name='type']", "channel-", lambda v, _: dict(devices=channel_xml(v))),
]


def device_cases(doc, image=None):
    hostdev = "devices/hostdev/enum[@name='%s']"
    if values(doc, hostdev % "mode") != ["subsystem"]:
        raise AssertionError("hostdev modes: %r" % values(doc, hostdev % "mode"))
    for c in values(doc, hostdev % "capsType"):
        raise AssertionError("capsType %s listed: no case for it" % c)
    for path, label, case in DEVICE_ENUMS:
        for v in values(doc, "devices/" + path):
            yield label + v, case(v, image)

FEATURES = {
    "vmcoreinfo": "<features><vmcoreinfo state='on'/></features>",
    "genid": "<genid/>",
}

HYPERV = {
    "spinlocks": "<spinlocks state='on' retries='8191'/>",
    "vendor_id": "<vendor_id state='on' value='h-caps'/>",
}


def feature_cases(doc):
    if doc.find("iothreads").get("supported") == "yes":
        yield "iothreads", dict(top="<iothreads>1</iothreads>")
    for name, top in FEATURES.items():
        if doc.find("features/" + name).get("supported") == "yes":
            yield "feature-" + name, dict(top=top)
    for f in values(doc, "features/hyperv/enum[@name='features']"):
        yield "hyperv-" + f, dict(top="<features><hyperv>%s</hyperv></features>" % HYPERV[f])


def cases(doc, image=None):
    """(label, xml) for every value doc lists; each label is unique in the document. Disks
    name `image` when given."""
    n = 0
    for gen in (os_cases, cpu_cases, memory_cases,
                lambda d: device_cases(d, image), feature_cases):
        for label, parts in gen(doc):
            n += 1
            yield label, domain(doc, "%s%d" % (PREFIX, n), **parts)


def parse(text):
    return ET.fromstring(text)
