/* test-sasl.c: SASL authentication (rpc/sasl.c, programs/auth.c): libvirt's rules, the
 * configuration keys, and whole negotiations of libsasl2's own SCRAM-SHA-256 client with the
 * server over a listener that asks for SASL, against a sasldb made by saslpasswd2. */
#include "rpc-test.h"

#include <sasl/sasl.h>

#include "programs/auth.h"
#include "programs/remote.h"
#include "protocol/sv_remote.h"
#include "rpc/sasl.h"
#include "util/error.h"

#define USER "fred"
#define PASSWORD "fred-secret"

static char *conf_dir; /* libvirt.conf and the sasldb, for the whole run */
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

/* A whole negotiation as libvirt's client runs it, with password; NULL when the server let
 * it in, else the server's error. */
static GError *
negotiate(Fixture *f, const char *password)
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
    g_assert_cmpstr(init.mechlist, ==, "SCRAM-SHA-256");
    g_assert_cmpint(sasl_client_new("libvirt", "localhost", NULL, NULL, cbs, 0, &conn), ==,
                    SASL_OK);
    err = sasl_client_start(conn, init.mechlist, NULL, &out, &outlen, &mech);
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
    if (!e) /* SCRAM's last server message proves the server knew the password too */
        g_assert_cmpint(sasl_client_step(conn, sr.nil ? NULL : sr.data.data_val,
                                         sr.data.data_len, NULL, &out, &outlen),
                        ==, SASL_OK);
    xdr_free((xdrproc_t)xdr_remote_auth_sasl_start_ret, (char *)&sr);
    xdr_free((xdrproc_t)xdr_remote_auth_sasl_init_ret, (char *)&init);
    sasl_dispose(&conn);
    return e;
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
    conf = g_strdup_printf("mech_list: scram-sha-256\nsasldb_path: %s\n", db);
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
    rc = g_test_run();
    remove_sasl_config();
    return rc;
}
