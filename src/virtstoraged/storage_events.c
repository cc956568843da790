/* storage_events.c: storage pool event registrations and their fan-out (storage_events.h). */
#include "storage_events.h"

#include <string.h>

#include "util/error.h"

typedef struct {
    int callback_id;
    int event_id;           /* SV_STORAGE_POOL_EVENT_ID_* */
    gboolean any;           /* every pool, else only `uuid` */
    guint8 uuid[16];
} Registration;

static const SvAttachKey regs_key = {"storage pool event registrations",
                                     SV_ATTACH_LEVEL_DRIVER};

/* Callback ids are the daemon's, as libvirt's event state numbers them: never reused. */
static int next_callback_id = 1;

/* Per connection; at most this many registrations (a client-controlled resource). */
#define STORAGE_EVENT_REGISTRATIONS_MAX 1024

static GArray *
regs_of(SvClient *c, gboolean create)
{
    GArray *regs = sv_client_attachment(c, &regs_key);

    if (!regs && create) {
        regs = g_array_new(FALSE, FALSE, sizeof(Registration));
        sv_client_attach(c, &regs_key, regs, (GDestroyNotify)g_array_unref);
    }
    return regs;
}

static gboolean
register_any(SvCall *call, remote_connect_storage_pool_event_register_any_args *a,
             remote_connect_storage_pool_event_register_any_ret *ret, GError **error)
{
    Registration r = {.event_id = a->eventID, .any = a->pool == NULL};
    GArray *regs;

    if (a->eventID < 0 || a->eventID >= SV_STORAGE_POOL_EVENT_ID_LAST) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                     "unsupported storage pool event ID %d", a->eventID);
        return FALSE;
    }
    regs = regs_of(sv_call_get_client(call), TRUE);
    if (regs->len >= STORAGE_EVENT_REGISTRATIONS_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                     "too many storage pool event registrations");
        return FALSE;
    }
    if (a->pool)
        memcpy(r.uuid, a->pool->uuid, 16);
    r.callback_id = next_callback_id++;
    g_array_append_val(regs, r);
    ret->callbackID = r.callback_id;
    return TRUE;
}

static gboolean
deregister_any(SvCall *call, remote_connect_storage_pool_event_deregister_any_args *a,
               GError **error)
{
    GArray *regs = regs_of(sv_call_get_client(call), FALSE);

    for (guint i = 0; regs && i < regs->len; i++) {
        if (g_array_index(regs, Registration, i).callback_id == a->callbackID) {
            g_array_remove_index(regs, i);
            return TRUE;
        }
    }
    sv_error_set_literal(error, SV_FROM_RPC, SV_ERR_RPC,
                         "storage pool event callback %d not registered", a->callbackID);
    return FALSE;
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
emit_to_client(SvClient *c, gpointer data)
{
    const Emit *e = data;
    GArray *regs = regs_of(c, FALSE);
    int want = e->event < 0 ? SV_STORAGE_POOL_EVENT_ID_REFRESH : SV_STORAGE_POOL_EVENT_ID_LIFECYCLE;

    for (guint i = 0; regs && sv_client_is_open(c) && i < regs->len; i++) {
        const Registration *r = &g_array_index(regs, Registration, i);
        if (r->event_id != want || (!r->any && memcmp(r->uuid, e->pool->uuid, 16) != 0))
            continue;
        if (e->event < 0) {
            remote_storage_pool_event_refresh_msg m = {r->callback_id, *e->pool};
            sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                                 REMOTE_PROC_STORAGE_POOL_EVENT_REFRESH,
                                 (xdrproc_t)xdr_remote_storage_pool_event_refresh_msg, &m);
        } else {
            remote_storage_pool_event_lifecycle_msg m = {r->callback_id, *e->pool, e->event, 0};
            sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                                 REMOTE_PROC_STORAGE_POOL_EVENT_LIFECYCLE,
                                 (xdrproc_t)xdr_remote_storage_pool_event_lifecycle_msg, &m);
        }
    }
}

void
storage_events_emit(SvServer *srv, const remote_nonnull_storage_pool *p, int event)
{
    Emit e = {p, event};

    sv_server_foreach_client(srv, emit_to_client, &e);
}
