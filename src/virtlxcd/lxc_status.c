/* lxc_status.c: status files of running containers. */
#include "lxc_status.h"

#include <string.h>

#include "conf/domain_obj.h"
#include "conf/domain_status.h"
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

static SvDomainDef *
parse_doc(xmlDocPtr doc, LxcStatus *st, int *ret_id, GError **error)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr dom = sv_status_child(root, "domain");
    xmlNodePtr sup = sv_status_child(root, "supervisor");
    xmlNodePtr init = sv_status_child(root, "init");
    g_autofree char *state = NULL;

    if (!dom || !sup) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "not a container status file (no <supervisor> or <domain>)");
        return NULL;
    }
    state = sv_status_attr(root, "state");
    st->state = sv_domain_state_from_string(state);
    if (st->state < 0)
        st->state = SV_DOMAIN_RUNNING;
    st->reason = (int)sv_status_attr_int(root, "reason");
    st->state_time = sv_status_attr_int(root, "statetime");
    st->persistent = sv_status_attr_int(root, "persistent") != 0;
    st->destroying = sv_status_attr_int(root, "destroying") != 0;
    {
        g_autofree char *mode = sv_status_attr(root, "destroymode");
        st->destroy_graceful = mode && g_str_equal(mode, "graceful");
    }
    st->destroy_deadline = sv_status_attr_int(root, "destroydeadline");
    st->starting = sv_status_attr_int(root, "starting") != 0;
    st->autodestroy = sv_status_attr_int(root, "autodestroy") != 0;
    st->supervisor_pid = (pid_t)sv_status_attr_int(sup, "pid");
    st->supervisor_start = (guint64)sv_status_attr_int(sup, "starttime");
    st->socket = sv_status_attr(sup, "socket");
    st->init_pid = (pid_t)sv_status_attr_int(init, "pid");
    st->init_start = (guint64)sv_status_attr_int(init, "starttime");
    st->cgroup = sv_status_attr(sv_status_child(root, "cgroup"), "path");
    *ret_id = (int)sv_status_attr_int(dom, "id");
    return sv_status_parse_domain(doc, dom, error);
}

SvDomainDef *
lxc_status_parse(const char *text, LxcStatus *st, int *ret_id, GError **error)
{
    xmlDocPtr doc = sv_status_read(text, strlen(text), SV_FROM_LXC, error);
    SvDomainDef *def;

    if (!doc)
        return NULL;
    def = parse_doc(doc, st, ret_id, error);
    xmlFreeDoc(doc);
    if (!def)
        lxc_status_clear(st);
    return def;
}
