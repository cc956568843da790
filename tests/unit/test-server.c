/* test-server.c: the dispatcher and connection rules, over a socketpair, on the real loop. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "programs/remote.h"
#include "protocol/sv_net.h"
#include "protocol/sv_remote.h"
#include "util/error.h"

typedef struct {
    SvServer *srv;
    SvRemoteHandlers handlers;
    int fd; /* the test's end */
    SvClient *client;
    SvCall *held; /* a deferred call */
} Fixture;

static gboolean
t_open(SvCall *call, remote_connect_open_args *args, GError **error)
{
    (void)call;
    if (args->name && g_str_equal(*args->name, "bad:///")) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_NO_CONNECT, "%s", *args->name);
        return FALSE;
    }
    return TRUE;
}

static gboolean
t_get_type(SvCall *call, remote_connect_get_type_ret *ret, GError **error)
{
    (void)call;
    (void)error;
    ret->type = g_strdup("TEST");
    return TRUE;
}

static Fixture *current;

/* Warnings and messages logged while capturing, as "LEVEL text"-less texts; warnings
 * are otherwise fatal in tests. */
static GPtrArray *captured;

static GLogWriterOutput
capture_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
    (void)data;
    if (!(level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE)))
        return G_LOG_WRITER_HANDLED;
    for (gsize i = 0; i < n; i++) {
        if (g_str_equal(fields[i].key, "MESSAGE"))
            g_ptr_array_add(captured, g_strdup(fields[i].value));
    }
    return G_LOG_WRITER_HANDLED;
}

static gboolean capture_on;

static GLogWriterOutput
test_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
    if (capture_on)
        return capture_writer(level, fields, n, data);
    return g_log_writer_default(level, fields, n, data);
}

static void
log_capture_start(void)
{
    g_clear_pointer(&captured, g_ptr_array_unref);
    captured = g_ptr_array_new_with_free_func(g_free);
    capture_on = TRUE;
}

static void
log_capture_stop(void)
{
    capture_on = FALSE;
}

static gboolean
t_get_version(SvCall *call, remote_connect_get_version_ret *ret, GError **error)
{
    (void)ret;
    (void)error;
    current->held = sv_call_defer(call); /* answered by the test, later */
    return TRUE;
}

static void
setup(Fixture *f, gconstpointer data)
{
    SvServerConfig cfg;
    SvRemoteHandlers own = {.connect_open = t_open,
                            .connect_get_type = t_get_type,
                            .connect_get_version = t_get_version};
    int sv[2];

    sv_server_config_init(&cfg);
    cfg.keepalive_interval = 1;
    cfg.keepalive_count = 1;
    cfg.max_client_requests = 2;
    if (data)
        cfg.max_client_output = GPOINTER_TO_UINT(data);
    f->srv = sv_server_new("test", &cfg);
    sv_remote_common_handlers(&f->handlers);
    sv_remote_handlers_overlay(&f->handlers, &own);
    sv_remote_serve(f->srv, &f->handlers, NULL);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    f->fd = sv[0];
    f->client = sv_client_ref(sv_server_add_client_fd(f->srv, sv[1], FALSE));
    current = f;
}

static void
teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    close(f->fd);
    sv_server_free(f->srv);
    sv_client_unref(f->client);
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static void
send_msg(Fixture *f, guint32 prog, int proc, guint32 type, guint32 serial, guint32 status,
         xdrproc_t filter, void *args)
{
    SvHeader h = {prog, 1, proc, type, serial, status};
    g_autofree SvMsg *m = sv_msg_encode(&h, filter ? filter : (xdrproc_t)sv_xdr_void, args, NULL);

    g_assert_cmpint(write(f->fd, m->data, m->len), ==, (gssize)m->len);
}

/* Run the loop until one whole message arrives; NULL on EOF or after timeout_ms. */
static GBytes *
recv_msg(Fixture *f, int timeout_ms)
{
    GByteArray *buf = g_byte_array_new();
    gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (g_get_monotonic_time() < end) {
        struct pollfd p = {f->fd, POLLIN, 0};
        guint8 tmp[4096];
        gsize want;

        while (g_main_context_iteration(NULL, FALSE))
            ;
        if (poll(&p, 1, 5) <= 0)
            continue;
        want = buf->len < 4 ? 4 : sv_be32(buf->data);
        {
            ssize_t n = read(f->fd, tmp, MIN(sizeof(tmp), want - buf->len));
            if (n <= 0) {
                g_byte_array_unref(buf);
                return NULL;
            }
            g_byte_array_append(buf, tmp, n);
        }
        if (buf->len >= 4 && buf->len == sv_be32(buf->data))
            return g_byte_array_free_to_bytes(buf);
    }
    g_byte_array_unref(buf);
    return NULL;
}

static void
hdr_of(GBytes *b, SvHeader *h)
{
    sv_header_decode((const guint8 *)g_bytes_get_data(b, NULL) + 4, h);
}

static GError *
err_of(GBytes *b)
{
    gsize len;
    const guint8 *p = g_bytes_get_data(b, &len);

    return sv_error_from_payload(p + SV_FRAME_MIN, len - SV_FRAME_MIN);
}

static void
open_conn(Fixture *f, const char *uri, guint flags, guint32 serial)
{
    char *name = (char *)uri;
    remote_connect_open_args a = {&name, flags};
    g_autoptr(GBytes) r = NULL;
    SvHeader h;

    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, SV_NET_CALL, serial, SV_NET_OK,
             (xdrproc_t)xdr_remote_connect_open_args, &a);
    r = recv_msg(f, 2000);
    g_assert_nonnull(r);
    hdr_of(r, &h);
    g_assert_cmpuint(h.status, ==, SV_NET_OK);
    g_assert_cmpuint(h.serial, ==, serial);
}

static void
expect_error(Fixture *f, int code, int from, const char *message)
{
    g_autoptr(GBytes) r = recv_msg(f, 2000);
    g_autoptr(GError) e = NULL;
    SvHeader h;

    g_assert_nonnull(r);
    hdr_of(r, &h);
    g_assert_cmpuint(h.type, ==, SV_NET_REPLY);
    g_assert_cmpuint(h.status, ==, SV_NET_ERROR);
    e = err_of(r);
    g_assert_cmpint(e->code, ==, code);
    g_assert_cmpint(sv_error_get_from(e), ==, from);
    g_assert_cmpstr(e->message, ==, message);
}

static void
test_open_rules(Fixture *f, gconstpointer d)
{
    char *name = "test:///";
    remote_connect_open_args a = {&name, 0};
    g_autoptr(GBytes) r = NULL;
    SvHeader h;

    (void)d;
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_TYPE, SV_NET_CALL, 0, SV_NET_OK, NULL,
             NULL);
    expect_error(f, SV_ERR_INTERNAL_ERROR, SV_FROM_RPC,
                 "internal error: hypervisor connection not open");
    open_conn(f, "test:///", 0, 1);
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, SV_NET_CALL, 2, SV_NET_OK,
             (xdrproc_t)xdr_remote_connect_open_args, &a);
    expect_error(f, SV_ERR_INTERNAL_ERROR, SV_FROM_RPC, "internal error: connection already open");
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_TYPE, SV_NET_CALL, 3, SV_NET_OK, NULL,
             NULL);
    r = recv_msg(f, 2000);
    hdr_of(r, &h);
    g_assert_cmpuint(h.prog, ==, REMOTE_PROGRAM);
    g_assert_cmpuint(h.vers, ==, 1);
    g_assert_cmpint(h.proc, ==, REMOTE_PROC_CONNECT_GET_TYPE);
    g_assert_cmpuint(h.serial, ==, 3);
    g_assert_cmpuint(h.status, ==, SV_NET_OK);
}

static void
test_open_failure(Fixture *f, gconstpointer d)
{
    char *name = "bad:///";
    remote_connect_open_args a = {&name, 0};

    (void)d;
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_OPEN, SV_NET_CALL, 0, SV_NET_OK,
             (xdrproc_t)xdr_remote_connect_open_args, &a);
    expect_error(f, SV_ERR_NO_CONNECT, SV_FROM_NONE, "no connection driver available for bad:///");
    g_assert_false(sv_client_is_open(f->client));
}

static void
test_unknown(Fixture *f, gconstpointer d)
{
    (void)d;
    open_conn(f, "test:///", 0, 0);
    send_msg(f, REMOTE_PROGRAM, 9999, SV_NET_CALL, 1, SV_NET_OK, NULL, NULL);
    expect_error(f, SV_ERR_RPC, SV_FROM_RPC, "unknown procedure: 9999");
    /* A known procedure this driver does not implement answers the same way. */
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_DOMAIN_CREATE, SV_NET_CALL, 2, SV_NET_OK, NULL, NULL);
    expect_error(f, SV_ERR_RPC, SV_FROM_RPC, "unknown procedure: 9");
    send_msg(f, 0x12345678, 1, SV_NET_CALL, 3, SV_NET_OK, NULL, NULL);
    expect_error(f, SV_ERR_RPC, SV_FROM_RPC, "Cannot find program 305419896 version 1");
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_TYPE, SV_NET_CALL, 4, SV_NET_ERROR, NULL,
             NULL);
    expect_error(f, SV_ERR_RPC, SV_FROM_RPC, "Unexpected message status 1");
}

static void
test_readonly(Fixture *f, gconstpointer d)
{
    char *xml = "<domain/>";

    (void)d;
    open_conn(f, "test:///", 1 /* VIR_CONNECT_RO */, 0);
    g_assert_true(sv_client_is_readonly(f->client));
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_DOMAIN_DEFINE_XML, SV_NET_CALL, 1, SV_NET_OK,
             (xdrproc_t)xdr_remote_domain_define_xml_args, &xml);
    expect_error(f, SV_ERR_OPERATION_DENIED, SV_FROM_DOMAIN,
                 "operation forbidden: read only access prevents virDomainDefineXML");
}

static void
test_keepalive(Fixture *f, gconstpointer d)
{
    remote_connect_supports_feature_args a = {10};
    g_autoptr(GBytes) r = NULL, ping = NULL, pong = NULL;
    SvHeader h;
    gint64 start;

    (void)d;
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE, SV_NET_CALL, 0, SV_NET_OK,
             (xdrproc_t)xdr_remote_connect_supports_feature_args, &a);
    r = recv_msg(f, 2000);
    hdr_of(r, &h);
    g_assert_cmpuint(h.status, ==, SV_NET_OK);
    g_assert_cmpuint(sv_be32((const guint8 *)g_bytes_get_data(r, NULL) + 28), ==, 1);
    /* Our PING is answered with a PONG, serial 0, no payload. */
    send_msg(f, SV_KEEPALIVE_PROGRAM, SV_KEEPALIVE_PROC_PING, SV_NET_MESSAGE, 0, SV_NET_OK, NULL,
             NULL);
    pong = recv_msg(f, 2000);
    g_assert_cmpuint(g_bytes_get_size(pong), ==, 28);
    hdr_of(pong, &h);
    g_assert_cmpuint(h.prog, ==, SV_KEEPALIVE_PROGRAM);
    g_assert_cmpint(h.proc, ==, SV_KEEPALIVE_PROC_PONG);
    g_assert_cmpuint(h.type, ==, SV_NET_MESSAGE);
    /* Silent for an interval: the server PINGs; silent again: it hangs up. */
    start = g_get_monotonic_time();
    ping = recv_msg(f, 4000);
    g_assert_nonnull(ping);
    hdr_of(ping, &h);
    g_assert_cmpint(h.proc, ==, SV_KEEPALIVE_PROC_PING);
    g_assert_null(recv_msg(f, 4000));
    g_assert_true(sv_client_is_closed(f->client));
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
}

static void
test_reply_from_client_closes(Fixture *f, gconstpointer d)
{
    (void)d;
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_TYPE, SV_NET_REPLY, 0, SV_NET_OK, NULL,
             NULL);
    g_assert_null(recv_msg(f, 1000));
    g_assert_true(sv_client_is_closed(f->client));
}

static void
test_deferred(Fixture *f, gconstpointer d)
{
    g_autoptr(GBytes) r1 = NULL, r2 = NULL;
    remote_connect_get_version_ret v = {7002022};
    SvHeader h;

    (void)d;
    open_conn(f, "test:///", 0, 0);
    /* A deferred call does not hold up the next one; replies come as they complete. */
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_VERSION, SV_NET_CALL, 1, SV_NET_OK, NULL,
             NULL);
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_TYPE, SV_NET_CALL, 2, SV_NET_OK, NULL,
             NULL);
    r1 = recv_msg(f, 2000);
    hdr_of(r1, &h);
    g_assert_cmpuint(h.serial, ==, 2);
    g_assert_nonnull(f->held);
    sv_call_reply(f->held, &v);
    f->held = NULL;
    r2 = recv_msg(f, 2000);
    hdr_of(r2, &h);
    g_assert_cmpuint(h.serial, ==, 1);
    g_assert_cmpuint(g_bytes_get_size(r2), ==, 28 + 8);
}

static void
test_request_limit(Fixture *f, gconstpointer d)
{
    g_autoptr(GBytes) r = NULL;
    SvCall *first;
    SvHeader h;

    (void)d;
    open_conn(f, "test:///", 0, 0);
    /* max_client_requests = 2: the third call waits until one completes. */
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_VERSION, SV_NET_CALL, 1, SV_NET_OK, NULL,
             NULL);
    g_assert_null(recv_msg(f, 100));
    first = f->held;
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_VERSION, SV_NET_CALL, 2, SV_NET_OK, NULL,
             NULL);
    send_msg(f, REMOTE_PROGRAM, REMOTE_PROC_CONNECT_GET_TYPE, SV_NET_CALL, 3, SV_NET_OK, NULL,
             NULL);
    g_assert_null(recv_msg(f, 200));
    g_assert_true(f->held != first);
    sv_call_fail(first, g_error_new_literal(sv_error_quark(SV_FROM_RPC), SV_ERR_RPC, "x"));
    r = recv_msg(f, 2000);
    hdr_of(r, &h);
    g_assert_cmpuint(h.serial, ==, 1);
    g_clear_pointer(&r, g_bytes_unref);
    r = recv_msg(f, 2000);
    hdr_of(r, &h);
    g_assert_cmpuint(h.serial, ==, 3);
    sv_call_reply(f->held, &(remote_connect_get_version_ret){1});
}

static void
test_events(Fixture *f, gconstpointer d)
{
    remote_connect_domain_event_callback_register_any_args a = {0, NULL};
    remote_connect_domain_event_callback_register_any_ret ret = {0};
    remote_nonnull_domain dom = {"vm1", {1}, 3};
    remote_domain_event_callback_lifecycle_msg msg = {0};
    g_autoptr(GBytes) r = NULL, ev = NULL;
    gsize len;
    const guint8 *p;
    SvHeader h;

    (void)d;
    open_conn(f, "test:///", 0, 0);
    a.eventID = SV_DOMAIN_EVENT_ID_LAST;
    send_msg(f, REMOTE_PROGRAM, 316, SV_NET_CALL, 1, SV_NET_OK,
             (xdrproc_t)xdr_remote_connect_domain_event_callback_register_any_args, &a);
    expect_error(f, SV_ERR_INTERNAL_ERROR, SV_FROM_RPC, "internal error: unsupported event ID 27");
    a.eventID = 0;
    send_msg(f, REMOTE_PROGRAM, 316, SV_NET_CALL, 2, SV_NET_OK,
             (xdrproc_t)xdr_remote_connect_domain_event_callback_register_any_args, &a);
    r = recv_msg(f, 2000);
    p = g_bytes_get_data(r, &len);
    g_assert_true(sv_xdr_decode(p + 28, len - 28,
                                (xdrproc_t)xdr_remote_connect_domain_event_callback_register_any_ret,
                                &ret, NULL));
    g_assert_cmpint(ret.callbackID, >, 0);
    sv_remote_emit_lifecycle(f->srv, &dom, 2, 0);
    ev = recv_msg(f, 2000);
    hdr_of(ev, &h);
    g_assert_cmpuint(h.type, ==, SV_NET_MESSAGE);
    g_assert_cmpuint(h.serial, ==, 1);
    g_assert_cmpint(h.proc, ==, REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE);
    p = g_bytes_get_data(ev, &len);
    g_assert_true(sv_xdr_decode(p + 28, len - 28,
                                (xdrproc_t)xdr_remote_domain_event_callback_lifecycle_msg, &msg,
                                NULL));
    g_assert_cmpint(msg.callbackID, ==, ret.callbackID);
    g_assert_cmpstr(msg.msg.dom.name, ==, "vm1");
    g_assert_cmpint(msg.msg.event, ==, 2);
    xdr_free((xdrproc_t)xdr_remote_domain_event_callback_lifecycle_msg, (char *)&msg);
    g_assert_cmpuint(sv_remote_client_n_registrations(f->client), ==, 1);
}

static void
test_output_limit(Fixture *f, gconstpointer d)
{
    remote_connect_domain_event_callback_register_any_args a = {0, NULL};
    remote_nonnull_domain dom = {"vm1", {1}, 3};
    g_autoptr(GBytes) r = NULL;

    (void)d;
    open_conn(f, "test:///", 0, 0);
    send_msg(f, REMOTE_PROGRAM, 316, SV_NET_CALL, 1, SV_NET_OK,
             (xdrproc_t)xdr_remote_connect_domain_event_callback_register_any_args, &a);
    r = recv_msg(f, 2000);
    /* A client that never reads: its queue grows to the limit and it is dropped, with a
     * warning naming it (issue 15: it was a debug line). */
    g_autofree char *want = g_strdup_printf(
        "test: dropping client 1 (uid %u, pid %d): it does not read what it is sent, and its "
        "queue passed max_client_output (262144 bytes)", (guint)getuid(), (int)getpid());
    log_capture_start();
    for (int i = 0; i < 200000 && !sv_client_is_closed(f->client); i++)
        sv_remote_emit_lifecycle(f->srv, &dom, 2, 0);
    log_capture_stop();
    g_assert_true(sv_client_is_closed(f->client));
    g_assert_cmpuint(captured->len, ==, 1);
    g_assert_cmpstr(captured->pdata[0], ==, want);
}

/* ---- attachments ---- */

static const SvAttachKey key_program_a = {"program a", SV_ATTACH_LEVEL_PROGRAM};
static const SvAttachKey key_program_b = {"program b", SV_ATTACH_LEVEL_PROGRAM};
static const SvAttachKey key_driver = {"driver", SV_ATTACH_LEVEL_DRIVER};

static GString *freed; /* names of the attachments freed, in order, space-separated */
static SvClient *attached_to;

/* Each attachment is its name; freeing notes it, and checks that once the connection
 * is closed its attachments can no longer be found. */
static void
note_free(gpointer p)
{
    if (sv_client_is_closed(attached_to)) {
        g_assert_null(sv_client_attachment(attached_to, &key_program_a));
        g_assert_null(sv_client_attachment(attached_to, &key_driver));
    }
    g_string_append_printf(freed, "%s%s", freed->len ? " " : "", (char *)p);
    g_free(p);
}

static void
test_attachments(Fixture *f, gconstpointer d)
{
    (void)d;
    freed = g_string_new(NULL);
    attached_to = f->client;
    /* Lookups are by key; attaching again replaces (and frees) the old one. */
    sv_client_attach(f->client, &key_program_a, g_strdup("a0"), g_free);
    sv_client_attach(f->client, &key_program_a, g_strdup("a"), note_free);
    sv_client_attach(f->client, &key_driver, g_strdup("d"), note_free);
    sv_client_attach(f->client, &key_program_b, g_strdup("b"), note_free);
    g_assert_cmpstr(sv_client_attachment(f->client, &key_program_a), ==, "a");
    g_assert_cmpstr(sv_client_attachment(f->client, &key_program_b), ==, "b");
    g_assert_cmpstr(sv_client_attachment(f->client, &key_driver), ==, "d");
    g_assert_cmpstr(freed->str, ==, "");
    /* NULL detaches, freeing what was there. */
    sv_client_attach(f->client, &key_program_b, NULL, NULL);
    g_assert_null(sv_client_attachment(f->client, &key_program_b));
    g_assert_cmpstr(freed->str, ==, "b");
    sv_client_attach(f->client, &key_program_b, g_strdup("b2"), note_free);
    /* The driver's level goes first although attached between the two programs', then
     * the programs' newest first. */
    g_string_truncate(freed, 0);
    sv_client_close(f->client, "test");
    g_assert_cmpstr(freed->str, ==, "d b2 a");
    /* Attached after the close: freed with the last reference (the fixture's). */
    g_string_truncate(freed, 0);
    sv_client_attach(f->client, &key_driver, g_strdup("late"), note_free);
    g_assert_cmpstr(sv_client_attachment(f->client, &key_driver), ==, "late");
    sv_server_free(g_steal_pointer(&f->srv));
    g_assert_cmpstr(freed->str, ==, "");
    sv_client_unref(f->client);
    f->client = NULL;
    g_assert_cmpstr(freed->str, ==, "late");
    g_string_free(g_steal_pointer(&freed), TRUE);
}

/* Each server's remote program has its own proxy user and driver name: no global. */
static void
test_remote_per_server(Fixture *f, gconstpointer d)
{
    SvRemoteConfig qemu = {.proxy_uid = getuid() ? getuid() : 4242, .driver_name = "QEMU"};
    g_autoptr(SvServer) other = sv_server_new("other", NULL);
    g_autoptr(GError) error = NULL;
    SvClient *c;
    int sv[2];

    (void)d;
    sv_remote_serve(other, &f->handlers, &qemu);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    c = sv_server_add_client_fd(other, sv[1], FALSE);
    sv_remote_identity_denied(c, &error);
    g_assert_error(error, sv_error_quark(SV_FROM_ACCESS), SV_ERR_ACCESS_DENIED);
    g_assert_cmpstr(error->message, ==, "access denied: 'QEMU' denied access");
    g_clear_error(&error);
    sv_remote_identity_denied(f->client, &error); /* served without a config */
    g_assert_cmpstr(error->message, ==, "access denied: 'remote' denied access");
    /* Root is trusted everywhere; another user only where it is the proxy user. */
    g_assert_true(sv_remote_peer_trusted(c));
    g_assert_cmpint(sv_remote_peer_trusted(f->client), ==, getuid() == 0);
    close(sv[0]);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_log_set_writer_func(test_writer, NULL, NULL);
#define ADD(path, fn, data) \
    g_test_add(path, Fixture, data, setup, fn, teardown)
    ADD("/server/open-rules", test_open_rules, NULL);
    ADD("/server/open-failure", test_open_failure, NULL);
    ADD("/server/unknown", test_unknown, NULL);
    ADD("/server/readonly", test_readonly, NULL);
    ADD("/server/keepalive", test_keepalive, NULL);
    ADD("/server/reply-from-client", test_reply_from_client_closes, NULL);
    ADD("/server/deferred", test_deferred, NULL);
    ADD("/server/request-limit", test_request_limit, NULL);
    ADD("/server/events", test_events, NULL);
    ADD("/server/attachments", test_attachments, NULL);
    ADD("/server/remote-per-server", test_remote_per_server, NULL);
    ADD("/server/output-limit", test_output_limit, GUINT_TO_POINTER(256 * 1024));
    return g_test_run();
}
