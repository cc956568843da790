/* domain_helper.c: the helper processes of a guest's run (domain_helper.h). */
#include "domain/domain_helper.h"

#include "conf/domain_status.h"
#include "conf/domain_xml.h"
#include "util/error.h"

struct SvRunHelper {
    char *id;
    char *exe;
    SvProcess *proc;
};

static void helper_free(gpointer p)
{
    SvRunHelper *h = p;

    if (!h)
        return;
    sv_process_free_later(h->proc); /* may be inside its own callbacks */
    g_free(h->id);
    g_free(h->exe);
    g_free(h);
}

GPtrArray *sv_run_helpers_new(void)
{
    return g_ptr_array_new_with_free_func(helper_free);
}

static void helper_exited(SvProcess *proc, const SvProcessExit *how, gpointer data)
{
    (void)data;
    g_debug("helper process %d exited (known %d, signaled %d, code %d)",
            (int)sv_process_get_pid(proc), how->known, how->signaled, how->code);
}

void sv_run_helpers_add(GPtrArray *helpers, const char *id, const char *exe, SvProcess *proc)
{
    SvRunHelper *h = g_new0(SvRunHelper, 1);

    h->id = g_strdup(id);
    h->exe = g_strdup(exe);
    h->proc = proc;
    sv_process_set_exit_func(proc, helper_exited, NULL);
    g_ptr_array_add(helpers, h);
}

SvProcess *sv_run_helpers_find(GPtrArray *helpers, const char *id)
{
    for (guint i = 0; i < helpers->len; i++) {
        SvRunHelper *h = helpers->pdata[i];
        if (g_str_equal(h->id, id))
            return h->proc;
    }
    return NULL;
}

gboolean sv_run_helpers_release(GPtrArray *helpers, GError **error)
{
    for (guint i = 0; i < helpers->len; i++) {
        SvRunHelper *h = helpers->pdata[i];
        g_autoptr(GError) local = NULL;

        /* FALSE without an exec failure: not held, or let go already. */
        if (!sv_process_release(h->proc, &local) && local) {
            g_propagate_prefixed_error(error, g_steal_pointer(&local), "helper %s: ", h->id);
            return FALSE;
        }
    }
    return TRUE;
}

static void helper_stopped(SvProcess *proc, const GError *error, gpointer data)
{
    SvRunHelper *h = data;

    if (error)
        g_warning("helper %s (pid %d): %s", h->id, (int)sv_process_get_pid(proc), error->message);
    helper_free(h);
}

void sv_run_helpers_stop(GPtrArray *helpers)
{
    g_ptr_array_set_free_func(helpers, NULL);
    for (guint i = 0; i < helpers->len; i++) {
        SvRunHelper *h = helpers->pdata[i];
        g_debug("stopping helper %s (pid %d)", h->id, (int)sv_process_get_pid(h->proc));
        sv_process_kill(h->proc, FALSE, SV_RUN_HELPER_TERM_MS, SV_RUN_HELPER_KILL_MS,
                        helper_stopped, h);
    }
    g_ptr_array_set_size(helpers, 0);
    g_ptr_array_set_free_func(helpers, helper_free);
}

void sv_run_helpers_format_status(const GPtrArray *helpers, GString *out)
{
    for (guint i = 0; i < helpers->len; i++) {
        const SvRunHelper *h = helpers->pdata[i];

        g_string_append(out, "  <helper");
        sv_xml_append_attr(out, "id", h->id);
        g_string_append_printf(out, " pid='%d' starttime='%" G_GUINT64_FORMAT "'",
                               (int)sv_process_get_pid(h->proc),
                               sv_process_get_start_time(h->proc));
        sv_xml_append_attr(out, "exe", h->exe);
        g_string_append(out, "/>\n");
    }
}

/* One <helper> of a status file, taken back if it is still ours. */
static void take_one(GPtrArray *helpers, xmlNodePtr n, SvRunHelperExe exe_of, gpointer data)
{
    g_autofree char *id = sv_status_attr(n, "id");
    const char *exe = id ? exe_of(id, data) : NULL;
    gint64 pid = 0, start = 0;
    g_autoptr(GError) error = NULL;
    SvProcess *proc = NULL;

    if (!exe || sv_run_helpers_find(helpers, id) ||
        !sv_status_attr_range(n, "pid", 2, G_MAXINT32, 0, &pid, SV_FROM_NONE, &error) ||
        !sv_status_attr_range(n, "starttime", 1, G_MAXINT64, 0, &start, SV_FROM_NONE, &error)) {
        g_message("status: helper '%s' is not one the guest has, is recorded twice, or its record "
                  "is torn%s%s",
                  id ? id : "(none)", error ? ": " : "", error ? error->message : "");
        return;
    }
    if (sv_process_attach_checked((pid_t)pid, (guint64)start, exe, &proc, &error) !=
        SV_PROCESS_CHECK_OURS) {
        g_message("status: helper '%s' (pid %d) is not taken back: %s", id, (int)pid,
                  error ? error->message : "gone");
        return;
    }
    sv_run_helpers_add(helpers, id, exe, proc);
}

void sv_run_helpers_take_status(GPtrArray *helpers, xmlNodePtr domstatus, SvRunHelperExe exe_of,
                                gpointer data)
{
    for (xmlNodePtr c = domstatus ? domstatus->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && g_str_equal((const char *)c->name, "helper"))
            take_one(helpers, c, exe_of, data);
    }
}
