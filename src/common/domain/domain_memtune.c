/* domain_memtune.c: DOMAIN_GET_MEMORY_PARAMETERS and DOMAIN_SET_MEMORY_PARAMETERS (virsh
 * memtune), as libvirt 9.0's QEMU driver answers them: the persistent definition's
 * <memtune>, and a running guest's through its cgroup (the driver's SvResizeFacts). */
#include "domain/domain_memtune.h"

#include <string.h>

#include "domain/domain_modify.h"
#include "domain/domain_wire.h"
#include "domain/domain_typed.h"
#include "domain/domain_resize.h"
#include "util/error.h"

#define MEMTUNE_FLAGS (SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG)

/* In libvirt's order (QEMU_NB_MEM_PARAM): what a get returns, first to last. */
static const char *const param_names[SV_MEMTUNE_LAST] = {
    [SV_MEMTUNE_HARD] = "hard_limit",
    [SV_MEMTUNE_SOFT] = "soft_limit",
    [SV_MEMTUNE_SWAP] = "swap_hard_limit",
};

static int
param_type(int which)
{
    (void)which;
    return SV_TYPED_PARAM_ULLONG;
}

static guint64 *
field_of(SvDomainMemtuneDef *mt, int which)
{
    switch (which) {
    case SV_MEMTUNE_HARD:
        return &mt->hard_limit;
    case SV_MEMTUNE_SOFT:
        return &mt->soft_limit;
    default:
        return &mt->swap_hard_limit;
    }
}

/* libvirt's virTypedParamsValidate for the three ullong parameters: the values asked for
 * (set[] says which). */
static gboolean
read_params(const remote_typed_param *p, guint n, guint64 values[], gboolean set[],
            GError **error)
{
    for (guint i = 0; i < n; i++) {
        int which = sv_domain_typed_param_take(&p[i], param_names, SV_MEMTUNE_LAST,
                                               param_type, set, error);

        if (which < 0)
            return FALSE;
        values[which] = p[i].value.remote_typed_param_value_u.ul;
    }
    return TRUE;
}

/* One limit into the running guest's cgroup and its live definition, and the persistent
 * definition's. */
static gboolean
apply_one(SvDomainDriver *drv, SvDomainObj *obj, SvDomainDef *live, SvDomainDef *config,
          int which, guint64 kib, GError **error)
{
    if (live) {
        if (kib > SV_DOMAIN_MEMORY_UNLIMITED) {
            sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INVALID_ARG,
                         "Memory '%" G_GUINT64_FORMAT "' must be less than %" G_GUINT64_FORMAT,
                         kib, SV_DOMAIN_MEMORY_UNLIMITED);
            return FALSE;
        }
        if (!drv->resize->memtune_live(obj, which, kib, error))
            return FALSE;
        *field_of(&live->memtune, which) = kib;
    }
    if (config)
        *field_of(&config->memtune, which) = kib;
    return TRUE;
}

static gboolean
apply_all(SvDomainDriver *drv, SvDomainObj *obj, SvDomainDef *live, SvDomainDef *config,
          const guint64 v[], gboolean set[], GError **error)
{
    if (set[SV_MEMTUNE_SOFT] &&
        !apply_one(drv, obj, live, config, SV_MEMTUNE_SOFT, v[SV_MEMTUNE_SOFT], error))
        return FALSE;
    /* A lower hard limit goes before the swap limit, a higher one after it. */
    if (set[SV_MEMTUNE_HARD] && live && live->memtune.hard_limit > v[SV_MEMTUNE_HARD]) {
        if (!apply_one(drv, obj, live, config, SV_MEMTUNE_HARD, v[SV_MEMTUNE_HARD], error))
            return FALSE;
        set[SV_MEMTUNE_HARD] = FALSE;
    }
    if (set[SV_MEMTUNE_SWAP] &&
        !apply_one(drv, obj, live, config, SV_MEMTUNE_SWAP, v[SV_MEMTUNE_SWAP], error))
        return FALSE;
    return !set[SV_MEMTUNE_HARD] ||
           apply_one(drv, obj, live, config, SV_MEMTUNE_HARD, v[SV_MEMTUNE_HARD], error);
}

gboolean
sv_domain_memtune_set(SvCall *call, remote_domain_set_memory_parameters_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    guint64 v[SV_MEMTUNE_LAST] = {0};
    gboolean set[SV_MEMTUNE_LAST] = {FALSE};
    guint flags = a->flags;
    SvDomainDef *live, *config;
    SvDomainObj *obj;
    gboolean ok;

    if (a->params.params_len == 0) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                             "nparams in virDomainSetMemoryParameters must be greater than "
                             "zero");
        return FALSE;
    }
    if (!sv_domain_driver_check_flags(drv, flags, MEMTUNE_FLAGS, "DomainSetMemoryParameters",
                                      error) ||
        !read_params(a->params.params_val, a->params.params_len, v, set, error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj || !sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    if (live && !drv->resize->memtune_check(obj, error))
        return FALSE;
    /* Checked against the current definition (the live one of a running guest), as
     * libvirt does, whichever is changed. */
    if (set[SV_MEMTUNE_SWAP] || set[SV_MEMTUNE_HARD]) {
        guint64 hard = set[SV_MEMTUNE_HARD] ? v[SV_MEMTUNE_HARD] : obj->def->memtune.hard_limit;
        guint64 swap =
            set[SV_MEMTUNE_SWAP] ? v[SV_MEMTUNE_SWAP] : obj->def->memtune.swap_hard_limit;

        if (hard > swap) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                         "memory hard_limit tunable value must be lower than or equal to "
                         "swap_hard_limit");
            return FALSE;
        }
    }
    ok = apply_all(drv, obj, live, config, v, set, error);
    /* What reached the guest is recorded even when a later step failed. */
    return sv_domain_modify_finish(call, drv, obj, live, config, ok);
}

gboolean
sv_domain_memtune_get(SvCall *call, remote_domain_get_memory_parameters_args *a,
                      remote_domain_get_memory_parameters_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    guint flags = a->flags & ~SV_TYPED_PARAM_STRING_OKAY;
    guint64 values[SV_MEMTUNE_LAST];
    SvDomainDef *live, *config, *def;
    SvDomainObj *obj;
    guint n;

    obj = sv_domain_typed_get_begin(call, &a->dom, a->nparams,
                                    REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX, a->flags,
                                    "DomainGetMemoryParameters", error);
    if (!obj || !sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    if (!config && !drv->resize->memtune_check(obj, error))
        return FALSE;
    ret->nparams = SV_MEMTUNE_LAST;
    if (a->nparams == 0)
        return TRUE;
    /* The live values are those the guest's cgroup was given (at start, or since), or
     * what it has, as the driver reads them. */
    def = config ? config : live;
    for (int k = 0; k < SV_MEMTUNE_LAST; k++)
        values[k] = *field_of(&def->memtune, k);
    if (!config && drv->resize->memtune_get_live &&
        !drv->resize->memtune_get_live(obj, values, error))
        return FALSE;
    n = MIN((guint)a->nparams, (guint)SV_MEMTUNE_LAST);
    ret->params.params_len = n;
    ret->params.params_val = g_new0(remote_typed_param, n);
    for (guint i = 0; i < n; i++)
        sv_typed_param_set_ullong(&ret->params.params_val[i], param_names[i], values[i]);
    ret->nparams = (int)n;
    return TRUE;
}
