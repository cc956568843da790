/* lxc_status.c: status files of running containers. */
#include "lxc_status.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "conf/domain_obj.h"
#include "util/error.h"

void
lxc_status_clear(LxcStatus *st)
{
    g_free(st->socket);
    g_free(st->cgroup);
    memset(st, 0, sizeof(*st));
}

char *
lxc_status_format(const LxcStatus *st, const SvDomainDef *def, int id)
{
    g_autofree char *live = sv_domain_def_format(def, id, 0);
    g_autofree char *socket = g_markup_escape_text(st->socket ? st->socket : "", -1);
    g_autofree char *cgroup = g_markup_escape_text(st->cgroup ? st->cgroup : "", -1);
    GString *x = g_string_new(NULL);

    g_string_append_printf(x,
                           "<domstatus state='%s' reason='%d' statetime='%" G_GINT64_FORMAT "' "
                           "persistent='%d' destroying='%d' starting='%d' autodestroy='%d'",
                           sv_domain_state_to_string(st->state), st->reason, st->state_time,
                           st->persistent, st->destroying, st->starting, st->autodestroy);
    if (st->destroying)
        g_string_append_printf(x, " destroymode='%s' destroydeadline='%" G_GINT64_FORMAT "'",
                               st->destroy_graceful ? "graceful" : "forced",
                               st->destroy_deadline);
    g_string_append(x, ">\n");
    g_string_append_printf(x,
                           "  <supervisor pid='%d' starttime='%" G_GUINT64_FORMAT
                           "' socket='%s'/>\n",
                           (int)st->supervisor_pid, st->supervisor_start, socket);
    g_string_append_printf(x, "  <init pid='%d' starttime='%" G_GUINT64_FORMAT "'/>\n",
                           (int)st->init_pid, st->init_start);
    g_string_append_printf(x, "  <cgroup path='%s'/>\n", cgroup);
    g_string_append(x, live);
    g_string_append(x, "</domstatus>\n");
    return g_string_free(x, FALSE);
}

static xmlNodePtr
child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && g_str_equal((const char *)c->name, name))
            return c;
    }
    return NULL;
}

static char *
attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
    char *out = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return out;
}

static gint64
attr_int(xmlNodePtr n, const char *name)
{
    g_autofree char *v = attr(n, name);

    return v ? g_ascii_strtoll(v, NULL, 10) : 0;
}

static SvDomainDef *
parse_doc(xmlDocPtr doc, LxcStatus *st, int *ret_id, GError **error)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr dom = root ? child(root, "domain") : NULL;
    xmlNodePtr sup = root ? child(root, "supervisor") : NULL;
    xmlNodePtr init = root ? child(root, "init") : NULL;
    g_autofree char *state = NULL;
    g_autofree char *domxml = NULL;
    xmlBufferPtr buf;

    if (!dom || !sup || !g_str_equal((const char *)root->name, "domstatus")) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "not a container status file (no <domstatus>, <supervisor> or <domain>)");
        return NULL;
    }
    state = attr(root, "state");
    st->state = sv_domain_state_from_string(state);
    if (st->state < 0)
        st->state = 1; /* running */
    st->reason = (int)attr_int(root, "reason");
    st->state_time = attr_int(root, "statetime");
    st->persistent = attr_int(root, "persistent") != 0;
    st->destroying = attr_int(root, "destroying") != 0;
    {
        g_autofree char *mode = attr(root, "destroymode");
        st->destroy_graceful = mode && g_str_equal(mode, "graceful");
    }
    st->destroy_deadline = attr_int(root, "destroydeadline");
    st->starting = attr_int(root, "starting") != 0;
    st->autodestroy = attr_int(root, "autodestroy") != 0;
    st->supervisor_pid = (pid_t)attr_int(sup, "pid");
    st->supervisor_start = (guint64)attr_int(sup, "starttime");
    st->socket = attr(sup, "socket");
    st->init_pid = (pid_t)attr_int(init, "pid");
    st->init_start = (guint64)attr_int(init, "starttime");
    st->cgroup = attr(child(root, "cgroup"), "path");
    *ret_id = (int)attr_int(dom, "id");
    buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, dom, 0, 0);
    domxml = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return sv_domain_def_parse(domxml, 0, error);
}

SvDomainDef *
lxc_status_parse(const char *text, LxcStatus *st, int *ret_id, GError **error)
{
    xmlDocPtr doc = xmlReadMemory(text, (int)strlen(text), "status", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    SvDomainDef *def;

    if (!doc) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "the container status file is not XML");
        return NULL;
    }
    def = parse_doc(doc, st, ret_id, error);
    xmlFreeDoc(doc);
    if (!def)
        lxc_status_clear(st);
    return def;
}
