/* sv-remote-open-tool.c: sv_remote_uri_open() from the command line, for
 * tests/e2e/test_remote.py's opens of Debian's libvirtd and of our daemons as a source
 * daemon's peer-to-peer migration opens its destination.
 *
 *   sv-remote-open-tool URI ROOT
 *       open URI (the client's x509 files below ROOT), then ask CONNECT_GET_HOSTNAME on the
 *       connection; prints the hostname, or "error CODE/DOMAIN: MESSAGE" and exits 1. */
#include <stdio.h>

#include "programs/remote_uri.h"
#include "protocol/remote_dispatch.h"
#include "util/error.h"

typedef struct {
    GMainLoop *loop;
    SvRpcConn *conn;
    int status;
} Tool;

static void
fail(Tool *t, const GError *error)
{
    fprintf(stderr, "error %d/%d: %s\n", error->code, sv_error_get_from(error), error->message);
    t->status = 1;
    g_main_loop_quit(t->loop);
}

static void
hostname_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
               const GError *error, gpointer data)
{
    Tool *t = data;
    remote_connect_get_hostname_ret ret = {0};
    g_autoptr(GError) local = NULL;

    (void)conn;
    (void)h;
    if (error) {
        fail(t, error);
        return;
    }
    if (!sv_xdr_decode(payload, len, (xdrproc_t)xdr_remote_connect_get_hostname_ret, &ret,
                       &local)) {
        fail(t, local);
        return;
    }
    printf("%s\n", ret.hostname);
    xdr_free((xdrproc_t)xdr_remote_connect_get_hostname_ret, (char *)&ret);
    g_main_loop_quit(t->loop);
}

static void
opened(GObject *source, GAsyncResult *res, gpointer data)
{
    Tool *t = data;
    g_autoptr(GError) error = NULL;

    (void)source;
    t->conn = sv_remote_uri_open_finish(res, &error);
    if (!t->conn) {
        fail(t, error);
        return;
    }
    sv_rpc_conn_call(t->conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                     REMOTE_PROC_CONNECT_GET_HOSTNAME, (xdrproc_t)sv_xdr_void, NULL,
                     hostname_reply, t);
}

int
main(int argc, char **argv)
{
    Tool t = {0};

    if (argc != 3) {
        fprintf(stderr, "usage: %s URI ROOT\n", argv[0]);
        return 2;
    }
    t.loop = g_main_loop_new(NULL, FALSE);
    sv_remote_uri_open(argv[1], argv[2], opened, &t);
    g_main_loop_run(t.loop);
    g_clear_pointer(&t.conn, sv_rpc_conn_free);
    g_main_loop_unref(t.loop);
    return t.status;
}
