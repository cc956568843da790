"""attacker.py SOCKET COUNT SECONDS: many connections to a read-only socket, each sending
descriptors and half frames, run as an unprivileged user by test_exhaustion.py.

Each of COUNT connections starts with one of the patterns below, then, round after
round for SECONDS, sends one more byte with three descriptors attached; a connection the
daemon closes is made again. Then it prints "stopped" with its counts and keeps its
connections, idle, until its standard input closes. It only uses its own pipes as
descriptors, and only the socket it is given.
"""

import os
import resource
import socket
import struct
import sys
import time

REMOTE_PROGRAM = 0x20008086
CALL, CALL_WITH_FDS = 0, 4
PROC_AUTH_LIST, PROC_CONNECT_GET_TYPE = 66, 3


def frame(proc, mtype=CALL, payload=b"", length=None):
    body = struct.pack(">6I", REMOTE_PROGRAM, 1, proc, mtype, 0, 0) + payload
    return struct.pack(">I", length if length is not None else 4 + len(body)) + body


def send(s, data, fds):
    s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("%di" % len(fds),
                                                                          *fds))] if fds else [])


def pattern(i, s, fds):
    """The opening of connection i."""
    kind = i % 5
    if kind == 0:  # half a frame, four descriptors on it
        send(s, frame(PROC_CONNECT_GET_TYPE)[:10], fds[:4])
    elif kind == 1:  # a whole AUTH_LIST with three descriptors
        send(s, frame(PROC_AUTH_LIST), fds[:3])
    elif kind == 2:  # CALL_WITH_FDS framing: two descriptors, each with its 0x00 byte
        send(s, frame(PROC_CONNECT_GET_TYPE, CALL_WITH_FDS, struct.pack(">I", 2)), [])
        send(s, b"\0", fds[:1])
        send(s, b"\0", fds[1:2])
    elif kind == 3:  # a length word promising 32 MiB, then a few bytes
        send(s, frame(PROC_AUTH_LIST, length=32 * 1024 * 1024 + 4)[:12], [])
    else:  # descriptors with one byte, no frame at all
        send(s, b"\0", fds[:4])


def connect(path, i, fds):
    """Connection i, opened; a connection the daemon already closed (its framing broken,
    or over a limit) is returned all the same: the next send notices."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    deadline = time.monotonic() + 10.0
    while True:
        try:
            s.connect(path)
            break
        except BlockingIOError:  # the listen backlog is full: the daemon catches up
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    try:
        pattern(i, s, fds)
    except (BlockingIOError, BrokenPipeError, ConnectionResetError):
        pass
    return s


def main():
    path, count, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count + 256)), hard))
    pipes = [fd for _ in range(4) for fd in os.pipe()]
    conns = []
    made = errors = 0
    for i in range(count):
        conns.append(connect(path, i, pipes))
        made += 1
    print("connected %d" % made, flush=True)
    end = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < end:
        rounds += 1
        for i, s in enumerate(conns):
            try:
                send(s, b"\0", pipes[:3])
            except BlockingIOError:
                pass
            except OSError:
                errors += 1
                s.close()
                try:
                    conns[i] = connect(path, i, pipes)
                    made += 1
                except OSError:
                    conns[i] = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        time.sleep(0.05)
    print("stopped connections=%d rounds=%d closed-by-daemon=%d" % (made, rounds, errors),
          flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
