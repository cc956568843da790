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

/* ---------------------------------------------------------------- building answers */

static remote_typed_param *
param_add(GArray *p, int type, const char *fmt, va_list ap) G_GNUC_PRINTF(3, 0);

static remote_typed_param *
param_add(GArray *p, int type, const char *fmt, va_list ap)
{
    remote_typed_param t = {0};

    t.field = g_strdup_vprintf(fmt, ap);
    t.value.type = type;
    g_array_append_val(p, t);
    return &g_array_index(p, remote_typed_param, p->len - 1);
}

#define PARAM_ADDER(name, ctype, TYPE, member, conv)                                           \
    void name(GArray *p, ctype v, const char *fmt, ...)                                        \
    {                                                                                          \
        va_list ap;                                                                            \
        va_start(ap, fmt);                                                                     \
        param_add(p, TYPE, fmt, ap)->value.remote_typed_param_value_u.member = conv(v);        \
        va_end(ap);                                                                            \
    }
#define AS_IS(v) (v)
#define AS_BOOL(v) (!!(v))
PARAM_ADDER(sv_typed_params_add_int, int, SV_TYPED_PARAM_INT, i, AS_IS)
PARAM_ADDER(sv_typed_params_add_uint, guint, SV_TYPED_PARAM_UINT, ui, AS_IS)
PARAM_ADDER(sv_typed_params_add_llong, gint64, SV_TYPED_PARAM_LLONG, l, AS_IS)
PARAM_ADDER(sv_typed_params_add_ullong, guint64, SV_TYPED_PARAM_ULLONG, ul, AS_IS)
PARAM_ADDER(sv_typed_params_add_boolean, gboolean, SV_TYPED_PARAM_BOOLEAN, b, AS_BOOL)
PARAM_ADDER(sv_typed_params_add_string, const char *, SV_TYPED_PARAM_STRING, s, g_strdup)
