/* secret_events.c: secret event registrations and their fan-out (secret_events.h), on the
 * shared object-event registrations. */
#include "secret_events.h"

#include "conf/uuid.h"
#include "programs/object_events.h"

static SvObjectEvents secret_events = {
    .key = {"secret event registrations", SV_ATTACH_LEVEL_DRIVER},
    .family = "secret",
    .deregister_family = "node device",
    .n_event_ids = SV_SECRET_EVENT_ID_LAST,
    .next_callback_id = 0,
};

static gboolean
register_any(SvCall *call, remote_connect_secret_event_register_any_args *a,
             remote_connect_secret_event_register_any_ret *ret, GError **error)
{
    char uuid[SV_UUID_STRING_LEN + 1];
    int id;

    if (a->secret)
        sv_uuid_format((const guint8 *)a->secret->uuid, uuid);
    id = sv_object_events_register(&secret_events, sv_call_get_client(call), a->eventID,
                                   a->secret ? uuid : NULL, error);
    if (id < 0)
        return FALSE;
    ret->callbackID = id;
    return TRUE;
}

static gboolean
deregister_any(SvCall *call, remote_connect_secret_event_deregister_any_args *a, GError **error)
{
    return sv_object_events_deregister(&secret_events, sv_call_get_client(call), a->callbackID,
                                       error);
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
send_lifecycle(SvClient *c, int callback_id, gpointer data)
{
    const Emit *e = data;
    remote_secret_event_lifecycle_msg m = {callback_id, *e->secret, e->event, 0};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_SECRET_EVENT_LIFECYCLE,
                         (xdrproc_t)xdr_remote_secret_event_lifecycle_msg, &m);
}

static void
send_value_changed(SvClient *c, int callback_id, gpointer data)
{
    const Emit *e = data;
    remote_secret_event_value_changed_msg m = {callback_id, *e->secret};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_SECRET_EVENT_VALUE_CHANGED,
                         (xdrproc_t)xdr_remote_secret_event_value_changed_msg, &m);
}

void
secret_events_emit(SvServer *srv, const remote_nonnull_secret *s, int event)
{
    Emit e = {s, event};
    char uuid[SV_UUID_STRING_LEN + 1];

    sv_uuid_format((const guint8 *)s->uuid, uuid);
    if (event < 0)
        sv_object_events_emit(&secret_events, srv, SV_SECRET_EVENT_ID_VALUE_CHANGED, uuid,
                              send_value_changed, &e);
    else
        sv_object_events_emit(&secret_events, srv, SV_SECRET_EVENT_ID_LIFECYCLE, uuid,
                              send_lifecycle, &e);
}
