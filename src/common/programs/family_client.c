/* family_client.c: a daemon's own connection to a secondary driver's daemon, for one piece
 * of work (family_client.h). The open sequence is backend.c's; the calls are pipelined
 * behind it, and their replies stand for nothing once the open has failed. */
#include "programs/family_client.h"

#include <errno.h>

#include "protocol/remote_dispatch.h"
#include "rpc/client.h"
#include "rpc/message.h"
#include "util/error.h"

/* A call of ours: pending on the connection, or failed and waiting for the idle that
 * tells its caller. */
typedef struct {
    SvFamilyClient *fc;
    xdrproc_t ret_filter;
    gsize ret_size;
    SvFamilyReplyFunc done;
    gpointer data;
    GError *error; /* when failing */
} Call;

struct SvFamilyClient {
    SvRpcConn *conn;
    SvProcFamily family;
    GError *failed;   /* the open failed or the daemon went: what every call hears since */
    GQueue pending;   /* Call: sent, their replies not yet in */
    GQueue failing;   /* Call: failed where their callers cannot hear it yet */
    guint idle;       /* tells the failing ones */
    gboolean calling; /* inside sv_family_client_call: failures wait for the idle */
};

/* One failed call a round, told to its caller, which may free fc: whether the source goes
 * on is decided before. */
static gboolean
deliver_failures(gpointer p)
{
    SvFamilyClient *fc = p;
    Call *c = g_queue_pop_head(&fc->failing);
    g_autoptr(GError) e = g_steal_pointer(&c->error);
    SvFamilyReplyFunc done = c->done;
    gpointer data = c->data;
    gboolean more = fc->failing.length > 0;

    if (!more)
        fc->idle = 0;
    g_free(c);
    done(fc, NULL, e, data); /* may free fc (and remove this source) */
    return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
call_fail_later(SvFamilyClient *fc, Call *c, const GError *error)
{
    c->error = g_error_copy(error);
    g_queue_push_tail(&fc->failing, c);
    if (!fc->idle)
        fc->idle = g_idle_add(deliver_failures, fc);
}

/* A call's reply, or its failure (the connection's end, an argument that did not encode). */
static void
call_done(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
          const GError *error, gpointer data)
{
    Call *c = data;
    SvFamilyClient *fc = c->fc;
    g_autoptr(GError) decode_error = NULL;
    void *ret = NULL;

    (void)conn;
    (void)h;
    g_queue_remove(&fc->pending, c);
    if (fc->failed)
        error = fc->failed; /* a reply to a call on a connection that never opened */
    if (fc->calling && error) {
        call_fail_later(fc, c, error);
        return;
    }
    if (!error) {
        ret = g_malloc0(MAX(c->ret_size, 1));
        if (!sv_xdr_decode(payload, len, c->ret_filter, ret, &decode_error))
            error = decode_error;
    }
    c->done(fc, error ? NULL : ret, error, c->data); /* may free fc */
    if (ret)
        xdr_free(c->ret_filter, ret);
    g_free(ret);
    g_free(c);
}

/* CONNECT_SET_IDENTITY's reply, then CONNECT_OPEN's (backend.h). */
static void
open_done(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
          const GError *error, gpointer data)
{
    SvFamilyClient *fc = data;

    (void)conn;
    (void)h;
    (void)payload;
    (void)len;
    if (error && !fc->failed) {
        g_debug("opening the %s daemon failed: %s", sv_proc_family_to_string(fc->family),
                error->message);
        fc->failed = g_error_copy(error);
    }
}

static void
conn_closed(SvRpcConn *conn, gpointer user)
{
    SvFamilyClient *fc = user;

    (void)conn;
    /* Its pending calls have heard it already; later ones hear what libvirt's client
     * says of a call to a server that went away. */
    if (!fc->failed)
        sv_error_set_errno(&fc->failed, SV_FROM_RPC, EIO, "End of file while reading data");
}

SvFamilyClient *
sv_family_client_new(const char *run_dir, SvProcFamily family, const SvBackendIdentity *id,
                     GError **error)
{
    SvRpcConnCallbacks cb = {NULL, conn_closed, NULL, NULL};
    g_autoptr(SvFamilyClient) fc = g_new0(SvFamilyClient, 1);

    g_return_val_if_fail(family > SV_PROC_FAMILY_PRIMARY && family < SV_PROC_FAMILY_LAST,
                         NULL);
    fc->family = family;
    g_queue_init(&fc->pending);
    g_queue_init(&fc->failing);
    fc->conn = sv_backend_open_family(run_dir, sv_proc_family_to_string(family), FALSE, id,
                                      &cb, fc, open_done, fc, error);
    if (!fc->conn)
        return NULL;
    sv_rpc_conn_uncork(fc->conn); /* a failure here is fc->failed */
    return g_steal_pointer(&fc);
}

void
sv_family_client_free(SvFamilyClient *fc)
{
    if (!fc)
        return;
    if (fc->idle)
        g_source_remove(fc->idle);
    g_clear_pointer(&fc->conn, sv_rpc_conn_free); /* no callback of its calls comes now */
    while (fc->failing.length) {
        Call *c = g_queue_pop_head(&fc->failing);
        g_clear_error(&c->error);
        g_free(c);
    }
    g_queue_clear_full(&fc->pending, g_free);
    g_clear_error(&fc->failed);
    g_free(fc);
}

void
sv_family_client_call(SvFamilyClient *fc, int proc, xdrproc_t args_filter, void *args,
                      xdrproc_t ret_filter, gsize ret_size, SvFamilyReplyFunc done,
                      gpointer data)
{
    Call *c = g_new0(Call, 1);

    c->fc = fc;
    c->ret_filter = ret_filter;
    c->ret_size = ret_size;
    c->done = done;
    c->data = data;
    if (fc->failed) {
        call_fail_later(fc, c, fc->failed);
        return;
    }
    g_queue_push_tail(&fc->pending, c);
    fc->calling = TRUE;
    sv_rpc_conn_call(fc->conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, proc, args_filter,
                     args, call_done, c);
    fc->calling = FALSE;
}
