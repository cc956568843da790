#!/usr/bin/python3
"""standin_qemu.py: a stand-in for qemu-system-x86_64, run by virtqemud as a guest's
<emulator> (tests list it in allowed_emulators; guests.py copies it into each test's root).

A word of its -append value (the domain's <cmdline>) says what it does:
- print-exit: prints a few lines on stderr, as QEMU does when it refuses to start, and
  exits 1;
- exit-holding-monitor: serves QMP on the monitor socket virtqemud passes (fd=N in
  -chardev socket,id=charmonitor,...), answers qmp_capabilities, and at the next command
  exits at once while a child of its own keeps the monitor connection open for 2 s:
  virtqemud sees the exit while the monitor has not ended, in the middle of a start.
"""

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


def main():
    words = option("-append").split()
    if "print-exit" in words:
        print_exit()
    elif "exit-holding-monitor" in words:
        exit_holding_monitor()
    else:
        raise SystemExit("standin: nothing to do (-append %r)" % option("-append"))


if __name__ == "__main__":
    main()
