/* domain_status.c: status files: their one format, reading them back, and setting aside the
 * untrusted ones. */
#include "conf/domain_status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "util/error.h"

char *
sv_status_format(const SvStatusCommon *c, const char *attrs, const char *children,
                 const SvDomainDef *live, int id)
{
    g_autofree char *dom = sv_domain_def_format(live, id, 0);
    const char *state = sv_domain_state_to_string(c->state);

    return g_strdup_printf("<domstatus state='%s' reason='%d' statetime='%" G_GINT64_FORMAT
                           "' persistent='%d'%s>\n%s%s</domstatus>\n",
                           state ? state : "nostate", c->reason, c->state_time, c->persistent,
                           attrs ? attrs : "", children ? children : "", dom);
}

void
sv_status_read_common(xmlNodePtr root, SvStatusCommon *c)
{
    g_autofree char *state = sv_status_attr(root, "state");

    c->state = sv_domain_state_from_string(state);
    c->reason = (int)sv_status_attr_int(root, "reason");
    c->state_time = sv_status_attr_int(root, "statetime");
    c->persistent = sv_status_attr_int(root, "persistent") != 0;
}

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
