#!/usr/bin/env python3
"""check_layer_links.py NM LAYER=USED,USED... ... -- LAYER=LIBRARY ...: no layer's library
refers to a symbol that only a layer it does not use defines. TAP output.

check_layers.py follows the includes; this follows the links, which can go up without
any include doing so (a generated table naming a function of a layer above, declared in
the generated file itself). The table is src/common/meson.build's (layer_specs); a layer
may name more than one library (LAYER=LIB given twice)."""

import subprocess
import sys

import tap
from check_layers import parse_table


def symbols(nm, library, undefined):
    """The global symbols LIBRARY defines, or (undefined) refers to without defining."""
    flag = "--undefined-only" if undefined else "--defined-only"
    out = subprocess.run([nm, "-g", flag, library], check=True, capture_output=True,
                         text=True).stdout
    return {line.split()[-1] for line in out.splitlines()
            if line.strip() and not line.endswith(":")}


def check(nm, table, libraries):
    """Text lines, one per reference from a layer to a layer it does not use."""
    owner = {}
    for layer, libs in libraries.items():
        for lib in libs:
            for sym in symbols(nm, lib, False):
                owner.setdefault(sym, layer)
    problems = []
    for layer, libs in libraries.items():
        wanted = set()
        for lib in libs:
            wanted |= symbols(nm, lib, True)
        for sym in sorted(wanted):
            there = owner.get(sym)
            if there and there != layer and there not in table[layer]:
                problems.append("%s refers to %s, defined in %s (%s uses only: %s)" % (
                    layer, sym, there, layer, ", ".join(sorted(table[layer])) or "nothing"))
    return problems


def main():
    nm = sys.argv[1]
    split = sys.argv.index("--")
    table = parse_table(sys.argv[2:split])
    libraries = {}
    for spec in sys.argv[split + 1:]:
        layer, _, lib = spec.partition("=")
        libraries.setdefault(layer, []).append(lib)
    missing = sorted(set(table) - set(libraries))
    problems = check(nm, table, libraries)
    return tap.report([
        ("every layer's library is given", not missing, ["no library: " + m for m in missing]),
        ("%d libraries refer to no layer they do not use"
         % sum(len(v) for v in libraries.values()), not problems, problems),
    ])


if __name__ == "__main__":
    sys.exit(main())
