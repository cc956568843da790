"""migpair.py: two of our virtqemuds on this machine as two migration "hosts" for the
migration phases' own tests (test_migrate_offline.py, test_qemu_migration.py): each under its
own sub-root of the test's root with a host_uuid of its own (libvirt refuses a migration
between equal host UUIDs), a guests.Host (connection, events, the guest kernel). The fleet
of network namespaces the issue's end-to-end tests use is hosts.py's."""

import subprocess
import uuid
import xml.etree.ElementTree as ET

from guests import Host, daemon_config, uri_for
from svdaemon import Daemon

import libvirt


def start_daemon(daemons, root, label, host_uuid=None):
    """A virtqemud under root/label (transfer: added to daemons, checked at teardown)."""
    sub = root / label
    sub.mkdir()
    host_uuid = host_uuid or str(uuid.uuid4())
    d = Daemon(sub, config=daemon_config(sub, 'host_uuid = "%s"\n' % host_uuid), label=label)
    with daemons.lock:
        daemons.daemons.append(d)
    d.start()
    d.host_uuid = host_uuid
    d.uri = uri_for(d.sock)
    return d


def start_host(daemons, root, label):
    d = start_daemon(daemons, root, label)
    h = Host(d, d.root)
    h.host_uuid = d.host_uuid
    return h


def virsh(uri, *args, check=True, timeout=180):
    r = subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("virsh -c %s %s: %s" % (uri, " ".join(args), r.stderr))
    return r


def facts(uri, name):
    """(state, persistent, uuid, name, memory KiB) of name on uri, or None."""
    conn = libvirt.open(uri)
    try:
        try:
            dom = conn.lookupByName(name)
        except libvirt.libvirtError:
            return None
        root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        return (dom.state()[0], dom.isPersistent(), dom.UUIDString(), root.findtext("name"),
                root.findtext("memory"))
    finally:
        conn.close()
