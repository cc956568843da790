"""rawrpc.py: a raw libvirt RPC client for end-to-end tests.

It speaks the wire format byte by byte (docs: libvirt-wire-facts.md, section 1)
so tests can send what stock clients never would and see exactly what comes back.

A frame is: u32 length (counting itself), six u32 header fields (prog, vers,
proc, type, serial, status), then the XDR payload. Everything is big-endian and
padded to 4 bytes.
"""

import errno
import select
import socket
import struct
import time
from dataclasses import dataclass

# Programs (section 2).
REMOTE_PROGRAM = 0x20008086
REMOTE_VERSION = 1
KEEPALIVE_PROGRAM = 0x6B656570
KEEPALIVE_VERSION = 1
KEEPALIVE_PING = 1
KEEPALIVE_PONG = 2

# Message types and status values.
CALL, REPLY, MESSAGE, STREAM = 0, 1, 2, 3
OK, ERROR, CONTINUE = 0, 1, 2

HEADER_SIZE = 24
FRAME_MIN = 4 + HEADER_SIZE
MESSAGE_MAX = 33554432  # VIR_NET_MESSAGE_MAX: header plus payload, without the length word

# Remote procedures used by the tests (section 3).
PROC_CONNECT_OPEN = 1
PROC_CONNECT_CLOSE = 2
PROC_CONNECT_GET_TYPE = 3
PROC_CONNECT_GET_VERSION = 4
PROC_NODE_GET_INFO = 6
PROC_CONNECT_GET_CAPABILITIES = 7
PROC_DOMAIN_DEFINE_XML = 11
PROC_DOMAIN_LOOKUP_BY_NAME = 23
PROC_CONNECT_NUM_OF_DOMAINS = 51
PROC_CONNECT_GET_HOSTNAME = 59
PROC_CONNECT_SUPPORTS_FEATURE = 60
PROC_AUTH_LIST = 66
PROC_NODE_GET_FREE_MEMORY = 102
PROC_CONNECT_DOMAIN_EVENT_REGISTER = 105
PROC_CONNECT_DOMAIN_EVENT_DEREGISTER = 106
PROC_CONNECT_GET_URI = 110
PROC_NODE_GET_SECURITY_MODEL = 122
PROC_CONNECT_IS_SECURE = 149
PROC_CONNECT_GET_LIB_VERSION = 157
PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY = 167
PROC_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY = 168
PROC_CONNECT_LIST_ALL_DOMAINS = 273
PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY = 316
PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY = 317
PROC_CONNECT_REGISTER_CLOSE_CALLBACK = 360
PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK = 361

# VIR_DRV_FEATURE_* values that matter here.
FEATURE_PROGRAM_KEEPALIVE = 10

# virErrorNumber / virErrorDomain values (section 4).
ERR_INTERNAL_ERROR = 1
ERR_NO_SUPPORT = 3
ERR_NO_CONNECT = 5
ERR_INVALID_ARG = 8
ERR_OPERATION_DENIED = 29
ERR_RPC = 39
FROM_NONE = 0
FROM_RPC = 7
FROM_DOMAIN = 20
LEVEL_ERROR = 2


# ---------------------------------------------------------------- XDR encoding

def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def i32(v):
    return struct.pack(">i", v)


def uhyper(v):
    return struct.pack(">Q", v)


def _pad(n):
    return b"\0" * ((4 - n % 4) % 4)


def string(s):
    """remote_nonnull_string: length, bytes, zero padding."""
    b = s.encode() if isinstance(s, str) else bytes(s)
    return u32(len(b)) + b + _pad(len(b))


def opt_string(s):
    """remote_string: flag 0 (absent) or flag 1 followed by the string."""
    return u32(0) if s is None else u32(1) + string(s)


def opaque_fixed(b, n):
    assert len(b) == n
    return bytes(b) + _pad(n)


class XdrDecodeError(Exception):
    pass


class Unpacker:
    """Reads XDR values from a payload; done() checks nothing is left over."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise XdrDecodeError("payload too short: need %d bytes at offset %d of %d"
                                 % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u32(self):
        return struct.unpack(">I", self._take(4))[0]

    def i32(self):
        return struct.unpack(">i", self._take(4))[0]

    def uhyper(self):
        return struct.unpack(">Q", self._take(8))[0]

    def hyper(self):
        return struct.unpack(">q", self._take(8))[0]

    def opaque_fixed(self, n):
        b = self._take(n)
        self._take((4 - n % 4) % 4)
        return b

    def string(self):
        n = self.u32()
        b = self._take(n)
        pad = self._take((4 - n % 4) % 4)
        if pad.strip(b"\0"):
            raise XdrDecodeError("non-zero string padding")
        return b.decode()

    def opt_string(self):
        flag = self.u32()
        if flag not in (0, 1):
            raise XdrDecodeError("bad optional flag %d" % flag)
        return self.string() if flag else None

    def char_array(self, count=None):
        """char x[N] (count given) or char x<N>: 4 bytes per character on the wire."""
        n = self.u32() if count is None else count
        return [self.i32() for _ in range(n)]

    def remaining(self):
        return len(self.data) - self.pos

    def done(self):
        if self.pos != len(self.data):
            raise XdrDecodeError("%d bytes left over in payload" % (len(self.data) - self.pos))


# ---------------------------------------------------------------- messages

@dataclass
class Message:
    prog: int
    vers: int
    proc: int
    type: int
    serial: int
    status: int
    payload: bytes

    @property
    def length(self):
        return FRAME_MIN + len(self.payload)

    def unpacker(self):
        return Unpacker(self.payload)


def encode_frame(prog, vers, proc, mtype, serial, status, payload=b"", length=None):
    """One frame; length overrides the length word (to send broken frames)."""
    if length is None:
        length = FRAME_MIN + len(payload)
    return struct.pack(">IIIiIII", length, prog, vers, proc, mtype, serial, status) + payload


def decode_header(b):
    prog, vers, proc, mtype, serial, status = struct.unpack(">IIiIII", b)
    return prog, vers, proc, mtype, serial, status


@dataclass
class RpcError:
    """virNetMessageError, field by field (section 1, "Error payload")."""
    code: int
    domain: int
    message: str
    level: int
    dom: object
    str1: str
    str2: str
    str3: str
    int1: int
    int2: int
    net: object

    @classmethod
    def decode(cls, payload):
        u = Unpacker(payload)
        code = u.i32()
        domain = u.i32()
        message = u.opt_string()
        level = u.i32()
        dom = None
        if u.u32():
            dom = (u.string(), u.opaque_fixed(16), u.i32())
        str1 = u.opt_string()
        str2 = u.opt_string()
        str3 = u.opt_string()
        int1 = u.i32()
        int2 = u.i32()
        net = None
        if u.u32():
            net = (u.string(), u.opaque_fixed(16))
        u.done()
        return cls(code, domain, message, level, dom, str1, str2, str3, int1, int2, net)


class ConnectionClosed(Exception):
    """The daemon closed the connection (EOF or reset)."""


class RpcFailed(Exception):
    def __init__(self, msg, err):
        super().__init__("%s (code %d, domain %d)" % (err.message, err.code, err.domain))
        self.msg = msg
        self.err = err


class Client:
    """One raw connection. Calls get serials 0, 1, 2, ... like stock clients."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        self.timeout = timeout
        self.serial = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self._buf = b""
        self.messages = []  # MESSAGE-type frames seen while waiting for replies

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- sending

    def send_raw(self, data):
        self.sock.sendall(data)

    def next_serial(self):
        s = self.serial
        self.serial += 1
        return s

    def send_call(self, proc, payload=b"", prog=REMOTE_PROGRAM, vers=REMOTE_VERSION,
                  serial=None, status=OK, mtype=CALL):
        if serial is None:
            serial = self.next_serial()
        self.send_raw(encode_frame(prog, vers, proc, mtype, serial, status, payload))
        return serial

    def send_keepalive(self, proc):
        self.send_raw(encode_frame(KEEPALIVE_PROGRAM, KEEPALIVE_VERSION, proc, MESSAGE, 0, OK))

    # -- receiving

    def _fill(self, n, deadline):
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no complete message within %.1f s" % self.timeout)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError as e:
                raise ConnectionClosed("connection reset") from e
            if not chunk:
                raise ConnectionClosed("end of file after %d buffered bytes" % len(self._buf))
            self._buf += chunk

    def recv_message(self, timeout=None):
        """The next whole frame from the daemon, checked for a sane length word."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._fill(4, deadline)
        (length,) = struct.unpack(">I", self._buf[:4])
        if length < FRAME_MIN or length - 4 > MESSAGE_MAX:
            raise AssertionError("daemon sent a frame with bad length word %d" % length)
        self._fill(length, deadline)
        frame, self._buf = self._buf[:length], self._buf[length:]
        hdr = decode_header(frame[4:FRAME_MIN])
        return Message(*hdr, payload=frame[FRAME_MIN:])

    def recv_reply(self, serial, timeout=None):
        """Wait for the REPLY with this serial; MESSAGEs met on the way are kept aside."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            m = self.recv_message(timeout=max(0.0, deadline - time.monotonic()))
            if m.type == MESSAGE:
                self.messages.append(m)
                continue
            if m.type != REPLY:
                raise AssertionError("expected a REPLY, got %r" % m)
            if m.serial != serial:
                raise AssertionError("reply serial %d, expected %d" % (m.serial, serial))
            return m

    def call_raw(self, proc, payload=b"", **kw):
        """Send one call and return its reply Message, whatever its status."""
        serial = self.send_call(proc, payload, **kw)
        return self.recv_reply(serial)

    def call(self, proc, payload=b"", **kw):
        """Send one call; return an Unpacker on the OK payload, raise RpcFailed on ERROR."""
        m = self.call_raw(proc, payload, **kw)
        if m.status == ERROR:
            raise RpcFailed(m, RpcError.decode(m.payload))
        if m.status != OK:
            raise AssertionError("reply status %d" % m.status)
        return m.unpacker()

    def call_error(self, proc, payload=b"", **kw):
        """Send one call that must fail; return (reply Message, RpcError)."""
        m = self.call_raw(proc, payload, **kw)
        if m.status != ERROR:
            raise AssertionError("expected an ERROR reply to proc %d, got status %d payload %r"
                                 % (proc, m.status, m.payload))
        return m, RpcError.decode(m.payload)

    def wait_closed(self, timeout):
        """True when the daemon closes the connection within timeout seconds.

        Any frames that arrive first are kept in self.messages."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return True
            except OSError as e:
                if e.errno in (errno.ECONNRESET, errno.EPIPE):
                    return True
                raise
            if not chunk:
                return True
            self._buf += chunk
            while len(self._buf) >= FRAME_MIN:
                (length,) = struct.unpack(">I", self._buf[:4])
                if len(self._buf) < length:
                    break
                frame, self._buf = self._buf[:length], self._buf[length:]
                self.messages.append(Message(*decode_header(frame[4:FRAME_MIN]),
                                             payload=frame[FRAME_MIN:]))

    # -- the handshake

    def auth_list(self):
        u = self.call(PROC_AUTH_LIST)
        n = u.u32()
        types = [u.i32() for _ in range(n)]
        u.done()
        return types

    def connect_open(self, name="qemu:///system", flags=0):
        u = self.call(PROC_CONNECT_OPEN, opt_string(name) + u32(flags))
        u.done()

    def open(self, name="qemu:///system", flags=0):
        """AUTH_LIST then CONNECT_OPEN, as stock clients do."""
        self.auth_list()
        self.connect_open(name, flags)
        return self

    def get_string(self, proc):
        u = self.call(proc)
        s = u.string()
        u.done()
        return s

    def supports_feature(self, feature):
        u = self.call(PROC_CONNECT_SUPPORTS_FEATURE, i32(feature))
        v = u.i32()
        u.done()
        return v
