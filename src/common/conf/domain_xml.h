/* domain_xml.h: reading domain XML safely (no entity is ever expanded or fetched), and the
 * small tree accessors the domain parser uses. Private to src/common/conf. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

/* Read a domain document. Refuses any DTD entity declaration or entity reference (nothing
 * is fetched, nothing expanded), reports malformed XML with libvirt's error text (the
 * offending line and a pointer under the column) and keeps libxml2's default depth and
 * size limits. Blank text between elements is dropped.
 * Returns (transfer full: xmlFreeDoc) the document, or NULL with `error` set. */
xmlDoc *sv_xml_read_domain(const char *xml, GError **error);
/* The same for a piece of XML a client sent, whose parse errors name it `url` (libvirt's
 * "(metadata_xml)"). */
xmlDoc *sv_xml_read_named(const char *xml, const char *url, GError **error);
/* The same with errors in libvirt's error domain `from` (SV_FROM_SECRET for a secret: the
 * domain of the file that parses it). */
xmlDoc *sv_xml_read_named_from(const char *xml, const char *url, int from, GError **error);

/* The same reading for text the daemon wrote itself (a stored <metadata>): NULL when it
 * does not read, without saying why. (transfer full: xmlFreeDoc) */
xmlDoc *sv_xml_read_fragment(const char *xml);

/* <metadata> (NULL: none) as libvirt keeps it: a standalone copy that declares the
 * namespaces its content borrowed, with only namespaced child elements, the first of each
 * namespace (virXMLNodeSanitizeNamespaces). NULL when node is NULL. (transfer full) */
char *sv_xml_metadata_copy(xmlNode *node);
/* A kept <metadata> written at indent 2 as libvirt's virXMLFormatMetadata writes it;
 * nothing for NULL. */
void sv_xml_append_metadata(GString *buf, const char *metadata);

/* `node` serialized as libvirt does, indented from `level`. (transfer full) */
char *sv_xml_node_dump(xmlDoc *doc, xmlNode *node, int level);

/* Whether `n` is the libvirt element `name`: libvirt's XPath matches only unprefixed
 * names. */
gboolean sv_xml_is(const xmlNode *n, const char *name);

/* The first child element of `parent` that sv_xml_is() `name`, or NULL. (transfer none) */
xmlNode *sv_xml_child(const xmlNode *parent, const char *name);

/* Attribute `name` (without namespace), NULL when absent. (transfer full) */
char *sv_xml_prop(const xmlNode *node, const char *name);

/* An element's text as XPath string() gives it, "" when empty. (transfer full) */
char *sv_xml_text_raw(const xmlNode *node);

/* An element's text, NULL when `node` is NULL or the text is empty, as libvirt's
 * virXPathString treats it. (transfer full) */
char *sv_xml_text(const xmlNode *node);

/* sv_xml_text() of the first child `name` of `parent`. (transfer full) */
char *sv_xml_child_text(const xmlNode *parent, const char *name);

/* Attribute `attr` of the first child `child` of `node`, NULL when absent or empty.
 * (transfer full) */
char *sv_xml_child_prop(const xmlNode *node, const char *child, const char *attr);

/* libvirt's virXMLProp errors (error domain XML): an attribute's value is not one of its
 * enum's, or a required attribute is missing. */
void sv_xml_error_invalid_attr(GError **error, const xmlNode *node, const char *attr,
                               const char *value);
void sv_xml_error_missing_attr(GError **error, const xmlNode *node, const char *attr);

/* ---- writing, as libvirt's virBuffer does -------------------------------------------------- */

/* `s` escaped for XML text (attr FALSE) or a single-quoted attribute value (attr TRUE), with
 * character references where libvirt writes a raw character a parser would not give back
 * (CR anywhere; TAB and LF in attributes), so that format(parse(x)) is a fixed point. */
void sv_xml_append_escaped(GString *buf, const char *s, gboolean attr);
/* " name='value'", nothing when value is NULL. */
void sv_xml_append_attr(GString *buf, const char *name, const char *value);
/* "<name>value</name>" on its own line at `indent` spaces, nothing when value is NULL. */
void sv_xml_append_text_elem(GString *buf, int indent, const char *name, const char *value);
