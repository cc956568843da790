#!/usr/bin/env python3
"""layer_roots.py OUT SRC LAYER=USED,USED... ...: make OUT/LAYER an include root that holds a
link SRC/L for LAYER itself and for each layer L it uses, and nothing else.

Every file of src/common includes a header as "layer/file.h". Meson compiles each layer's
library against its own root (src/common/meson.build), so an include of a layer above it,
or of one it does not use, names no file and the build fails."""

import os
import shutil
import sys


def make_root(root, src, names):
    os.makedirs(root, exist_ok=True)
    for entry in os.listdir(root):
        path = os.path.join(root, entry)
        if entry not in names or not os.path.islink(path):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
    for name in names:
        path = os.path.join(root, name)
        target = os.path.join(src, name)
        if os.path.islink(path) and os.readlink(path) == target:
            continue
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)


def main():
    out, src = sys.argv[1:3]
    for spec in sys.argv[3:]:
        layer, _, used = spec.partition("=")
        make_root(os.path.join(out, layer), src, [layer] + [u for u in used.split(",") if u])


if __name__ == "__main__":
    main()
