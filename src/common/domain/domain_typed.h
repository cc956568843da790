/* domain_typed.h: the typed-parameter checks the tuning procedures share (libvirt's
 * virTypedParamsValidate). */
#pragma once

#include "domain/domain_driver.h"

/* libvirt's name of a typed parameter type ("ullong"...), "unknown" for another number. */
const char *sv_domain_typed_param_type_name(int type);

/* p's value has type `want`, else libvirt's "invalid type" error. */
gboolean sv_domain_typed_param_check_type(const remote_typed_param *p, int want,
                                          GError **error);

/* libvirt's virTypedParamsValidate for one parameter: p names one of names[0..n) (else
 * "parameter '%s' not supported"), has the type type_of(its index) and was not seen
 * before ("occurs multiple times"). Marks it in seen[]; its index, or -1 with error. */
int sv_domain_typed_param_take(const remote_typed_param *p, const char *const *names, int n,
                               int (*type_of)(int which), gboolean seen[], GError **error);

/* What libvirt checks before a Get*Parameters call reads anything: nparams within max
 * ("nparams too large"), LIVE and CONFIG not both, flags within AFFECT_LIVE|AFFECT_CONFIG|
 * TYPED_PARAM_STRING_OKAY (libvirt's error naming fn), then the domain: it, or NULL with
 * error. (transfer none) */
SvDomainObj *sv_domain_typed_get_begin(SvCall *call, const remote_nonnull_domain *dom,
                                       int nparams, int max, guint flags, const char *fn,
                                       GError **error);

/* Append to p (remote_typed_param) a parameter named by fmt with the value v (a string is
 * copied); bulk stats and guest info build their answers so. */
void sv_typed_params_add_int(GArray *p, int v, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void sv_typed_params_add_uint(GArray *p, guint v, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void sv_typed_params_add_llong(GArray *p, gint64 v, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void sv_typed_params_add_ullong(GArray *p, guint64 v, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void sv_typed_params_add_boolean(GArray *p, gboolean v, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void sv_typed_params_add_string(GArray *p, const char *v, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
