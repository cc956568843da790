#!/usr/bin/env python3
"""rpcgen.py MODE INPUT.x OUTPUT: run rpcgen (-h or -c) beside the output so the
generated code includes its header by a relative name, never a source path."""

import os
import shutil
import subprocess
import sys


def main():
    mode, src, out = sys.argv[1:4]
    outdir = os.path.dirname(os.path.abspath(out)) or "."
    base = os.path.basename(src)
    local = os.path.join(outdir, base)
    if os.path.abspath(src) != local:
        shutil.copyfile(src, local)
    subprocess.run(["rpcgen", "-" + mode, "-o", os.path.basename(out), base], cwd=outdir,
                   check=True)


if __name__ == "__main__":
    main()
