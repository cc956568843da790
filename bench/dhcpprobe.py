"""dhcpprobe.py: when does a network's dnsmasq first answer DNS and DHCP?  For bench/network.

Run inside the daemon's network namespace:  python3 dhcpprobe.py BRIDGE MAC ADDRESS
It makes a veth pair (svbp0, svbp1), prints "ready", then waits for BRIDGE to appear, puts
svbp0 on it and, every 5 ms until both have answered: sends a DHCPDISCOVER from svbp1 (MAC,
broadcast flag) and a DNS query (A of a name of the network's) to ADDRESS port 53 from
this namespace. Prints "dns T" at the first DNS reply and "offer T" at the first DHCPOFFER
for it, T the time.monotonic() of the arrival (the system's clock: the caller's own
time.monotonic() compares), removes the pair and exits.  Gives up after 30 s (exit 1).
"""

import os
import random
import select
import socket
import struct
import subprocess
import sys
import time

ETH_P_ALL = 0x0003
PEER, CLIENT = "svbp0", "svbp1"
INTERVAL = 0.005  # seconds between tries: the resolution of both figures


def ip(*args):
    subprocess.run(["ip", "link", *args], check=True)


def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def discover(mac, xid):
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128sI", 1, 1, 6, 0, xid, 0, 0x8000, b"", b"",
                        b"", b"", mac, b"", b"", 0x63825363) + bytes([53, 1, 1, 255])
    bootp += bytes(300 - len(bootp))
    udp = struct.pack("!HHHH", 68, 67, 8 + len(bootp), 0) + bootp
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP,
                      0, bytes(4), b"\xff" * 4)
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return b"\xff" * 6 + mac + b"\x08\x00" + hdr + udp


def is_offer(frame, xid):
    if len(frame) < 14 + 20 + 8 + 240 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return False
    udp = 14 + (frame[14] & 0x0F) * 4
    bootp = udp + 8
    return (struct.unpack("!H", frame[udp + 2:udp + 4])[0] == 68 and frame[bootp] == 2
            and struct.unpack("!I", frame[bootp + 4:bootp + 8])[0] == xid)


def dns_query(qid):
    name = b"".join(bytes([len(p)]) + p for p in b"svbench-probe.invalid".split(b".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)


def wait_bridge(bridge, deadline):
    while time.monotonic() < deadline:
        try:
            return socket.if_nametoindex(bridge)
        except OSError:
            time.sleep(0.001)
    sys.exit("dhcpprobe: no bridge %s" % bridge)


def probe(raw, dns, address, mac, deadline):
    xid, qid = random.getrandbits(32), random.getrandbits(16)
    packet, query = discover(mac, xid), dns_query(qid)
    seen = {}
    while time.monotonic() < deadline and len(seen) < 2:
        if "offer" not in seen:
            raw.send(packet)
        if "dns" not in seen:
            try:
                dns.sendto(query, (address, 53))
            except OSError:
                pass  # the address is not there yet
        sent = time.monotonic()
        while len(seen) < 2 and time.monotonic() - sent < INTERVAL:
            ready = select.select([raw, dns], [], [], INTERVAL)[0]
            if not ready:
                break
            now = time.monotonic()
            if raw in ready and is_offer(raw.recv(2048), xid):
                seen.setdefault("offer", now)
            if dns in ready:
                try:
                    reply = dns.recv(2048)
                except OSError:
                    continue  # ICMP port unreachable: dnsmasq not listening yet
                if reply[:2] == struct.pack("!H", qid):
                    seen.setdefault("dns", now)
    for what, t in seen.items():
        print("%s %.6f" % (what, t), flush=True)
    return 0 if len(seen) == 2 else 1


def main():
    bridge, mac, address = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", "")), sys.argv[3]
    ip("add", PEER, "type", "veth", "peer", "name", CLIENT)
    try:
        ip("set", CLIENT, "address", sys.argv[2], "up")
        raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        raw.bind((CLIENT, 0))
        dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        print("ready", flush=True)
        deadline = time.monotonic() + 30
        wait_bridge(bridge, deadline)
        ip("set", PEER, "master", bridge, "up")
        if probe(raw, dns, address, mac, deadline) != 0:
            print("dhcpprobe: no DNS reply or no DHCPOFFER within 30 s", file=sys.stderr)
            return 1
        return 0
    finally:
        subprocess.run(["ip", "link", "del", PEER], capture_output=True)


if __name__ == "__main__":
    sys.exit(main() if len(sys.argv) == 4 and os.geteuid() == 0 else
             "usage (root): dhcpprobe.py BRIDGE MAC ADDRESS")
