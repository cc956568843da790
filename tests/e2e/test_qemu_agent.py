"""test_qemu_agent.py: the QEMU guest agent in the Linux test guest (linuxguest.py).

The guest is booted with the word sv.ga and the qemu-ga channel (a unix channel without a
path: libvirt's automatic socket, QEMU listening on it); its qemu-ga (Debian's, copied with
its libraries into the guest) opens the port, and virtqemud connects to the socket.
"""

import json
import re
import time
import uuid

import libvirt_qemu
import pytest

import linuxguest
from calls import answer, virsh
from guests import RUNNING, SHUTOFF, libvirt

from test_qemu_program import AGENT_CHANNEL as AGENT_ONLY_CHANNEL
from test_qemu_program import NOT_CONFIGURED, NOT_CONNECTED, running

AGENT = "org.qemu.guest_agent.0"
AGENT_CHANNEL = ("<controller type='virtio-serial'/><channel type='unix'>"
                 "<target type='virtio' name='%s'/></channel>" % AGENT)
TIMEOUT = linuxguest.BOOT_TIMEOUT


def agent_events(host):
    """Register AGENT_LIFECYCLE on the host's event connection: its events join host.events
    as "AGENT state reason"."""
    def cb(conn, dom, state, reason, opaque):
        host.events._add(dom, "AGENT %d %d" % (state, reason))
    return host.events.conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, cb, None)


CONNECTED = "AGENT %d %d" % (libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED,
                             libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_CHANNEL)
DISCONNECTED = "AGENT %d %d" % (
    libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_DISCONNECTED,
    libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_CHANNEL)


def agent_state(dom):
    m = re.search(r"<target type='virtio' name='%s'(?: state='(\w+)')?/>" % AGENT,
                  dom.XMLDesc(0))
    assert m, dom.XMLDesc(0)
    return m.group(1)


def boot_with_agent(host, guest, name):
    disk = guest.copy_root(host.root / ("%s.qcow2" % name))
    xml = linuxguest.domain_xml(name, guest, disk, uuid=str(uuid.uuid4()), cmdline="sv.ga",
                                devices=AGENT_CHANNEL)
    dom = host.conn.defineXML(xml)
    con = linuxguest.start(host, dom)
    text = con.data.decode(errors="replace")
    assert re.search(r"AGENT: started on /dev/vport\dp\d", text), text
    return dom, con


@pytest.mark.slow
def test_guest_agent_connected_and_commands(host, guest):
    """The daemon connects to the agent once the guest's qemu-ga opens the port:
    AGENT_LIFECYCLE connected (reason channel), the live XML's channel state connected;
    qemu-agent-command answers the agent's whole reply (after the daemon's guest-sync
    handshake), an agent error as libvirt words it, libvirt's timeout error for an agent
    that stopped answering and a good answer once it runs again; guest-get-time is near the host's
    clock (also virsh domtime); virsh reboot --mode agent reboots the guest (its agent
    connects again) and virsh shutdown --mode agent powers it off, both through
    guest-shutdown and the guest's /sbin/shutdown. Before this change the command answered
    "QEMU guest agent is not connected" and --mode agent was an unsupported flag."""
    reg = agent_events(host)
    try:
        dom, con = boot_with_agent(host, guest, "svga-cmd")
        host.events.wait_event("svga-cmd", CONNECTED, timeout=TIMEOUT)
        assert agent_state(dom) == "connected"
        rc, out, err = virsh(host.uri, "qemu-agent-command", "svga-cmd",
                             '{"execute":"guest-ping"}')
        assert rc == 0 and out.strip() == '{"return":{}}', (out, err)
        out = libvirt_qemu.qemuAgentCommand(dom, '{"execute":"guest-get-time"}', -1, 0)
        ns = json.loads(out)["return"]
        assert abs(ns / 1e9 - time.time()) < 60, ns  # the guest's RTC comes from the host
        # virsh domtime: DOMAIN_GET_TIME through guest-get-time.
        # virsh domhostname: DOMAIN_GET_HOSTNAME through guest-get-host-name.
        con.stream.send(b"hostname svga-guest\n")
        time.sleep(1)
        assert dom.hostname(0) == "svga-guest"
        rc, out, err = virsh(host.uri, "domhostname", "svga-cmd")
        assert rc == 0 and out.strip() == "svga-guest", (out, err)
        t = dom.getTime()
        secs, nsecs = t["seconds"], t["nseconds"]
        assert abs(secs - time.time()) < 60 and 0 <= nsecs < 10**9, (secs, nsecs)
        rc, out, err = virsh(host.uri, "domtime", "svga-cmd")
        assert rc == 0 and abs(int(out.split(":")[1]) - time.time()) < 60, (out, err)
        assert answer(libvirt_qemu.qemuAgentCommand, dom, '{"execute":"guest-bogus"}', 5,
                      0) == (1, 10, "internal error: unable to execute QEMU agent command "
                             "'guest-bogus': The command guest-bogus has not been found")
        assert answer(libvirt_qemu.qemuAgentCommand, dom, '{"execute":"guest-ping"}', -3,
                      0) == (8, 10, "invalid argument: guest agent timeout '-3' is less "
                             "than the minimum '-2'")
        # Many commands at once: one at a time on the channel, each its own answer.
        outs = [libvirt_qemu.qemuAgentCommand(dom, '{"execute":"guest-info"}', 10, 0)
                for _ in range(5)]
        assert all(json.loads(o)["return"]["version"] for o in outs), outs
        # An agent that stops answering (SIGSTOP inside the guest): libvirt's timeout error
        # after the handshake's 5 s; once it runs again, its late replies to that handshake
        # and command are skipped and the next command gets its own answer.
        con.stream.send(b"kill -STOP $(pidof qemu-ga)\n")
        time.sleep(1)
        begin = time.monotonic()
        assert answer(libvirt_qemu.qemuAgentCommand, dom, '{"execute":"guest-info"}', 1,
                      0) == (86, 10, "Guest agent is not responding: Guest agent not "
                             "available for now")
        assert 4 <= time.monotonic() - begin < 30
        con.stream.send(b"kill -CONT $(pidof qemu-ga)\n")
        assert libvirt_qemu.qemuAgentCommand(dom, '{"execute":"guest-ping"}', 10, 0) == \
            '{"return":{}}'
        # virsh reboot --mode agent: guest-shutdown mode reboot; the guest comes back and
        # its agent connects again.
        rc, out, err = virsh(host.uri, "reboot", "--mode", "agent", "svga-cmd")
        assert rc == 0, (out, err)
        assert "POWER: agent shutdown -r" in con.data.decode(errors="replace")
        con.wait_for("READY", count=2, timeout=TIMEOUT)
        host.events.wait_for("svga-cmd", lambda got: got.count(CONNECTED) >= 2,
                             timeout=TIMEOUT)
        assert dom.state()[0] == RUNNING
        # virsh shutdown --mode agent: answered once QEMU's SHUTDOWN came, as libvirt's.
        rc, out, err = virsh(host.uri, "shutdown", "--mode", "agent", "svga-cmd")
        assert rc == 0, (out, err)
        host.events.wait_event("svga-cmd", "STOPPED/SHUTDOWN", timeout=TIMEOUT)
        assert "POWER: agent shutdown -P" in con.data.decode(errors="replace")
        assert "POWER: button pressed" not in con.data.decode(errors="replace")
        assert dom.state()[0] == SHUTOFF
        dom.undefine()
    finally:
        host.events.conn.domainEventDeregisterAny(reg)


LEASE, AGENT_SRC = (libvirt.VIR_DOMAIN_GET_HOSTNAME_LEASE,
                    libvirt.VIR_DOMAIN_GET_HOSTNAME_AGENT)


def check_hostname_without_agent(host, dom, no_agent):
    """DOMAIN_GET_HOSTNAME on a running guest without an agent, as Debian's libvirtd 9.0
    answered the same calls (a run by hand): the agent's error with no flag or AGENT; LEASE
    finds no lease (no guest here has an interface on a libvirt network); both flags, or an
    unknown one, refused first; read-only connections refused."""
    name = dom.name()
    assert answer(dom.hostname, 0) == no_agent
    assert answer(dom.hostname, AGENT_SRC) == no_agent
    assert answer(dom.hostname, LEASE) == (
        108, 10, "no hostname found: no hostname found for domain %s" % name)
    assert answer(dom.hostname, LEASE | AGENT_SRC) == (
        8, 10, "Flags 'VIR_DOMAIN_GET_HOSTNAME_LEASE' and 'VIR_DOMAIN_GET_HOSTNAME_AGENT' "
        "are mutually exclusive")
    assert answer(dom.hostname, 4) == (
        8, 10, "unsupported flags (0x4) in function qemuDomainGetHostname")
    ro = libvirt.openReadOnly(host.uri)
    try:
        assert answer(ro.lookupByName(name).hostname, 0) == (
            29, 20, "operation forbidden: read only access prevents virDomainGetHostname")
    finally:
        ro.close()


def test_hostname_of_a_defined_guest(host):
    dom = host.define("svga-def")
    assert answer(dom.hostname, 0) == (55, 20, "Requested operation is not valid: domain is "
                                       "not running")
    assert answer(dom.hostname, LEASE | AGENT_SRC)[0] == 8
    dom.undefine()


def test_agent_mode_without_an_agent(host):
    """Guest A never opens the agent's port: shutdown and reboot with the agent mode answer
    libvirt's not-connected error (not-configured without the channel); with the agent and
    ACPI modes both, the power button is used instead, as libvirt falls back. Before this
    change the agent mode was an unsupported flag."""
    agent_mode = libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT
    dom = running(host, "svga-none", AGENT_ONLY_CHANNEL)
    check_hostname_without_agent(host, dom, NOT_CONNECTED)
    assert answer(dom.shutdownFlags, agent_mode) == NOT_CONNECTED
    assert answer(dom.reboot, libvirt.VIR_DOMAIN_REBOOT_GUEST_AGENT) == NOT_CONNECTED
    assert answer(dom.shutdownFlags, 4) == (
        8, 10, "unsupported flags (0x4) in function qemuDomainShutdownFlags")
    assert dom.state()[0] == RUNNING
    assert answer(dom.shutdownFlags,
                  agent_mode | libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) == ("OK", 0)
    host.events.wait_event("svga-none", "STOPPED/SHUTDOWN")
    dom.undefine()
    dom = running(host, "svga-none2")
    check_hostname_without_agent(host, dom, NOT_CONFIGURED)
    assert answer(dom.shutdownFlags, agent_mode) == NOT_CONFIGURED
    rc, out, err = virsh(host.uri, "shutdown", "--mode", "agent", "svga-none2")
    assert rc != 0 and "QEMU guest agent is not configured" in err, (out, err)
    # No flag and no agent: the power button, as before.
    assert answer(dom.shutdownFlags, 0) == ("OK", 0)
    host.events.wait_event("svga-none2", "STOPPED/SHUTDOWN")
    dom.undefine()


@pytest.mark.slow
def test_agent_connected_again_after_a_daemon_restart(rhost, guest):
    """A daemon killed while the Linux test guest runs with its agent connected: the new
    daemon finds the channel open (query-chardev) and connects the agent, as libvirt's
    reconnect does, so qemu-agent-command answers at once. Before this change it answered
    "QEMU guest agent is not connected" until the guest reopened the port."""
    rhost.start_daemon()
    disk = guest.copy_root(rhost.root / "svga-rst.qcow2")
    dom = rhost.conn.defineXML(linuxguest.domain_xml(
        "svga-rst", guest, disk, uuid=str(uuid.uuid4()), cmdline="sv.ga",
        devices=AGENT_CHANNEL))
    dom.create()
    ping = '{"execute":"guest-ping"}'
    deadline = time.monotonic() + TIMEOUT
    while True:  # no console here: the agent's first answer says the guest is up
        got = answer(libvirt_qemu.qemuAgentCommand, dom, ping, 5, 0)
        if got == ("OK", '{"return":{}}') or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert got == ("OK", '{"return":{}}'), got
    rhost.kill_daemon()
    rhost.start_daemon()
    dom = rhost.conn.lookupByName("svga-rst")
    deadline = time.monotonic() + 10
    while True:  # the reconnect's query-chardev is under way just after the start
        got = answer(libvirt_qemu.qemuAgentCommand, dom, ping, 5, 0)
        if got != NOT_CONNECTED or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert got == ("OK", '{"return":{}}'), got
    assert agent_state(dom) == "connected"
    dom.destroy()
    dom.undefine()
