/* test-family-client.c: a daemon's own calls to a secondary driver's daemon
 * (programs/family_client.c, the open sequence of programs/backend.c), in one process:
 * server F, a stand-in virtsecretd on RUN/virtsecretd-sock, records what it was told
 * (identity, URI) and answers typed calls; the client side runs on the same loop. Also the
 * system token file libvirt's daemons share. */
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "programs/family_client.h"
#include "programs/remote.h"
#include "protocol/remote_dispatch.h"
#include "rpc-test.h"
#include "util/error.h"

typedef struct {
    char *run;
    SvServer *f;
    SvRemoteHandlers remote;
    char *opened;        /* the URI F was opened with, and the flags */
    GString *identity;   /* the parameters F was told, "name=value;" */
    gboolean refuse_open;
    gboolean refuse_identity;
    SvCall *held; /* a GET_VALUE call F has not answered */
    /* the client side */
    int replies;
    char *value;    /* GET_VALUE's answer */
    char *hostname; /* GET_HOSTNAME's answer */
    GError *error;  /* the last failure a call heard */
    gboolean in_call; /* inside sv_family_client_call */
} Fixture;

static Fixture *fx;

static gboolean
f_open(SvCall *call, remote_connect_open_args *a, GError **error)
{
    (void)call;
    if (fx->refuse_open) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_NO_CONNECT, "no connection driver available");
        return FALSE;
    }
    g_free(fx->opened);
    fx->opened = g_strdup_printf("%s flags %u", a->name ? *a->name : "", a->flags);
    return TRUE;
}

static gboolean
f_identity(SvCall *call, remote_connect_set_identity_args *a, GError **error)
{
    (void)call;
    if (fx->refuse_identity) {
        sv_error_set(error, SV_FROM_ACCESS, SV_ERR_ACCESS_DENIED, "'secret' denied access");
        return FALSE;
    }
    for (guint i = 0; i < a->params.params_len; i++) {
        const remote_typed_param *p = &a->params.params_val[i];
        if (p->value.type == SV_TYPED_PARAM_STRING)
            g_string_append_printf(fx->identity, "%s=%s;", p->field,
                                   p->value.remote_typed_param_value_u.s);
        else if (p->value.type == SV_TYPED_PARAM_LLONG)
            g_string_append_printf(fx->identity, "%s=%" G_GINT64_FORMAT ";", p->field,
                                   (gint64)p->value.remote_typed_param_value_u.l);
        else
            g_string_append_printf(fx->identity, "%s=%" G_GUINT64_FORMAT ";", p->field,
                                   (guint64)p->value.remote_typed_param_value_u.ul);
    }
    return TRUE;
}

static gboolean
f_hostname(SvCall *call, remote_connect_get_hostname_ret *ret, GError **error)
{
    (void)call, (void)error;
    ret->hostname = g_strdup("family-host");
    return TRUE;
}

static gboolean
f_get_value(SvCall *call, remote_secret_get_value_args *a, remote_secret_get_value_ret *ret,
            GError **error)
{
    if (g_str_equal(a->secret.usageID, "hold")) {
        fx->held = sv_call_defer(call);
        return TRUE;
    }
    if (!g_str_equal(a->secret.usageID, "known")) {
        sv_error_set(error, SV_FROM_SECRET, SV_ERR_NO_SECRET,
                     "secret 'x' does not have a value");
        return FALSE;
    }
    ret->value.value_val = g_strdup("s3cret");
    ret->value.value_len = 6;
    return TRUE;
}

static void
setup(gboolean listening)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    SvServerConfig cfg;
    int fd;

    fx = g_new0(Fixture, 1);
    fx->run = g_dir_make_tmp("sv-famcli-XXXXXX", NULL);
    fx->identity = g_string_new(NULL);
    sv_server_config_init(&cfg);
    fx->f = sv_server_new("f", &cfg);
    sv_remote_common_handlers(&fx->remote);
    fx->remote.connect_open = f_open;
    fx->remote.connect_set_identity = f_identity;
    fx->remote.connect_get_hostname = f_hostname;
    fx->remote.secret_get_value = f_get_value;
    sv_remote_serve(fx->f, &fx->remote, NULL);
    if (!listening)
        return;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/virtsecretd-sock", fx->run);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(fd, 16), ==, 0);
    sv_server_add_listener(fx->f, fd, FALSE);
}

static void
teardown(void)
{
    g_autofree char *sock = g_strdup_printf("%s/virtsecretd-sock", fx->run);
    g_autofree char *common = g_strdup_printf("%s/common", fx->run);
    g_autofree char *token = g_strdup_printf("%s/common/system.token", fx->run);

    rpc_test_spin(50);
    sv_server_shutdown(fx->f);
    sv_server_free(fx->f);
    unlink(sock);
    unlink(token);
    rmdir(common);
    g_assert_cmpint(rmdir(fx->run), ==, 0);
    g_free(fx->run);
    g_free(fx->opened);
    g_free(fx->value);
    g_free(fx->hostname);
    g_clear_error(&fx->error);
    g_string_free(fx->identity, TRUE);
    g_clear_pointer(&fx, g_free);
}

static void
value_done(SvFamilyClient *fc, void *ret, const GError *error, gpointer data)
{
    remote_secret_get_value_ret *r = ret;

    (void)fc, (void)data;
    g_assert_false(fx->in_call);
    fx->replies++;
    g_clear_error(&fx->error);
    if (error) {
        fx->error = g_error_copy(error);
        return;
    }
    g_free(fx->value);
    fx->value = g_strndup(r->value.value_val, r->value.value_len);
}

static void
hostname_done(SvFamilyClient *fc, void *ret, const GError *error, gpointer data)
{
    (void)fc, (void)data;
    g_assert_false(fx->in_call);
    g_assert_no_error((GError *)error);
    fx->replies++;
    fx->hostname = g_strdup(((remote_connect_get_hostname_ret *)ret)->hostname);
}

static void
get_value(SvFamilyClient *fc, const char *usage)
{
    remote_secret_get_value_args a = {{"", 1, (char *)usage}, 0};

    fx->in_call = TRUE;
    sv_family_client_call(fc, REMOTE_PROC_SECRET_GET_VALUE,
                          (xdrproc_t)xdr_remote_secret_get_value_args, &a,
                          (xdrproc_t)xdr_remote_secret_get_value_ret,
                          sizeof(remote_secret_get_value_ret), value_done, NULL);
    fx->in_call = FALSE;
}

static void
wait_replies(int n)
{
    for (int i = 0; i < 5000 && fx->replies < n; i++)
        rpc_test_spin(1);
    g_assert_cmpint(fx->replies, ==, n);
}

/* Calls made at once wait for the open, which carries the daemon's identity (elevated:
 * with the system token), and get typed answers or the family daemon's errors. */
static void
test_calls(void)
{
    SvBackendIdentity id;
    g_autoptr(SvFamilyClient) fc = NULL;
    g_autofree char *want = NULL;
    GError *error = NULL;

    setup(TRUE);
    sv_backend_identity_of_daemon(&id);
    g_assert_true(sv_backend_system_token(fx->run, id.system_token, &error));
    g_assert_no_error(error);
    fc = sv_family_client_new(fx->run, SV_PROC_FAMILY_SECRET, &id, &error);
    g_assert_no_error(error);
    fx->in_call = TRUE;
    sv_family_client_call(fc, REMOTE_PROC_CONNECT_GET_HOSTNAME, (xdrproc_t)sv_xdr_void, NULL,
                          (xdrproc_t)xdr_remote_connect_get_hostname_ret,
                          sizeof(remote_connect_get_hostname_ret), hostname_done, NULL);
    fx->in_call = FALSE;
    get_value(fc, "known");
    wait_replies(2);
    g_assert_cmpstr(fx->hostname, ==, "family-host");
    g_assert_cmpstr(fx->value, ==, "s3cret");
    g_assert_cmpstr(fx->opened, ==,
                    getuid() == 0 ? "secret:///system flags 0" : "secret:///session flags 0");
    want = g_strdup_printf("unix-user-id=%u;unix-group-id=%u;process-id=%d;system.token=%s;",
                           (guint)getuid(), (guint)getgid(), (int)getpid(), id.system_token);
    g_assert_cmpstr(fx->identity->str, ==, want);
    get_value(fc, "other");
    wait_replies(3);
    g_assert_error(fx->error, sv_error_quark(SV_FROM_SECRET), SV_ERR_NO_SECRET);
    g_assert_cmpstr(fx->error->message, ==, "Secret not found: secret 'x' does not have a value");
    g_clear_pointer(&fc, sv_family_client_free);
    teardown();
}

/* A refused open or identity is what every call hears, never its reply. */
static void
test_open_refused(gconstpointer which)
{
    SvBackendIdentity id = {0};
    g_autoptr(SvFamilyClient) fc = NULL;
    GError *error = NULL;

    setup(TRUE);
    fx->refuse_open = g_str_equal(which, "open");
    fx->refuse_identity = !fx->refuse_open;
    fc = sv_family_client_new(fx->run, SV_PROC_FAMILY_SECRET, &id, &error);
    g_assert_no_error(error);
    get_value(fc, "known");
    wait_replies(1);
    g_assert_null(fx->value);
    if (fx->refuse_open) {
        g_assert_error(fx->error, sv_error_quark(SV_FROM_CONF), SV_ERR_NO_CONNECT);
    } else {
        g_assert_error(fx->error, sv_error_quark(SV_FROM_ACCESS), SV_ERR_ACCESS_DENIED);
        g_assert_cmpstr(fx->error->message, ==, "access denied: 'secret' denied access");
    }
    /* Later calls hear it too, from the loop. */
    get_value(fc, "known");
    wait_replies(2);
    g_assert_nonnull(fx->error);
    g_assert_null(fx->value);
    g_clear_pointer(&fc, sv_family_client_free);
    teardown();
}

static void
test_missing(void)
{
    SvBackendIdentity id = {0};
    g_autofree char *msg = NULL;
    GError *error = NULL;

    setup(FALSE);
    g_assert_null(sv_family_client_new(fx->run, SV_PROC_FAMILY_SECRET, &id, &error));
    msg = g_strdup_printf("Failed to connect socket to '%s/virtsecretd-sock': "
                          "No such file or directory", fx->run);
    g_assert_error(error, sv_error_quark(SV_FROM_RPC), SV_ERR_SYSTEM_ERROR);
    g_assert_cmpstr(error->message, ==, msg);
    g_error_free(error);
    teardown();
}

/* The family daemon goes with a call in flight: it hears libvirt's end-of-file error, and
 * so does the next call; freeing the client with a call pending calls nobody. */
static void
test_gone(void)
{
    SvBackendIdentity id = {0};
    g_autoptr(SvFamilyClient) fc = NULL;
    GError *error = NULL;

    setup(TRUE);
    fc = sv_family_client_new(fx->run, SV_PROC_FAMILY_SECRET, &id, &error);
    g_assert_no_error(error);
    get_value(fc, "hold");
    while (!fx->held)
        rpc_test_spin(1);
    sv_client_close(sv_call_get_client(fx->held), "test: the family daemon dies");
    wait_replies(1);
    g_assert_error(fx->error, sv_error_quark(SV_FROM_RPC), SV_ERR_SYSTEM_ERROR);
    g_assert_cmpstr(fx->error->message, ==, "End of file while reading data: Input/output error");
    get_value(fc, "known");
    wait_replies(2);
    g_assert_cmpstr(fx->error->message, ==, "End of file while reading data: Input/output error");
    sv_error_set(&error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "gone");
    sv_call_fail(g_steal_pointer(&fx->held), error);
    error = NULL;
    g_clear_pointer(&fc, sv_family_client_free);

    fc = sv_family_client_new(fx->run, SV_PROC_FAMILY_SECRET, &id, &error);
    get_value(fc, "hold");
    while (!fx->held)
        rpc_test_spin(1);
    g_clear_pointer(&fc, sv_family_client_free);
    rpc_test_spin(50);
    g_assert_cmpint(fx->replies, ==, 2);
    sv_error_set(&error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "gone");
    sv_call_fail(g_steal_pointer(&fx->held), error);
    teardown();
}

/* The token file: made once (0600 in a 0700 directory), the same for every later reader;
 * a corrupt one is refused as libvirt refuses it. */
static void
test_system_token(void)
{
    char a[SV_SYSTEM_TOKEN_LEN + 1], b[SV_SYSTEM_TOKEN_LEN + 1];
    g_autofree char *path = NULL;
    GError *error = NULL;
    struct stat st;

    setup(FALSE);
    path = g_strdup_printf("%s/common/system.token", fx->run);
    g_assert_true(sv_backend_system_token(fx->run, a, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(strlen(a), ==, SV_SYSTEM_TOKEN_LEN);
    g_assert_cmpuint(strspn(a, "0123456789abcdef"), ==, SV_SYSTEM_TOKEN_LEN);
    g_assert_true(sv_backend_system_token(fx->run, b, &error));
    g_assert_cmpstr(a, ==, b);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0600);
    g_assert_true(g_file_set_contents(path, "short", -1, NULL));
    g_assert_false(sv_backend_system_token(fx->run, b, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_IDENTITY), SV_ERR_SYSTEM_ERROR);
    g_error_free(error);
    teardown();
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/family-client/calls", test_calls);
    g_test_add_data_func("/family-client/open-refused", "open", test_open_refused);
    g_test_add_data_func("/family-client/identity-refused", "identity", test_open_refused);
    g_test_add_func("/family-client/missing", test_missing);
    g_test_add_func("/family-client/gone", test_gone);
    g_test_add_func("/family-client/system-token", test_system_token);
    return g_test_run();
}
