/* domain_status.c: status files: reading them back, and setting aside the untrusted ones. */
#include "conf/domain_status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "util/error.h"

xmlDocPtr
sv_status_read(const char *text, gsize len, int from, GError **error)
{
    xmlDocPtr doc = NULL;
    xmlNodePtr root;

    if (len <= G_MAXINT)
        doc = xmlReadMemory(text, (int)len, "status", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || !xmlStrEqual(root->name, (const xmlChar *)"domstatus")) {
        sv_error_set(error, from, SV_ERR_INTERNAL_ERROR, "it is not a <domstatus>");
        if (doc)
            xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

xmlNodePtr
sv_status_child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, (const xmlChar *)name))
            return c;
    }
    return NULL;
}

char *
sv_status_attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
    char *out = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return out;
}

gint64
sv_status_attr_int(xmlNodePtr n, const char *name)
{
    g_autofree char *v = sv_status_attr(n, name);

    return v ? g_ascii_strtoll(v, NULL, 10) : 0;
}

SvDomainDef *
sv_status_parse_domain(xmlDocPtr doc, xmlNodePtr dom, GError **error)
{
    xmlBufferPtr buf = xmlBufferCreate();
    SvDomainDef *def;

    /* Dumped and parsed again by the definition parser, with its defences and checks. */
    xmlNodeDump(buf, doc, dom, 0, 0);
    def = sv_domain_def_parse((const char *)xmlBufferContent(buf), 0, error);
    xmlBufferFree(buf);
    return def;
}

void
sv_status_set_aside(const char *path, const GError *why)
{
    g_autofree char *aside = g_strconcat(path, ".rejected", NULL);

    g_warning("setting aside status file '%s' as '%s', touching nothing it names: %s", path,
              aside, why->message);
    if (rename(path, aside) < 0)
        g_warning("cannot rename '%s': %s", path, g_strerror(errno));
}
