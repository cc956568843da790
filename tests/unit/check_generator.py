#!/usr/bin/env python3
"""check_generator.py GEN DATADIR: gen_dispatch.py's output for DATADIR/sample.x must equal
the golden files beside it. SV_REGENERATE=1 rewrites them instead (review the diff). TAP."""

import difflib
import os
import subprocess
import sys
import tempfile


def main():
    gen, data = sys.argv[1:3]
    outs = ["sample_dispatch.h", "sample_dispatch.c", "sample.layout"]
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, o) for o in outs]
        subprocess.run([sys.executable, gen, os.path.join(data, "sample.x"), "--prefix", "sample",
                        "--program", "SAMPLE_PROGRAM", "--version", "SAMPLE_VERSION",
                        "--handlers", "SvSampleHandlers", "--xheader", "sample.h",
                        "--header", paths[0], "--source", paths[1], "--layout", paths[2]],
                       check=True)
        print("1..%d" % len(outs))
        status = 0
        for i, (name, path) in enumerate(zip(outs, paths), 1):
            with open(path) as f:
                got = f.read()
            golden = os.path.join(data, name)
            if os.environ.get("SV_REGENERATE"):
                with open(golden, "w") as f:
                    f.write(got)
            with open(golden) as f:
                want = f.read()
            if got == want:
                print("ok %d - %s" % (i, name))
            else:
                status = 1
                print("not ok %d - %s differs from its golden file" % (i, name))
                for line in difflib.unified_diff(want.splitlines(), got.splitlines(), lineterm=""):
                    print("# " + line)
    return status


if __name__ == "__main__":
    sys.exit(main())
