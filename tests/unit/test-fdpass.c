/* test-fdpass.c: descriptors from clients (fdpass.c): only a CALL_WITH_FDS of a procedure
 * that takes them, no more than it takes, on a read-write connection, keeps them; every
 * other descriptor is closed at once (issue 15: any client could park 32 per connection
 * until it disconnected, and run the daemon out of descriptors). ADOPT_CLIENT, the one
 * procedure that takes one, end to end with the sender virtproxyd uses. */
#include "rpc-test.h"

#include "programs/private.h"
#include "programs/remote.h"
#include "protocol/private_dispatch.h"
#include "protocol/sv_remote.h"
#include "rpc/client.h"
#include "util/error.h"

typedef struct {
    SvServer *srv;
    SvRemoteHandlers handlers;
    int fd; /* the test's end */
    SvClient *client;
} Fixture;

static gboolean
t_get_type(SvCall *call, remote_connect_get_type_ret *ret, GError **error)
{
    (void)call;
    (void)error;
    ret->type = g_strdup("TEST");
    return TRUE;
}

static gboolean
t_open(SvCall *call, remote_connect_open_args *args, GError **error)
{
    (void)call;
    (void)args;
    (void)error;
    return TRUE;
}

static void
setup(Fixture *f, gconstpointer data)
{
    SvRemoteHandlers own = {.connect_open = t_open, .connect_get_type = t_get_type};
    int sv[2];

    f->srv = sv_server_new("test", NULL);
    sv_remote_common_handlers(&f->handlers);
    sv_remote_handlers_overlay(&f->handlers, &own);
    /* This process may hand over connections. */
    sv_remote_serve(f->srv, &f->handlers, &(SvRemoteConfig){.proxy_uid = getuid()});
    sv_private_serve(f->srv);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    f->fd = sv[0];
    f->client = sv_client_ref(sv_server_add_client_fd(f->srv, sv[1], data != NULL));
}

static void
teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    close(f->fd);
    sv_server_free(f->srv);
    sv_client_unref(f->client);
    rpc_test_spin(0);
}

/* Send m (transfer full) with fds. */
static void
send_msg(Fixture *f, SvMsg *m, const int *fds, int n)
{
    rpc_test_send(f->fd, m->data, m->len, fds, n);
    g_free(m);
}

/* The descriptor's dummy byte, as libvirt sends it after a CALL_WITH_FDS message. */
static void
send_dummy(Fixture *f, const int *fd)
{
    rpc_test_send(f->fd, "", 1, fd, fd ? 1 : 0);
}

static void
open_conn(Fixture *f)
{
    char *name = "test:///";
    remote_connect_open_args a = {&name, 0};
    g_autoptr(GBytes) r = NULL;
    SvHeader h;

    send_msg(f, rpc_test_frame(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, SV_NET_CALL, 0,
                               (xdrproc_t)xdr_remote_connect_open_args, &a, -1), NULL, 0);
    r = rpc_test_recv(f->fd, 2000);
    g_assert_nonnull(r);
    rpc_test_header(r, &h);
    g_assert_cmpuint(h.status, ==, SV_NET_OK);
}

static void
expect_ok(Fixture *f, int proc)
{
    g_autoptr(GBytes) r = rpc_test_recv(f->fd, 2000);
    SvHeader h;

    g_assert_nonnull(r);
    rpc_test_header(r, &h);
    g_assert_cmpint(h.proc, ==, proc);
    g_assert_cmpuint(h.status, ==, SV_NET_OK);
}

static void
expect_error(Fixture *f, int code, const char *message)
{
    g_autoptr(GBytes) r = rpc_test_recv(f->fd, 2000);
    g_autoptr(GError) e = NULL;
    SvHeader h;

    g_assert_nonnull(r);
    rpc_test_header(r, &h);
    g_assert_cmpuint(h.status, ==, SV_NET_ERROR);
    e = rpc_test_error(r);
    g_assert_cmpint(e->code, ==, code);
    g_assert_cmpstr(e->message, ==, message);
}

static SvMsg *
get_type(guint32 type, gint64 nfds)
{
    return rpc_test_frame(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_TYPE, type, 1, NULL, NULL,
                          nfds);
}

/* A plain call with a descriptor on its bytes: answered, the descriptor closed at once
 * (it used to wait for the disconnect). */
static void
test_plain_call(Fixture *f, gconstpointer d)
{
    RpcTestPipe p = rpc_test_pipe();

    (void)d;
    open_conn(f);
    send_msg(f, get_type(SV_NET_CALL, -1), &p.wr, 1);
    expect_ok(f, REMOTE_PROC_CONNECT_GET_TYPE);
    g_assert_true(rpc_test_pipe_closed_by_peer(&p, 2000));
    g_assert_false(sv_client_is_closed(f->client));
    rpc_test_pipe_close(&p);
}

/* A read-only connection keeps none: closed on arrival, with half a frame and before
 * any open, and the connection goes on. */
static void
test_readonly_on_arrival(Fixture *f, gconstpointer d)
{
    g_autofree SvMsg *m = get_type(SV_NET_CALL, -1);
    RpcTestPipe p[4];
    int fds[4];

    (void)d;
    for (int i = 0; i < 4; i++) {
        p[i] = rpc_test_pipe();
        fds[i] = p[i].wr;
    }
    rpc_test_send(f->fd, m->data, 10, fds, 4);
    for (int i = 0; i < 4; i++) {
        g_assert_true(rpc_test_pipe_closed_by_peer(&p[i], 2000));
        rpc_test_pipe_close(&p[i]);
    }
    rpc_test_send(f->fd, m->data + 10, m->len - 10, NULL, 0);
    expect_error(f, SV_ERR_INTERNAL_ERROR, "internal error: hypervisor connection not open");
}

/* CALL_WITH_FDS of a procedure that takes none: served as if sent without, the
 * descriptor closed; its dummy byte is consumed, so the next call is read right. */
static void
test_wrong_procedure(Fixture *f, gconstpointer d)
{
    RpcTestPipe p = rpc_test_pipe();

    (void)d;
    open_conn(f);
    send_msg(f, get_type(SV_NET_CALL_WITH_FDS, 1), NULL, 0);
    send_dummy(f, &p.wr);
    expect_ok(f, REMOTE_PROC_CONNECT_GET_TYPE);
    g_assert_true(rpc_test_pipe_closed_by_peer(&p, 2000));
    send_msg(f, get_type(SV_NET_CALL, -1), NULL, 0);
    expect_ok(f, REMOTE_PROC_CONNECT_GET_TYPE);
    rpc_test_pipe_close(&p);
}

/* A dummy byte without its descriptor breaks the framing, as in libvirt: closed. So
 * does a count over SV_NET_NUM_FDS_MAX. */
static void
test_broken_framing(Fixture *f, gconstpointer d)
{
    (void)d;
    open_conn(f);
    send_msg(f, get_type(SV_NET_CALL_WITH_FDS, 1), NULL, 0);
    send_dummy(f, NULL);
    g_assert_true(rpc_test_wait_eof(f->fd, 2000));
    g_assert_true(sv_client_is_closed(f->client));
}

static void
test_too_many_announced(Fixture *f, gconstpointer d)
{
    (void)d;
    open_conn(f);
    send_msg(f, get_type(SV_NET_CALL_WITH_FDS, SV_NET_NUM_FDS_MAX + 1), NULL, 0);
    g_assert_true(rpc_test_wait_eof(f->fd, 2000));
}

/* More descriptors in one sendmsg than a message may carry: the kernel truncates them
 * (MSG_CTRUNC); the connection ends and none stays open. */
static void
test_truncated(Fixture *f, gconstpointer d)
{
    RpcTestPipe p = rpc_test_pipe();
    int fds[40];

    (void)d;
    for (int i = 0; i < 40; i++)
        fds[i] = p.wr;
    rpc_test_send(f->fd, "x", 1, fds, 40);
    g_assert_true(rpc_test_wait_eof(f->fd, 2000));
    g_assert_true(rpc_test_pipe_closed_by_peer(&p, 2000));
    rpc_test_pipe_close(&p);
}

/* Descriptors on read-write bytes that no message announces (here inside a frame that
 * is not complete) are closed as soon as the bytes are in, one by one; the connection
 * goes on. */
static void
test_unclaimed_closed(Fixture *f, gconstpointer d)
{
    guint8 big[64] = {0}; /* the start of a 4 KiB frame, sent a byte at a time */
    RpcTestPipe p[SV_NET_NUM_FDS_MAX + 1];

    (void)d;
    open_conn(f);
    sv_put_be32(big, 4096);
    for (int i = 0; i <= SV_NET_NUM_FDS_MAX; i++) {
        p[i] = rpc_test_pipe();
        rpc_test_send(f->fd, big + i, 1, &p[i].wr, 1);
        g_assert_true(rpc_test_pipe_closed_by_peer(&p[i], 2000));
        rpc_test_pipe_close(&p[i]);
    }
    g_assert_false(sv_client_is_closed(f->client));
}

/* ---------------------------------------------------------------- ADOPT_CLIENT */

typedef struct {
    gboolean done;
    GError *error;
} Reply;

static void
on_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
         const GError *error, gpointer data)
{
    Reply *r = data;

    (void)conn;
    (void)h;
    (void)payload;
    (void)len;
    r->done = TRUE;
    r->error = error ? g_error_copy(error) : NULL;
}

/* virtproxyd's sender (client.c) hands a connection over: the daemon adopts it, and
 * answers the CONNECT_OPEN the proxy had read on it, then the client's next call. */
static void
test_adopt(Fixture *f, gconstpointer d)
{
    SvRpcConnCallbacks cb = {0};
    char *name = "test:///";
    remote_connect_open_args oa = {&name, 0};
    g_autofree SvMsg *open = rpc_test_frame(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN,
                                            SV_NET_CALL, 7,
                                            (xdrproc_t)xdr_remote_connect_open_args, &oa, -1);
    sv_private_adopt_client_args a = {0, {open->len, (char *)open->data}};
    g_autoptr(GError) error = NULL;
    Reply r = {0};
    SvRpcConn *conn;
    int pair[2];
    guint n;

    (void)d;
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), ==, 0);
    conn = sv_rpc_conn_new(dup(f->fd), &cb, NULL);
    close(f->fd);
    f->fd = -1;
    n = sv_server_n_clients(f->srv);
    g_assert_true(sv_rpc_conn_call_with_fd(conn, SV_PRIVATE_PROGRAM, SV_PRIVATE_PROTOCOL_VERSION,
                                           SV_PRIVATE_PROC_ADOPT_CLIENT,
                                           (xdrproc_t)xdr_sv_private_adopt_client_args, &a,
                                           pair[1], on_reply, &r, &error));
    close(pair[1]); /* the sender keeps its own duplicate until it is sent */
    for (int i = 0; i < 2000 && !r.done; i++)
        rpc_test_spin(1);
    g_assert_true(r.done);
    g_assert_no_error(r.error);
    g_assert_cmpuint(sv_server_n_clients(f->srv), ==, n + 1);
    f->fd = pair[0];
    expect_ok(f, REMOTE_PROC_CONNECT_OPEN);
    send_msg(f, get_type(SV_NET_CALL, -1), NULL, 0);
    expect_ok(f, REMOTE_PROC_CONNECT_GET_TYPE);
    sv_rpc_conn_free(conn);
}

/* The message first, its descriptor later, in another read: kept while its message
 * waits for it, then taken. */
static void
test_adopt_split(Fixture *f, gconstpointer d)
{
    char *name = "test:///";
    remote_connect_open_args oa = {&name, 0};
    g_autofree SvMsg *open = rpc_test_frame(REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN,
                                            SV_NET_CALL, 7,
                                            (xdrproc_t)xdr_remote_connect_open_args, &oa, -1);
    sv_private_adopt_client_args a = {0, {open->len, (char *)open->data}};
    int pair[2];

    (void)d;
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), ==, 0);
    send_msg(f, rpc_test_frame(SV_PRIVATE_PROGRAM, SV_PRIVATE_PROC_ADOPT_CLIENT,
                               SV_NET_CALL_WITH_FDS, 3,
                               (xdrproc_t)xdr_sv_private_adopt_client_args, &a, 1), NULL, 0);
    rpc_test_spin(50);
    send_dummy(f, &pair[1]);
    close(pair[1]);
    expect_ok(f, SV_PRIVATE_PROC_ADOPT_CLIENT);
    /* The adopted connection answers its open. */
    {
        g_autoptr(GBytes) r = rpc_test_recv(pair[0], 2000);
        SvHeader h;
        g_assert_nonnull(r);
        rpc_test_header(r, &h);
        g_assert_cmpint(h.proc, ==, REMOTE_PROC_CONNECT_OPEN);
        g_assert_cmpuint(h.status, ==, SV_NET_OK);
    }
    close(pair[0]);
}

static SvMsg *
adopt_frame(guint32 type, gint64 nfds)
{
    sv_private_adopt_client_args a = {0, {0, NULL}};

    return rpc_test_frame(SV_PRIVATE_PROGRAM, SV_PRIVATE_PROC_ADOPT_CLIENT, type, 3,
                          (xdrproc_t)xdr_sv_private_adopt_client_args, &a, nfds);
}

/* The framing this replaced (the descriptor on the first byte of a plain CALL) hands
 * nothing over, and the descriptor is closed. */
static void
test_adopt_plain_call(Fixture *f, gconstpointer d)
{
    RpcTestPipe p = rpc_test_pipe();

    (void)d;
    send_msg(f, adopt_frame(SV_NET_CALL, -1), &p.wr, 1);
    expect_error(f, SV_ERR_RPC, "no connection came with ADOPT_CLIENT");
    g_assert_true(rpc_test_pipe_closed_by_peer(&p, 2000));
    rpc_test_pipe_close(&p);
}

/* More descriptors than ADOPT_CLIENT takes: none is taken. */
static void
test_adopt_two(Fixture *f, gconstpointer d)
{
    RpcTestPipe p = rpc_test_pipe(), q = rpc_test_pipe();

    (void)d;
    send_msg(f, adopt_frame(SV_NET_CALL_WITH_FDS, 2), NULL, 0);
    send_dummy(f, &p.wr);
    send_dummy(f, &q.wr);
    expect_error(f, SV_ERR_RPC, "no connection came with ADOPT_CLIENT");
    g_assert_true(rpc_test_pipe_closed_by_peer(&p, 2000));
    g_assert_true(rpc_test_pipe_closed_by_peer(&q, 2000));
    rpc_test_pipe_close(&p);
    rpc_test_pipe_close(&q);
}

/* Not on a read-only connection, whoever asks. */
static void
test_adopt_readonly(Fixture *f, gconstpointer d)
{
    RpcTestPipe p = rpc_test_pipe();

    (void)d;
    send_msg(f, adopt_frame(SV_NET_CALL_WITH_FDS, 1), NULL, 0);
    send_dummy(f, &p.wr);
    expect_error(f, SV_ERR_OPERATION_DENIED,
                 "operation forbidden: read only access prevents svAdoptClient");
    g_assert_true(rpc_test_pipe_closed_by_peer(&p, 2000));
    rpc_test_pipe_close(&p);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn, ro) g_test_add(path, Fixture, ro, setup, fn, teardown)
    ADD("/fdpass/plain-call", test_plain_call, NULL);
    ADD("/fdpass/readonly-on-arrival", test_readonly_on_arrival, "ro");
    ADD("/fdpass/wrong-procedure", test_wrong_procedure, NULL);
    ADD("/fdpass/dummy-without-descriptor", test_broken_framing, NULL);
    ADD("/fdpass/too-many-announced", test_too_many_announced, NULL);
    ADD("/fdpass/truncated", test_truncated, NULL);
    ADD("/fdpass/unclaimed-closed", test_unclaimed_closed, NULL);
    ADD("/fdpass/adopt-split", test_adopt_split, NULL);
    ADD("/fdpass/adopt", test_adopt, NULL);
    ADD("/fdpass/adopt-plain-call", test_adopt_plain_call, NULL);
    ADD("/fdpass/adopt-two", test_adopt_two, NULL);
    ADD("/fdpass/adopt-readonly", test_adopt_readonly, "ro");
    return g_test_run();
}
