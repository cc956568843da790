/* secret_events.c: secret event registrations and their fan-out (secret_events.h), on the
 * shared object events (programs/object_events.h). */
#include "secret_events.h"

#include "programs/object_events.h"

static const SvObjectEvents secret_events = {
    {"secret event registrations", SV_ATTACH_LEVEL_DRIVER},
    "secret",
    SV_SECRET_EVENT_ID_LAST,
};

static gboolean
register_any(SvCall *call, remote_connect_secret_event_register_any_args *a,
             remote_connect_secret_event_register_any_ret *ret, GError **error)
{
    return sv_object_events_register(call, &secret_events, a->eventID,
                                     a->secret ? (const guint8 *)a->secret->uuid : NULL,
                                     &ret->callbackID, error);
}

static gboolean
deregister_any(SvCall *call, remote_connect_secret_event_deregister_any_args *a, GError **error)
{
    return sv_object_events_deregister(call, &secret_events, a->callbackID, error);
}

void
secret_events_install(SvRemoteHandlers *h)
{
    h->connect_secret_event_register_any = register_any;
    h->connect_secret_event_deregister_any = deregister_any;
}

typedef struct {
    const remote_nonnull_secret *secret;
    int event; /* -1: VALUE_CHANGED */
} Emit;

static void
send_event(SvClient *c, int callback_id, gpointer data)
{
    const Emit *e = data;

    if (e->event < 0) {
        remote_secret_event_value_changed_msg m = {callback_id, *e->secret};
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_SECRET_EVENT_VALUE_CHANGED,
                             (xdrproc_t)xdr_remote_secret_event_value_changed_msg, &m);
    } else {
        remote_secret_event_lifecycle_msg m = {callback_id, *e->secret, e->event, 0};
        sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                             REMOTE_PROC_SECRET_EVENT_LIFECYCLE,
                             (xdrproc_t)xdr_remote_secret_event_lifecycle_msg, &m);
    }
}

void
secret_events_emit(SvServer *srv, const remote_nonnull_secret *s, int event)
{
    Emit e = {s, event};

    sv_object_events_emit(srv, &secret_events,
                          event < 0 ? SV_SECRET_EVENT_ID_VALUE_CHANGED
                                    : SV_SECRET_EVENT_ID_LIFECYCLE,
                          (const guint8 *)s->uuid, send_event, &e);
}
