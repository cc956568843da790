/* domain_metadata.c: a domain's title, description and <metadata> elements, changed in its
 * live definition, its persistent one or both, on disk before the reply, and the
 * METADATA_CHANGE event after it, as every libvirt 9.0 driver does (qemu, lxc, libxl). */
#include "domain/domain_metadata.h"

#include <string.h>

#include "conf/domain_metadata.h"
#include "domain/domain_modify.h"
#include "util/error.h"

#define AFFECT_BOTH (SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG)

/* libvirt's argument checks (virReportInvalidNullArg / NonNullArg of libvirt-domain.c),
 * which its daemon runs too: a raw client meets them here. */
static gboolean
arg_null(const char *value, gboolean must_be_null, const char *arg, const char *api,
         GError **error)
{
    if ((value == NULL) == must_be_null)
        return TRUE;
    sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG, "%s in %s must %sbe NULL",
                         arg, api, must_be_null ? "" : "not ");
    return FALSE;
}

static gboolean
check_set_args(int type, const char *metadata, const char *key, const char *uri,
               GError **error)
{
    const char *api = "virDomainSetMetadata";

    switch (type) {
    case SV_DOMAIN_METADATA_TITLE:
        if (metadata && strchr(metadata, '\n')) {
            sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                                 "metadata title can't contain newlines");
            return FALSE;
        }
        /* fall through */
    case SV_DOMAIN_METADATA_DESCRIPTION:
        return arg_null(uri, TRUE, "uri", api, error) && arg_null(key, TRUE, "key", api, error);
    case SV_DOMAIN_METADATA_ELEMENT:
        return arg_null(uri, FALSE, "uri", api, error) &&
               (!metadata || arg_null(key, FALSE, "key", api, error));
    default:
        return TRUE; /* the driver refuses it */
    }
}

static gboolean
check_get_args(int type, const char *uri, guint flags, GError **error)
{
    if ((flags & AFFECT_BOTH) == AFFECT_BOTH) {
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                             "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' "
                             "are mutually exclusive");
        return FALSE;
    }
    switch (type) {
    case SV_DOMAIN_METADATA_TITLE:
    case SV_DOMAIN_METADATA_DESCRIPTION:
        return arg_null(uri, TRUE, "uri", "virDomainGetMetadata", error);
    case SV_DOMAIN_METADATA_ELEMENT:
        return arg_null(uri, FALSE, "uri", "virDomainGetMetadata", error);
    default:
        return TRUE;
    }
}

/* ---------------------------------------------------------------- the event */

typedef struct {
    remote_nonnull_domain dom;
    int type;
    char *nsuri;
} MetadataEvent;

static void
send_metadata_change(SvClient *c, int callback_id, gpointer data)
{
    MetadataEvent *e = data;
    remote_domain_event_callback_metadata_change_msg m = {callback_id, e->dom, e->type,
                                                          e->nsuri ? &e->nsuri : NULL};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_DOMAIN_EVENT_CALLBACK_METADATA_CHANGE,
                         (xdrproc_t)xdr_remote_domain_event_callback_metadata_change_msg, &m);
}

/* ---------------------------------------------------------------- set */

typedef struct {
    SvDomainDriver *drv;
    SvCall *call; /* deferred */
    guint8 uuid[16];
    int type;
    char *uri;
} SetJob;

static void
set_saved(const GError *error, gpointer data)
{
    SetJob *job = data;
    SvDomainObj *obj = sv_domain_list_find_by_uuid(job->drv->list, job->uuid);
    MetadataEvent e = {{0}, job->type, job->uri};

    if (error) {
        sv_call_fail(job->call, g_error_copy(error));
    } else {
        sv_call_reply(job->call, NULL);
        if (obj) {
            sv_domain_obj_to_remote(obj, &e.dom);
            sv_remote_emit_callback_event(job->drv->server,
                                          SV_DOMAIN_EVENT_ID_METADATA_CHANGE, job->uuid,
                                          send_metadata_change, &e);
            g_free(e.dom.name);
        }
    }
    g_free(job->uri);
    g_free(job);
}

gboolean
sv_domain_metadata_set(SvCall *call, remote_domain_set_metadata_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const char *metadata = a->metadata ? *a->metadata : NULL;
    const char *key = a->key ? *a->key : NULL;
    const char *uri = a->uri ? *a->uri : NULL;
    guint flags = a->flags;
    SvDomainDef *live, *config;
    SvDomainObj *obj;
    SetJob *job;

    if (!check_set_args(a->type, metadata, key, uri, error) ||
        !sv_domain_driver_check_flags(drv, flags, AFFECT_BOTH, "DomainSetMetadata", error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj || !sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    if (live && !sv_domain_def_set_metadata(live, a->type, metadata, key, uri, error))
        return FALSE;
    if (config && !sv_domain_def_set_metadata(config, a->type, metadata, key, uri, error))
        return FALSE;
    job = g_new0(SetJob, 1);
    job->drv = drv;
    job->call = sv_call_defer(call);
    memcpy(job->uuid, obj->def->uuid, 16);
    job->type = a->type;
    job->uri = g_strdup(uri);
    sv_domain_modify_save(drv, obj, live != NULL, config != NULL, set_saved, job);
    return TRUE;
}

/* ---------------------------------------------------------------- get */

gboolean
sv_domain_metadata_get(SvCall *call, remote_domain_get_metadata_args *a,
                       remote_domain_get_metadata_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const char *uri = a->uri ? *a->uri : NULL;
    SvDomainObj *obj;
    const SvDomainDef *def;

    if (!check_get_args(a->type, uri, a->flags, error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj)
        return FALSE;
    /* libvirt checks these flags in virDomainObjGetMetadata, under that name. */
    if (!sv_check_flags(a->flags, AFFECT_BOTH, SV_FROM_DOMAIN, "virDomainObjGetMetadata",
                        error))
        return FALSE;
    def = sv_domain_modify_one_def(obj, a->flags, error);
    if (!def)
        return FALSE;
    ret->metadata = sv_domain_def_get_metadata(def, a->type, uri, error);
    return ret->metadata != NULL;
}
