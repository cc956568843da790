/* domain_sched.c: the scheduler procedures (domain_sched.h) as libvirt 9.0's QEMU and LXC
 * drivers answer them. */
#include "domain/domain_sched.h"

#include <string.h>

#include "domain/domain_modify.h"
#include "domain/domain_typed.h"
#include "domain/domain_wire.h"
#include "programs/remote.h"
#include "util/cgroup.h"
#include "util/error.h"

#define SCHED_FLAGS (SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG)

/* libvirt's QEMU_SCHED_MIN/MAX_PERIOD and _QUOTA: its cgroup layer's. */
#define PERIOD_MIN SV_CGROUP_CPU_PERIOD_MIN
#define PERIOD_MAX SV_CGROUP_CPU_PERIOD_MAX
#define QUOTA_MIN SV_CGROUP_CPU_QUOTA_MIN
#define QUOTA_MAX SV_CGROUP_CPU_QUOTA_MAX

static const char *const param_names[SV_SCHED_LAST] = {
    "cpu_shares",      "vcpu_period",     "vcpu_quota",
    "emulator_period", "emulator_quota",  "global_period",
    "global_quota",    "iothread_period", "iothread_quota",
};

/* Shares and periods are ullong, quotas llong. */
static int
param_type(int which)
{
    return which == SV_SCHED_CPU_SHARES || which % 2 ? SV_TYPED_PARAM_ULLONG
                                                     : SV_TYPED_PARAM_LLONG;
}

static void
set_value(remote_typed_param_value *v, int which, gint64 value)
{
    v->type = param_type(which);
    if (v->type == SV_TYPED_PARAM_ULLONG)
        v->remote_typed_param_value_u.ul = (guint64)value;
    else
        v->remote_typed_param_value_u.l = value;
}

static gint64 *
field_of(SvDomainCputuneDef *ct, int which)
{
    static gint64 none;

    switch (which) {
    case SV_SCHED_CPU_SHARES:
        return (gint64 *)&ct->shares;
    case SV_SCHED_VCPU_PERIOD:
        return (gint64 *)&ct->period;
    case SV_SCHED_VCPU_QUOTA:
        return &ct->quota;
    case SV_SCHED_EMULATOR_PERIOD:
        return (gint64 *)&ct->emulator_period;
    case SV_SCHED_EMULATOR_QUOTA:
        return &ct->emulator_quota;
    case SV_SCHED_GLOBAL_PERIOD:
        return (gint64 *)&ct->global_period;
    case SV_SCHED_GLOBAL_QUOTA:
        return &ct->global_quota;
    case SV_SCHED_IOTHREAD_PERIOD:
        return (gint64 *)&ct->iothread_period;
    case SV_SCHED_IOTHREAD_QUOTA:
        return &ct->iothread_quota;
    default:
        g_assert_not_reached();
        return &none;
    }
}

static void
store(SvDomainCputuneDef *ct, int which, gint64 value)
{
    *field_of(ct, which) = value;
    if (which == SV_SCHED_CPU_SHARES)
        ct->shares_specified = TRUE;
}

/* libvirt's virTypedParamsValidate, then its range checks (a 0 period or quota removes
 * it; a negative quota is no limit). */
static gboolean
read_params(const SvSchedFacts *facts, const remote_typed_param *p, guint n, gint64 values[],
            gboolean set[], GError **error)
{
    for (guint i = 0; i < n; i++) {
        int type = p[i].value.type;
        int which = sv_domain_typed_param_take(&p[i], param_names, (int)facts->nparams,
                                               param_type, set, error);

        if (which < 0)
            return FALSE;
        values[which] = type == SV_TYPED_PARAM_ULLONG
                            ? (gint64)MIN(p[i].value.remote_typed_param_value_u.ul,
                                          (guint64)G_MAXINT64)
                            : p[i].value.remote_typed_param_value_u.l;
    }
    return TRUE;
}

static gboolean
check_ranges(const gint64 values[], const gboolean set[], int from, GError **error)
{
    for (int k = SV_SCHED_VCPU_PERIOD; k < SV_SCHED_LAST; k++) {
        gboolean period = k % 2;
        gint64 v = values[k];

        if (!set[k] || v == 0 || (!period && v < 0))
            continue;
        if (period && (v < PERIOD_MIN || v > PERIOD_MAX)) {
            sv_error_set(error, from, SV_ERR_INVALID_ARG,
                         "value of '%s' is out of range [%d, %d]", param_names[k], PERIOD_MIN,
                         PERIOD_MAX);
            return FALSE;
        }
        if (!period && (v < QUOTA_MIN || v > QUOTA_MAX)) {
            sv_error_set(error, from, SV_ERR_INVALID_ARG,
                         "value of '%s' is out of range [%d, %" G_GINT64_FORMAT "]",
                         param_names[k], QUOTA_MIN, QUOTA_MAX);
            return FALSE;
        }
    }
    return TRUE;
}

/* QEMU's ranges, before anything changes. Elsewhere the cgroup layer checks what reaches a
 * running guest; a value it would refuse is not put in a persistent definition either (a
 * difference from libvirt's LXC driver, which stores it, then cannot load the definition
 * again). */
static gboolean
check_values(SvDomainDriver *drv, const gint64 values[], const gboolean set[], gboolean config,
             GError **error)
{
    if (drv->sched->qemu_checks)
        return check_ranges(values, set, drv->from, error);
    return !config ||
           sv_cgroup_check_cpu_bandwidth(
               set[SV_SCHED_VCPU_PERIOD] ? (guint64)values[SV_SCHED_VCPU_PERIOD] : 0,
               set[SV_SCHED_VCPU_QUOTA] ? values[SV_SCHED_VCPU_QUOTA] : 0, error);
}

/* ---------------------------------------------------------------- the event */

typedef struct {
    remote_nonnull_domain dom;
    remote_typed_param *params;
    guint n;
} TunableEvent;

static void
send_tunable(SvClient *c, int callback_id, gpointer data)
{
    TunableEvent *e = data;
    remote_domain_event_callback_tunable_msg m = {callback_id, e->dom, {e->n, e->params}};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_DOMAIN_EVENT_CALLBACK_TUNABLE,
                         (xdrproc_t)xdr_remote_domain_event_callback_tunable_msg, &m);
}

void
sv_domain_emit_tunable(SvDomainDriver *drv, SvDomainObj *obj, remote_typed_param *params,
                       guint n)
{
    TunableEvent e = {{0}, params, n};

    sv_domain_obj_to_remote(obj, &e.dom);
    sv_remote_emit_callback_event(drv->server, SV_DOMAIN_EVENT_ID_TUNABLE, obj->def->uuid,
                                  send_tunable, &e);
    g_free(e.dom.name);
}

/* libvirt's TUNABLE event: "cputune.NAME" for each live value that changed. */
static void
emit_tunable(SvDomainDriver *drv, SvDomainObj *obj, const gint64 values[], const gboolean set[])
{
    remote_typed_param params[SV_SCHED_LAST];
    guint n = 0;
    gboolean any = FALSE;

    for (int k = 0; k < SV_SCHED_LAST; k++)
        any |= set[k];
    /* As libvirt: no event when nothing reached the running guest. */
    if (!any)
        return;

    for (int k = 0; k < SV_SCHED_LAST; k++) {
        if (!set[k])
            continue;
        params[n].field = g_strconcat("cputune.", param_names[k], NULL);
        set_value(&params[n].value, k, values[k]);
        n++;
    }
    sv_domain_emit_tunable(drv, obj, params, n);
    for (guint i = 0; i < n; i++)
        g_free(params[i].field);
}

/* ---------------------------------------------------------------- set */

typedef struct {
    SvDomainDriver *drv;
    SvCall *call; /* deferred */
    guint8 uuid[16];
    gboolean event; /* a live change of a driver that sends TUNABLE */
    gint64 values[SV_SCHED_LAST];
    gboolean set[SV_SCHED_LAST];
} SetJob;

static void
set_saved(const GError *error, gpointer data)
{
    g_autofree SetJob *job = data;
    SvDomainObj *obj = sv_domain_list_find_by_uuid(job->drv->list, job->uuid);

    if (error) {
        sv_call_fail(job->call, g_error_copy(error));
        return;
    }
    sv_call_reply(job->call, NULL);
    if (obj && job->event)
        emit_tunable(job->drv, obj, job->values, job->set);
}

static gboolean
set_params(SvCall *call, remote_nonnull_domain *dom, const remote_typed_param *p, guint n,
           guint flags, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainDef *live, *config;
    SvDomainObj *obj;
    SetJob *job;
    gint64 values[SV_SCHED_LAST] = {0};
    gboolean set[SV_SCHED_LAST] = {FALSE};

    if (!sv_domain_driver_check_flags(drv, flags, SCHED_FLAGS,
                                      "DomainSetSchedulerParametersFlags", error) ||
        !read_params(drv->sched, p, n, values, set, error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, dom, error);
    if (!obj || !sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    if (live && !drv->sched->check(obj, error))
        return FALSE;
    if (!check_values(drv, values, set, config != NULL, error))
        return FALSE;
    job = g_new0(SetJob, 1);
    for (int k = 0; k < SV_SCHED_LAST; k++) {
        if (!set[k])
            continue;
        /* A 0 period or quota leaves a running guest as it is, and says nothing. */
        if (live && (k == SV_SCHED_CPU_SHARES || values[k] != 0)) {
            gint64 v = values[k];

            if (!drv->sched->set_live(obj, k, &v, error)) {
                /* What reached the guest is recorded. */
                if (obj->priv && drv->save_status)
                    sv_domain_driver_save_status(drv, obj);
                g_free(job);
                return FALSE;
            }
            store(&live->cputune, k, v);
            job->values[k] = v;
            job->set[k] = TRUE;
        }
        if (config)
            store(&config->cputune, k, values[k]);
    }
    job->drv = drv;
    job->call = sv_call_defer(call);
    job->event = live != NULL && drv->sched->qemu_checks;
    memcpy(job->uuid, obj->def->uuid, sizeof(job->uuid));
    sv_domain_modify_save(drv, obj, live != NULL, config != NULL, set_saved, job);
    return TRUE;
}

gboolean
sv_domain_sched_set(SvCall *call, remote_domain_set_scheduler_parameters_args *a,
                    GError **error)
{
    return set_params(call, &a->dom, a->params.params_val, a->params.params_len,
                      SV_DOMAIN_AFFECT_CURRENT, error);
}

gboolean
sv_domain_sched_set_flags(SvCall *call, remote_domain_set_scheduler_parameters_flags_args *a,
                          GError **error)
{
    return set_params(call, &a->dom, a->params.params_val, a->params.params_len, a->flags,
                      error);
}

/* ---------------------------------------------------------------- get */

gboolean
sv_domain_sched_get_type(SvCall *call, remote_domain_get_scheduler_type_args *a,
                         remote_domain_get_scheduler_type_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_driver_lookup(drv, &a->dom, error);

    if (!obj)
        return FALSE;
    /* A defined guest has no cgroup yet: libvirt answers its defaults. */
    if (sv_domain_obj_is_active(obj) && !drv->sched->check(obj, error))
        return FALSE;
    ret->type = g_strdup("posix");
    ret->nparams = (int)drv->sched->nparams;
    return TRUE;
}

static gboolean
get_params(SvCall *call, remote_nonnull_domain *dom, int nparams, guint flags,
           remote_typed_param **out, guint *out_len, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    guint affect = flags & ~SV_TYPED_PARAM_STRING_OKAY;
    gint64 values[SV_SCHED_LAST] = {0};
    SvDomainDef *live, *config;
    SvDomainObj *obj;
    guint n;

    obj = sv_domain_typed_get_begin(call, dom, nparams, REMOTE_DOMAIN_SCHEDULER_PARAMETERS_MAX,
                                    flags, "DomainGetSchedulerParametersFlags", error);
    if (!obj || !sv_domain_modify_defs(obj, &affect, &live, &config, error))
        return FALSE;
    if (config) {
        for (int k = 0; k < SV_SCHED_LAST; k++)
            values[k] = *field_of(&config->cputune, k);
    } else if (!drv->sched->check(obj, error) || !drv->sched->get_live(obj, values, error)) {
        return FALSE;
    }
    n = MIN((guint)MAX(nparams, 0), drv->sched->nparams);
    *out = g_new0(remote_typed_param, n);
    *out_len = n;
    for (guint i = 0; i < n; i++) {
        (*out)[i].field = g_strdup(param_names[i]);
        set_value(&(*out)[i].value, (int)i, values[i]);
    }
    return TRUE;
}

gboolean
sv_domain_sched_get(SvCall *call, remote_domain_get_scheduler_parameters_args *a,
                    remote_domain_get_scheduler_parameters_ret *ret, GError **error)
{
    return get_params(call, &a->dom, a->nparams, SV_DOMAIN_AFFECT_CURRENT,
                      &ret->params.params_val, &ret->params.params_len, error);
}

gboolean
sv_domain_sched_get_flags(SvCall *call, remote_domain_get_scheduler_parameters_flags_args *a,
                          remote_domain_get_scheduler_parameters_flags_ret *ret,
                          GError **error)
{
    return get_params(call, &a->dom, a->nparams, a->flags, &ret->params.params_val,
                      &ret->params.params_len, error);
}
