/* domain_modify.c: the definitions a change reaches, and the change put on disk. */
#include "domain/domain_modify.h"

#include "domain/domain_run.h"
#include "util/error.h"

static gboolean
update_impact(SvDomainObj *obj, guint *flags, GError **error)
{
    gboolean active = sv_domain_obj_is_active(obj);

    if ((*flags & (SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG)) == 0)
        *flags |= active ? SV_DOMAIN_AFFECT_LIVE : SV_DOMAIN_AFFECT_CONFIG;
    if (!active && (*flags & SV_DOMAIN_AFFECT_LIVE)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    if (!obj->persistent && (*flags & SV_DOMAIN_AFFECT_CONFIG)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                     "transient domains do not have any persistent config");
        return FALSE;
    }
    return TRUE;
}

/* The persistent definition of a running domain: kept aside at its start
 * (sv_domain_obj_run_on_live); a copy of the live one if it ever was not. */
static SvDomainDef *
running_config(SvDomainObj *obj)
{
    if (!obj->new_def)
        obj->new_def = sv_domain_def_copy(obj->def);
    return obj->new_def;
}

gboolean
sv_domain_modify_defs(SvDomainObj *obj, guint *flags, SvDomainDef **live, SvDomainDef **config,
                      GError **error)
{
    *live = NULL;
    *config = NULL;
    if (!update_impact(obj, flags, error))
        return FALSE;
    if (!sv_domain_obj_is_active(obj)) {
        *config = obj->def;
        return TRUE;
    }
    if (*flags & SV_DOMAIN_AFFECT_LIVE)
        *live = obj->def;
    if (*flags & SV_DOMAIN_AFFECT_CONFIG)
        *config = running_config(obj);
    return TRUE;
}

SvDomainDef *
sv_domain_modify_one_def(SvDomainObj *obj, guint flags, GError **error)
{
    if (!update_impact(obj, &flags, error))
        return NULL;
    if (sv_domain_obj_is_active(obj) && (flags & SV_DOMAIN_AFFECT_CONFIG))
        return running_config(obj);
    return obj->def;
}

void
sv_domain_modify_save(SvDomainDriver *drv, SvDomainObj *obj, gboolean live, gboolean config,
                      SvStoreDoneFunc done, gpointer data)
{
    const SvDomainDef *persistent;
    g_autofree char *text = NULL;

    /* The store keeps its writes in order: the status file is on disk before done runs. */
    if (live && obj->priv && drv->save_status)
        sv_domain_driver_save_status(drv, obj);
    if (!config) {
        sv_domain_store_barrier_async(drv->store, done, data);
        return;
    }
    persistent = sv_domain_obj_is_active(obj) ? obj->new_def : obj->def;
    text = sv_domain_def_format(persistent, -1,
                                SV_DOMAIN_FORMAT_INACTIVE | SV_DOMAIN_FORMAT_SECURE);
    sv_domain_store_save_async(drv->store, obj->def->name, text, done, data);
}

void
sv_domain_modify_reply_call(const GError *error, gpointer call)
{
    if (error)
        sv_call_fail(call, g_error_copy(error));
    else
        sv_call_reply(call, NULL);
}

gboolean
sv_domain_modify_finish(SvCall *call, SvDomainDriver *drv, SvDomainObj *obj,
                        SvDomainDef *live, SvDomainDef *config, gboolean applied)
{
    if (!applied) {
        if (live && obj->priv && drv->save_status)
            sv_domain_driver_save_status(drv, obj);
        return FALSE;
    }
    sv_domain_modify_save(drv, obj, live != NULL, config != NULL, sv_domain_modify_reply_call,
                          sv_call_defer(call));
    return TRUE;
}
