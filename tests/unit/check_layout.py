#!/usr/bin/env python3
"""check_layout.py GEN XFILE EXPECTED: the wire layout generated from XFILE must equal
the checked-in EXPECTED byte for byte; a difference is a wire ABI change. TAP output."""

import difflib
import subprocess
import sys


def main():
    gen, xfile, expected = sys.argv[1:4]
    got = subprocess.run([sys.executable, gen, xfile, "--prefix", "x", "--layout", "-"],
                         check=True, capture_output=True, text=True).stdout
    with open(expected) as f:
        want = f.read()
    print("1..1")
    if got == want:
        print("ok 1 - wire layout of %s matches %s" % (xfile, expected))
        return 0
    print("not ok 1 - wire layout of %s differs from %s" % (xfile, expected))
    for line in difflib.unified_diff(want.splitlines(), got.splitlines(), "expected", "generated",
                                     lineterm=""):
        print("# " + line)
    return 1


if __name__ == "__main__":
    sys.exit(main())
