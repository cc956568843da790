/* domain_wire.h: the one place the domain model (conf/) and the wire (protocol/) meet: a
 * domain object as the remote program names it, and back. */
#pragma once

#include <glib.h>

#include "conf/domain_obj.h"
#include "protocol/sv_remote.h"

/* Fill a typed parameter (field copied) with a 64-bit value: LLONG, or ULLONG. */
void sv_typed_param_set_llong(remote_typed_param *p, const char *field, gint64 v);
void sv_typed_param_set_ullong(remote_typed_param *p, const char *field, guint64 v);

/* Fill a wire domain (name copied). */
void sv_domain_obj_to_remote(const SvDomainObj *obj, remote_nonnull_domain *out);
/* The same for every object of objs, into out (objs->len elements), in order. */
void sv_domain_objs_to_remote(GPtrArray *objs, remote_nonnull_domain *out);

/* Look up the object a client's handle names (by UUID), or fail with NO_DOMAIN
 * "no domain with matching uuid '%s' (%s)" in error domain `from`. */
SvDomainObj *sv_domain_list_lookup_handle(SvDomainList *list, const remote_nonnull_domain *dom,
                                          int from, GError **error);
