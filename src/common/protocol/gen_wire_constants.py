#!/usr/bin/env python3
"""gen_wire_constants.py TABLE OUTPUT: make the C header of libvirt's wire numbers from
wire_constants.tsv (its header comment describes the format): one typedef'd enum per group,
in the table's order, named after libvirt's type (virDomainState -> SvDomainState)."""

import functools
import operator
import re
import sys


class TableError(Exception):
    pass


def upper_snake(camel):
    """virDomainEventPMSuspendedDetailType -> DOMAIN_EVENT_PM_SUSPENDED_DETAIL_TYPE."""
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", camel[3:])
    return "_".join(w.upper() for w in words)


def parse(path):
    """The table as (groups, flag_groups): groups is a list of (group, rows) in order, rows a
    list of (name, value, libvirt_name, alias_of) with value an int (the alias's value for an
    alias). Raises TableError naming the line on a malformed one."""
    groups = []
    by_group = {}
    flag_groups = set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            where = "%s:%d" % (path, lineno)
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith("%flags "):
                flag_groups.add(line.split()[1])
                continue
            cols = line.split("\t")
            if len(cols) != 4:
                raise TableError("%s: expected 4 tab-separated columns, got %d"
                                 % (where, len(cols)))
            group, name, value, vir_name = cols
            if not group.startswith("vir"):
                raise TableError("%s: group %r is not a libvirt type name" % (where, group))
            if group not in by_group:
                by_group[group] = []
                groups.append((group, by_group[group]))
            rows = by_group[group]
            alias = None
            if re.fullmatch(r"-?\d+", value):
                number = int(value)
            else:
                known = {r[0]: r[1] for r in rows}
                if value not in known:
                    raise TableError("%s: %s is not an earlier constant of %s"
                                     % (where, value, group))
                alias = value
                number = known[value]
            rows.append((name, number, vir_name, alias))
    for g in flag_groups:
        if g not in by_group:
            raise TableError("%s: %%flags %s names no group" % (path, g))
    return groups, flag_groups


def render(groups, flag_groups, table_name):
    out = ["/* sv_wire_constants.h: libvirt 9.0.0's numbers on the wire, generated from",
           " * %s by gen_wire_constants.py. Do not edit. */" % table_name,
           "#pragma once", ""]
    for group, rows in groups:
        # An enum ends with its _LAST sentinel, a set of flags with _ALL, every bit of it.
        if group in flag_groups:
            end = "SV_%s_ALL" % upper_snake(group)
            end_value = "0x%x" % functools.reduce(operator.or_, (r[1] for r in rows), 0)
        else:
            end = "SV_%s_LAST" % upper_snake(group)
            end_value = "%d" % (max(r[1] for r in rows) + 1)
        width = max(len(n) for n in [r[0] for r in rows] + [end])
        out.append("/* %s */" % group)
        out.append("typedef enum {")
        for name, value, vir_name, alias in rows:
            shown = alias if alias else str(value)
            out.append("    %s = %s, /* %s */" % (name.ljust(width), shown, vir_name))
        out.append("    %s = %s" % (end.ljust(width), end_value))
        out.append("} Sv%s;" % group[3:])
        out.append("")
    return "\n".join(out)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: gen_wire_constants.py TABLE OUTPUT\n")
        return 2
    table, output = sys.argv[1:]
    try:
        groups, flag_groups = parse(table)
    except TableError as e:
        sys.stderr.write("gen_wire_constants.py: %s\n" % e)
        return 1
    text = render(groups, flag_groups, table.rsplit("/", 1)[-1])
    with open(output, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
