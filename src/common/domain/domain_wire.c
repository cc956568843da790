/* domain_wire.c: domain objects to wire domains and client handles back to objects. */
#include "domain/domain_wire.h"

#include <string.h>

#include "conf/uuid.h"
#include "util/error.h"

void
sv_typed_param_set_llong(remote_typed_param *p, const char *field, gint64 v)
{
    p->field = g_strdup(field);
    p->value.type = SV_TYPED_PARAM_LLONG;
    p->value.remote_typed_param_value_u.l = v;
}

void
sv_typed_param_set_ullong(remote_typed_param *p, const char *field, guint64 v)
{
    p->field = g_strdup(field);
    p->value.type = SV_TYPED_PARAM_ULLONG;
    p->value.remote_typed_param_value_u.ul = v;
}

void
sv_domain_objs_to_remote(GPtrArray *objs, remote_nonnull_domain *out)
{
    /* Thousands of objects, their definitions and names are scattered over the heap:
     * ask for each a few steps ahead (object, then its definition, then the name), so
     * the loop does not wait on memory three times per domain. */
    enum { AHEAD = 12 };
    SvDomainObj **o = (SvDomainObj **)objs->pdata;
    guint n = objs->len;

    for (guint i = 0; i < n; i++) {
        if (i + AHEAD < n)
            __builtin_prefetch(o[i + AHEAD]);
        if (i + AHEAD / 2 < n)
            __builtin_prefetch(o[i + AHEAD / 2]->def);
        if (i + AHEAD / 4 < n) {
            __builtin_prefetch(o[i + AHEAD / 4]->def->name);
            __builtin_prefetch(o[i + AHEAD / 4]->def->uuid);
        }
        sv_domain_obj_to_remote(o[i], &out[i]);
    }
}

void
sv_domain_obj_to_remote(const SvDomainObj *obj, remote_nonnull_domain *out)
{
    out->name = g_strdup(obj->def->name);
    memcpy(out->uuid, obj->def->uuid, 16);
    out->id = obj->id;
}

SvDomainObj *
sv_domain_list_lookup_handle(SvDomainList *list, const remote_nonnull_domain *dom, int from,
                             GError **error)
{
    SvDomainObj *obj = sv_domain_list_find_by_uuid(list, (const guint8 *)dom->uuid);
    char uuid[37];

    if (!obj) {
        sv_uuid_format((const guint8 *)dom->uuid, uuid);
        sv_error_set(error, from, SV_ERR_NO_DOMAIN, "no domain with matching uuid '%s' (%s)", uuid,
                     dom->name);
    }
    return obj;
}
