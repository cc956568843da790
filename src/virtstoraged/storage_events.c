/* storage_events.c: storage pool event registrations and their fan-out (storage_events.h), on
 * the shared object-event registrations (a pool is named by its UUID there). */
#include "storage_events.h"

#include "conf/uuid.h"
#include "programs/object_events.h"

static SvObjectEvents pool_events = SV_OBJECT_EVENTS_INIT("storage pool",
                                                          SV_STORAGE_POOL_EVENT_ID_LAST);

static gboolean
register_any(SvCall *call, remote_connect_storage_pool_event_register_any_args *a,
             remote_connect_storage_pool_event_register_any_ret *ret, GError **error)
{
    char uuid[SV_UUID_STRING_LEN + 1];
    int id;

    if (a->pool)
        sv_uuid_format((const guint8 *)a->pool->uuid, uuid);
    id = sv_object_events_register(&pool_events, sv_call_get_client(call), a->eventID,
                                   a->pool ? uuid : NULL, error);
    if (id < 0)
        return FALSE;
    ret->callbackID = id;
    return TRUE;
}

static gboolean
deregister_any(SvCall *call, remote_connect_storage_pool_event_deregister_any_args *a,
               GError **error)
{
    return sv_object_events_deregister(&pool_events, sv_call_get_client(call), a->callbackID,
                                       error);
}

void
storage_events_install(SvRemoteHandlers *h)
{
    h->connect_storage_pool_event_register_any = register_any;
    h->connect_storage_pool_event_deregister_any = deregister_any;
}

typedef struct {
    const remote_nonnull_storage_pool *pool;
    int event; /* -1: REFRESH */
} Emit;

static void
send_lifecycle(SvClient *c, int callback_id, gpointer data)
{
    const Emit *e = data;
    remote_storage_pool_event_lifecycle_msg m = {callback_id, *e->pool, e->event, 0};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_STORAGE_POOL_EVENT_LIFECYCLE,
                         (xdrproc_t)xdr_remote_storage_pool_event_lifecycle_msg, &m);
}

static void
send_refresh(SvClient *c, int callback_id, gpointer data)
{
    const Emit *e = data;
    remote_storage_pool_event_refresh_msg m = {callback_id, *e->pool};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_STORAGE_POOL_EVENT_REFRESH,
                         (xdrproc_t)xdr_remote_storage_pool_event_refresh_msg, &m);
}

void
storage_events_emit(SvServer *srv, const remote_nonnull_storage_pool *p, int event)
{
    Emit e = {p, event};
    char uuid[SV_UUID_STRING_LEN + 1];

    sv_uuid_format((const guint8 *)p->uuid, uuid);
    if (event < 0)
        sv_object_events_emit(&pool_events, srv, SV_STORAGE_POOL_EVENT_ID_REFRESH, uuid,
                              send_refresh, &e);
    else
        sv_object_events_emit(&pool_events, srv, SV_STORAGE_POOL_EVENT_ID_LIFECYCLE, uuid,
                              send_lifecycle, &e);
}
