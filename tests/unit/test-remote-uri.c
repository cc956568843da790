/* test-remote-uri.c: remote connections from a URI (programs/remote_uri.c) to a server
 * listening on TCP, TLS (rpc/tls.c, with certificates certtool makes here) and a unix
 * socket: the open, what the server learns of the client (transport, address, DN), calls
 * over the session, and the refusals of a client whose certificate is not on
 * tls_allowed_dn_list or who has none. */
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "programs/remote.h"
#include "programs/remote_uri.h"
#include "protocol/remote_dispatch.h"
#include "rpc/server.h"
#include "rpc/tls.h"
#include "rpc/transport.h"
#include "rpc-test.h"
#include "util/error.h"

typedef struct {
    char *dir;
    SvServer *srv;
    SvRemoteHandlers handlers;
    int tcp_port, tls_port;
    char *sock;
    /* What the server saw at CONNECT_OPEN. */
    char *opened;
    SvTransportKind transport;
    char *dname;
    char *addr;
    /* The open's outcome. */
    gboolean done;
    SvRpcConn *conn;
    GError *error;
    int replies;
} Fixture;

static Fixture *fx;

static void
run(const char *const *argv)
{
    g_autoptr(GError) error = NULL;
    int status = 0;

    g_assert_true(g_spawn_sync(fx->dir, (char **)argv, NULL, G_SPAWN_SEARCH_PATH |
                               G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &error));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
}

/* NAME-key.pem and NAME-cert.pem signed by the CA (ca-key.pem, ca-cert.pem); NULL
 * template extra: the CA itself, self-signed. */
static void
make_cert(const char *name, const char *info)
{
    g_autofree char *key = g_strdup_printf("%s-key.pem", name);
    g_autofree char *cert = g_strdup_printf("%s-cert.pem", name);
    g_autofree char *tmpl = g_strdup_printf("%s/%s.info", fx->dir, name);
    const char *genkey[] = {"certtool", "--generate-privkey", "--key-type=rsa", "--bits=2048",
                            "--outfile", key, NULL};
    const char *self[] = {"certtool", "--generate-self-signed", "--load-privkey", key,
                          "--template", tmpl, "--outfile", cert, NULL};
    const char *sign[] = {"certtool", "--generate-certificate", "--load-privkey", key,
                          "--load-ca-certificate", "ca-cert.pem", "--load-ca-privkey",
                          "ca-key.pem", "--template", tmpl, "--outfile", cert, NULL};

    g_assert_true(g_file_set_contents(tmpl, info, -1, NULL));
    run(genkey);
    run(g_str_equal(name, "ca") ? self : sign);
}

/* A copy of DIR/FROM as TO_DIR/TO. */
static void
copy_file(const char *from, const char *to_dir, const char *to)
{
    g_autofree char *src = g_build_filename(fx->dir, from, NULL);
    g_autofree char *dst = g_build_filename(to_dir, to, NULL);
    g_autofree char *text = NULL;

    g_assert_true(g_file_get_contents(src, &text, NULL, NULL));
    g_assert_true(g_file_set_contents(dst, text, -1, NULL));
}

/* DIR/NAME/: a client's pkipath (cacert.pem, clientcert.pem, clientkey.pem). */
static char *
client_pki(const char *name, gboolean with_cert)
{
    char *dir = g_build_filename(fx->dir, name, NULL);
    g_autofree char *cert = g_strdup_printf("%s-cert.pem", name);
    g_autofree char *key = g_strdup_printf("%s-key.pem", name);

    g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
    copy_file("ca-cert.pem", dir, "cacert.pem");
    if (with_cert) {
        copy_file(cert, dir, "clientcert.pem");
        copy_file(key, dir, "clientkey.pem");
    }
    return dir;
}

static gboolean
on_open(SvCall *call, remote_connect_open_args *a, GError **error)
{
    SvClient *c = sv_call_get_client(call);

    (void)error;
    g_free(fx->opened);
    g_free(fx->dname);
    g_free(fx->addr);
    fx->opened = g_strdup_printf("%s flags %u", a->name ? *a->name : "", a->flags);
    fx->transport = sv_client_get_transport(c);
    fx->dname = g_strdup(sv_client_get_x509_dname(c));
    fx->addr = g_strdup(sv_client_get_sock_addr(c));
    return TRUE;
}

static int
listen_port(SvTlsContext *tls)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) fds = sv_transport_listen_tcp("127.0.0.1", "0", &error);
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd;

    g_assert_no_error(error);
    g_assert_cmpuint(fds->len, ==, 1);
    fd = g_array_index(fds, int, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sa, &len), ==, 0);
    sv_server_add_listener_net(fx->srv, fd, tls);
    return ntohs(sa.sin_port);
}

static void
setup(void)
{
    const char *allowed[] = {"C=GB,O=Test,CN=alice", NULL};
    SvTlsConfig cfg = {0};
    g_autoptr(SvTlsContext) tls = NULL;
    g_autoptr(GError) error = NULL;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int ufd;

    fx = g_new0(Fixture, 1);
    fx->dir = g_dir_make_tmp("sv-remote-uri-XXXXXX", NULL);
    make_cert("ca", "cn = Test CA\nca\ncert_signing_key\nexpiration_days = 30\n");
    make_cert("server", "organization = Test\ncn = localhost\nip_address = 127.0.0.1\n"
                        "dns_name = localhost\ntls_www_server\nencryption_key\nsigning_key\n"
                        "expiration_days = 30\n");
    make_cert("alice", "country = GB\norganization = Test\ncn = alice\ntls_www_client\n"
                       "encryption_key\nsigning_key\nexpiration_days = 30\n");
    make_cert("mallory", "country = GB\norganization = Test\ncn = mallory\ntls_www_client\n"
                         "encryption_key\nsigning_key\nexpiration_days = 30\n");
    fx->srv = sv_server_new("test", NULL);
    sv_remote_common_handlers(&fx->handlers);
    fx->handlers.connect_open = on_open;
    sv_remote_serve(fx->srv, &fx->handlers, NULL);
    cfg.ca_file = g_build_filename(fx->dir, "ca-cert.pem", NULL);
    cfg.cert_file = g_build_filename(fx->dir, "server-cert.pem", NULL);
    cfg.key_file = g_build_filename(fx->dir, "server-key.pem", NULL);
    cfg.allowed_dn = g_strdupv((char **)allowed);
    tls = sv_tls_context_new(&cfg, TRUE, &error);
    sv_tls_config_clear(&cfg);
    g_assert_no_error(error);
    fx->tls_port = listen_port(tls);
    fx->tcp_port = listen_port(NULL);
    fx->sock = g_build_filename(fx->dir, "sock", NULL);
    g_strlcpy(sa.sun_path, fx->sock, sizeof(sa.sun_path));
    ufd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(bind(ufd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(ufd, 4), ==, 0);
    sv_server_add_listener(fx->srv, ufd, FALSE);
}

static void
teardown(void)
{
    g_clear_pointer(&fx->conn, sv_rpc_conn_free);
    rpc_test_spin(50);
    sv_server_shutdown(fx->srv);
    sv_server_free(fx->srv);
    run((const char *[]){"rm", "-rf", fx->dir, NULL});
    g_clear_error(&fx->error);
    g_free(fx->dir);
    g_free(fx->sock);
    g_free(fx->opened);
    g_free(fx->dname);
    g_free(fx->addr);
    g_clear_pointer(&fx, g_free);
}

static void
opened(GObject *source, GAsyncResult *res, gpointer data)
{
    (void)source;
    (void)data;
    fx->conn = sv_remote_uri_open_finish(res, &fx->error);
    fx->done = TRUE;
}

static void
open_uri(const char *uri)
{
    gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    fx->done = FALSE;
    sv_remote_uri_open(uri, fx->dir, opened, NULL);
    while (!fx->done && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(fx->done);
}

static void
counted(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
        const GError *error, gpointer data)
{
    (void)conn, (void)h, (void)payload, (void)len, (void)data;
    g_assert_no_error(error);
    fx->replies++;
}

/* Calls after the open go over the same session, answered in order. */
static void
calls_answered(int n)
{
    gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    fx->replies = 0;
    for (int i = 0; i < n; i++)
        sv_rpc_conn_call(fx->conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_AUTH_LIST, (xdrproc_t)sv_xdr_void, NULL, counted, NULL);
    while (fx->replies < n && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_assert_cmpint(fx->replies, ==, n);
}

static void
answered(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
         const GError *error, gpointer data)
{
    (void)conn, (void)h, (void)payload, (void)len, (void)data;
    /* The open is refused (it is open already), the AUTH_LIST behind it answered. */
    if (fx->replies++ == 0)
        g_assert_cmpstr(error ? error->message : "", ==,
                        "internal error: connection already open");
    else
        g_assert_no_error(error);
}

/* A message of several TLS records (a 4 MiB argument) crosses whole, with a call behind it:
 * both are answered, in order. */
static void
big_call_answered(void)
{
    g_autofree char *big = g_malloc(4 * 1024 * 1024 + 1);
    char *name = big;
    remote_connect_open_args a = {&name, 0};
    gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

    memset(big, 'x', 4 * 1024 * 1024);
    big[4 * 1024 * 1024] = '\0';
    fx->replies = 0;
    sv_rpc_conn_call(fx->conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_CONNECT_OPEN,
                     (xdrproc_t)xdr_remote_connect_open_args, &a, answered, NULL);
    sv_rpc_conn_call(fx->conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_AUTH_LIST,
                     (xdrproc_t)sv_xdr_void, NULL, answered, NULL);
    while (fx->replies < 2 && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_assert_cmpint(fx->replies, ==, 2);
}

static void
test_tls_allowed(void)
{
    g_autofree char *pki = NULL, *uri = NULL;

    setup();
    pki = client_pki("alice", TRUE);
    uri = g_strdup_printf("test+tls://127.0.0.1:%d/system?pkipath=%s", fx->tls_port, pki);
    open_uri(uri);
    g_assert_no_error(fx->error);
    g_assert_nonnull(fx->conn);
    /* The transport and the client's own parameters are not the server's business. */
    g_assert_cmpstr(fx->opened, ==, "test:///system flags 0");
    g_assert_cmpint(fx->transport, ==, SV_TRANSPORT_TLS);
    g_assert_cmpstr(fx->dname, ==, "C=GB,O=Test,CN=alice");
    g_assert_true(g_str_has_prefix(fx->addr, "127.0.0.1;"));
    calls_answered(200);
    big_call_answered();
    teardown();
}

static void
test_tls_refused(gconstpointer with_cert)
{
    g_autofree char *pki = NULL, *uri = NULL;

    setup();
    pki = client_pki("mallory", GPOINTER_TO_INT(with_cert));
    uri = g_strdup_printf("test+tls://127.0.0.1:%d/system?pkipath=%s", fx->tls_port, pki);
    open_uri(uri);
    g_assert_null(fx->conn);
    /* The server hangs up without close_notify, as libvirtd: libvirt's client says so. */
    g_assert_error(fx->error, sv_error_quark(SV_FROM_RPC), SV_ERR_SYSTEM_ERROR);
    g_assert_cmpstr(fx->error->message, ==,
                    "Unable to read TLS confirmation: Input/output error");
    g_assert_null(fx->opened);
    teardown();
}

static void
test_tcp(void)
{
    g_autofree char *uri = NULL;

    setup();
    uri = g_strdup_printf("test+tcp://127.0.0.1:%d/system?keepalive=1&x=y", fx->tcp_port);
    open_uri(uri);
    g_assert_no_error(fx->error);
    g_assert_cmpstr(fx->opened, ==, "test:///system?x=y flags 0");
    g_assert_cmpint(fx->transport, ==, SV_TRANSPORT_TCP);
    g_assert_null(fx->dname);
    calls_answered(3);
    teardown();
}

static void
test_unix(void)
{
    g_autofree char *uri = NULL;

    setup();
    uri = g_strdup_printf("test+unix:///system?socket=%s", fx->sock);
    open_uri(uri);
    g_assert_no_error(fx->error);
    g_assert_cmpstr(fx->opened, ==, "test:///system flags 0");
    g_assert_cmpint(fx->transport, ==, SV_TRANSPORT_UNIX);
    g_assert_null(fx->addr);
    g_clear_pointer(&fx->conn, sv_rpc_conn_free);
    /* name= is what the server is asked to open. */
    g_free(uri);
    uri = g_strdup_printf("test+unix:///system?socket=%s&name=test:///session", fx->sock);
    open_uri(uri);
    g_assert_no_error(fx->error);
    g_assert_cmpstr(fx->opened, ==, "test:///session flags 0");
    teardown();
}

static void
test_refused_connect(void)
{
    setup();
    open_uri("test+tcp://127.0.0.1:1/system");
    g_assert_null(fx->conn);
    g_assert_error(fx->error, sv_error_quark(SV_FROM_RPC), SV_ERR_SYSTEM_ERROR);
    g_assert_true(g_str_has_prefix(fx->error->message,
                                   "unable to connect to server at '127.0.0.1:1': "));
    teardown();
}

/* A server's own files checked at load, with libvirt's messages. */
static void
test_server_credentials_checked(void)
{
    g_autoptr(GError) error = NULL;
    g_auto(SvTlsConfig) cfg = {0};
    g_autoptr(SvTlsContext) ctx = NULL;
    g_autofree char *expect = NULL;

    setup();
    cfg.ca_file = g_build_filename(fx->dir, "missing.pem", NULL);
    cfg.cert_file = g_build_filename(fx->dir, "server-cert.pem", NULL);
    cfg.key_file = g_build_filename(fx->dir, "server-key.pem", NULL);
    ctx = sv_tls_context_new(&cfg, TRUE, &error);
    g_assert_null(ctx);
    expect = g_strdup_printf("Cannot read CA certificate '%s': No such file or directory",
                             cfg.ca_file);
    g_assert_cmpstr(error->message, ==, expect);
    g_clear_error(&error);
    g_free(cfg.ca_file);
    g_free(expect);
    /* A client's certificate where the CA should be. */
    cfg.ca_file = g_build_filename(fx->dir, "alice-cert.pem", NULL);
    ctx = sv_tls_context_new(&cfg, TRUE, &error);
    g_assert_null(ctx);
    expect = g_strdup_printf("The certificate %s basic constraints do not show a CA",
                             cfg.ca_file);
    g_assert_true(g_str_has_suffix(error->message, expect));
    teardown();
}

static void
on_closed(SvRpcConn *conn, gpointer user)
{
    (void)conn, (void)user;
    fx->done = TRUE;
}

static void
failed_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
             const GError *error, gpointer data)
{
    (void)conn, (void)h, (void)payload, (void)len, (void)data;
    g_assert_nonnull(error);
    g_clear_error(&fx->error);
    fx->error = g_error_copy(error);
}

/* Keepalive: a server that answers keeps the connection, one that is gone silent (a
 * peer that reads nothing) is given up after its PINGs, its pending call told why. */
static void
test_keepalive(void)
{
    static const SvRpcConnCallbacks cb = {.closed = on_closed};
    g_autofree char *uri = NULL;
    gint64 end;
    int sp[2];

    setup();
    uri = g_strdup_printf("test+tcp://127.0.0.1:%d/system", fx->tcp_port);
    open_uri(uri);
    g_assert_no_error(fx->error);
    sv_rpc_conn_set_keepalive(fx->conn, 1, 1);
    rpc_test_spin(3500);
    calls_answered(1);
    g_clear_pointer(&fx->conn, sv_rpc_conn_free);

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), ==, 0);
    fx->done = FALSE;
    fx->conn = sv_rpc_conn_new(sp[0], &cb, NULL);
    sv_rpc_conn_set_keepalive(fx->conn, 1, 1);
    sv_rpc_conn_call(fx->conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_AUTH_LIST,
                     (xdrproc_t)sv_xdr_void, NULL, failed_reply, NULL);
    end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (!fx->done && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(fx->done);
    g_assert_error(fx->error, sv_error_quark(SV_FROM_RPC), SV_ERR_INTERNAL_ERROR);
    g_assert_true(g_str_has_suffix(fx->error->message,
                                   "connection closed due to keepalive timeout"));
    close(sp[1]);
    teardown();
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/remote-uri/tls-allowed", test_tls_allowed);
    g_test_add_data_func("/remote-uri/tls-dn-refused", GINT_TO_POINTER(TRUE), test_tls_refused);
    g_test_add_data_func("/remote-uri/tls-no-cert-refused", GINT_TO_POINTER(FALSE),
                         test_tls_refused);
    g_test_add_func("/remote-uri/tcp", test_tcp);
    g_test_add_func("/remote-uri/unix", test_unix);
    g_test_add_func("/remote-uri/refused-connect", test_refused_connect);
    g_test_add_func("/remote-uri/server-credentials-checked", test_server_credentials_checked);
    g_test_add_func("/remote-uri/keepalive", test_keepalive);
    return g_test_run();
}
