/* test-rpcconn.c: the daemon's client side of the protocol (rpc/client.c), freed by its
 * own callbacks. virtproxyd drops a backend connection from the callbacks that tell it the
 * backend failed; when that news comes from inside a send (the write fails because the
 * backend is gone), the connection must outlive the callback (an ASan run of the e2e
 * suite caught a use after free there: a client leaving while its open was relayed). */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "protocol/program.h"
#include "protocol/sv_remote.h"
#include "rpc/client.h"
#include "util/error.h"

typedef struct {
    SvRpcConn *conn;
    int replies;
    int closed;
    GError *error;
} State;

static void
free_on_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
              const GError *error, gpointer data)
{
    State *s = data;

    (void)h;
    (void)payload;
    (void)len;
    g_assert_true(conn == s->conn);
    s->replies++;
    if (error && !s->error)
        s->error = g_error_copy(error);
    g_clear_pointer(&s->conn, sv_rpc_conn_free);
}

static void
count_closed(SvRpcConn *conn, gpointer user)
{
    State *s = user;

    (void)conn;
    s->closed++;
}

static void
free_on_closed(SvRpcConn *conn, gpointer user)
{
    State *s = user;

    g_assert_true(conn == s->conn);
    s->closed++;
    g_clear_pointer(&s->conn, sv_rpc_conn_free);
}

/* A connection whose peer is already gone. */
static SvRpcConn *
conn_to_gone_peer(const SvRpcConnCallbacks *cb, State *s)
{
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    close(sv[1]);
    return sv_rpc_conn_new(sv[0], cb, s);
}

/* A peer that is already gone: the call's write fails, its reply callback hears
 * "End of file" while still inside sv_rpc_conn_call, and frees the connection there. */
static void
test_freed_by_reply_inside_call(void)
{
    SvRpcConnCallbacks cb = {.closed = count_closed};
    State s = {0};

    s.conn = conn_to_gone_peer(&cb, &s);
    sv_rpc_conn_call(s.conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_AUTH_LIST,
                     (xdrproc_t)sv_xdr_void, NULL, free_on_reply, &s);
    g_assert_cmpint(s.replies, ==, 1);
    g_assert_null(s.conn);
    g_assert_nonnull(s.error);
    g_assert_true(g_str_has_prefix(s.error->message, "End of file while reading data"));
    /* Freed from a reply: the closed callback of a connection being freed is not run. */
    g_assert_cmpint(s.closed, ==, 0);
    g_clear_error(&s.error);
}

/* The same through a raw frame: the closed callback frees it inside the send. */
static void
test_freed_by_closed_inside_send(void)
{
    SvRpcConnCallbacks cb = {.closed = free_on_closed};
    State s = {0};
    guint8 frame[SV_FRAME_MIN] = {0, 0, 0, SV_FRAME_MIN};

    s.conn = conn_to_gone_peer(&cb, &s);
    sv_rpc_conn_send_frame(s.conn, frame, sizeof(frame));
    g_assert_cmpint(s.closed, ==, 1);
    g_assert_null(s.conn);
}

/* Corked, the failing write comes in the uncork: the same there. */
static void
test_freed_by_closed_inside_uncork(void)
{
    SvRpcConnCallbacks cb = {.closed = free_on_closed};
    State s = {0};
    guint8 frame[SV_FRAME_MIN] = {0, 0, 0, SV_FRAME_MIN};

    s.conn = conn_to_gone_peer(&cb, &s);
    sv_rpc_conn_cork(s.conn);
    sv_rpc_conn_send_frame(s.conn, frame, sizeof(frame));
    sv_rpc_conn_send_frame(s.conn, frame, sizeof(frame));
    g_assert_cmpint(s.closed, ==, 0);
    sv_rpc_conn_uncork(s.conn);
    g_assert_cmpint(s.closed, ==, 1);
    g_assert_null(s.conn);
}

/* From the loop: the peer hangs up with two calls pending; the first reply frees the
 * connection while the read is still on the stack, and the second is never called. */
static void
test_freed_by_reply_inside_read(void)
{
    SvRpcConnCallbacks cb = {.closed = count_closed};
    State s = {0};
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    s.conn = sv_rpc_conn_new(sv[0], &cb, &s);
    for (int i = 0; i < 2; i++)
        sv_rpc_conn_call(s.conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_AUTH_LIST, (xdrproc_t)sv_xdr_void, NULL, free_on_reply, &s);
    g_assert_cmpint(s.replies, ==, 0);
    close(sv[1]);
    for (int i = 0; i < 100 && s.conn; i++)
        g_main_context_iteration(NULL, TRUE);
    g_assert_null(s.conn);
    g_assert_cmpint(s.replies, ==, 1);
    g_assert_cmpint(s.closed, ==, 0);
    g_clear_error(&s.error);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN); /* as in the daemons: a write to a gone peer fails, EPIPE */
    g_test_add_func("/rpcconn/freed-by-reply-inside-call", test_freed_by_reply_inside_call);
    g_test_add_func("/rpcconn/freed-by-closed-inside-send", test_freed_by_closed_inside_send);
    g_test_add_func("/rpcconn/freed-by-closed-inside-uncork",
                    test_freed_by_closed_inside_uncork);
    g_test_add_func("/rpcconn/freed-by-reply-inside-read", test_freed_by_reply_inside_read);
    return g_test_run();
}
