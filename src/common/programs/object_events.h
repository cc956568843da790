/* object_events.h: the event registrations of a secondary driver's objects (secrets,
 * storage pools, ...), libvirt's one style for them: CONNECT_<OBJECT>_EVENT_REGISTER_ANY
 * with an event id and an optional object (by UUID) gives a callback id, DEREGISTER_ANY
 * takes it back, and each event goes to every registration of a client that matches. */
#pragma once

#include "rpc/server.h"

/* One kind of object's registrations: a static instance per kind. */
typedef struct {
    SvAttachKey key;     /* where a client's registrations hang: {"...", level} */
    const char *noun;    /* libvirt's word in its errors: "secret", "storage pool" */
    int n_event_ids;     /* the event ids accepted: 0 .. n_event_ids - 1 */
} SvObjectEvents;

/* REGISTER_ANY: event_id for the object of uuid (NULL: every object); *ret_callback_id is
 * the daemon's, never reused. Refused with libvirt's errors for an unknown event id, and
 * past a client's limit (a client-controlled resource). */
gboolean sv_object_events_register(SvCall *call, const SvObjectEvents *kind, int event_id,
                                   const guint8 *uuid, int *ret_callback_id, GError **error);

/* DEREGISTER_ANY of callback_id, with libvirt's error when the client has no such one. */
gboolean sv_object_events_deregister(SvCall *call, const SvObjectEvents *kind,
                                     int callback_id, GError **error);

/* Called for each registration an event goes to. */
typedef void (*SvObjectEventSend)(SvClient *c, int callback_id, gpointer data);

/* An event event_id of the object uuid: send() for every open client's registration of
 * that id on that object or on every object. */
void sv_object_events_emit(SvServer *srv, const SvObjectEvents *kind, int event_id,
                           const guint8 uuid[16], SvObjectEventSend send, gpointer data);
