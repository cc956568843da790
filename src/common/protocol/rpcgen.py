#!/usr/bin/env python3
"""rpcgen.py MODE INPUT.x OUTPUT: run rpcgen (-h or -c) on a private copy of the .x file
beside the output, so the generated code includes its header by a relative name (never a
source path), concurrent runs never share files, and an old output is replaced."""

import os
import shutil
import subprocess
import sys
import tempfile


def main():
    mode, src, out = sys.argv[1:4]
    out = os.path.abspath(out)
    outdir = os.path.dirname(out)
    with tempfile.TemporaryDirectory(dir=outdir, prefix=".rpcgen-") as tmp:
        base = os.path.basename(src)
        shutil.copyfile(src, os.path.join(tmp, base))
        produced = os.path.join(tmp, os.path.basename(out))
        subprocess.run(["rpcgen", "-" + mode, "-o", os.path.basename(out), base], cwd=tmp,
                       check=True)
        os.replace(produced, out)


if __name__ == "__main__":
    main()
