/* domain_typed.c: see domain_typed.h. */
#include "domain/domain_typed.h"

#include "util/error.h"

static const char *const type_names[SV_TYPED_PARAMETER_TYPE_LAST] = {
    [SV_TYPED_PARAM_INT] = "int",       [SV_TYPED_PARAM_UINT] = "uint",
    [SV_TYPED_PARAM_LLONG] = "llong",   [SV_TYPED_PARAM_ULLONG] = "ullong",
    [SV_TYPED_PARAM_DOUBLE] = "double", [SV_TYPED_PARAM_BOOLEAN] = "boolean",
    [SV_TYPED_PARAM_STRING] = "string",
};

const char *
sv_domain_typed_param_type_name(int type)
{
    return type >= SV_TYPED_PARAM_INT && type < SV_TYPED_PARAMETER_TYPE_LAST ? type_names[type]
                                                                             : "unknown";
}

gboolean
sv_domain_typed_param_check_type(const remote_typed_param *p, int want, GError **error)
{
    if (p->value.type == want)
        return TRUE;
    sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                 "invalid type '%s' for parameter '%s', expected '%s'",
                 sv_domain_typed_param_type_name(p->value.type), p->field,
                 sv_domain_typed_param_type_name(want));
    return FALSE;
}

int
sv_domain_typed_param_take(const remote_typed_param *p, const char *const *names, int n,
                           int (*type_of)(int which), gboolean seen[], GError **error)
{
    int which = -1;

    for (int k = 0; k < n && which < 0; k++) {
        if (g_str_equal(p->field, names[k]))
            which = k;
    }
    if (which < 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_ARGUMENT_UNSUPPORTED,
                     "parameter '%s' not supported", p->field);
        return -1;
    }
    if (!sv_domain_typed_param_check_type(p, type_of(which), error))
        return -1;
    if (seen[which]) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                     "parameter '%s' occurs multiple times", p->field);
        return -1;
    }
    seen[which] = TRUE;
    return which;
}

SvDomainObj *
sv_domain_typed_get_begin(SvCall *call, const remote_nonnull_domain *dom, int nparams, int max,
                          guint flags, const char *fn, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    guint affect = SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG;

    if (nparams > max) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "nparams too large");
        return NULL;
    }
    if ((flags & affect) == affect) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                             "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' "
                             "are mutually exclusive");
        return NULL;
    }
    if (!sv_domain_driver_check_flags(drv, flags, affect | SV_TYPED_PARAM_STRING_OKAY, fn, error))
        return NULL;
    return sv_domain_driver_lookup(drv, dom, error);
}
