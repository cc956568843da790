/* object_events.h: the event registrations of an object family other than domains
 * (node devices, secrets, storage pools...), as libvirt's remote dispatcher keeps them:
 * CONNECT_<FAMILY>_EVENT_REGISTER_ANY gives each registration a callback id (the daemon's,
 * never reused), optionally limited to one object; DEREGISTER_ANY removes it; an event
 * goes to every registration of its event id whose object matches. */
#pragma once

#include "rpc/server.h"

/* One family's registrations in a daemon: define one static instance with
 * SV_OBJECT_EVENTS_INIT; the struct's address is the per-connection attachment key. */
typedef struct {
    SvAttachKey key;
    const char *family; /* "node device": libvirt's word for the family in its errors */
    /* The word libvirt's DEREGISTER_ANY error uses when it is not `family` (libvirt 9.0's
     * secret dispatcher says "node device"); NULL: family. */
    const char *deregister_family;
    int n_event_ids; /* the family's _EVENT_ID_LAST */
    int next_callback_id; /* libvirt's count starts at 0 */
} SvObjectEvents;

#define SV_OBJECT_EVENTS_INIT(family_, n_ids_)                                               \
    {                                                                                        \
        .key = {family_ " event registrations", SV_ATTACH_LEVEL_DRIVER}, .family = family_, \
        .n_event_ids = n_ids_, .next_callback_id = 0,                                        \
    }

/* At most this many registrations per connection (a client-controlled resource). */
#define SV_OBJECT_EVENTS_MAX 1024

/* Register c for event_id on the object named `object` (copied), or on every object for
 * NULL; its callback id, or -1 with libvirt's error for an event id out of range
 * (INTERNAL_ERROR "unsupported FAMILY event ID N", in the RPC domain), for a registration c
 * has already (the same event id and object: INVALID_ARG "event callback already tracked",
 * no domain; no id is used up) or when the connection has SV_OBJECT_EVENTS_MAX already. */
int sv_object_events_register(SvObjectEvents *fam, SvClient *c, int event_id,
                              const char *object, GError **error);

/* Remove c's registration callback_id; FALSE with libvirt's error (INTERNAL_ERROR
 * "FAMILY event callback N not registered", RPC domain, FAMILY the deregister_family if
 * set) when c has none with that id. */
gboolean sv_object_events_deregister(SvObjectEvents *fam, SvClient *c, int callback_id,
                                     GError **error);

/* Called once per matching registration: send the event to c with this callback id. */
typedef void (*SvObjectEventSend)(SvClient *c, int callback_id, gpointer data);

/* Call send for every registration, on srv's open connections, of event_id on every
 * object or on `object`. */
void sv_object_events_emit(SvObjectEvents *fam, SvServer *srv, int event_id, const char *object,
                           SvObjectEventSend send, gpointer data);
