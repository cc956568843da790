/* object_events.c: an object family's event registrations and their fan-out
 * (object_events.h). */
#include "programs/object_events.h"

#include "util/error.h"

typedef struct {
    int callback_id;
    int event_id;
    char *object; /* NULL: every object */
} Registration;

static void
registration_clear(gpointer p)
{
    g_free(((Registration *)p)->object);
}

static GArray *
regs_of(SvObjectEvents *fam, SvClient *c, gboolean create)
{
    GArray *regs = sv_client_attachment(c, &fam->key);

    if (!regs && create) {
        regs = g_array_new(FALSE, FALSE, sizeof(Registration));
        g_array_set_clear_func(regs, registration_clear);
        sv_client_attach(c, &fam->key, regs, (GDestroyNotify)g_array_unref);
    }
    return regs;
}

int
sv_object_events_register(SvObjectEvents *fam, SvClient *c, int event_id, const char *object,
                          GError **error)
{
    Registration r = {.event_id = event_id};
    GArray *regs;

    if (event_id < 0 || event_id >= fam->n_event_ids) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "unsupported %s event ID %d",
                     fam->family, event_id);
        return -1;
    }
    regs = regs_of(fam, c, TRUE);
    for (guint i = 0; i < regs->len; i++) {
        const Registration *o = &g_array_index(regs, Registration, i);
        if (o->event_id == event_id && g_strcmp0(o->object, object) == 0) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG, "event callback already tracked");
            return -1;
        }
    }
    if (regs->len >= SV_OBJECT_EVENTS_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                     "too many %s event registrations", fam->family);
        return -1;
    }
    r.object = g_strdup(object);
    r.callback_id = fam->next_callback_id++;
    g_array_append_val(regs, r);
    return r.callback_id;
}

gboolean
sv_object_events_deregister(SvObjectEvents *fam, SvClient *c, int callback_id, GError **error)
{
    GArray *regs = regs_of(fam, c, FALSE);

    for (guint i = 0; regs && i < regs->len; i++) {
        if (g_array_index(regs, Registration, i).callback_id == callback_id) {
            g_array_remove_index(regs, i);
            return TRUE;
        }
    }
    sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "%s event callback %d not registered",
                 fam->deregister_family ? fam->deregister_family : fam->family, callback_id);
    return FALSE;
}

typedef struct {
    SvObjectEvents *fam;
    int event_id;
    const char *object;
    SvObjectEventSend send;
    gpointer data;
} Emit;

static void
emit_to_client(SvClient *c, gpointer data)
{
    const Emit *e = data;
    GArray *regs = regs_of(e->fam, c, FALSE);

    /* a send may close c (its output queue over the limit): stop there */
    for (guint i = 0; regs && sv_client_is_open(c) && i < regs->len; i++) {
        const Registration *r = &g_array_index(regs, Registration, i);
        if (r->event_id == e->event_id && (!r->object || g_strcmp0(r->object, e->object) == 0))
            e->send(c, r->callback_id, e->data);
    }
}

void
sv_object_events_emit(SvObjectEvents *fam, SvServer *srv, int event_id, const char *object,
                      SvObjectEventSend send, gpointer data)
{
    Emit e = {fam, event_id, object, send, data};

    sv_server_foreach_client(srv, emit_to_client, &e);
}
