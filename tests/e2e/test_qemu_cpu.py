"""test_qemu_cpu.py: what the golden argv tests cannot show about the CPU and memory part of a
guest: that QEMU 7.2 runs the options libvirt 9.0 writes (a CPU model with features, a
topology with dies, vCPUs not all online, the pc.ram backend in memfd with share=, iothread
objects), that libvirt's define-time CPU defaults show in dumpxml, that each guest runs in
a cgroup of its own with its tuning (per-thread cgroups and CPU affinity included). Real TCG guests (Guest A,
guests.py)."""

import hashlib
import os
from pathlib import Path

import pytest

from guests import libvirt, qemu_processes


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


def test_live_memory_aligned(host):
    """As libvirt's live XML: guest RAM aligned to 1 MiB, all of it current without a
    balloon, and a custom CPU model's fallback 'forbid' (libvirt sets it at start: the model
    runs as named); the persistent definition keeps what was written."""
    xml = host.xml("cpu8").replace("<memory unit='MiB'>32</memory>",
                                   "<memory unit='KiB'>32001</memory>"
                                   "<currentMemory unit='KiB'>30001</currentMemory>")
    xml = xml.replace("<features>", "<cpu mode='custom' match='exact'>"
                      "<model fallback='allow'>qemu64</model></cpu><features>")
    dom = host.conn.defineXML(xml)
    host.start_ready(dom)
    live = dom.XMLDesc(0)
    assert "<memory unit='KiB'>32768</memory>" in live, live
    assert "<currentMemory unit='KiB'>32768</currentMemory>" in live, live
    assert "<model fallback='forbid'>qemu64</model>" in live, live
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "<memory unit='KiB'>32001</memory>" in inactive
    assert "<currentMemory unit='KiB'>30001</currentMemory>" in inactive
    assert "<model fallback='allow'>qemu64</model>" in inactive, inactive
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


def test_cputune_bandwidth_in_thread_cgroups(host):
    """<cputune> period/quota: as libvirt (cgroup v1), every QEMU thread goes to the guest's
    "emulator" cgroup with emulator_period/quota, each vCPU thread to "vcpuN" with
    period/quota; all of it goes at stop."""
    tuning = ("<cputune><period>100000</period><quota>50000</quota>"
              "<emulator_period>200000</emulator_period></cputune>")
    dom = host.conn.defineXML(host.xml("cpu7").replace("<vcpu>1</vcpu>",
                                                       tuning + "<vcpu>2</vcpu>"))
    host.start_ready(dom)
    [pid] = qemu_processes(host.root)
    guest = cgroup_dir(pid, "cpu").parent
    if guest.name != "cpu7.libvirt-qemu":
        guest = guest.parent
    assert guest.name == "cpu7.libvirt-qemu", guest
    for n in (0, 1):
        vcpu = guest / ("vcpu%d" % n)
        assert (vcpu / "cpu.cfs_period_us").read_text().strip() == "100000"
        assert (vcpu / "cpu.cfs_quota_us").read_text().strip() == "50000"
        tids = (vcpu / "tasks").read_text().split()
        assert len(tids) == 1, tids
        assert (Path("/proc/%d/task/%s/comm" % (pid, tids[0])).read_text().strip()
                == "CPU %d/TCG" % n)
    assert (guest / "emulator" / "cpu.cfs_period_us").read_text().strip() == "200000"
    assert str(pid) in (guest / "emulator" / "tasks").read_text().split()
    dom.destroy()
    host.assert_clean()
    assert not guest.exists()
    dom.undefine()
