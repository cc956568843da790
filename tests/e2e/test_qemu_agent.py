"""test_qemu_agent.py: the QEMU guest agent in the Linux test guest (linuxguest.py).

The guest is booted with the word sv.ga and the qemu-ga channel (a unix channel without a
path: libvirt's automatic socket, QEMU listening on it). Its qemu-ga (Debian's, copied with
its libraries into the guest) answers on the channel socket: the guest-sync-delimited
handshake libvirt uses, guest-ping, guest-get-time close to the host's clock, and
guest-shutdown powers the guest off through the guest's /sbin/shutdown.
"""

import json
import re
import socket
import time
import uuid

import pytest

import linuxguest
from guests import RUNNING, SHUTOFF

pytestmark = pytest.mark.slow

AGENT = "org.qemu.guest_agent.0"
AGENT_CHANNEL = ("<controller type='virtio-serial'/><channel type='unix'>"
                 "<target type='virtio' name='%s'/></channel>" % AGENT)
TIMEOUT = linuxguest.BOOT_TIMEOUT


class AgentSocket:
    """The test's own client of the agent channel socket (newline-delimited JSON)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.buf = b""

    def send(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    def reply(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("agent socket closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line.lstrip(b"\xff"))

    def sync(self):
        """guest-sync-delimited with a random id: the agent answers 0xff then the id (a
        freshly started agent may need a second try while it opens the port)."""
        ident = int.from_bytes(uuid.uuid4().bytes[:4], "little")
        self.send({"execute": "guest-sync-delimited", "arguments": {"id": ident}})
        while True:
            r = self.reply()
            if r.get("return") == ident:
                return

    def close(self):
        self.sock.close()


def agent_socket_path(dom):
    m = re.search(r"<channel type='unix'>\s*<source mode='bind' path='([^']+)'/>",
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


def test_guest_agent_answers_on_the_channel(host, guest):
    dom, con = boot_with_agent(host, guest, "svga-raw")
    assert dom.state()[0] == RUNNING
    agent = AgentSocket(agent_socket_path(dom))
    try:
        agent.sync()
        agent.send({"execute": "guest-ping"})
        assert agent.reply() == {"return": {}}
        agent.send({"execute": "guest-get-time"})
        ns = agent.reply()["return"]
        assert abs(ns / 1e9 - time.time()) < 60, ns  # the guest's RTC comes from the host
        agent.send({"execute": "guest-shutdown", "arguments": {"mode": "powerdown"}})
        host.events.wait_event("svga-raw", "STOPPED/SHUTDOWN", timeout=TIMEOUT)
    finally:
        agent.close()
    assert "POWER: agent shutdown -P" in con.data.decode(errors="replace")
    assert dom.state()[0] == SHUTOFF
    dom.undefine()
