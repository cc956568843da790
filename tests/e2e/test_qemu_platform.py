"""test_qemu_platform.py: what only a real QEMU start shows of the platform XML: a guest
defined as `virt-install --boot uefi` writes it (<os firmware='efi'>, the clock timers and
<pm> virt-install adds) gets its firmware from the OVMF descriptors Debian's ovmf package
installs, its own NVRAM copied from the template, runs under TCG, and its NVRAM decides how
it may be undefined, as with libvirtd 9.0.

Expected values are libvirtd's for the same XML: `virsh domxml-to-native qemu-argv` picks
/usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json for a q35 guest (secure boot,
SMM on) and its live XML shows that loader and NVRAM.
"""

import json
from pathlib import Path

import pytest

from guests import QEMU, RUNNING, SHUTOFF, libvirt, qemu_processes

DESCRIPTOR = Path("/usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json")
ERR_OPERATION_INVALID, FROM_QEMU = 55, 10

UEFI_XML = """<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os firmware='efi'>
    <type arch='x86_64' machine='q35'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <clock offset='utc'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='hpet' present='no'/>
  </clock>
  <pm>
    <suspend-to-mem enabled='no'/>
    <suspend-to-disk enabled='no'/>
  </pm>
  <devices>
    <emulator>%s</emulator>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def descriptor_files(path=DESCRIPTOR):
    d = json.loads(path.read_text())
    return d["mapping"]["executable"]["filename"], d["mapping"]["nvram-template"]["filename"]


@pytest.mark.skipif(not DESCRIPTOR.exists(), reason="ovmf (scripts/deps.sh) not installed")
def test_uefi_guest_runs_on_its_own_nvram(host):
    code, template = descriptor_files()
    dom = host.conn.defineXML(UEFI_XML % ("uefi", QEMU))
    nvram = host.qemu_lib / "nvram" / "uefi_VARS.fd"
    # As libvirt 9.0 keeps it: the choice is made at start, not at define.
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "<os firmware='efi'>" in inactive
    assert "<loader" not in inactive and "<nvram" not in inactive
    assert not nvram.exists()

    dom.create()
    assert dom.state()[0] == RUNNING
    assert nvram.read_bytes() == Path(template).read_bytes()
    live = dom.XMLDesc(0)
    assert "<os>" in live  # libvirt drops firmware='efi' from the live XML once resolved
    assert "<loader readonly='yes' secure='yes' type='pflash'>%s</loader>" % code in live
    assert "<nvram template='%s'>%s</nvram>" % (template, nvram) in live
    assert "<smm state='on'/>" in live
    (cmdline,) = qemu_processes(host.root).values()
    assert '"filename":"%s"' % code in cmdline
    assert "pflash0=libvirt-pflash0-format,pflash1=libvirt-pflash1-format" in cmdline
    assert "smm=on" in cmdline and "driver=cfi.pflash01,property=secure,value=on" in cmdline
    assert "-rtc base=utc,driftfix=slew -global kvm-pit.lost_tick_policy=delay -no-hpet" \
        in cmdline
    assert "-global ICH9-LPC.disable_s3=1 -global ICH9-LPC.disable_s4=1" in cmdline
    # The guest's variables survive a restart: the template is not copied again.
    nvram.write_bytes(b"guest variables" + nvram.read_bytes()[15:])
    dom.destroy()
    assert dom.state()[0] == SHUTOFF
    dom.create()
    assert nvram.read_bytes().startswith(b"guest variables")
    dom.destroy()
    host.assert_clean()

    # libvirt's rule: an NVRAM file blocks a plain undefine; --keep-nvram keeps it and
    # --nvram removes it.
    with pytest.raises(libvirt.libvirtError) as exc:
        dom.undefine()
    e = exc.value
    assert (e.get_error_code(), e.get_error_domain(), e.get_error_message()) == (
        ERR_OPERATION_INVALID, FROM_QEMU,
        "Requested operation is not valid: cannot undefine domain with nvram")
    assert host.conn.lookupByName("uefi").isPersistent() == 1
    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM)
    assert nvram.exists()
    dom = host.conn.defineXML(UEFI_XML % ("uefi", QEMU))
    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    assert not nvram.exists()
    assert "uefi" not in host.conn.listDefinedDomains()


@pytest.mark.skipif(not DESCRIPTOR.exists(), reason="ovmf (scripts/deps.sh) not installed")
def test_uefi_without_secure_boot(host):
    # <firmware><feature enabled='no' name='secure-boot'/>: libvirtd picks 60-edk2-x86_64.json
    # (no SMM, no secure pflash), as `virsh domxml-to-native` shows.
    code, template = descriptor_files(DESCRIPTOR.with_name("60-edk2-x86_64.json"))
    xml = (UEFI_XML % ("plain", QEMU)).replace(
        "</type>", "</type><firmware><feature enabled='no' name='secure-boot'/></firmware>")
    dom = host.conn.defineXML(xml)
    assert "<feature enabled='no' name='secure-boot'/>" in dom.XMLDesc(
        libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.create()
    live = dom.XMLDesc(0)
    assert "<loader readonly='yes' secure='no' type='pflash'>%s</loader>" % code in live
    assert "<firmware>" not in live and "<smm" not in live
    (cmdline,) = qemu_processes(host.root).values()
    assert "cfi.pflash01" not in cmdline and "smm=on" not in cmdline
    dom.destroy()
    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    assert not (host.qemu_lib / "nvram" / "plain_VARS.fd").exists()
    host.assert_clean()


# ---------------------------------------------------------------- on_crash coredump-*

STOPPED_CRASHED, BOOTED, PANICKED, ADDED, STOPPED_DESTROYED = (
    "STOPPED/CRASHED", "STARTED/BOOTED", "CRASHED/PANICKED", "DEFINED/ADDED",
    "STOPPED/DESTROYED")


def dumps(host, name):
    d = host.qemu_lib / "dump"
    return sorted(d.glob(name + "-*")) if d.exists() else []


def test_panic_on_crash_coredump_destroy(host):
    dom = host.define("pan", "panic=300", on_crash="coredump-destroy")
    dom.create()
    host.events.expect("pan", [ADDED, BOOTED, PANICKED, STOPPED_CRASHED])
    assert dom.state() == [SHUTOFF, 3]  # SHUTOFF/CRASHED
    # libvirt's auto_dump_path file: ID-NAME-YYYY-MM-DD-HH:MM:SS, an ELF core of the guest.
    (dump,) = dumps(host, "*-pan")
    assert len(dump.name) == len("1-pan-2026-01-01-00:00:00")
    assert dump.read_bytes()[:4] == b"\x7fELF"
    assert dump.stat().st_size > 32 * 1024 * 1024
    host.assert_clean()


def test_panic_on_crash_coredump_restart(host):
    dom = host.define("pan", "panic=1500", on_crash="coredump-restart")
    dom.create()
    host.events.expect("pan", [ADDED, BOOTED, PANICKED, STOPPED_CRASHED, BOOTED], settle=0.1)
    assert dom.state()[0] == RUNNING
    assert len(dumps(host, "*-pan")) == 1
    dom.destroy()
    host.events.expect("pan", [ADDED, BOOTED, PANICKED, STOPPED_CRASHED, BOOTED,
                               STOPPED_DESTROYED])
    host.assert_clean()


# ---------------------------------------------------------------- on_reboot destroy

def test_guest_reset_with_on_reboot_destroy_shuts_down(host):
    # libvirt 9.0 asks QEMU (QMP set-action reboot=shutdown) to turn the guest's reset into
    # a shutdown, which <on_poweroff>destroy</on_poweroff> ends: no REBOOT event.
    xml = host.xml("rd", "reset=300").replace(
        "</devices>", "</devices><on_reboot>destroy</on_reboot>")
    dom = host.conn.defineXML(xml)
    assert "<on_reboot>destroy</on_reboot>" in dom.XMLDesc(0)
    dom.create()
    host.events.expect("rd", [ADDED, BOOTED, "SHUTDOWN/GUEST", "STOPPED/SHUTDOWN"])
    assert dom.state() == [SHUTOFF, 1]  # SHUTOFF/SHUTDOWN
    host.assert_clean()


# ---------------------------------------------------------------- QEMU as libvirt-qemu

from test_qemu_security import make_host  # noqa: E402,F401 (the fixture)


@pytest.mark.skipif(not DESCRIPTOR.exists(), reason="ovmf (scripts/deps.sh) not installed")
def test_nvram_and_crash_dump_with_unprivileged_qemu(make_host):
    # With the default user, QEMU writes the guest's NVRAM and its crash dump as
    # libvirt-qemu: the NVRAM is given to it while the guest runs (as libvirt's DAC driver
    # does), the dump file made for it and taken back once written.
    import pwd
    qemu_uid = pwd.getpwnam("libvirt-qemu").pw_uid
    h = make_host(qemu_as_root=False)
    dom = h.conn.defineXML(UEFI_XML % ("uefiu", QEMU))
    nvram = h.qemu_lib / "nvram" / "uefiu_VARS.fd"
    dom.create()
    assert dom.state()[0] == RUNNING
    assert nvram.stat().st_uid == qemu_uid
    dom.destroy()
    assert (nvram.stat().st_uid, nvram.stat().st_gid) == (0, 0)
    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)

    pan = h.define("panu", "panic=300", on_crash="coredump-destroy")
    pan.create()
    h.events.expect("panu", [ADDED, BOOTED, PANICKED, STOPPED_CRASHED])
    (dump,) = dumps(h, "*-panu")
    assert dump.read_bytes()[:4] == b"\x7fELF"
    assert (dump.stat().st_uid, dump.stat().st_mode & 0o777) == (0, 0o600)
    h.assert_clean()
