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
