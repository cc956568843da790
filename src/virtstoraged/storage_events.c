/* storage_events.c: storage pool event registrations and their fan-out (storage_events.h),
 * on the shared object events (programs/object_events.h). */
#include "storage_events.h"

#include "programs/object_events.h"

static const SvObjectEvents pool_events = {
    {"storage pool event registrations", SV_ATTACH_LEVEL_DRIVER},
    "storage pool",
    SV_STORAGE_POOL_EVENT_ID_LAST,
};

static gboolean
register_any(SvCall *call, remote_connect_storage_pool_event_register_any_args *a,
             remote_connect_storage_pool_event_register_any_ret *ret, GError **error)
{
    return sv_object_events_register(call, &pool_events, a->eventID,
                                     a->pool ? (const guint8 *)a->pool->uuid : NULL,
                                     &ret->callbackID, error);
}

static gboolean
deregister_any(SvCall *call, remote_connect_storage_pool_event_deregister_any_args *a,
               GError **error)
{
    return sv_object_events_deregister(call, &pool_events, a->callbackID, error);
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
send_event(SvClient *c, int callback_id, gpointer data)
{
    const Emit *e = data;

    if (e->event < 0) {
        remote_storage_pool_event_refresh_msg m = {callback_id, *e->pool};
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_STORAGE_POOL_EVENT_REFRESH,
                             (xdrproc_t)xdr_remote_storage_pool_event_refresh_msg, &m);
    } else {
        remote_storage_pool_event_lifecycle_msg m = {callback_id, *e->pool, e->event, 0};
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_STORAGE_POOL_EVENT_LIFECYCLE,
                             (xdrproc_t)xdr_remote_storage_pool_event_lifecycle_msg, &m);
    }
}

void
storage_events_emit(SvServer *srv, const remote_nonnull_storage_pool *p, int event)
{
    Emit e = {p, event};

    sv_object_events_emit(srv, &pool_events,
                          event < 0 ? SV_STORAGE_POOL_EVENT_ID_REFRESH
                                    : SV_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                          (const guint8 *)p->uuid, send_event, &e);
}
