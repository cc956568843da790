#!/usr/bin/python3
"""standin_qemu.py: a stand-in for qemu-system-x86_64, run by virtqemud as a guest's
<emulator> (tests list it in allowed_emulators; guests.py copies it into each test's root).

A word of its -append value (the domain's <cmdline>) says what it does:
- print-exit: prints a few lines on stderr, as QEMU does when it refuses to start, and
  exits 1;
- exit-holding-monitor: serves QMP on the monitor socket virtqemud passes (fd=N in
  -chardev socket,id=charmonitor,...), answers qmp_capabilities, and at the next command
  exits at once while a child of its own keeps the monitor connection open for 2 s:
  virtqemud sees the exit while the monitor has not ended, in the middle of a start;
- record-qmp=PATH: writes to PATH what each fd named in its -netdev options is
  (/proc/self/fd/N), then serves QMP as QEMU does for a start (every command answered,
  query-chardev with no chardev) and appends each command it gets, one JSON line each,
  until virtqemud ends it.
"""

import json
import os
import socket
import sys
import time


def option(name):
    """The value after option name in our argv, or ""."""
    argv = sys.argv
    for i, a in enumerate(argv[:-1]):
        if a == name:
            return argv[i + 1]
    return ""


def monitor_fd():
    """The listening socket virtqemud passed: fd=N of the -chardev with id=charmonitor."""
    for i, a in enumerate(sys.argv[:-1]):
        if a == "-chardev" and "id=charmonitor" in sys.argv[i + 1]:
            for part in sys.argv[i + 1].split(","):
                if part.startswith("fd="):
                    return int(part[3:])
    raise SystemExit("standin: no monitor fd")


def print_exit():
    sys.stderr.write("standin: starting\n")
    sys.stderr.write("standin: warning: nothing to emulate\n")
    sys.stderr.write("standin: error: cannot start, the machine is on fire\n")
    sys.stderr.flush()
    sys.exit(1)


def exit_holding_monitor():
    listener = socket.socket(fileno=monitor_fd())
    conn, _ = listener.accept()
    conn.sendall(b'{"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}}, '
                 b'"capabilities": []}}\r\n')
    f = conn.makefile("rb")
    commands = 0
    while True:
        line = f.readline()
        if not line:
            sys.exit(0)
        commands += 1
        if commands == 1:
            conn.sendall(b'{"return": {}, "id": 0}\r\n')
            continue
        # The next command (query-chardev): go, but leave the connection open behind.
        if os.fork() == 0:
            time.sleep(2)
            os._exit(0)
        os._exit(0)


def netdev_fds():
    """The fds the -netdev options name, as "fd N: TARGET" lines."""
    lines = []
    for i, a in enumerate(sys.argv[:-1]):
        if a != "-netdev" or not sys.argv[i + 1].startswith("{"):
            continue
        opts = json.loads(sys.argv[i + 1])
        for key in ("fd", "fds", "vhostfd", "vhostfds"):
            for n in opts.get(key, "").split(":") if key in opts else []:
                try:
                    target = os.readlink("/proc/self/fd/%s" % n)
                except OSError as e:
                    target = "not open (%s)" % e.strerror
                lines.append("%s %s: %s" % (opts["id"], key, target))
    return lines


def record_qmp(path):
    with open(path, "w") as out:
        out.write("".join(line + "\n" for line in netdev_fds()))
    listener = socket.socket(fileno=monitor_fd())
    conn, _ = listener.accept()
    conn.sendall(b'{"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0}}, '
                 b'"capabilities": []}}\r\n')
    f = conn.makefile("rb")
    while True:
        line = f.readline()
        if not line:
            sys.exit(0)
        cmd = json.loads(line)
        with open(path, "a") as out:
            out.write(json.dumps(cmd, sort_keys=True) + "\n")
        ret = [] if cmd.get("execute") == "query-chardev" else {}
        reply = {"return": ret}
        if "id" in cmd:
            reply["id"] = cmd["id"]
        conn.sendall(json.dumps(reply).encode() + b"\r\n")


def main():
    words = option("-append").split()
    for w in words:
        if w.startswith("record-qmp="):
            record_qmp(w[len("record-qmp="):])
    if "print-exit" in words:
        print_exit()
    elif "exit-holding-monitor" in words:
        exit_holding_monitor()
    else:
        raise SystemExit("standin: nothing to do (-append %r)" % option("-append"))


if __name__ == "__main__":
    main()
