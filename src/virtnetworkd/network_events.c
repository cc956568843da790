/* network_events.c: network event registrations and their fan-out (network_events.h), on
 * the shared object-event registrations (a network is named by its UUID there). */
#include "network_events.h"

#include "conf/uuid.h"
#include "programs/object_events.h"

static SvObjectEvents network_events = SV_OBJECT_EVENTS_INIT("network",
                                                             SV_NETWORK_EVENT_ID_LAST);

static gboolean
register_any(SvCall *call, remote_connect_network_event_register_any_args *a,
             remote_connect_network_event_register_any_ret *ret, GError **error)
{
    char uuid[SV_UUID_STRING_LEN + 1];
    int id;

    if (a->net)
        sv_uuid_format((const guint8 *)a->net->uuid, uuid);
    id = sv_object_events_register(&network_events, sv_call_get_client(call), a->eventID,
                                   a->net ? uuid : NULL, error);
    if (id < 0)
        return FALSE;
    ret->callbackID = id;
    return TRUE;
}

static gboolean
deregister_any(SvCall *call, remote_connect_network_event_deregister_any_args *a,
               GError **error)
{
    return sv_object_events_deregister(&network_events, sv_call_get_client(call),
                                       a->callbackID, error);
}

void
network_events_install(SvRemoteHandlers *h)
{
    h->connect_network_event_register_any = register_any;
    h->connect_network_event_deregister_any = deregister_any;
}

typedef struct {
    const remote_nonnull_network *net;
    int event;
} Emit;

static void
send_lifecycle(SvClient *c, int callback_id, gpointer data)
{
    const Emit *e = data;
    remote_network_event_lifecycle_msg m = {callback_id, *e->net, e->event, 0};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_NETWORK_EVENT_LIFECYCLE,
                         (xdrproc_t)xdr_remote_network_event_lifecycle_msg, &m);
}

void
network_events_emit(SvServer *srv, const remote_nonnull_network *n, int event)
{
    Emit e = {n, event};
    char uuid[SV_UUID_STRING_LEN + 1];

    sv_uuid_format((const guint8 *)n->uuid, uuid);
    sv_object_events_emit(&network_events, srv, SV_NETWORK_EVENT_ID_LIFECYCLE, uuid,
                          send_lifecycle, &e);
}
