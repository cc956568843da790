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
    SvStatusCommon common = {st->state, st->reason, st->state_time, st->persistent};
    g_autofree char *socket = g_markup_escape_text(st->socket ? st->socket : "", -1);
    g_autofree char *cgroup = g_markup_escape_text(st->cgroup ? st->cgroup : "", -1);
    g_autoptr(GString) attrs = g_string_new(NULL);
    g_autofree char *children = NULL;

    g_string_append_printf(attrs, " destroying='%d' starting='%d' autodestroy='%d'",
                           st->destroying, st->starting, st->autodestroy);
    if (st->destroying)
        g_string_append_printf(attrs, " destroymode='%s' destroydeadline='%" G_GINT64_FORMAT "'",
                               st->destroy_graceful ? "graceful" : "forced",
                               st->destroy_deadline);
    children = g_strdup_printf("  <supervisor pid='%d' starttime='%" G_GUINT64_FORMAT
                               "' socket='%s'/>\n"
                               "  <init pid='%d' starttime='%" G_GUINT64_FORMAT "'/>\n"
                               "  <cgroup path='%s'/>\n",
                               (int)st->supervisor_pid, st->supervisor_start, socket,
                               (int)st->init_pid, st->init_start, cgroup);
    return sv_status_format(&common, attrs->str, children, def, id);
}

static SvDomainDef *
parse_doc(xmlDocPtr doc, LxcStatus *st, int *ret_id, GError **error)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr dom = sv_status_child(root, "domain");
    xmlNodePtr sup = sv_status_child(root, "supervisor");
    xmlNodePtr init = sv_status_child(root, "init");
    SvStatusCommon common;

    if (!dom || !sup) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "not a container status file (no <supervisor> or <domain>)");
        return NULL;
    }
    sv_status_read_common(root, &common);
    st->state = common.state < 0 ? SV_DOMAIN_RUNNING : common.state;
    st->reason = common.reason;
    st->state_time = common.state_time;
    st->persistent = common.persistent;
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
