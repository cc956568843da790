"""calls.py: libvirt calls on a small defined domain, as the metadata, memtune and resize
tests make them on our daemon and on Debian's libvirtd.

answer() turns a call's value or libvirt error into something two daemons' answers compare
by; tiny_xml() is the definition the calls run on; on_both() runs one sequence of calls on
libvirtd and on ours, each on a fresh definition undefined after; Tunables records the TUNABLE
events a connection receives; guest_a_on_both() defines Guest A on both.
"""

import contextlib
import os
import subprocess
import threading

import pytest

from guests import uri_for, virsh_env

libvirt = pytest.importorskip("libvirt")

TINY_SIZES = "<memory unit='KiB'>65536</memory><vcpu>1</vcpu>"


def tiny_xml(name, sizes=TINY_SIZES):
    """A QEMU domain the tests define and never start: its name and size elements only."""
    return ("<domain type='qemu'><name>%s</name>%s<os><type arch='x86_64'>hvm</type></os>"
            "</domain>" % (name, sizes))


def answer(fn, *args):
    """fn(*args)'s answer: ("OK", its value), or libvirt's error as (code, domain, message)."""
    try:
        return ("OK", fn(*args))
    except libvirt.libvirtError as e:
        return (e.get_error_code(), e.get_error_domain(), e.get_error_message())


def on_both(ref, daemon, xml, sequence):
    """sequence(dom) for xml defined on Debian's libvirtd (ref) and on ours (daemon): the
    two results, libvirtd's first."""
    results = []
    for uri in (ref.uri, uri_for(daemon.sock)):
        conn = libvirt.open(uri)
        dom = conn.defineXML(xml)
        try:
            results.append(sequence(dom))
        finally:
            dom.undefine()
            conn.close()
    return results


def virsh(uri, *args):
    """virsh -q -c uri ARGS in the C locale: (exit status, stdout, stderr)."""
    r = subprocess.run(["virsh", "-q", "-c", uri] + list(args), capture_output=True,
                       text=True, env=virsh_env(), timeout=60)
    return r.returncode, r.stdout, r.stderr


class Tunables:
    """The TUNABLE events conn receives, as (domain name, parameters), in arrival order; only
    dom's when given (a shared libvirtd has other clients' guests)."""

    def __init__(self, conn, dom=None):
        self.cond = threading.Condition()
        self.got = []
        self.name = dom.name() if dom else None
        self.conn = conn
        self.id = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_TUNABLE,
                                              self._cb, None)

    def _cb(self, conn, dom, params, opaque):
        if self.name and dom.name() != self.name:
            return
        with self.cond:
            self.got.append((dom.name(), params))
            self.cond.notify_all()

    def wait(self, n, timeout=10):
        with self.cond:
            self.cond.wait_for(lambda: len(self.got) >= n, timeout)
            return list(self.got)

    def close(self):
        self.conn.domainEventDeregisterAny(self.id)


@contextlib.contextmanager
def guest_a_on_both(host, rconn, tmp_path, name, devices="", **xml_kw):
    """Guest A (guests.Host.xml, with xml_kw: its cmdline, on_crash, ...) as `name`, with
    more devices' XML, defined (not started) on
    host's virtqemud and on rconn (Debian's libvirtd, whose QEMU reads the kernel copied into
    tmp_path): yields the two domains, ours first; destroys and undefines both after."""
    os.chmod(tmp_path, 0o755)
    kernel = tmp_path / "svguest.elf"
    if not kernel.exists():
        kernel.write_bytes(host.kernel.read_bytes())
        os.chmod(kernel, 0o644)
    xml = host.xml(name, **xml_kw)
    if devices:
        xml = xml.replace("<devices>", "<devices>" + devices, 1)
    doms = [host.conn.defineXML(xml)]
    try:
        doms.append(rconn.defineXML(xml.replace(str(host.kernel), str(kernel))))
        yield doms
    finally:
        for d in doms:
            if d.isActive():
                d.destroy()
            d.undefine()
