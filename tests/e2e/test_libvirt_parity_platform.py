"""test_libvirt_parity_platform.py: the platform XML (features, clock and timers, pm,
sysinfo, genid, the <os> extras, lifecycle actions, firmware autoselection) defined on
Debian's libvirtd 9.0.0 and on our virtqemud in the same run, compared canonicalised as
test_libvirt_parity.py compares (its reference daemon and allowed differences: the
defaults other parts of issue 17 add).

Slow, like test_libvirt_parity.py.
"""

import uuid

import pytest

from guests import uri_for
from test_libvirt_parity import NOT_YET_DEFAULTS, QEMU, check, define_both

pytestmark = pytest.mark.slow

PLATFORM_XML = """<domain type='kvm'>
  <name>%(name)s</name>
  <uuid>%(uuid)s</uuid>
  <genid>a7c0f0aa-1111-4222-8333-944445555666</genid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <sysinfo type='smbios'>
    <bios><entry name='vendor'>Ven,dor &amp; co</entry><entry name='date'>01/02/2023</entry></bios>
    <system><entry name='manufacturer'>OpenStack Foundation</entry>
      <entry name='uuid'>%(uuid)s</entry><entry name='family'>Virtual Machine</entry></system>
    <baseBoard><entry name='product'>B</entry></baseBoard>
    <chassis><entry name='asset'>A-1</entry></chassis>
    <oemStrings><entry>key=value</entry><entry>x,y</entry></oemStrings>
  </sysinfo>
  <os firmware='efi'>
    <type arch='x86_64' machine='%(machine)s'>hvm</type>
    <firmware><feature enabled='no' name='enrolled-keys'/></firmware>
    <boot dev='cdrom'/>
    <boot dev='hd'/>
    <bootmenu enable='yes' timeout='3000'/>
    <smbios mode='sysinfo'/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <hyperv>
      <relaxed state='on'/>
      <vapic state='on'/>
      <spinlocks state='on' retries='8191'/>
      <vpindex state='on'/>
      <synic state='on'/>
      <stimer state='on'/>
      <frequencies state='on'/>
    </hyperv>
    <kvm><hidden state='on'/></kvm>
    <pvspinlock/>
    <vmport state='off'/>
    <smm state='on'/>
    <ioapic driver='kvm'/>
    <vmcoreinfo/>
  </features>
  <clock offset='localtime' adjustment='3600'>
    <timer name='rtc' tickpolicy='catchup' track='guest'/>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='hpet' present='no'/>
    <timer name='hypervclock' present='yes'/>
  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>coredump-restart</on_crash>
  <pm>
    <suspend-to-mem enabled='no'/>
    <suspend-to-disk enabled='yes'/>
  </pm>
  <devices><emulator>%(qemu)s</emulator></devices>
</domain>
"""


@pytest.mark.parametrize("machine", ["q35"])
def test_platform_xml(ref, daemons, tmp_path, machine):
    d = daemons.start()
    xml = PLATFORM_XML % {"name": "svparity-platform", "uuid": uuid.uuid4(), "qemu": QEMU,
                          "machine": machine}
    ours, theirs = define_both(ref, uri_for(d.sock), xml, tmp_path)
    check(ours, theirs, NOT_YET_DEFAULTS)
