"""eventreg.py: the answers of an object family's event registration calls
(CONNECT_<FAMILY>_EVENT_REGISTER_ANY / DEREGISTER_ANY) on a raw connection, in a form two
daemons' answers compare by: errors as (code, domain, message with the callback id
replaced by N), callback ids relative to the first one (a daemon's count depends on what
registered before)."""

import re

import rawrpc
from rawrpc import i32, u32


def registration_answers(sock, uri, register, deregister, objects):
    """Open uri on sock; register event ids out of range, then every object, then each of
    `objects` (encoded remote_nonnull_<object>s, present or not on the daemon), then every
    object and the first object again (refused as registered already); deregister the
    first id twice and an id never given."""
    def err(call, *args):
        try:
            call(*args)
        except rawrpc.RpcFailed as e:
            return e.err.code, e.err.domain, \
                re.sub(r"-?\d+ not registered", "N not registered", e.err.message)
        return "ok"

    with rawrpc.Client(str(sock)) as c:
        c.open(uri)
        out = [err(c.call, register, i32(n) + u32(0)) for n in (-1, 2, 1 << 30)]
        first = c.call(register, i32(0) + u32(0)).i32()
        ids = [c.call(register, i32(1) + u32(1) + o).i32() - first for o in objects]
        out += [ids, err(c.call, register, i32(0) + u32(0)),
                err(c.call, register, i32(1) + u32(1) + objects[0]), err(c.call, deregister, i32(first)), err(c.call, deregister, i32(first)),
                err(c.call, deregister, i32(-7))]
    return out
