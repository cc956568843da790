/* object_events.c: secondary drivers' object event registrations (object_events.h). */
#include "programs/object_events.h"

#include <string.h>

#include "util/error.h"

typedef struct {
    int callback_id;
    int event_id;
    gboolean any;      /* every object, else only `uuid` */
    guint8 uuid[16];
} Registration;

/* Callback ids are the daemon's, as libvirt's event state numbers them: never reused. */
static int next_callback_id = 1;

/* Per connection and kind. */
#define REGISTRATIONS_MAX 1024

static GArray *
regs_of(SvClient *c, const SvObjectEvents *kind, gboolean create)
{
    GArray *regs = sv_client_attachment(c, &kind->key);

    if (!regs && create) {
        regs = g_array_new(FALSE, FALSE, sizeof(Registration));
        sv_client_attach(c, &kind->key, regs, (GDestroyNotify)g_array_unref);
    }
    return regs;
}

gboolean
sv_object_events_register(SvCall *call, const SvObjectEvents *kind, int event_id,
                          const guint8 *uuid, int *ret_callback_id, GError **error)
{
    Registration r = {.event_id = event_id, .any = uuid == NULL};
    GArray *regs;

    if (event_id < 0 || event_id >= kind->n_event_ids) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "unsupported %s event ID %d",
                     kind->noun, event_id);
        return FALSE;
    }
    regs = regs_of(sv_call_get_client(call), kind, TRUE);
    if (regs->len >= REGISTRATIONS_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                     "too many %s event registrations", kind->noun);
        return FALSE;
    }
    if (uuid)
        memcpy(r.uuid, uuid, 16);
    r.callback_id = next_callback_id++;
    g_array_append_val(regs, r);
    *ret_callback_id = r.callback_id;
    return TRUE;
}

gboolean
sv_object_events_deregister(SvCall *call, const SvObjectEvents *kind, int callback_id,
                            GError **error)
{
    GArray *regs = regs_of(sv_call_get_client(call), kind, FALSE);

    for (guint i = 0; regs && i < regs->len; i++) {
        if (g_array_index(regs, Registration, i).callback_id == callback_id) {
            g_array_remove_index(regs, i);
            return TRUE;
        }
    }
    sv_error_set_literal(error, SV_FROM_RPC, SV_ERR_RPC, "%s event callback %d not registered",
                         kind->noun, callback_id);
    return FALSE;
}

typedef struct {
    const SvObjectEvents *kind;
    int event_id;
    const guint8 *uuid;
    SvObjectEventSend send;
    gpointer data;
} Emit;

static void
emit_to_client(SvClient *c, gpointer data)
{
    const Emit *e = data;
    GArray *regs = regs_of(c, e->kind, FALSE);

    for (guint i = 0; regs && sv_client_is_open(c) && i < regs->len; i++) {
        const Registration *r = &g_array_index(regs, Registration, i);
        if (r->event_id == e->event_id && (r->any || memcmp(r->uuid, e->uuid, 16) == 0))
            e->send(c, r->callback_id, e->data);
    }
}

void
sv_object_events_emit(SvServer *srv, const SvObjectEvents *kind, int event_id,
                      const guint8 uuid[16], SvObjectEventSend send, gpointer data)
{
    Emit e = {kind, event_id, uuid, send, data};

    sv_server_foreach_client(srv, emit_to_client, &e);
}
