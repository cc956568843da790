/* domain_xml.c: reading domain XML safely, and the tree accessors the domain parser uses.
 *
 * Entity defences: the SAX hooks stop the parse at the first entity declaration or
 * reference, and the finished tree is searched again for any entity that got through. */
#include "conf/domain_xml.h"

#include <libxml/parser.h>

#include "util/error.h"

/* Where libvirt's error context for malformed XML stops: the offending source line is
 * copied into the message, and a document on one huge line must not make a huge error. */
#define ERROR_CONTEXT_MAX 65536

/* libxml2 made the structured-error argument const in 2.12. */
#if LIBXML_VERSION >= 21200
#define XML_ERROR_CONST const
#else
#define XML_ERROR_CONST
#endif

typedef struct {
    char *detail;       /* the first fatal error, formatted as libvirt does */
    gboolean forbidden; /* an entity declaration or reference was seen */
} ReadState;

/* libvirt's catchXMLError: "FILE:LINE: MSG" then the offending line and a pointer under
 * the error column, computed by the same walk so that positions match byte for byte. */
static char *
format_parse_error(xmlParserCtxt *ctxt, XML_ERROR_CONST xmlError *err)
{
    const xmlChar *base = ctxt->input->base;
    const xmlChar *pos = ctxt->input->cur;
    const xmlChar *cur = pos;
    g_autoptr(GString) line = g_string_new(NULL);
    g_autoptr(GString) pointer = g_string_new(NULL);
    gsize col;

    while (cur > base && (*cur == '\n' || *cur == '\r'))
        cur--;
    while (cur > base && *cur != '\n' && *cur != '\r')
        cur--;
    if (*cur == '\n' || *cur == '\r')
        cur++;
    col = (gsize)(pos - cur);
    while (*cur && *cur != '\n' && *cur != '\r' && line->len < ERROR_CONTEXT_MAX)
        g_string_append_c(line, (char)*cur++);
    for (gsize n = 0; n < col && n < line->len; n++)
        g_string_append_c(pointer, line->str[n] == '\t' ? '\t' : '-');
    g_string_append_c(pointer, '^');
    /* libvirt prints its empty buffer as "(null)". */
    if (err->file) {
        return g_strdup_printf("%s:%d: %s%s\n%s", err->file, err->line, err->message,
                               line->len ? line->str : "(null)", pointer->str);
    }
    return g_strdup_printf("at line %d: %s%s\n%s", err->line, err->message,
                           line->len ? line->str : "(null)", pointer->str);
}

static void
on_structured_error(void *user_data, XML_ERROR_CONST xmlError *err)
{
    xmlParserCtxt *ctxt = user_data;
    ReadState *st = ctxt->_private;

    /* Like libvirt, only the first fatal error counts; warnings and namespace errors do not
     * stop the parse. */
    if (!st || st->detail || !err || err->level != XML_ERR_FATAL || !err->message ||
        !ctxt->input || !ctxt->input->cur || !ctxt->input->base)
        return;
    st->detail = format_parse_error(ctxt, err);
}

/* Stopping at the declaration means no entity is ever expanded or fetched, so entity
 * bombs and external entities cost nothing. */
static void
forbid(void *user_data)
{
    xmlParserCtxt *ctxt = user_data;
    ReadState *st = ctxt->_private;

    if (st)
        st->forbidden = TRUE;
    xmlStopParser(ctxt);
}

static void
on_entity_decl(void *user_data, const xmlChar *name G_GNUC_UNUSED, int type G_GNUC_UNUSED,
               const xmlChar *public_id G_GNUC_UNUSED, const xmlChar *system_id G_GNUC_UNUSED,
               xmlChar *content G_GNUC_UNUSED)
{
    forbid(user_data);
}

static void
on_unparsed_entity_decl(void *user_data, const xmlChar *name G_GNUC_UNUSED,
                        const xmlChar *public_id G_GNUC_UNUSED,
                        const xmlChar *system_id G_GNUC_UNUSED,
                        const xmlChar *notation G_GNUC_UNUSED)
{
    forbid(user_data);
}

static void
on_reference(void *user_data, const xmlChar *name G_GNUC_UNUSED)
{
    forbid(user_data);
}

/* A second line of defence behind the SAX hooks: no entity may survive into the tree. */
static gboolean
has_entities(const xmlNode *node)
{
    for (; node; node = node->next) {
        if (node->type == XML_ENTITY_REF_NODE || node->type == XML_ENTITY_DECL)
            return TRUE;
        if (node->type == XML_ELEMENT_NODE && has_entities(node->children))
            return TRUE;
    }
    return FALSE;
}

static gboolean
doc_has_entities(const xmlDoc *doc)
{
    const xmlDtd *dtds[] = {doc->intSubset, doc->extSubset};

    for (guint i = 0; i < G_N_ELEMENTS(dtds); i++) {
        if (dtds[i] && (dtds[i]->entities || dtds[i]->pentities))
            return TRUE;
    }
    return has_entities(doc->children);
}

static void
xml_init(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        xmlInitParser();
        g_once_init_leave(&done, 1);
    }
}

/* Parse `text` safely: no network (NONET), no DTD loading, no entity substitution (no
 * NOENT), libxml2's default depth and size limits (no HUGE). Blank text between elements
 * is dropped so that <metadata> re-indents the way libvirt's output shows it.
 * Returns the document, or NULL with `st` saying why. */
static xmlDoc *
read_xml(const char *text, const char *url, ReadState *st)
{
    xmlParserCtxt *ctxt;
    xmlDoc *doc;

    xml_init();
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        g_error("%s: out of memory", G_STRLOC);
    ctxt->_private = st;
    ctxt->sax->serror = on_structured_error;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->unparsedEntityDecl = on_unparsed_entity_decl;
    ctxt->sax->reference = on_reference;
    doc = xmlCtxtReadDoc(ctxt, (const xmlChar *)text, url, NULL,
                         XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
    xmlFreeParserCtxt(ctxt);
    if (doc && (st->forbidden || doc_has_entities(doc))) {
        st->forbidden = TRUE;
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

xmlDoc *
sv_xml_read_fragment(const char *xml)
{
    ReadState st = {0};
    xmlDoc *doc = read_xml(xml, "(domain_definition)", &st);

    g_free(st.detail);
    return doc;
}

xmlDoc *
sv_xml_read_domain(const char *xml, GError **error)
{
    return sv_xml_read_named(xml, "(domain_definition)", error);
}

xmlDoc *
sv_xml_read_named_from(const char *xml, const char *url, int from, GError **error)
{
    ReadState st = {0};
    xmlDoc *doc = read_xml(xml, url, &st);
    g_autofree char *detail = g_steal_pointer(&st.detail);

    if (st.forbidden) {
        sv_error_set(error, from, SV_ERR_XML_ERROR,
                     "entity references and DTDs are not allowed in %s XML",
                     from == SV_FROM_DOMAIN ? "domain" : "this");
        return NULL;
    }
    if (!doc && detail) {
        sv_error_set(error, from, SV_ERR_XML_DETAIL, "%s", detail);
        return NULL;
    }
    if (!doc) {
        sv_error_set(error, from, SV_ERR_XML_ERROR,
                     "failed to parse xml document '[inline data]'");
        return NULL;
    }
    return doc;
}

xmlDoc *
sv_xml_read_named(const char *xml, const char *url, GError **error)
{
    return sv_xml_read_named_from(xml, url, SV_FROM_DOMAIN, error);
}

char *
sv_xml_node_dump(xmlDoc *doc, xmlNode *node, int level)
{
    xmlBuffer *buf = xmlBufferCreate();
    int saved = xmlIndentTreeOutput;
    char *ret = NULL;

    /* libxml2's thread-local indentation switch, restored as libvirt does. */
    xmlIndentTreeOutput = 1;
    if (xmlNodeDump(buf, doc, node, level, 1) >= 0)
        ret = g_strdup((const char *)xmlBufferContent(buf));
    xmlIndentTreeOutput = saved;
    xmlBufferFree(buf);
    return ret;
}

/* libvirt's virXMLNodeSanitizeNamespaces: keep only namespaced child elements, and only the
 * first per namespace, so each application owns exactly one element. */
static void
metadata_sanitize(xmlNode *metadata)
{
    xmlNode *c = metadata->children;

    while (c) {
        xmlNode *next = c->next;

        if (c->type != XML_ELEMENT_NODE || !c->ns || !c->ns->href) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
            c = next;
            continue;
        }
        for (xmlNode *d = next; d;) {
            xmlNode *dnext = d->next;

            if (d->type == XML_ELEMENT_NODE && d->ns && d->ns->href &&
                xmlStrEqual(d->ns->href, c->ns->href)) {
                if (d == next)
                    next = dnext;
                xmlUnlinkNode(d);
                xmlFreeNode(d);
            }
            d = dnext;
        }
        c = next;
    }
}

char *
sv_xml_metadata_copy(xmlNode *node)
{
    xmlDoc *doc;
    xmlNode *copy;
    char *ret;

    if (!node)
        return NULL;
    /* The copy into a new document declares the namespaces its content borrowed from
     * ancestors, so the string parses on its own. */
    doc = xmlNewDoc((const xmlChar *)"1.0");
    copy = xmlDocCopyNode(node, doc, 1);
    if (!copy)
        g_error("%s: out of memory", G_STRLOC);
    xmlDocSetRootElement(doc, copy);
    metadata_sanitize(copy);
    ret = sv_xml_node_dump(doc, copy, 0);
    xmlFreeDoc(doc);
    return ret;
}

void
sv_xml_append_metadata(GString *buf, const char *metadata)
{
    xmlDoc *doc = metadata ? sv_xml_read_fragment(metadata) : NULL;
    g_autofree char *dump = NULL;

    /* Only a driver storing malformed metadata gets here without a document. */
    if (!doc)
        return;
    dump = sv_xml_node_dump(doc, xmlDocGetRootElement(doc), 1);
    if (dump)
        g_string_append_printf(buf, "  %s\n", dump);
    xmlFreeDoc(doc);
}

/* ---- tree accessors ------------------------------------------------------------------- */

gboolean
sv_xml_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !n->ns && g_str_equal((const char *)n->name, name);
}

xmlNode *
sv_xml_child(const xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent->children; c; c = c->next) {
        if (sv_xml_is(c, name))
            return c;
    }
    return NULL;
}

/* A GLib string: libxml2 allocates its own. */
char *
sv_xml_prop(const xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
    char *ret = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return ret;
}

char *
sv_xml_text_raw(const xmlNode *node)
{
    xmlChar *v = xmlNodeGetContent(node);
    char *ret = g_strdup(v ? (const char *)v : "");

    xmlFree(v);
    return ret;
}

char *
sv_xml_text(const xmlNode *node)
{
    char *s;

    if (!node)
        return NULL;
    s = sv_xml_text_raw(node);
    if (!*s)
        g_clear_pointer(&s, g_free);
    return s;
}

char *
sv_xml_child_text(const xmlNode *parent, const char *name)
{
    return sv_xml_text(sv_xml_child(parent, name));
}

char *
sv_xml_child_prop(const xmlNode *node, const char *child, const char *attr)
{
    xmlNode *c = sv_xml_child(node, child);
    char *v = c ? sv_xml_prop(c, attr) : NULL;

    if (v && !*v)
        g_clear_pointer(&v, g_free);
    return v;
}

/* libvirt's virXMLPropEnum errors come from virxml.c, hence error domain XML. */
void
sv_xml_error_invalid_attr(GError **error, const xmlNode *node, const char *attr,
                          const char *value)
{
    sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                 "Invalid value for attribute '%s' in element '%s': '%s'.", attr,
                 (const char *)node->name, value);
}

void
sv_xml_error_missing_attr(GError **error, const xmlNode *node, const char *attr)
{
    sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                 "Missing required attribute '%s' in element '%s'", attr,
                 (const char *)node->name);
}

/* ---- writing ------------------------------------------------------------------------------ */

/* libvirt's virBufferEscapeString, plus character references where libvirt writes a raw
 * character that a parser would not give back (CR anywhere; TAB and LF in attributes are
 * normalized to spaces), so that format(parse(x)) is a fixed point. */
void
sv_xml_append_escaped(GString *buf, const char *s, gboolean attr)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            g_string_append(buf, "&lt;");
            break;
        case '>':
            g_string_append(buf, "&gt;");
            break;
        case '&':
            g_string_append(buf, "&amp;");
            break;
        case '"':
            g_string_append(buf, "&quot;");
            break;
        case '\'':
            g_string_append(buf, "&apos;");
            break;
        case '\r':
            g_string_append(buf, "&#13;");
            break;
        case '\n':
        case '\t':
            if (attr)
                g_string_append_printf(buf, "&#%d;", *s);
            else
                g_string_append_c(buf, *s);
            break;
        default:
            /* Other control characters cannot be represented in XML 1.0: dropped, as by
             * libvirt. */
            if ((guchar)*s >= 0x20)
                g_string_append_c(buf, *s);
        }
    }
}

/* " name='value'", nothing when value is NULL. */
void
sv_xml_append_attr(GString *buf, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(buf, " %s='", name);
    sv_xml_append_escaped(buf, value, TRUE);
    g_string_append_c(buf, '\'');
}

/* "<name>value</name>" on its own line at `indent` spaces, nothing when value is NULL. */
void
sv_xml_append_text_elem(GString *buf, int indent, const char *name, const char *value)
{
    if (!value)
        return;
    g_string_append_printf(buf, "%*s<%s>", indent, "", name);
    sv_xml_append_escaped(buf, value, FALSE);
    g_string_append_printf(buf, "</%s>\n", name);
}
