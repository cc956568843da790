/* domain_migrate_params.c: see domain_migrate_params.h. */
#include "domain/domain_migrate_params.h"

#include <string.h>

#include "domain/domain_typed.h"
#include "util/error.h"

static int
by_field(gconstpointer a, gconstpointer b, gpointer data)
{
    const remote_typed_param *params = data;

    return strcmp(params[*(const guint *)a].field, params[*(const guint *)b].field);
}

static SvMigrationValue
value_of(const remote_typed_param *p)
{
    const remote_typed_param_value *v = &p->value;
    SvMigrationValue out = {.type = v->type};

    switch (v->type) {
    case SV_TYPED_PARAM_INT: out.v.i = v->remote_typed_param_value_u.i; break;
    case SV_TYPED_PARAM_UINT: out.v.ui = v->remote_typed_param_value_u.ui; break;
    case SV_TYPED_PARAM_LLONG: out.v.l = v->remote_typed_param_value_u.l; break;
    case SV_TYPED_PARAM_ULLONG: out.v.ul = v->remote_typed_param_value_u.ul; break;
    case SV_TYPED_PARAM_DOUBLE: out.v.d = v->remote_typed_param_value_u.d; break;
    case SV_TYPED_PARAM_BOOLEAN: out.v.b = v->remote_typed_param_value_u.b; break;
    case SV_TYPED_PARAM_STRING: out.v.s = v->remote_typed_param_value_u.s; break;
    default: break;
    }
    return out;
}

/* Which entry of the known list p is, checked as virTypedParamsValidate checks it; -1 with
 * error. last: the name of the parameter before it in sorted order (repeats are next to
 * each other there). */
static int
check_one(const remote_typed_param *p, const char *last, GError **error)
{
    guint n;
    const SvMigrationParamInfo *known = sv_migration_params_known(&n);
    int which = -1;

    for (guint k = 0; k < n && which < 0; k++) {
        if (g_str_equal(p->field, known[k].name))
            which = (int)k;
    }
    if (which < 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_ARGUMENT_UNSUPPORTED,
                     "parameter '%s' not supported", p->field);
        return -1;
    }
    if (!sv_domain_typed_param_check_type(p, known[which].type, error))
        return -1;
    if (!known[which].multiple && last && g_str_equal(last, p->field)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                     "parameter '%s' occurs multiple times", p->field);
        return -1;
    }
    return which;
}

SvMigrationParams *
sv_migrate_params_from_wire(const remote_typed_param *params, guint n, GError **error)
{
    g_autoptr(SvMigrationParams) out = sv_migration_params_new();
    g_autofree guint *order = g_new(guint, n ? n : 1);
    const char *last = NULL;

    for (guint i = 0; i < n; i++)
        order[i] = i;
    g_qsort_with_data(order, (gint)n, sizeof(guint), by_field, (gpointer)params);
    for (guint i = 0; i < n; i++) {
        const remote_typed_param *p = &params[order[i]];
        int which = check_one(p, last, error);
        SvMigrationValue v;

        if (which < 0)
            return NULL;
        last = p->field;
        v = value_of(p);
        sv_migration_params_set(out, (guint)which, &v);
    }
    /* Repeatable ones keep the order the caller gave them in: set them again in it. */
    g_clear_pointer(&out->migrate_disks, g_strfreev);
    g_clear_pointer(&out->tuning.compression, g_strfreev);
    for (guint i = 0; i < n; i++) {
        guint k;
        const SvMigrationParamInfo *known = sv_migration_params_known(&k);
        SvMigrationValue v = value_of(&params[i]);

        for (guint j = 0; j < k; j++) {
            if (known[j].multiple && g_str_equal(known[j].name, params[i].field))
                sv_migration_params_set(out, j, &v);
        }
    }
    return g_steal_pointer(&out);
}

static void
add_one(const char *name, const SvMigrationValue *value, gpointer data)
{
    GArray *wire = data;

    switch (value->type) {
    case SV_TYPED_PARAM_INT: sv_typed_params_add_int(wire, value->v.i, "%s", name); break;
    case SV_TYPED_PARAM_ULLONG: sv_typed_params_add_ullong(wire, value->v.ul, "%s", name); break;
    case SV_TYPED_PARAM_STRING: sv_typed_params_add_string(wire, value->v.s, "%s", name); break;
    default: g_assert_not_reached();
    }
}

GArray *
sv_migrate_params_to_wire(const SvMigrationParams *p)
{
    GArray *wire = g_array_new(FALSE, TRUE, sizeof(remote_typed_param));

    sv_migration_params_foreach(p, add_one, wire);
    return wire;
}

void
sv_migrate_params_wire_free(GArray *wire)
{
    if (!wire)
        return;
    for (guint i = 0; i < wire->len; i++)
        xdr_free((xdrproc_t)xdr_remote_typed_param,
                 (char *)&g_array_index(wire, remote_typed_param, i));
    g_array_free(wire, TRUE);
}
