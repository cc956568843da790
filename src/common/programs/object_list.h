/* object_list.h: what the list calls of the object families other than domains share
 * (storage pools, networks...): libvirt's virXxxObjListNumOf, virXxxObjListGetNames and the
 * filter groups of virXxxObjListExport, over a daemon's own array of objects. */
#pragma once

#include <glib.h>
#include <rpc/types.h>

/* Whether an object of the array is active; its name (transfer none). */
typedef gboolean (*SvObjectActiveFunc)(gconstpointer obj);
typedef const char *(*SvObjectNameFunc)(gconstpointer obj);

/* How many objects of objs are active (or inactive). */
int sv_object_list_count(GPtrArray *objs, SvObjectActiveFunc is_active, gboolean active);

/* The names of the active (or inactive) objects, at most maxnames, into a new array
 * (*out, *out_len); libvirt's RPC error "maxnames > LIMIT_NAME" when maxnames passes the
 * protocol's limit. */
gboolean sv_object_list_names(GPtrArray *objs, SvObjectActiveFunc is_active,
                              SvObjectNameFunc name_of, gboolean active, int maxnames,
                              int limit, const char *limit_name, char ***out, u_int *out_len,
                              GError **error);

/* libvirt's filter groups (ACTIVE/INACTIVE, PERSISTENT/TRANSIENT, ...): a group with neither
 * of its bits in flags lets everything through; else value must be the one asked for. */
gboolean sv_object_list_filter(unsigned int flags, unsigned int yes, unsigned int no,
                               gboolean value);
