/* domain_run.c: what the drivers share of a guest's run: the one state setter, with the
 * status file following every change, the end of a start that succeeded, and the end of
 * the run once the guest is gone. */
#include "domain/domain_driver.h"
#include "domain/domain_state.h"

static void
save_done(const GError *error, gpointer data)
{
    char *name = data;

    if (error)
        g_warning("domain %s: cannot write its status file: %s", name, error->message);
    g_free(name);
}

void
sv_domain_driver_save_status(SvDomainDriver *drv, SvDomainObj *obj)
{
    drv->save_status(obj, save_done, g_strdup(obj->def->name));
}

void
sv_domain_driver_set_state(SvDomainDriver *drv, SvDomainObj *obj, int state, int reason)
{
    sv_domain_obj_set_state(obj, state, reason);
    sv_domain_run_follow(obj, state);
    sv_domain_driver_save_status(drv, obj);
}

void
sv_domain_driver_set_state_event(SvDomainDriver *drv, SvDomainObj *obj, int state, int reason,
                                 int event, int detail)
{
    sv_domain_driver_set_state(drv, obj, state, reason);
    sv_domain_driver_emit(drv, obj, event, detail);
}

void
sv_domain_driver_stopped(SvDomainDriver *drv, SvDomainObj *obj, int reason, int detail)
{
    sv_domain_list_clear_id(drv->list, obj);
    sv_domain_run_change(obj, SV_RUN_GONE, SV_STOP_NONE);
    sv_domain_driver_set_state(drv, obj, SV_DOMAIN_SHUTOFF, reason);
    if (detail >= 0)
        sv_domain_driver_emit(drv, obj, SV_DOMAIN_EVENT_STOPPED, detail);
    sv_domain_obj_restore_def(obj);
    sv_domain_list_release_run(drv->list, obj);
}

void
sv_domain_driver_start_done(SvDomainDriver *drv, SvDomainObj *obj, gboolean paused,
                            SvCall *call)
{
    sv_domain_run_start_done(obj, paused);
    if (paused) {
        sv_domain_driver_set_state_event(drv, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER,
                                         SV_DOMAIN_EVENT_STARTED, SV_DOMAIN_EVENT_STARTED_BOOTED);
        sv_domain_driver_emit(drv, obj, SV_DOMAIN_EVENT_SUSPENDED,
                              SV_DOMAIN_EVENT_SUSPENDED_PAUSED);
    } else {
        sv_domain_driver_set_state_event(drv, obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_BOOTED,
                                         SV_DOMAIN_EVENT_STARTED, SV_DOMAIN_EVENT_STARTED_BOOTED);
    }
    if (call)
        sv_domain_driver_reply_started(drv, obj, call);
}
