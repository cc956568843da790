/* lxc_status.c: status files of running containers. */
#include "lxc_status.h"

#include <string.h>

#include "conf/domain_obj.h"
#include "util/error.h"

void
lxc_status_clear(LxcStatus *st)
{
    g_free(st->socket);
    g_free(st->cgroup);
    memset(st, 0, sizeof(*st));
}

static void
lxc_status_free(gpointer data)
{
    lxc_status_clear(data);
    g_free(data);
}

void
lxc_status_own(const LxcStatus *own, SvStatusOwn *out)
{
    g_autofree char *socket = g_markup_escape_text(own->socket ? own->socket : "", -1);
    g_autofree char *cgroup = g_markup_escape_text(own->cgroup ? own->cgroup : "", -1);

    out->attrs = g_strdup_printf(" destroying='%d'", own->destroying);
    out->process_attrs = g_strdup_printf(" socket='%s'", socket);
    out->children = g_strdup_printf("  <init pid='%d' starttime='%" G_GUINT64_FORMAT "'/>\n"
                                    "  <cgroup path='%s'/>\n",
                                    (int)own->init_pid, own->init_start, cgroup);
}

char *
lxc_status_format(const SvStatusCommon *c, const LxcStatus *own, const SvDomainDef *def, int id)
{
    SvStatusOwn out = {NULL, NULL, NULL};
    char *text;

    lxc_status_own(own, &out);
    text = sv_status_format(&lxc_status_style, c, &out, def, id);
    g_free((char *)out.attrs);
    g_free((char *)out.process_attrs);
    g_free((char *)out.children);
    return text;
}

static gboolean
read_own(const SvStatusStyle *style, xmlNodePtr root, SvStatus *st, GError **error)
{
    LxcStatus *ls = g_new0(LxcStatus, 1);
    xmlNodePtr init = sv_status_child(root, "init");
    gint64 pid, start;

    st->own = ls;
    ls->socket = sv_status_attr(sv_status_child(root, style->process), "socket");
    ls->cgroup = sv_status_attr(sv_status_child(root, "cgroup"), "path");
    if (!sv_status_attr_flag(root, "destroying", &ls->destroying, style->from, error) ||
        !sv_status_attr_range(init, "pid", 0, G_MAXINT32, 0, &pid, style->from, error) ||
        !sv_status_attr_range(init, "starttime", 0, G_MAXINT64, 0, &start, style->from, error))
        return FALSE;
    if (!ls->socket || pid == 1) {
        sv_error_set(error, style->from, SV_ERR_INTERNAL_ERROR,
                     "not a container's status (no supervisor socket, or init is process 1)");
        return FALSE;
    }
    ls->init_pid = (pid_t)pid;
    ls->init_start = (guint64)start;
    return TRUE;
}

const SvStatusStyle lxc_status_style = {
    .from = SV_FROM_LXC,
    .process = "supervisor",
    .kill_mode = "destroymode",
    .kill_deadline = "destroydeadline",
    .autodestroy = TRUE,
    .read_own = read_own,
    .free_own = lxc_status_free,
};
