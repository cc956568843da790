"""hostile.py: what the hostile-input cases share.

A Target is one daemon (or the proxy in front of virtqemud) under a test's root,
with the URI name its CONNECT_OPEN takes and the type GET_TYPE answers. After every
hostile case the catalogue checks the same things: the daemon process is alive and a
fresh, well-behaved client is served at once (AUTH_LIST, CONNECT_OPEN, GET_TYPE,
GET_VERSION). Sanitizer reports and exit statuses are checked at teardown by the
`daemons` fixture (../e2e/conftest.py).
"""

import os
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import rawrpc
from rawrpc import Client

# How long a well-behaved client may wait for each of its replies while a hostile
# one is around. Generous for the sanitizer build on a shared 2-core machine, but far
# below any timeout a hostile client could make the daemon wait out.
SERVED_WITHIN = 2.0

ERR_XML_ERROR = 27
ERR_XML_DETAIL = 35
ERR_NO_DOMAIN = 42
FROM_XML = 5

PROC_DOMAIN_CREATE = 9
PROC_DOMAIN_DESTROY = 12
PROC_DOMAIN_LOOKUP_BY_NAME = 23
PROC_DOMAIN_GET_INFO = 16
PROC_CONNECT_SET_IDENTITY = 419
PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE = 318


@dataclass
class Target:
    label: str
    sock: Path
    open_name: str
    type_name: str
    processes: list = field(default_factory=list)  # Daemon objects that must stay alive
    # The second host call of served(), which returns an unsigned hyper: the hypervisor's
    # version, or the library's where the driver has no hypervisor (virtnodedevd).
    version_proc: int = rawrpc.PROC_CONNECT_GET_VERSION
    # Whose procedures it serves: "domain", "secret" or "nodedev" (targets.py).
    family: str = "domain"

    def check_alive(self):
        for d in self.processes:
            assert d.alive(), "%s died:\n%s" % (d.label, d.stderr_tail())

    def client(self, timeout=10.0):
        return Client(str(self.sock), timeout=timeout)

    def opened(self, timeout=10.0):
        return self.client(timeout).open(self.open_name)


def served(target, timeout=SERVED_WITHIN):
    """A fresh client gets through the handshake and two host calls, each reply within
    timeout seconds; the time it took."""
    t0 = time.monotonic()
    with target.client(timeout=timeout) as c:
        assert c.auth_list() == [0]
        c.connect_open(target.open_name)
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == target.type_name
        u = c.call(target.version_proc)
        u.uhyper()
        u.done()
    return time.monotonic() - t0


def assert_still_serving(target):
    target.check_alive()
    served(target)
    target.check_alive()


def check_rpc_error(err, code, domain, message):
    """An ordinary libvirt error (libvirt-wire-facts.md section 1): full message, level
    2, str1 the template ("%s" for RPC errors), str2 the detail, int1 = int2 = -1."""
    assert (err.code, err.domain, err.message) == (code, domain, message), err
    assert err.level == rawrpc.LEVEL_ERROR
    assert err.dom is None and err.net is None
    assert (err.int1, err.int2) == (-1, -1)


def files_under(root):
    """Every file and directory under root, as paths relative to it (sockets and logs
    too: none may appear or vanish because of a name)."""
    out = set()
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def signed(v):
    return struct.unpack(">i", struct.pack(">I", v & 0xFFFFFFFF))[0]


def nonnull_domain(name, uuid=b"\0" * 16, domid=-1):
    return rawrpc.string(name) + rawrpc.opaque_fixed(uuid, 16) + rawrpc.i32(domid)


def drain_until_closed(sock, timeout):
    """Read and discard everything until EOF; (closed, bytes read)."""
    import select

    deadline = time.monotonic() + timeout
    total = 0
    sock.setblocking(False)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, total
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True, total
        if not chunk:
            return True, total
        total += len(chunk)
