/* domain_reconnect.c: the one reconnect loop over a driver's status files. */
#include "domain/domain_reconnect.h"

#include "domain/domain_run.h"
#include "domain/domain_state.h"
#include "util/error.h"
#include "util/fileio.h"

typedef struct {
    SvDomainDriver *drv;
    const SvReconnectFacts *facts;
    gpointer data;
    guint rejected;
} Reconnect;

static void
set_aside(Reconnect *r, const char *path, const GError *why)
{
    sv_status_set_aside(path, why);
    r->rejected++;
}

/* A live guest becomes the active domain of its definition, as the file recorded it. */
static void
adopt(Reconnect *r, SvStatus *st, gpointer handle)
{
    SvDomainObj *obj = sv_domain_list_take_live(r->drv->list, g_steal_pointer(&st->def));

    obj->state = st->c.state;
    obj->reason = st->c.reason;
    obj->state_time = st->c.state_time;
    /* As clients saw it; what was under way follows. Written once the driver has it all. */
    sv_domain_run_change(obj, obj->state == SV_DOMAIN_PAUSED ? SV_RUN_PAUSED : SV_RUN_RUNNING,
                         SV_STOP_NONE);
    r->facts->attach(obj, st, handle, r->data);
    /* Its AUTODESTROY client went with the earlier daemon: the driver destroys it as it
     * carries on (or stops it as unfinished). */
    if (st->c.autodestroy && sv_domain_run_of(obj))
        sv_domain_run_of(obj)->autodestroy_client = SV_RUN_CLIENT_GONE;
    if (st->c.starting && r->facts->stop_unfinished) {
        /* Its client never heard it start: nothing of it is kept. */
        g_message("domain %s: its start never finished, stopping it", obj->def->name);
        r->facts->stop_unfinished(obj, st, r->data);
    } else {
        r->facts->carry_on(obj, st, r->data);
    }
}

static void
reconnect_one(const char *path, const char *entry, gpointer data)
{
    Reconnect *r = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStatus) st = sv_status_load(path, r->facts->status, &error);
    gpointer handle = NULL;

    (void)entry; /* the reader checks the file's name */
    if (!st ||
        !sv_domain_list_check_live(r->drv->list, st->def, r->drv->from, &error)) {
        set_aside(r, path, error);
        return;
    }
    switch (r->facts->find(st, &handle, r->data, &error)) {
    case SV_RECONNECT_LIVE:
        adopt(r, st, handle);
        break;
    case SV_RECONNECT_GONE: {
        SvDomainObj *obj = sv_domain_list_find_by_uuid(r->drv->list, st->def->uuid);
        r->facts->gone(path, st, obj && !sv_domain_obj_is_active(obj) ? obj : NULL, r->data);
        break;
    }
    case SV_RECONNECT_FOREIGN:
        set_aside(r, path, error);
        break;
    case SV_RECONNECT_DROPPED:
        break;
    }
}

guint
sv_domain_reconnect_all(SvDomainDriver *drv, const char *run_dir, const SvReconnectFacts *facts,
                        gpointer data)
{
    Reconnect r = {drv, facts, data, 0};

    sv_file_walk_dir(run_dir, ".xml", reconnect_one, &r);
    /* What a set-aside status names is not touched, and its files cannot be told from
     * stale ones: then nothing unowned is removed either. */
    if (facts->finish)
        facts->finish(r.rejected != 0, data);
    sv_domain_driver_autostart(drv, run_dir);
    return r.rejected;
}

SvReconnectFound
sv_domain_reconnect_find_process(const SvStatus *st, const char *exe, const char *what,
                                 SvProcess **ret_proc, GError **error)
{
    g_autoptr(GError) found = NULL;
    const SvErrorExtra *x;

    switch (sv_process_attach_checked(st->c.pid, st->c.start_time, exe, ret_proc, &found)) {
    case SV_PROCESS_CHECK_OURS:
        return SV_RECONNECT_LIVE;
    case SV_PROCESS_CHECK_GONE:
        g_message("domain %s: its %s is gone (%s); cleaning up", st->def->name, what,
                  found->message);
        return SV_RECONNECT_GONE;
    case SV_PROCESS_CHECK_UNRUN:
        if (st->c.starting) {
            g_message("domain %s: its %s never ran (the daemon died before it was released); "
                      "cleaning up", st->def->name, what);
            return SV_RECONNECT_GONE;
        }
        break;
    default:
        break;
    }
    x = sv_error_get_extra(found); /* what it runs, without the template's prefix */
    sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "process %d is not a %s (%s): %s",
                 (int)st->c.pid, what, exe, x && x->str2 ? x->str2 : found->message);
    return SV_RECONNECT_FOREIGN;
}
