#!/usr/bin/env python3
"""gen_domain_schema.py: the table of XML libvirt's domain schema knows, as C.

    gen_domain_schema.py SCHEMA.rng --output OUT.c [--depfile OUT.d]

SCHEMA.rng is read with the files it includes (libvirt's domain.rng as Debian's libvirt0
installs it, in the build), and never copied anywhere. For every element name, the table
lists the child elements and the attributes the schema allows under an element of that name
anywhere: a union over every definition of an element of that name in the grammar, its own
defines and its includes', whether <start> reaches them or not (so <cpu> knows the host CPU's
<arch> too, and the parser refuses it as unsupported rather than dropping it). The parser's
check (src/common/conf/domain_schema.c) wants exactly that: slightly generous, never short.
Only names without a namespace are listed; libvirt's namespaced extensions (qemu:commandline
...) are recognised by their namespace instead. Elements named by a wildcard (<anyName/>)
have no entry, and neither do children or attributes named by one, nor elements with
neither children nor attributes.

The output is sorted by name, so the C side can search it with bsearch(). With --depfile,
a Makefile-style list of every schema file read, so the build reruns the generator when the
installed schema changes.
"""

import argparse
import os
import sys
import xml.etree.ElementTree as ET

RNG_NS = "http://relaxng.org/ns/structure/1.0"

# Patterns whose content can hold elements or attributes; everything else (text, empty,
# notAllowed, data, value, param, except) names neither.
CONTAINERS = {"choice", "interleave", "group", "optional", "zeroOrMore", "oneOrMore", "mixed",
              "list", "div"}
LEAVES = {"text", "empty", "notAllowed", "data", "value", "param", "except"}


def local(node):
    tag = node.tag
    if not tag.startswith("{%s}" % RNG_NS):
        raise SystemExit("gen_domain_schema: unexpected element %s" % tag)
    return tag[len(RNG_NS) + 2:]


class Grammar:
    """The defines and start of one schema with its includes merged."""

    def __init__(self, path):
        self.files = []
        self.defines = {}  # name -> [(body node, inherited ns)]
        self.start = []  # [(node, ns)]
        self._load(path, frozenset())

    def _load(self, path, overridden):
        path = os.path.normpath(path)
        self.files.append(path)
        root = ET.parse(path).getroot()
        if local(root) != "grammar":
            raise SystemExit("gen_domain_schema: %s: root is not <grammar>" % path)
        self._grammar_content(root, os.path.dirname(path), root.get("ns", ""), overridden)

    def _grammar_content(self, node, base, ns, overridden):
        for child in node:
            if not isinstance(child.tag, str):  # comments
                continue
            kind = local(child)
            child_ns = child.get("ns", ns)
            if kind == "div":
                self._grammar_content(child, base, child_ns, overridden)
            elif kind == "include":
                self._include(child, base, child_ns, overridden)
            elif kind == "define":
                if child.get("name") not in overridden:
                    self.defines.setdefault(child.get("name"), []).append((child, child_ns))
            elif kind == "start":
                if "<start>" not in overridden:
                    self.start.append((child, child_ns))
            else:
                raise SystemExit("gen_domain_schema: <%s> in a grammar is not supported" % kind)

    def _include(self, node, base, ns, overridden):
        # Definitions inside <include> replace the included file's ones of the same name.
        mine = set()
        for child in node:
            if isinstance(child.tag, str) and local(child) == "define":
                mine.add(child.get("name"))
            elif isinstance(child.tag, str) and local(child) == "start":
                mine.add("<start>")
        self._load(os.path.join(base, node.get("href")), overridden | mine)
        self._grammar_content(node, base, ns, overridden)


def pattern_name(node):
    """The name of an <element> or <attribute>, or None for wildcards."""
    if node.get("name") is not None:
        return node.get("name").strip()
    for child in node:
        if not isinstance(child.tag, str):
            continue
        if local(child) == "name":
            return (child.text or "").strip()
        if local(child) in ("anyName", "nsName", "choice"):
            return None
    raise SystemExit("gen_domain_schema: <%s> without a name" % local(node))


def name_class_child(child):
    return local(child) in ("name", "anyName", "nsName")


class Collector:
    """The children and attributes of every element of a grammar, by element name."""

    def __init__(self, grammar):
        self.grammar = grammar
        self.children = {}  # element name -> set of child names
        self.attrs = {}  # element name -> set of attribute names

    def collect(self):
        todo = []
        for bodies in self.grammar.defines.values():
            for body, ns in bodies:
                self._find_elements(body, ns, todo)
        for node, ns in self.grammar.start:
            self._find_elements(node, ns, todo)
        for node, ns in todo:
            name = pattern_name(node)
            children, attrs = set(), set()
            self._content(node, ns, children, attrs, set())
            if name is None or ns:
                continue
            self.children.setdefault(name, set()).update(children)
            self.attrs.setdefault(name, set()).update(attrs)

    def _find_elements(self, node, ns, todo):
        """Every <element> under `node`, with the namespace it inherits in the file."""
        for child in node:
            if not isinstance(child.tag, str):
                continue
            child_ns = child.get("ns", ns)
            if local(child) == "element":
                todo.append((child, child_ns))
            self._find_elements(child, child_ns, todo)

    def _content(self, node, ns, children, attrs, refs):
        """Add what `node`'s content names to `children` and `attrs`, following references
        but not entering nested elements. `refs` breaks reference cycles."""
        for child in node:
            if not isinstance(child.tag, str) or name_class_child(child):
                continue
            kind = local(child)
            child_ns = child.get("ns", ns)
            if kind == "element":
                name = pattern_name(child)
                if name is not None and not child_ns:
                    children.add(name)
            elif kind == "attribute":
                # An attribute is in no namespace unless it says so itself.
                name = pattern_name(child)
                if name is not None and not child.get("ns"):
                    attrs.add(name)
            elif kind == "ref":
                self._ref(child.get("name"), children, attrs, refs)
            elif kind in CONTAINERS:
                self._content(child, child_ns, children, attrs, refs)
            elif kind not in LEAVES:
                raise SystemExit("gen_domain_schema: <%s> is not supported" % kind)

    def _ref(self, name, children, attrs, refs):
        if name in refs:
            return
        if name not in self.grammar.defines:
            raise SystemExit("gen_domain_schema: reference to undefined %s" % name)
        refs.add(name)
        for body, ns in self.grammar.defines[name]:
            self._content(body, ns, children, attrs, refs)


def c_words(words, indent):
    """Space-separated words as C string literals, wrapped before column 100."""
    text = " ".join(sorted(words))
    if not text:
        return '""'
    lines = []
    while text:
        room = 100 - indent - 4
        if len(text) <= room:
            lines.append(text)
            break
        cut = text.rfind(" ", 0, room)
        lines.append(text[:cut + 1])
        text = text[cut + 1:]
    return ("\n" + " " * indent).join('"%s"' % line for line in lines)


def emit(collector, schema, out):
    # Elements with neither children nor attributes (text-only leaves) have no entry: nothing
    # is known under them, as under a name the table does not list.
    names = sorted(n for n in collector.children if collector.children[n] or collector.attrs[n])
    out.write("/* %s: generated by gen_domain_schema.py from %s and the files it\n"
              " * includes; do not edit. For each element name: the children and attributes the\n"
              " * schema allows under it, space-separated. */\n"
              % (os.path.basename(out.name), os.path.basename(schema)))
    out.write('#include "conf/domain_schema.h"\n\n')
    out.write("const SvSchemaElement sv_domain_schema_known[] = {\n")
    for name in names:
        out.write('    {"%s",\n     %s,\n     %s},\n'
                  % (name, c_words(collector.children[name], 5),
                     c_words(collector.attrs[name], 5)))
    out.write("};\n\n")
    out.write("const gsize sv_domain_schema_known_len = G_N_ELEMENTS(sv_domain_schema_known);\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("schema")
    parser.add_argument("--output", required=True)
    parser.add_argument("--depfile")
    args = parser.parse_args()
    grammar = Grammar(args.schema)
    collector = Collector(grammar)
    collector.collect()
    if not collector.children:
        raise SystemExit("gen_domain_schema: %s defines no element" % args.schema)
    with open(args.output, "w") as out:
        emit(collector, args.schema, out)
    if args.depfile:
        with open(args.depfile, "w") as dep:
            files = " ".join(f.replace(" ", "\\ ") for f in sorted(set(grammar.files)))
            dep.write("%s: %s\n" % (args.output, files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
