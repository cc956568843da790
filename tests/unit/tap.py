"""tap.py: the TAP report the check_*.py scripts print for meson's tap protocol."""


def report(checks):
    """Print checks, (what, ok, detail) tuples where detail is a string or a list of lines
    shown under a failed check; return the exit status (1 when any failed)."""
    print("1..%d" % len(checks))
    status = 0
    for i, (what, ok, detail) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
        if ok:
            continue
        status = 1
        lines = detail.splitlines() if isinstance(detail, str) else detail
        for line in lines:
            print("# " + line)
    return status
