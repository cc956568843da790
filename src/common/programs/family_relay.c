/* family_relay.c: a hypervisor daemon's connections to the secondary drivers' daemons, one
 * per client and family, opened on first use (family_relay.h). */
#include "programs/family_relay.h"

#include <errno.h>
#include <unistd.h>

#include "programs/backend.h"
#include "protocol/remote_dispatch.h"
#include "protocol/sv_net.h"
#include "protocol/sv_wire_constants.h"
#include "rpc/client.h"
#include "util/error.h"

#define RELAY_MARK (1024 * 1024) /* bytes queued to the client before its links pause */

struct SvFamilyRelay {
    char *run_dir;
    guint families; /* SV_PROC_FAMILY_BIT */
};

typedef struct RelayClient RelayClient;

/* A relayed stream's two ends: each says it is done with a STREAM frame whose status is
 * not CONTINUE; an error from either ends it. */
enum { STREAM_CLIENT_DONE = 1, STREAM_DAEMON_DONE = 2 };

/* One client's connection to one family's daemon. */
typedef struct {
    RelayClient *rc;
    SvProcFamily family;
    SvRpcConn *conn;
    gboolean open;       /* CONNECT_OPEN answered OK: calls go straight on */
    GQueue waiting;      /* Waiting: calls that came before that */
    GHashTable *calls;   /* serial -> SvCall: relayed, not yet answered */
    GHashTable *streams; /* serial -> STREAM_* bits: relayed streams still open */
    gboolean corked;     /* the client's writes held for one read's frames */
    gboolean paused;     /* reads held while the client's output is over RELAY_MARK */
    gboolean *gone;      /* set when the link is freed under a callback of ours */
} Link;

typedef struct {
    SvCall *call;
    GBytes *frame;
} Waiting;

struct RelayClient {
    SvFamilyRelay *relay;
    SvClient *client; /* not a reference: the client owns us */
    Link *links[SV_PROC_FAMILY_LAST];
};

static const SvAttachKey relay_key = {"family relay", SV_ATTACH_LEVEL_PROGRAM};

/* ---------------------------------------------------------------- teardown */

/* Free the link's own state; its calls, already taken out, are the caller's. */
static void
link_free(Link *l)
{
    if (l->gone)
        *l->gone = TRUE;
    g_clear_pointer(&l->conn, sv_rpc_conn_free);
    g_hash_table_unref(l->calls);
    g_hash_table_unref(l->streams);
    g_free(l);
}

/* Tell the client every relayed stream of the link ended with `error`. */
static void
fail_streams(Link *l, SvClient *client, const GError *error)
{
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, l->streams);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        SvHeader h = {REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, 0, SV_NET_STREAM,
                      GPOINTER_TO_UINT(key), SV_NET_ERROR};
        sv_client_send(client, sv_msg_encode_error(&h, error));
    }
}

/* The link is done for (its daemon gone, its open refused, its client gone): it leaves its
 * client first, so that what the failed calls set off (more calls of the family) opens a
 * new one, then each call it held hears `error`. */
static void
link_fail(Link *l, const GError *error)
{
    SvClient *client = sv_client_ref(l->rc->client);
    GPtrArray *calls = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;

    l->rc->links[l->family] = NULL;
    while (l->waiting.length) {
        Waiting *w = g_queue_pop_head(&l->waiting);
        g_ptr_array_add(calls, w->call);
        g_bytes_unref(w->frame);
        g_free(w);
    }
    g_hash_table_iter_init(&it, l->calls);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(calls, value);
    g_hash_table_steal_all(l->calls);
    if (!sv_client_is_closed(client))
        fail_streams(l, client, error);
    if (l->corked)
        sv_client_uncork(client);
    link_free(l);
    for (guint i = 0; i < calls->len; i++)
        sv_call_fail(calls->pdata[i], g_error_copy(error));
    g_ptr_array_unref(calls);
    sv_client_unref(client);
}

static void
relay_client_free(gpointer p)
{
    RelayClient *rc = p;
    g_autoptr(GError) e = NULL;

    sv_error_set(&e, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "client socket is closed");
    for (guint f = 0; f < SV_PROC_FAMILY_LAST; f++) {
        if (rc->links[f])
            link_fail(rc->links[f], e);
    }
    g_free(rc);
}

static RelayClient *
relay_client_of(SvFamilyRelay *relay, SvClient *c)
{
    RelayClient *rc = sv_client_attachment(c, &relay_key);

    if (!rc) {
        rc = g_new0(RelayClient, 1);
        rc->relay = relay;
        rc->client = c;
        sv_client_attach(c, &relay_key, rc, relay_client_free);
    }
    return rc;
}

/* ---------------------------------------------------------------- calls */

static void
link_send(Link *l, SvCall *call, const guint8 *frame, gsize len)
{
    g_hash_table_insert(l->calls, GUINT_TO_POINTER(sv_call_get_header(call)->serial), call);
    sv_rpc_conn_send_frame(l->conn, frame, len);
}

static void
link_flush_waiting(Link *l)
{
    gboolean gone = FALSE;

    l->gone = &gone;
    sv_rpc_conn_cork(l->conn);
    while (!gone && l->waiting.length) {
        Waiting *w = g_queue_pop_head(&l->waiting);
        gsize len;
        const guint8 *frame = g_bytes_get_data(w->frame, &len);

        link_send(l, w->call, frame, len);
        g_bytes_unref(w->frame);
        g_free(w);
    }
    if (!gone) {
        l->gone = NULL;
        sv_rpc_conn_uncork(l->conn);
    }
}

/* CONNECT_SET_IDENTITY's reply, then CONNECT_OPEN's (backend.h). */
static void
open_done(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
          const GError *error, gpointer data)
{
    Link *l = data;

    (void)conn;
    (void)payload;
    (void)len;
    if (error) {
        link_fail(l, error);
        return;
    }
    if (h->proc != REMOTE_PROC_CONNECT_OPEN)
        return;
    l->open = TRUE;
    link_flush_waiting(l);
}

/* ---------------------------------------------------------------- from the daemon */

static void
stream_mark(Link *l, guint32 serial, guint bit, guint32 status)
{
    gpointer v;
    guint bits;

    if (!g_hash_table_lookup_extended(l->streams, GUINT_TO_POINTER(serial), NULL, &v))
        return;
    if (status == SV_NET_CONTINUE)
        return;
    bits = GPOINTER_TO_UINT(v) | bit;
    if (status == SV_NET_ERROR || bits == (STREAM_CLIENT_DONE | STREAM_DAEMON_DONE))
        g_hash_table_remove(l->streams, GUINT_TO_POINTER(serial));
    else
        g_hash_table_insert(l->streams, GUINT_TO_POINTER(serial), GUINT_TO_POINTER(bits));
}

/* The reply to a relayed call answers it; a stream procedure's OK reply opens its stream. */
static void
daemon_reply(Link *l, const SvHeader *h, const guint8 *frame, gsize len)
{
    SvCall *call = g_hash_table_lookup(l->calls, GUINT_TO_POINTER(h->serial));

    if (!call) {
        g_debug("family %s: reply to no call of ours (serial %u) dropped",
                sv_proc_family_to_string(l->family), h->serial);
        return;
    }
    g_hash_table_remove(l->calls, GUINT_TO_POINTER(h->serial));
    if (h->status == SV_NET_OK && (sv_call_get_proc(call)->flags & SV_PROC_STREAM))
        g_hash_table_insert(l->streams, GUINT_TO_POINTER(h->serial), GUINT_TO_POINTER(0));
    sv_call_reply_frame(call, frame, len);
}

static void
daemon_frame(SvRpcConn *conn, const guint8 *frame, gsize len, gpointer user)
{
    Link *l = user;
    SvClient *client = l->rc->client;
    SvHeader h;

    (void)conn;
    sv_header_decode(frame + SV_FRAME_LEN_SIZE, &h);
    if (!l->corked) {
        l->corked = TRUE;
        sv_client_cork(client);
    }
    switch (h.type) {
    case SV_NET_REPLY:
        daemon_reply(l, &h, frame, len); /* may free l */
        return;
    case SV_NET_STREAM:
    case SV_NET_STREAM_HOLE:
        stream_mark(l, h.serial, STREAM_DAEMON_DONE, h.status);
        break;
    case SV_NET_MESSAGE: /* the events the client registered for through us */
        break;
    default:
        g_debug("family %s: message type %u dropped", sv_proc_family_to_string(l->family),
                h.type);
        return;
    }
    if (sv_client_send(client, sv_msg_copy_frame(frame, len)) &&
        sv_client_get_output_bytes(client) > RELAY_MARK && !l->paused) {
        /* A client that does not read holds its family daemons, not our memory. */
        l->paused = TRUE;
        sv_rpc_conn_pause(l->conn, TRUE);
    }
}

static void
daemon_batch_done(SvRpcConn *conn, gpointer user)
{
    Link *l = user;

    (void)conn;
    if (l->corked) {
        l->corked = FALSE;
        sv_client_uncork(l->rc->client); /* may free l */
    }
}

static void
client_drained(SvClient *c, gpointer data)
{
    RelayClient *rc = data;

    (void)c;
    for (guint f = 0; f < SV_PROC_FAMILY_LAST; f++) {
        Link *l = rc->links[f];
        if (l && l->paused) {
            l->paused = FALSE;
            sv_rpc_conn_pause(l->conn, FALSE);
        }
    }
}

static void
daemon_closed(SvRpcConn *conn, gpointer user)
{
    Link *l = user;
    g_autoptr(GError) e = NULL;

    (void)conn;
    g_message("client %" G_GUINT64_FORMAT ": the %s daemon closed its connection",
              sv_client_get_id(l->rc->client), sv_proc_family_to_string(l->family));
    /* What libvirt's client side says of a call in flight when its server goes. */
    sv_error_set_errno(&e, SV_FROM_RPC, EIO, "End of file while reading data");
    link_fail(l, e);
}

/* ---------------------------------------------------------------- entry points */

static Link *
link_new(RelayClient *rc, SvProcFamily family, GError **error)
{
    SvRpcConnCallbacks cb = {daemon_frame, daemon_closed, NULL, daemon_batch_done};
    SvBackendIdentity id;
    Link *l;

    if (family == SV_PROC_FAMILY_NWFILTER && getuid() != 0) {
        /* libvirt has no nwfilter driver for session connections. */
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "connection not open");
        return NULL;
    }
    l = g_new0(Link, 1);
    sv_backend_identity_of_client(&id, rc->client);
    l->conn = sv_backend_open_family(rc->relay->run_dir, sv_proc_family_to_string(family),
                                     sv_client_is_readonly(rc->client), &id, &cb, l, open_done,
                                     l, error);
    if (!l->conn) {
        g_free(l);
        return NULL;
    }
    l->rc = rc;
    l->family = family;
    g_queue_init(&l->waiting);
    l->calls = g_hash_table_new(NULL, NULL);
    l->streams = g_hash_table_new(NULL, NULL);
    rc->links[family] = l;
    sv_client_set_drain_func(rc->client, client_drained, rc);
    return l;
}

SvFamilyRelay *
sv_family_relay_new(const char *run_dir, guint families)
{
    SvFamilyRelay *relay = g_new0(SvFamilyRelay, 1);

    relay->run_dir = g_strdup(run_dir);
    relay->families = families & SV_PROC_FAMILIES_SECONDARY;
    return relay;
}

void
sv_family_relay_free(SvFamilyRelay *relay)
{
    if (!relay)
        return;
    g_free(relay->run_dir);
    g_free(relay);
}

gboolean
sv_family_relay_relays(SvFamilyRelay *relay, const SvProcInfo *proc)
{
    return relay && (guint)proc->family < SV_PROC_FAMILY_LAST &&
           (relay->families & SV_PROC_FAMILY_BIT(proc->family));
}

void
sv_family_relay_call(SvFamilyRelay *relay, SvCall *call, const guint8 *frame, gsize len)
{
    SvCall *h = sv_call_defer(call);
    SvClient *c = sv_call_get_client(h);
    RelayClient *rc = relay_client_of(relay, c);
    SvProcFamily family = sv_call_get_proc(h)->family;
    guint32 serial = sv_call_get_header(h)->serial;
    Link *l = rc->links[family];
    gboolean fresh = !l;
    g_autoptr(GError) error = NULL;

    if (fresh && !(l = link_new(rc, family, &error))) {
        sv_call_fail(h, g_steal_pointer(&error));
        return;
    }
    if (g_hash_table_contains(l->calls, GUINT_TO_POINTER(serial))) {
        /* Its reply could not be told from the other's. */
        sv_error_set(&error, SV_FROM_RPC, SV_ERR_RPC, "serial %u is already in use", serial);
        sv_call_fail(h, g_steal_pointer(&error));
        return;
    }
    if (!l->open) {
        Waiting *w = g_new0(Waiting, 1);
        w->call = h;
        w->frame = g_bytes_new(frame, len);
        g_queue_push_tail(&l->waiting, w);
        if (fresh)
            sv_rpc_conn_uncork(l->conn); /* the open goes out; a failure fails w (and l) */
        return;
    }
    link_send(l, h, frame, len);
}

gboolean
sv_family_relay_stream(SvFamilyRelay *relay, SvClient *c, const guint8 *frame, gsize len)
{
    RelayClient *rc = relay ? sv_client_attachment(c, &relay_key) : NULL;
    SvHeader h;

    if (!rc)
        return FALSE;
    sv_header_decode(frame + SV_FRAME_LEN_SIZE, &h);
    for (guint f = 0; f < SV_PROC_FAMILY_LAST; f++) {
        Link *l = rc->links[f];
        if (l && g_hash_table_contains(l->streams, GUINT_TO_POINTER(h.serial))) {
            stream_mark(l, h.serial, STREAM_CLIENT_DONE, h.status);
            sv_rpc_conn_send_frame(l->conn, frame, len);
            return TRUE;
        }
    }
    return FALSE;
}
