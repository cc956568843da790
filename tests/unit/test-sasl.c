/* test-sasl.c: SASL authentication (rpc/sasl.c, programs/auth.c): libvirt's rules, the
 * configuration keys, and whole negotiations of libsasl2's own SCRAM-SHA-256 client with the
 * server over a listener that asks for SASL, against a sasldb made by saslpasswd2. */
#include "rpc-test.h"

#include <sasl/sasl.h>

#include "programs/auth.h"
#include "programs/auth_client.h"
#include "programs/remote_uri.h"
#include "programs/remote.h"
#include "protocol/sv_remote.h"
#include "rpc/sasl.h"
#include "rpc/transport.h"
#include "util/error.h"

#define USER "fred"
#define PASSWORD "fred-secret"

static char *conf_dir; /* libvirt.conf and the sasldb, for the whole run */

/* LeakSanitizer (the sanitizer build) reads this: Debian's DIGEST-MD5 plugin leaks the
 * OpenSSL 3 ciphers it fetches for its security layer, in every process that uses it; the
 * fast unwinder stops inside libcrypto, which nothing of ours uses (GnuTLS is ours). */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
    return "leak:libdigestmd5.so\nleak:libcrypto.so\n";
}

static gboolean have_sasldb;

/* ---------------------------------------------------------------- rules */

static void
test_rules(void)
{
    const char *const allowed[] = {"admin", "fred*", NULL};
    const char *const nobody[] = {NULL};
    int min, max;
    gboolean anon;

    sv_sasl_security_for(TRUE, 56, &min, &max, &anon);
    g_assert_cmpint(min, ==, 0);
    g_assert_cmpint(max, ==, 0);
    g_assert_true(anon);
    sv_sasl_security_for(FALSE, 112, &min, &max, &anon);
    g_assert_cmpint(min, ==, 112);
    g_assert_cmpint(max, >=, 256);
    g_assert_false(anon);
    g_assert_true(sv_sasl_ssf_enough(TRUE, 0));
    g_assert_false(sv_sasl_ssf_enough(FALSE, 0));
    g_assert_false(sv_sasl_ssf_enough(FALSE, 55));
    g_assert_true(sv_sasl_ssf_enough(FALSE, 56));
    g_assert_true(sv_sasl_username_allowed(NULL, "anyone"));
    g_assert_false(sv_sasl_username_allowed(nobody, "anyone"));
    g_assert_true(sv_sasl_username_allowed(allowed, "admin"));
    g_assert_true(sv_sasl_username_allowed(allowed, "fred@EXAMPLE.COM"));
    g_assert_false(sv_sasl_username_allowed(allowed, "admins"));
    g_assert_false(sv_sasl_username_allowed(allowed, "joe"));
}

/* ---------------------------------------------------------------- configuration */

static gboolean
load(const char *text, gboolean with_ip, SvAuthConfig *cfg, GError **error)
{
    g_autoptr(SvConfFile) conf = sv_conf_file_parse(text, "test.conf", error);

    return conf && sv_auth_config_load(cfg, conf, "/etc/libvirt/test.conf", with_ip, error);
}

static void
test_config(void)
{
    g_autoptr(GError) error = NULL;
    SvAuthConfig cfg;

    /* libvirt's defaults without polkit: nothing on unix sockets and TLS, SASL on TCP. */
    g_assert_true(load("", TRUE, &cfg, &error));
    g_assert_cmpint(cfg.unix_rw, ==, SV_AUTH_NONE);
    g_assert_cmpint(cfg.unix_ro, ==, SV_AUTH_NONE);
    g_assert_cmpint(cfg.tcp, ==, SV_AUTH_SASL);
    g_assert_cmpint(cfg.tls, ==, SV_AUTH_NONE);
    g_assert_cmpuint(cfg.tcp_min_ssf, ==, 56);
    g_assert_null(cfg.sasl_allowed_usernames);
    sv_auth_config_clear(&cfg);
    /* A daemon that never listens on TCP reads no TCP keys. */
    g_assert_true(load("auth_tcp = \"bogus\"\ntcp_min_ssf = 1", FALSE, &cfg, &error));
    g_assert_cmpint(cfg.tcp, ==, SV_AUTH_NONE);
    sv_auth_config_clear(&cfg);
    g_assert_true(load("auth_unix_rw = \"sasl\"\nauth_tls = \"sasl\"\ntcp_min_ssf = 112\n"
                       "sasl_allowed_username_list = [\"fred\", \"joe@*\"]",
                       TRUE, &cfg, &error));
    g_assert_cmpint(cfg.unix_rw, ==, SV_AUTH_SASL);
    g_assert_cmpint(cfg.tls, ==, SV_AUTH_SASL);
    g_assert_cmpuint(cfg.tcp_min_ssf, ==, 112);
    g_assert_cmpstr(cfg.sasl_allowed_usernames[1], ==, "joe@*");
    sv_auth_config_clear(&cfg);

    g_assert_false(load("auth_unix_ro = \"kerberos\"", TRUE, &cfg, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_CONF), SV_ERR_CONFIG_UNSUPPORTED);
    g_assert_cmpstr(error->message, ==,
                    "unsupported configuration: /etc/libvirt/test.conf: auth_unix_ro: "
                    "unsupported auth kerberos");
    sv_auth_config_clear(&cfg);
    g_clear_error(&error);
    g_assert_false(load("tcp_min_ssf = 40", TRUE, &cfg, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_CONF), SV_ERR_CONFIG_UNSUPPORTED);
    g_assert_cmpstr(error->message, ==,
                    "unsupported configuration: minimum SSF levels lower than 56 are not "
                    "supported");
    sv_auth_config_clear(&cfg);
}

/* ---------------------------------------------------------------- negotiations */

typedef struct {
    SvServer *srv;
    SvRemoteHandlers handlers;
    char *path;
    int fd; /* the test's connection */
    guint32 serial;
} Fixture;

/* A server whose read-write socket asks for SASL with `allowed` as the username list,
 * and lets max_anonymous clients wait for authentication at once (0: libvirt's 20). */
static void
fixture_init_limited(Fixture *f, const char *const *allowed, guint max_anonymous)
{
    SvAuthConfig cfg = {.unix_rw = SV_AUTH_SASL, .tcp_min_ssf = 56,
                        .sasl_allowed_usernames = (GStrv)allowed};
    SvServerConfig scfg;
    int lfd;

    sv_auth_setup(&cfg, conf_dir);
    sv_server_config_init(&scfg);
    if (max_anonymous)
        scfg.max_anonymous_clients = max_anonymous;
    f->srv = sv_server_new("test", &scfg);
    sv_remote_common_handlers(&f->handlers);
    sv_remote_serve(f->srv, &f->handlers, NULL);
    f->path = g_build_filename(conf_dir, "sock", NULL);
    lfd = rpc_test_listen_on(f->path);
    sv_server_add_listener(f->srv, lfd, FALSE);
    sv_server_set_listener_auth(f->srv, lfd, SV_AUTH_SASL);
    f->fd = rpc_test_connect_to(f->path);
}

static void
fixture_init(Fixture *f, const char *const *allowed)
{
    fixture_init_limited(f, allowed, 0);
}

static void
fixture_clear(Fixture *f)
{
    close(f->fd);
    sv_server_free(f->srv);
    rpc_test_spin(0);
    unlink(f->path);
    g_free(f->path);
}

/* Call proc; ret decoded into `ret` (zeroed by the caller) when OK, else the error. */
static GError *
call(Fixture *f, int proc, xdrproc_t args_filter, void *args, xdrproc_t ret_filter, void *ret)
{
    g_autofree SvMsg *m = rpc_test_frame(REMOTE_PROGRAM, proc, SV_NET_CALL, ++f->serial,
                                         args_filter, args, -1);
    g_autoptr(GBytes) r = NULL;
    g_autoptr(GError) error = NULL;
    const guint8 *p;
    gsize len;
    SvHeader h;

    rpc_test_send(f->fd, m->data, m->len, NULL, 0);
    r = rpc_test_recv(f->fd, 10000);
    g_assert_nonnull(r);
    rpc_test_header(r, &h);
    g_assert_cmpuint(h.serial, ==, f->serial);
    if (h.status != SV_NET_OK)
        return rpc_test_error(r);
    p = g_bytes_get_data(r, &len);
    g_assert_true(sv_xdr_decode(p + SV_FRAME_MIN, len - SV_FRAME_MIN,
                                ret_filter ? ret_filter : (xdrproc_t)sv_xdr_void, ret, &error));
    g_assert_no_error(error);
    return NULL;
}

static remote_auth_type
auth_list(Fixture *f)
{
    remote_auth_list_ret r = {0};
    g_autoptr(GError) e = call(f, REMOTE_PROC_AUTH_LIST, NULL, NULL,
                               (xdrproc_t)xdr_remote_auth_list_ret, &r);
    remote_auth_type t;

    g_assert_no_error(e);
    g_assert_cmpuint(r.types.types_len, ==, 1);
    t = r.types.types_val[0];
    xdr_free((xdrproc_t)xdr_remote_auth_list_ret, (char *)&r);
    return t;
}

static int
get_simple(void *context, int id, const char **result, unsigned *len)
{
    (void)context;
    if (id != SASL_CB_AUTHNAME && id != SASL_CB_USER)
        return SASL_BADPARAM;
    *result = USER;
    if (len)
        *len = strlen(USER);
    return SASL_OK;
}

static int
get_secret(sasl_conn_t *conn, void *context, int id, sasl_secret_t **out)
{
    static union {
        sasl_secret_t s;
        char buf[sizeof(sasl_secret_t) + 64];
    } secret;
    const char *password = context;

    (void)conn;
    if (id != SASL_CB_PASS)
        return SASL_BADPARAM;
    secret.s.len = strlen(password);
    memcpy(secret.s.data, password, secret.s.len + 1);
    *out = &secret.s;
    return SASL_OK;
}

/* A whole negotiation as libvirt's client runs it, with mech and password; NULL when the
 * server let it in, else the server's error. With keep, the client's session is kept there
 * (its security layer wraps what follows), else disposed of. */
static GError *
negotiate_with(Fixture *f, const char *mech_wanted, const char *password, sasl_conn_t **keep)
{
    sasl_callback_t cbs[] = {
        {SASL_CB_AUTHNAME, (int (*)(void))(void (*)(void))get_simple, NULL},
        {SASL_CB_USER, (int (*)(void))(void (*)(void))get_simple, NULL},
        {SASL_CB_PASS, (int (*)(void))(void (*)(void))get_secret, (void *)password},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    remote_auth_sasl_init_ret init = {0};
    remote_auth_sasl_start_args sa = {0};
    remote_auth_sasl_start_ret sr = {0};
    sasl_conn_t *conn = NULL;
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    GError *e;
    int err;

    if ((e = call(f, REMOTE_PROC_AUTH_SASL_INIT, NULL, NULL,
                  (xdrproc_t)xdr_remote_auth_sasl_init_ret, &init)))
        return e;
    g_assert_nonnull(strstr(init.mechlist, mech_wanted));
    g_assert_cmpint(sasl_client_new("libvirt", "localhost", NULL, NULL, cbs, 0, &conn), ==,
                    SASL_OK);
    if (keep) { /* plain TCP: libvirt's client asks for a layer too */
        sasl_security_properties_t props = {.min_ssf = 56, .max_ssf = 100000,
                                            .maxbufsize = 65536};
        g_assert_cmpint(sasl_setprop(conn, SASL_SEC_PROPS, &props), ==, SASL_OK);
    }
    err = sasl_client_start(conn, mech_wanted, NULL, &out, &outlen, &mech);
    g_assert_cmpint(err, ==, SASL_CONTINUE);
    sa.mech = (char *)mech;
    sa.nil = out == NULL;
    sa.data.data_val = (char *)out;
    sa.data.data_len = outlen;
    e = call(f, REMOTE_PROC_AUTH_SASL_START, (xdrproc_t)xdr_remote_auth_sasl_start_args, &sa,
             (xdrproc_t)xdr_remote_auth_sasl_start_ret, &sr);
    while (!e && !sr.complete) {
        remote_auth_sasl_step_args ta = {0};
        remote_auth_sasl_step_ret tr = {0};
        err = sasl_client_step(conn, sr.nil ? NULL : sr.data.data_val, sr.data.data_len, NULL,
                               &out, &outlen);
        if (err != SASL_OK && err != SASL_CONTINUE)
            g_error("client step: %d %s", err, sasl_errdetail(conn));
        ta.nil = out == NULL;
        ta.data.data_val = (char *)out;
        ta.data.data_len = outlen;
        e = call(f, REMOTE_PROC_AUTH_SASL_STEP, (xdrproc_t)xdr_remote_auth_sasl_step_args, &ta,
                 (xdrproc_t)xdr_remote_auth_sasl_step_ret, &tr);
        xdr_free((xdrproc_t)xdr_remote_auth_sasl_start_ret, (char *)&sr);
        memcpy(&sr, &tr, sizeof(sr)); /* the same layout */
    }
    if (!e) /* the server's last message proves it knew the password too */
        g_assert_cmpint(sasl_client_step(conn, sr.nil ? NULL : sr.data.data_val,
                                         sr.data.data_len, NULL, &out, &outlen),
                        ==, SASL_OK);
    xdr_free((xdrproc_t)xdr_remote_auth_sasl_start_ret, (char *)&sr);
    xdr_free((xdrproc_t)xdr_remote_auth_sasl_init_ret, (char *)&init);
    if (keep && !e)
        *keep = conn;
    else
        sasl_dispose(&conn);
    return e;
}

static GError *
negotiate(Fixture *f, const char *password)
{
    return negotiate_with(f, "SCRAM-SHA-256", password, NULL);
}

static void
sasl_user_of(SvClient *c, gpointer data)
{
    *(char **)data = g_strdup(sv_client_get_sasl_user(c));
}

static void
expect_auth_failed(GError *e)
{
    g_assert_error(e, sv_error_quark(SV_FROM_RPC), SV_ERR_AUTH_FAILED);
    g_assert_cmpstr(e->message, ==, "authentication failed: authentication failed");
    g_error_free(e);
}

/* Before authentication only the AUTH_* calls are served; the right password lets the
 * client in as its SASL user, and AUTH_LIST answers NONE from then on. */
static void
test_scram(void)
{
    remote_connect_supports_feature_args fa = {SV_DRV_FEATURE_PROGRAM_KEEPALIVE};
    remote_connect_supports_feature_ret fr = {0};
    g_autofree char *user = NULL;
    Fixture f = {0};
    GError *e;

    if (!have_sasldb) {
        g_test_skip("saslpasswd2 (sasl2-bin) is not installed");
        return;
    }
    fixture_init(&f, NULL);
    g_assert_cmpint(auth_list(&f), ==, REMOTE_AUTH_SASL);
    e = call(&f, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE,
             (xdrproc_t)xdr_remote_connect_supports_feature_args, &fa,
             (xdrproc_t)xdr_remote_connect_supports_feature_ret, &fr);
    g_assert_error(e, sv_error_quark(SV_FROM_RPC), SV_ERR_RPC);
    g_assert_cmpstr(e->message, ==, "authentication required");
    g_clear_error(&e);
    g_assert_cmpuint(sv_server_n_unauth_clients(f.srv), ==, 1);

    e = negotiate(&f, PASSWORD);
    g_assert_no_error(e);
    g_assert_cmpint(auth_list(&f), ==, REMOTE_AUTH_NONE);
    g_assert_cmpuint(sv_server_n_unauth_clients(f.srv), ==, 0);
    sv_server_foreach_client(f.srv, sasl_user_of, &user);
    g_assert_cmpstr(user, ==, USER);
    g_assert_null(call(&f, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE,
                       (xdrproc_t)xdr_remote_connect_supports_feature_args, &fa,
                       (xdrproc_t)xdr_remote_connect_supports_feature_ret, &fr));
    g_assert_cmpint(fr.supported, ==, 1);
    /* Authenticated, the client has nothing more to negotiate. */
    expect_auth_failed(call(&f, REMOTE_PROC_AUTH_SASL_INIT, NULL, NULL,
                            (xdrproc_t)xdr_remote_auth_sasl_init_ret, NULL));
    fixture_clear(&f);
}

/* A wrong password, or a user outside sasl_allowed_username_list, hears libvirt's
 * "authentication failed" and nothing more, and may start over. */
static void
test_refused(void)
{
    const char *const others[] = {"joe", "admin*", NULL};
    const char *const fred[] = {"fr?d", NULL};
    Fixture f = {0};

    if (!have_sasldb) {
        g_test_skip("saslpasswd2 (sasl2-bin) is not installed");
        return;
    }
    fixture_init(&f, others);
    expect_auth_failed(negotiate(&f, "wrong"));
    g_assert_cmpint(auth_list(&f), ==, REMOTE_AUTH_SASL);
    expect_auth_failed(negotiate(&f, PASSWORD)); /* right password, user not allowed */
    g_assert_cmpint(auth_list(&f), ==, REMOTE_AUTH_SASL);
    /* A step without a negotiation under way is refused the same way. */
    {
        remote_auth_sasl_step_args ta = {1, {0, NULL}};
        expect_auth_failed(call(&f, REMOTE_PROC_AUTH_SASL_STEP,
                                (xdrproc_t)xdr_remote_auth_sasl_step_args, &ta,
                                (xdrproc_t)xdr_remote_auth_sasl_step_ret, NULL));
    }
    fixture_clear(&f);
    fixture_init(&f, fred);
    g_assert_no_error(negotiate(&f, PASSWORD));
    fixture_clear(&f);
}

/* Clients still to authenticate count against max_anonymous_clients: one more is told so
 * and closed; one that authenticated leaves room. */
static void
test_anonymous_limit(void)
{
    Fixture f = {0};
    Fixture other = {0};
    g_autoptr(GError) e = NULL;

    if (!have_sasldb) {
        g_test_skip("saslpasswd2 (sasl2-bin) is not installed");
        return;
    }
    fixture_init_limited(&f, NULL, 1);
    g_assert_cmpint(auth_list(&f), ==, REMOTE_AUTH_SASL);
    other.fd = rpc_test_connect_to(f.path);
    e = call(&other, REMOTE_PROC_AUTH_LIST, NULL, NULL, (xdrproc_t)xdr_remote_auth_list_ret,
             NULL);
    g_assert_error(e, sv_error_quark(SV_FROM_RPC), SV_ERR_RPC);
    g_assert_cmpstr(e->message, ==,
                    "Too many active unauthenticated clients (max_anonymous_clients = 1), "
                    "dropping connection");
    g_assert_true(rpc_test_wait_eof(other.fd, 2000));
    close(other.fd);
    g_assert_no_error(negotiate(&f, PASSWORD));
    other.fd = rpc_test_connect_to(f.path);
    other.serial = 0;
    g_assert_cmpint(auth_list(&other), ==, REMOTE_AUTH_SASL);
    close(other.fd);
    fixture_clear(&f);
}

/* ---------------------------------------------------------------- the client side */

static void
test_auth_file(void)
{
    const char *text = "[credentials-test]\nauthname=fred\npassword=pw1\n\n"
                       "[credentials-other]\nusername=joe\npassword=pw2\n\n"
                       "[auth-libvirt-host2]\ncredentials=other\n\n"
                       "[auth-libvirt-default]\ncredentials=test\n";
    g_autofree char *user = NULL, *password = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(sv_auth_file_credentials(text, "host1", &user, &password, &error));
    g_assert_cmpstr(user, ==, "fred");
    g_assert_cmpstr(password, ==, "pw1");
    g_clear_pointer(&user, g_free);
    g_clear_pointer(&password, g_free);
    g_assert_true(sv_auth_file_credentials(text, "host2", &user, &password, &error));
    g_assert_cmpstr(user, ==, "joe");
    g_assert_cmpstr(password, ==, "pw2");
    g_assert_false(sv_auth_file_credentials("[auth-libvirt-host3]\ncredentials=none\n",
                                            "host3", &user, &password, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_RPC), SV_ERR_AUTH_FAILED);
    g_assert_cmpstr(error->message, ==,
                    "authentication failed: Failed to collect auth credentials");
}

typedef struct {
    gboolean done;
    GError *error;
} ClientResult;

static void
client_done(SvRpcConn *conn, const GError *error, gpointer data)
{
    ClientResult *r = data;

    (void)conn;
    r->done = TRUE;
    r->error = error ? g_error_copy(error) : NULL;
}

/* Our own client side against our server, with the auth file's password for fred. */
static GError *
client_negotiate(Fixture *f, const char *password)
{
    g_autofree char *auth = g_build_filename(conf_dir, "auth.conf", NULL);
    g_autofree char *text = g_strdup_printf("[credentials-t]\nauthname=fred\npassword=%s\n\n"
                                            "[auth-libvirt-localhost]\ncredentials=t\n",
                                            password);
    SvAuthClientSpec spec = {"localhost", auth, TRUE, 0};
    static const SvRpcConnCallbacks none = {0};
    SvRpcConn *conn = sv_rpc_conn_new(rpc_test_connect_to(f->path), &none, NULL);
    ClientResult r = {0};
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    g_assert_true(g_file_set_contents(auth, text, -1, NULL));
    sv_auth_client_sasl(conn, &spec, client_done, &r);
    while (!r.done && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(r.done);
    sv_rpc_conn_free(conn);
    rpc_test_spin(0);
    unlink(auth);
    return r.error;
}

static void
test_client(void)
{
    GError *e;
    Fixture f = {0};

    if (!have_sasldb) {
        g_test_skip("saslpasswd2 (sasl2-bin) is not installed");
        return;
    }
    fixture_init(&f, NULL);
    e = client_negotiate(&f, "wrong");
    g_assert_error(e, sv_error_quark(SV_FROM_RPC), SV_ERR_AUTH_FAILED);
    g_assert_cmpstr(e->message, ==, "authentication failed: authentication failed");
    g_clear_error(&e);
    g_assert_no_error(client_negotiate(&f, PASSWORD));
    fixture_clear(&f);
}

static gboolean
t_open(SvCall *call, remote_connect_open_args *args, GError **error)
{
    (void)call, (void)args, (void)error;
    return TRUE;
}

static void
uri_opened(GObject *source, GAsyncResult *res, gpointer data)
{
    ClientResult *r = data;
    SvRpcConn *conn = sv_remote_uri_open_finish(res, &r->error);

    (void)source;
    if (conn)
        sv_rpc_conn_free(conn);
    r->done = TRUE;
}

/* sv_remote_uri_open authenticates with SASL when the server asks for it, with the
 * credentials of ROOT/etc/libvirt/auth.conf, then opens. */
static void
test_uri_open(void)
{
    g_autofree char *etc = g_build_filename(conf_dir, "etc", "libvirt", NULL);
    g_autofree char *auth = g_build_filename(etc, "auth.conf", NULL);
    g_autofree char *uri = NULL;
    Fixture f = {0};
    ClientResult r = {0};
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    if (!have_sasldb) {
        g_test_skip("saslpasswd2 (sasl2-bin) is not installed");
        return;
    }
    fixture_init(&f, NULL);
    f.handlers.connect_open = t_open;
    g_assert_cmpint(g_mkdir_with_parents(etc, 0700), ==, 0);
    g_assert_true(g_file_set_contents(auth, "[credentials-t]\nauthname=" USER
                                      "\npassword=" PASSWORD "\n\n[auth-libvirt-default]\n"
                                      "credentials=t\n", -1, NULL));
    uri = g_strdup_printf("qemu+unix:///system?socket=%s", f.path);
    sv_remote_uri_open(uri, conf_dir, uri_opened, &r);
    while (!r.done && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(r.done);
    g_assert_no_error(r.error);
    unlink(auth);
    rmdir(etc);
    {
        g_autofree char *etc_dir = g_path_get_dirname(etc);
        rmdir(etc_dir);
    }
    fixture_clear(&f);
}

/* Over plain TCP only a mechanism with a security layer is offered (DIGEST-MD5 here, not
 * SCRAM); once it is agreed, every byte both ways crosses it: an AUTH_LIST encoded by the
 * client's session is answered, encoded by the server's. */
static void
test_security_layer(void)
{
    SvAuthConfig cfg = {.tcp = SV_AUTH_SASL, .tcp_min_ssf = 56};
    g_autoptr(GArray) fds = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GByteArray) plain = g_byte_array_new();
    g_autofree SvMsg *m = NULL;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    sasl_conn_t *conn = NULL;
    const char *enc;
    unsigned enclen;
    Fixture f = {0};
    SvHeader h;

    if (!have_sasldb) {
        g_test_skip("saslpasswd2 (sasl2-bin) is not installed");
        return;
    }
    sv_auth_setup(&cfg, conf_dir);
    f.srv = sv_server_new("test", NULL);
    sv_remote_common_handlers(&f.handlers);
    sv_remote_serve(f.srv, &f.handlers, NULL);
    fds = sv_transport_listen_tcp("127.0.0.1", "0", &error);
    g_assert_no_error(error);
    sv_server_add_listener_net(f.srv, g_array_index(fds, int, 0), NULL);
    sv_server_set_listener_auth(f.srv, g_array_index(fds, int, 0), SV_AUTH_SASL);
    g_assert_cmpint(getsockname(g_array_index(fds, int, 0), (struct sockaddr *)&sa, &sl), ==, 0);
    f.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(connect(f.fd, (struct sockaddr *)&sa, sl), ==, 0);
    g_assert_no_error(negotiate_with(&f, "DIGEST-MD5", PASSWORD, &conn));

    m = rpc_test_frame(REMOTE_PROGRAM, REMOTE_PROC_AUTH_LIST, SV_NET_CALL, 99, NULL, NULL, -1);
    g_assert_cmpint(sasl_encode(conn, (const char *)m->data, m->len, &enc, &enclen), ==,
                    SASL_OK);
    rpc_test_send(f.fd, enc, enclen, NULL, 0);
    while (plain->len < 4 || plain->len < sv_be32(plain->data)) {
        guint8 raw[4096];
        ssize_t n;
        const char *dec;
        unsigned declen;
        struct pollfd p = {f.fd, POLLIN, 0};

        while (g_main_context_iteration(NULL, FALSE))
            ;
        if (poll(&p, 1, 5) <= 0)
            continue;
        n = read(f.fd, raw, sizeof(raw));
        g_assert_cmpint(n, >, 0);
        g_assert_cmpint(sasl_decode(conn, (const char *)raw, n, &dec, &declen), ==, SASL_OK);
        g_byte_array_append(plain, (const guint8 *)dec, declen);
    }
    sv_header_decode(plain->data + 4, &h);
    g_assert_cmpuint(h.serial, ==, 99);
    g_assert_cmpint(h.status, ==, SV_NET_OK);
    /* One auth type, NONE: the client has authenticated. */
    g_assert_cmpuint(sv_be32(plain->data + SV_FRAME_MIN), ==, 1);
    g_assert_cmpuint(sv_be32(plain->data + SV_FRAME_MIN + 4), ==, REMOTE_AUTH_NONE);
    sasl_dispose(&conn);
    close(f.fd);
    sv_server_free(f.srv);
    rpc_test_spin(0);
}

/* A client of a listener that asks for nothing may not negotiate. */
static void
test_not_asked(void)
{
    SvAuthConfig cfg = {.tcp_min_ssf = 56};
    Fixture f = {0};
    int sp[2];

    sv_auth_setup(&cfg, conf_dir);
    f.srv = sv_server_new("test", NULL);
    sv_remote_common_handlers(&f.handlers);
    sv_remote_serve(f.srv, &f.handlers, NULL);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), ==, 0);
    sv_server_add_client_fd(f.srv, sp[0], FALSE);
    f.fd = sp[1];
    g_assert_cmpint(auth_list(&f), ==, REMOTE_AUTH_NONE);
    expect_auth_failed(call(&f, REMOTE_PROC_AUTH_SASL_INIT, NULL, NULL,
                            (xdrproc_t)xdr_remote_auth_sasl_init_ret, NULL));
    close(f.fd);
    sv_server_free(f.srv);
    rpc_test_spin(0);
}

/* libvirt.conf (SCRAM-SHA-256 only, the sasldb here) and a sasldb with USER in it. */
static void
make_sasl_config(void)
{
    g_autofree char *db = NULL;
    g_autofree char *conf = NULL;
    g_autofree char *conf_path = NULL;
    g_autofree char *prog = g_find_program_in_path("saslpasswd2");
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p = NULL;

    conf_dir = g_dir_make_tmp("sv-sasl-XXXXXX", NULL);
    db = g_build_filename(conf_dir, "passwd.db", NULL);
    conf = g_strdup_printf("mech_list: scram-sha-256 digest-md5\nsasldb_path: %s\n", db);
    conf_path = g_build_filename(conf_dir, "libvirt.conf", NULL);
    g_assert_true(g_file_set_contents(conf_path, conf, -1, NULL));
    if (!prog)
        return;
    p = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE, &error, prog, "-p", "-c", "-f", db,
                         "-a", "libvirt", USER, NULL);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_communicate_utf8(p, PASSWORD, NULL, NULL, NULL, &error));
    g_assert_true(g_subprocess_get_successful(p));
    have_sasldb = TRUE;
}

static void
remove_sasl_config(void)
{
    g_autoptr(GDir) dir = g_dir_open(conf_dir, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(conf_dir, name, NULL);
        unlink(path);
    }
    rmdir(conf_dir);
}

int
main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    make_sasl_config();
    g_assert_cmpint(sasl_client_init(NULL), ==, SASL_OK);
    g_test_add_func("/sasl/rules", test_rules);
    g_test_add_func("/sasl/config", test_config);
    g_test_add_func("/sasl/scram", test_scram);
    g_test_add_func("/sasl/refused", test_refused);
    g_test_add_func("/sasl/anonymous-limit", test_anonymous_limit);
    g_test_add_func("/sasl/not-asked", test_not_asked);
    g_test_add_func("/sasl/auth-file", test_auth_file);
    g_test_add_func("/sasl/client", test_client);
    g_test_add_func("/sasl/uri-open", test_uri_open);
    g_test_add_func("/sasl/security-layer", test_security_layer);
    rc = g_test_run();
    remove_sasl_config();
    return rc;
}
