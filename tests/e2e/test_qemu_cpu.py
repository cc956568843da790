"""test_qemu_cpu.py: what the golden argv tests cannot show about the CPU and memory part of a
guest: that QEMU 7.2 runs the options libvirt 9.0 writes (a CPU model with features, a
topology with dies, vCPUs not all online, the pc.ram backend in memfd with share=, iothread
objects), that libvirt's define-time CPU defaults show in dumpxml, that each guest runs in
a cgroup of its own with its tuning, and that tuning the QEMU driver does not apply yet is
refused at start rather than dropped. Real TCG guests (Guest A,
guests.py)."""

import hashlib
import os
from pathlib import Path

import pytest

from guests import libvirt, qemu_processes

ERR_CONFIG_UNSUPPORTED, FROM_DOMAIN = 67, 20

CPU_PART = (
    "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"
    "<vcpu current='1'>2</vcpu><iothreads>2</iothreads>")
CPU_ELEMENT = (
    "<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model>"
    "<topology sockets='1' dies='1' cores='2' threads='1'/>"
    "<feature policy='require' name='sse4.2'/><feature policy='disable' name='svm'/></cpu>")


def cpu_guest_xml(host, name):
    xml = host.xml(name).replace("<vcpu>1</vcpu>", CPU_PART)
    return xml.replace("<features>", CPU_ELEMENT + "<features>")


def test_cpu_memory_options_run_under_qemu(host):
    dom = host.conn.defineXML(cpu_guest_xml(host, "cpu1"))
    host.start_ready(dom)
    [cmd] = qemu_processes(host.root).values()
    for part in ("-cpu qemu64,sse4.2=on,svm=off",
                 "-smp 1,maxcpus=2,sockets=1,dies=1,cores=2,threads=1",
                 '"qom-type":"memory-backend-memfd","id":"pc.ram","share":true',
                 '{"qom-type":"iothread","id":"iothread2"}',
                 "memory-backend=pc.ram", "-overcommit mem-lock=off"):
        assert part in cmd, (part, cmd)
    assert "<vcpu placement='static' current='1'>2</vcpu>" in dom.XMLDesc(0)
    assert dom.info()[3] == 1  # virDomainGetInfo counts the online vCPUs, as libvirt
    dom.destroy()
    dom.undefine()
    host.assert_clean()


def test_default_cpu_at_define(host):
    """libvirt's QEMU driver writes the machine's default CPU into a definition without one,
    with checks off (qemuDomainDefSetDefaultCPU)."""
    dom = host.define("cpu2")
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert ("<cpu mode='custom' match='exact' check='none'>\n"
            "    <model fallback='forbid'>qemu64</model>\n  </cpu>") in xml, xml
    dom.undefine()


def cgroup_dir(pid, controller):
    """The v1 directory of pid's cgroup for controller (this host's cgroups are v1)."""
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if controller in ctrls.split(","):
                return Path("/sys/fs/cgroup") / controller / path.lstrip("/")
    pytest.skip("no v1 %s hierarchy here" % controller)


def test_guest_cgroup_and_tuning(host):
    """QEMU runs in a cgroup of its own, PARENT/NAME.libvirt-qemu (the parent derived from
    the daemon's --root), with <cputune> shares and <memtune> applied; it goes at stop."""
    tuning = ("<memtune><hard_limit unit='MiB'>512</hard_limit>"
              "<soft_limit unit='MiB'>256</soft_limit></memtune>"
              "<cputune><shares>1234</shares></cputune>")
    dom = host.conn.defineXML(host.xml("cpu4").replace("<vcpu>", tuning + "<vcpu>"))
    host.start_ready(dom)
    [pid] = qemu_processes(host.root)
    mem = cgroup_dir(pid, "memory")
    cpu = cgroup_dir(pid, "cpu")
    parent = "splitvirt-" + hashlib.sha256(str(host.root).encode()).hexdigest()[:12]
    assert mem.name == "cpu4.libvirt-qemu" and mem.parent.name == parent, mem
    assert (mem / "memory.limit_in_bytes").read_text().strip() == str(512 << 20)
    assert (mem / "memory.soft_limit_in_bytes").read_text().strip() == str(256 << 20)
    assert (cpu / "cpu.shares").read_text().strip() == "1234"
    dom.destroy()
    host.assert_clean()
    assert not mem.exists() and not mem.parent.exists() and not cpu.exists()
    dom.undefine()


def test_vcpu_cpuset_is_qemu_affinity(host):
    """<vcpu cpuset> alone: QEMU and every thread it starts run on those host CPUs."""
    dom = host.conn.defineXML(host.xml("cpu5").replace("<vcpu>", "<vcpu cpuset='0'>"))
    host.start_ready(dom)
    [pid] = qemu_processes(host.root)
    for task in Path("/proc/%d/task" % pid).iterdir():
        status = (task / "status").read_text()
        assert "Cpus_allowed_list:\t0\n" in status, status
    dom.destroy()
    dom.undefine()
    host.assert_clean()


def thread_affinity(pid):
    """{thread name: allowed CPU list} of a QEMU run with debug-threads=on."""
    out = {}
    for task in Path("/proc/%d/task" % pid).iterdir():
        fields = dict(line.split(":\t", 1) for line in (task / "status").read_text().splitlines()
                      if ":\t" in line)
        out.setdefault(fields["Name"], set()).add(fields["Cpus_allowed_list"])
    return out


def test_vcpupin_and_emulatorpin(host):
    """<vcpupin> for vCPU 1 and <emulatorpin>: QEMU's threads, as it names them, get the
    affinity libvirt gives them; vCPU 0 without a pin gets the guest's <vcpu cpuset>."""
    if os.cpu_count() < 2:
        pytest.skip("needs two host CPUs")
    tuning = ("<iothreads>1</iothreads><cputune><vcpupin vcpu='1' cpuset='1'/>"
              "<emulatorpin cpuset='1'/></cputune>")
    xml = host.xml("cpu6").replace("<vcpu>1</vcpu>", tuning + "<vcpu cpuset='0'>2</vcpu>")
    dom = host.conn.defineXML(xml)
    host.start_ready(dom)
    [pid] = qemu_processes(host.root)
    threads = thread_affinity(pid)
    assert threads["CPU 0/TCG"] == {"0"}, threads
    assert threads["CPU 1/TCG"] == {"1"}, threads
    assert threads["IO iothread1"] == {"0"}, threads
    assert threads["qemu-system-x86"] == {"1"}, threads
    dom.destroy()
    dom.undefine()
    host.assert_clean()


@pytest.mark.parametrize("tuning, what", [
    ("<cputune><period>100000</period><quota>50000</quota></cputune>", "<period>/<quota>"),
    ("<cputune><emulator_period>100000</emulator_period></cputune>", "<emulator_period>"),
])
def test_tuning_not_applied_is_refused_at_start(host, tuning, what):
    """Defined as libvirt defines it; at start, refused with a clear error rather than run
    without it (a difference from libvirt, which applies it to the guest's per-vCPU cgroups
    and threads)."""
    dom = host.conn.defineXML(host.xml("cpu3").replace("<vcpu>", tuning + "<vcpu>"))
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    err = e.value
    assert (err.get_error_code(), err.get_error_domain()) == (ERR_CONFIG_UNSUPPORTED,
                                                              FROM_DOMAIN)
    assert what in err.get_error_message()
    assert dom.isActive() == 0
    dom.undefine()
    host.assert_clean()
