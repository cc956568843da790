/* test-admin.c: the admin program over a socketpair, on the real loop: servers, clients,
 * client info and limits, logging settings and the idle-timeout hook. */
#include <poll.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "programs/admin.h"
#include "protocol/sv_admin.h"
#include "protocol/sv_net.h"
#include "util/error.h"
#include "util/log.h"

typedef struct {
    SvServer *main;  /* "virtqemud", as a daemon names its main server */
    SvServer *admin; /* "admin", serving the program */
    SvAdmin *program;
    int fd;      /* the test's end of the admin connection */
    int peer_fd; /* the test's end of a client of the main server */
    guint32 serial;
    guint timeout_set;
    int timeout_calls;
} Fixture;

static void
set_timeout(guint timeout, gpointer data)
{
    Fixture *f = data;

    f->timeout_set = timeout;
    f->timeout_calls++;
}

static void
setup(Fixture *f, gconstpointer data)
{
    int sv[2];

    (void)data;
    f->main = sv_server_new("virtqemud", NULL);
    f->admin = sv_server_new("admin", NULL);
    f->program = sv_admin_new(set_timeout, f);
    sv_admin_add_server(f->program, f->main);
    sv_admin_add_server(f->program, f->admin);
    sv_admin_serve(f->program, f->admin);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    f->fd = sv[0];
    sv_server_add_client_fd(f->admin, sv[1], FALSE);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    f->peer_fd = sv[0];
    sv_server_add_client_fd(f->main, sv[1], TRUE);
}

static void
teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    close(f->fd);
    close(f->peer_fd);
    sv_server_free(f->admin);
    sv_server_free(f->main);
    sv_admin_free(f->program);
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

/* Run the loop until one whole message arrives on fd; NULL on EOF or after 2 s. */
static GBytes *
recv_msg(int fd)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        guint8 tmp[4096];
        gsize want;
        ssize_t n;

        while (g_main_context_iteration(NULL, FALSE))
            ;
        if (poll(&p, 1, 5) <= 0)
            continue;
        want = buf->len < 4 ? 4 : sv_be32(buf->data);
        n = read(fd, tmp, MIN(sizeof(tmp), want - buf->len));
        if (n <= 0)
            return NULL;
        g_byte_array_append(buf, tmp, n);
        if (buf->len >= 4 && buf->len == sv_be32(buf->data))
            return g_byte_array_free_to_bytes(g_steal_pointer(&buf));
    }
    return NULL;
}

/* One call; on OK decodes the return into ret and returns NULL, else the error. */
static GError *
call(Fixture *f, int proc, xdrproc_t args_filter, void *args, xdrproc_t ret_filter, void *ret)
{
    SvHeader h = {ADMIN_PROGRAM, ADMIN_PROTOCOL_VERSION, proc, SV_NET_CALL, f->serial++,
                  SV_NET_OK};
    g_autofree SvMsg *m = sv_msg_encode(&h, args_filter ? args_filter : (xdrproc_t)sv_xdr_void,
                                        args, NULL);
    g_autoptr(GBytes) r = NULL;
    const guint8 *p;
    gsize len;
    SvHeader rh;

    g_assert_cmpint(write(f->fd, m->data, m->len), ==, (gssize)m->len);
    r = recv_msg(f->fd);
    g_assert_nonnull(r);
    p = g_bytes_get_data(r, &len);
    sv_header_decode(p + SV_FRAME_LEN_SIZE, &rh);
    g_assert_cmpuint(rh.type, ==, SV_NET_REPLY);
    g_assert_cmpint(rh.proc, ==, proc);
    g_assert_cmpuint(rh.serial, ==, h.serial);
    if (rh.status != SV_NET_OK)
        return sv_error_from_payload(p + SV_FRAME_MIN, len - SV_FRAME_MIN);
    g_assert_true(sv_xdr_decode(p + SV_FRAME_MIN, len - SV_FRAME_MIN,
                                ret_filter ? ret_filter : (xdrproc_t)sv_xdr_void, ret, NULL));
    return NULL;
}

static void
call_ok(Fixture *f, int proc, xdrproc_t args_filter, void *args, xdrproc_t ret_filter, void *ret)
{
    g_autoptr(GError) e = call(f, proc, args_filter, args, ret_filter, ret);

    g_assert_no_error(e);
}

static void
call_fails(Fixture *f, int proc, xdrproc_t args_filter, void *args, int from, int code,
           const char *message)
{
    g_autoptr(GError) e = call(f, proc, args_filter, args, NULL, NULL);

    g_assert_nonnull(e);
    g_assert_cmpint(sv_error_get_from(e), ==, from);
    g_assert_cmpint(e->code, ==, code);
    g_assert_cmpstr(e->message, ==, message);
}

static void
open_admin(Fixture *f)
{
    admin_connect_open_args a = {0};

    call_ok(f, ADMIN_PROC_CONNECT_OPEN, (xdrproc_t)xdr_admin_connect_open_args, &a, NULL, NULL);
}

/* The id of the one client of the main server. */
static guint64
main_client_id(Fixture *f)
{
    admin_server_list_clients_args a = {{"virtqemud"}, 1, 0};
    admin_server_list_clients_ret r = {0};
    guint64 id;

    call_ok(f, ADMIN_PROC_SERVER_LIST_CLIENTS, (xdrproc_t)xdr_admin_server_list_clients_args, &a,
            (xdrproc_t)xdr_admin_server_list_clients_ret, &r);
    g_assert_cmpuint(r.clients.clients_len, ==, 1);
    id = r.clients.clients_val[0].id;
    xdr_free((xdrproc_t)xdr_admin_server_list_clients_ret, (char *)&r);
    return id;
}

static void
test_open(Fixture *f, gconstpointer d)
{
    admin_connect_open_args bad = {1};
    admin_connect_get_lib_version_ret v = {0};

    (void)d;
    call_fails(f, ADMIN_PROC_CONNECT_GET_LIB_VERSION, NULL, NULL, SV_FROM_RPC,
               SV_ERR_INTERNAL_ERROR, "internal error: hypervisor connection not open");
    call_fails(f, ADMIN_PROC_CONNECT_OPEN, (xdrproc_t)xdr_admin_connect_open_args, &bad,
               SV_FROM_ADMIN, SV_ERR_INVALID_ARG,
               "unsupported flags (0x1) in function adminDispatchConnectOpen");
    open_admin(f);
    call_ok(f, ADMIN_PROC_CONNECT_GET_LIB_VERSION, NULL, NULL,
            (xdrproc_t)xdr_admin_connect_get_lib_version_ret, &v);
    g_assert_cmpuint(v.libVer, ==, 9000000);
}

static void
test_servers(Fixture *f, gconstpointer d)
{
    admin_connect_list_servers_args all = {1, 0}, count = {0, 0};
    admin_connect_list_servers_ret r = {0};
    admin_connect_lookup_server_args ok = {"virtqemud", 0}, missing = {"nosuch", 0};
    admin_connect_lookup_server_ret lr = {0};

    (void)d;
    open_admin(f);
    call_ok(f, ADMIN_PROC_CONNECT_LIST_SERVERS, (xdrproc_t)xdr_admin_connect_list_servers_args,
            &all, (xdrproc_t)xdr_admin_connect_list_servers_ret, &r);
    g_assert_cmpuint(r.ret, ==, 2);
    g_assert_cmpuint(r.servers.servers_len, ==, 2);
    g_assert_cmpstr(r.servers.servers_val[0].name, ==, "admin"); /* sorted, as libvirt */
    g_assert_cmpstr(r.servers.servers_val[1].name, ==, "virtqemud");
    xdr_free((xdrproc_t)xdr_admin_connect_list_servers_ret, (char *)&r);

    memset(&r, 0, sizeof(r));
    call_ok(f, ADMIN_PROC_CONNECT_LIST_SERVERS, (xdrproc_t)xdr_admin_connect_list_servers_args,
            &count, (xdrproc_t)xdr_admin_connect_list_servers_ret, &r);
    g_assert_cmpuint(r.ret, ==, 2);
    g_assert_cmpuint(r.servers.servers_len, ==, 0);
    xdr_free((xdrproc_t)xdr_admin_connect_list_servers_ret, (char *)&r);

    call_ok(f, ADMIN_PROC_CONNECT_LOOKUP_SERVER, (xdrproc_t)xdr_admin_connect_lookup_server_args,
            &ok, (xdrproc_t)xdr_admin_connect_lookup_server_ret, &lr);
    g_assert_cmpstr(lr.srv.name, ==, "virtqemud");
    xdr_free((xdrproc_t)xdr_admin_connect_lookup_server_ret, (char *)&lr);
    call_fails(f, ADMIN_PROC_CONNECT_LOOKUP_SERVER,
               (xdrproc_t)xdr_admin_connect_lookup_server_args, &missing, SV_FROM_RPC,
               SV_ERR_NO_SERVER, "Server not found: No server named 'nosuch'");
}

static void
test_clients(Fixture *f, gconstpointer d)
{
    admin_server_list_clients_args a = {{"virtqemud"}, 1, 0};
    admin_server_list_clients_ret r = {0};
    admin_server_lookup_client_args missing = {{"virtqemud"}, 999, 0};
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;

    (void)d;
    open_admin(f);
    call_ok(f, ADMIN_PROC_SERVER_LIST_CLIENTS, (xdrproc_t)xdr_admin_server_list_clients_args, &a,
            (xdrproc_t)xdr_admin_server_list_clients_ret, &r);
    g_assert_cmpuint(r.ret, ==, 1);
    g_assert_cmpuint(r.clients.clients_len, ==, 1);
    g_assert_cmpstr(r.clients.clients_val[0].srv.name, ==, "virtqemud");
    g_assert_cmpuint(r.clients.clients_val[0].id, ==, 1);
    g_assert_cmpuint(r.clients.clients_val[0].transport, ==, ADMIN_CLIENT_TRANSPORT_UNIX);
    g_assert_cmpint(ABS(r.clients.clients_val[0].timestamp - now), <=, 2);
    xdr_free((xdrproc_t)xdr_admin_server_list_clients_ret, (char *)&r);

    call_fails(f, ADMIN_PROC_SERVER_LOOKUP_CLIENT,
               (xdrproc_t)xdr_admin_server_lookup_client_args, &missing, SV_FROM_RPC,
               SV_ERR_NO_CLIENT, "Client not found: No client with matching ID '999'");
}

/* Look a parameter up by name; NULL when absent. */
static const admin_typed_param *
param_find(const admin_client_get_info_ret *r, const char *field)
{
    for (u_int i = 0; i < r->params.params_len; i++) {
        if (g_str_equal(r->params.params_val[i].field, field))
            return &r->params.params_val[i];
    }
    return NULL;
}

static void
test_client_info(Fixture *f, gconstpointer d)
{
    admin_client_get_info_args a = {{{"virtqemud"}, 0, 0, 0}, 0};
    admin_client_get_info_args missing = {{{"virtqemud"}, 999, 0, 0}, 0};
    admin_client_get_info_args no_server = {{{"nosuch"}, 1, 0, 0}, 0};
    admin_client_get_info_ret r = {0};
    struct passwd *pw = getpwuid(getuid());

    (void)d;
    open_admin(f);
    a.clnt.id = main_client_id(f);
    call_ok(f, ADMIN_PROC_CLIENT_GET_INFO, (xdrproc_t)xdr_admin_client_get_info_args, &a,
            (xdrproc_t)xdr_admin_client_get_info_ret, &r);
    /* readonly first, then the unix identity in libvirt's order. */
    g_assert_cmpuint(r.params.params_len, >=, 4);
    g_assert_cmpstr(r.params.params_val[0].field, ==, "readonly");
    g_assert_cmpint(r.params.params_val[0].value.type, ==, 6);
    g_assert_cmpint(r.params.params_val[0].value.admin_typed_param_value_u.b, ==, 1);
    g_assert_cmpint(param_find(&r, "unix_user_id")->value.admin_typed_param_value_u.i, ==,
                    (int)getuid());
    g_assert_cmpint(param_find(&r, "unix_group_id")->value.admin_typed_param_value_u.i, ==,
                    (int)getgid());
    g_assert_cmpint(param_find(&r, "unix_process_id")->value.admin_typed_param_value_u.i, ==,
                    (int)getpid());
    if (pw)
        g_assert_cmpstr(param_find(&r, "unix_user_name")->value.admin_typed_param_value_u.s, ==,
                        pw->pw_name);
    xdr_free((xdrproc_t)xdr_admin_client_get_info_ret, (char *)&r);

    call_fails(f, ADMIN_PROC_CLIENT_GET_INFO, (xdrproc_t)xdr_admin_client_get_info_args,
               &missing, SV_FROM_ADMIN, SV_ERR_NO_CLIENT,
               "Client not found: no client with matching id '999' found");
    call_fails(f, ADMIN_PROC_CLIENT_GET_INFO, (xdrproc_t)xdr_admin_client_get_info_args,
               &no_server, SV_FROM_ADMIN, SV_ERR_NO_SERVER,
               "Server not found: no server with matching name 'nosuch' found");
}

static void
test_client_close(Fixture *f, gconstpointer d)
{
    admin_client_close_args a = {{{"virtqemud"}, 0, 0, 0}, 0};
    guint8 b;

    (void)d;
    open_admin(f);
    a.clnt.id = main_client_id(f);
    call_ok(f, ADMIN_PROC_CLIENT_CLOSE, (xdrproc_t)xdr_admin_client_close_args, &a, NULL, NULL);
    g_assert_cmpuint(sv_server_n_clients(f->main), ==, 0);
    g_assert_cmpint(read(f->peer_fd, &b, 1), ==, 0); /* the client sees end of file */
    call_fails(f, ADMIN_PROC_CLIENT_CLOSE, (xdrproc_t)xdr_admin_client_close_args, &a,
               SV_FROM_RPC, SV_ERR_NO_CLIENT, "Client not found: No client with matching ID '1'");
}

static guint
limit_of(const admin_server_get_client_limits_ret *r, const char *field)
{
    for (u_int i = 0; i < r->params.params_len; i++) {
        if (g_str_equal(r->params.params_val[i].field, field)) {
            g_assert_cmpint(r->params.params_val[i].value.type, ==, 2);
            return r->params.params_val[i].value.admin_typed_param_value_u.ui;
        }
    }
    g_assert_not_reached();
}

static void
test_client_limits(Fixture *f, gconstpointer d)
{
    admin_server_get_client_limits_args g = {{"virtqemud"}, 0};
    admin_server_get_client_limits_ret r = {0};
    admin_typed_param good[] = {{"nclients_max", {2, {.ui = 30}}},
                                {"nclients_unauth_max", {2, {.ui = 10}}}};
    admin_typed_param too_low[] = {{"nclients_max", {2, {.ui = 5}}}};
    admin_typed_param unknown[] = {{"nclients", {2, {.ui = 5}}}};
    admin_typed_param wrong_type[] = {{"nclients_max", {3, {.l = 5}}}};
    admin_server_set_client_limits_args s = {{"virtqemud"}, {2, good}, 0};

    (void)d;
    open_admin(f);
    call_ok(f, ADMIN_PROC_SERVER_GET_CLIENT_LIMITS,
            (xdrproc_t)xdr_admin_server_get_client_limits_args, &g,
            (xdrproc_t)xdr_admin_server_get_client_limits_ret, &r);
    g_assert_cmpuint(r.params.params_len, ==, 4);
    g_assert_cmpstr(r.params.params_val[0].field, ==, "nclients_max");
    g_assert_cmpuint(limit_of(&r, "nclients_max"), ==, 5000);
    g_assert_cmpuint(limit_of(&r, "nclients"), ==, 1);
    g_assert_cmpuint(limit_of(&r, "nclients_unauth_max"), ==, 20);
    g_assert_cmpuint(limit_of(&r, "nclients_unauth"), ==, 0);
    xdr_free((xdrproc_t)xdr_admin_server_get_client_limits_ret, (char *)&r);

    call_ok(f, ADMIN_PROC_SERVER_SET_CLIENT_LIMITS,
            (xdrproc_t)xdr_admin_server_set_client_limits_args, &s, NULL, NULL);
    g_assert_cmpuint(sv_server_get_max_clients(f->main), ==, 30);
    g_assert_cmpuint(sv_server_get_max_anonymous_clients(f->main), ==, 10);

    s.params.params_val = too_low;
    s.params.params_len = 1;
    call_fails(f, ADMIN_PROC_SERVER_SET_CLIENT_LIMITS,
               (xdrproc_t)xdr_admin_server_set_client_limits_args, &s, SV_FROM_RPC,
               SV_ERR_INVALID_ARG,
               "invalid argument: The overall maximum number of clients waiting for "
               "authentication must not be less than the overall maximum number of clients");
    s.params.params_val = unknown;
    call_fails(f, ADMIN_PROC_SERVER_SET_CLIENT_LIMITS,
               (xdrproc_t)xdr_admin_server_set_client_limits_args, &s, SV_FROM_NONE,
               SV_ERR_ARGUMENT_UNSUPPORTED, "argument unsupported: parameter 'nclients' not "
                                            "supported");
    s.params.params_val = wrong_type;
    call_fails(f, ADMIN_PROC_SERVER_SET_CLIENT_LIMITS,
               (xdrproc_t)xdr_admin_server_set_client_limits_args, &s, SV_FROM_NONE,
               SV_ERR_INVALID_ARG,
               "invalid argument: invalid type 'llong' for parameter 'nclients_max', expected "
               "'uint'");
    g_assert_cmpuint(sv_server_get_max_clients(f->main), ==, 30);
}

static void
test_logging(Fixture *f, gconstpointer d)
{
    char *spec = "1:qemu 3:rpc";
    admin_connect_set_logging_filters_args sf = {&spec, 0};
    admin_connect_set_logging_filters_args clear = {NULL, 0};
    admin_connect_get_logging_filters_args gf = {0};
    admin_connect_get_logging_filters_ret rf = {0};
    admin_connect_get_logging_outputs_args go = {0};
    admin_connect_get_logging_outputs_ret ro = {0};
    char *bad = "1:nowhere";
    admin_connect_set_logging_outputs_args so = {&bad, 0};

    (void)d;
    open_admin(f);
    call_ok(f, ADMIN_PROC_CONNECT_SET_LOGGING_FILTERS,
            (xdrproc_t)xdr_admin_connect_set_logging_filters_args, &sf, NULL, NULL);
    call_ok(f, ADMIN_PROC_CONNECT_GET_LOGGING_FILTERS,
            (xdrproc_t)xdr_admin_connect_get_logging_filters_args, &gf,
            (xdrproc_t)xdr_admin_connect_get_logging_filters_ret, &rf);
    g_assert_cmpuint(rf.nfilters, ==, 2);
    g_assert_cmpstr(*rf.filters, ==, "1:*qemu* 3:*rpc* ");
    xdr_free((xdrproc_t)xdr_admin_connect_get_logging_filters_ret, (char *)&rf);

    /* No filters: the string is absent. */
    call_ok(f, ADMIN_PROC_CONNECT_SET_LOGGING_FILTERS,
            (xdrproc_t)xdr_admin_connect_set_logging_filters_args, &clear, NULL, NULL);
    memset(&rf, 0, sizeof(rf));
    call_ok(f, ADMIN_PROC_CONNECT_GET_LOGGING_FILTERS,
            (xdrproc_t)xdr_admin_connect_get_logging_filters_args, &gf,
            (xdrproc_t)xdr_admin_connect_get_logging_filters_ret, &rf);
    g_assert_null(rf.filters);
    g_assert_cmpuint(rf.nfilters, ==, 0);

    call_ok(f, ADMIN_PROC_CONNECT_GET_LOGGING_OUTPUTS,
            (xdrproc_t)xdr_admin_connect_get_logging_outputs_args, &go,
            (xdrproc_t)xdr_admin_connect_get_logging_outputs_ret, &ro);
    g_assert_cmpstr(ro.outputs, ==, "2:stderr");
    g_assert_cmpuint(ro.noutputs, ==, 1);
    xdr_free((xdrproc_t)xdr_admin_connect_get_logging_outputs_ret, (char *)&ro);
    call_fails(f, ADMIN_PROC_CONNECT_SET_LOGGING_OUTPUTS,
               (xdrproc_t)xdr_admin_connect_set_logging_outputs_args, &so, SV_FROM_NONE,
               SV_ERR_INVALID_ARG,
               "invalid argument: Invalid log destination 'nowhere' for log output "
               "'1:nowhere'");
}

static void
test_timeout(Fixture *f, gconstpointer d)
{
    admin_connect_set_daemon_timeout_args a = {7, 0}, bad = {7, 2};

    (void)d;
    open_admin(f);
    call_ok(f, ADMIN_PROC_CONNECT_SET_DAEMON_TIMEOUT,
            (xdrproc_t)xdr_admin_connect_set_daemon_timeout_args, &a, NULL, NULL);
    g_assert_cmpint(f->timeout_calls, ==, 1);
    g_assert_cmpuint(f->timeout_set, ==, 7);
    call_fails(f, ADMIN_PROC_CONNECT_SET_DAEMON_TIMEOUT,
               (xdrproc_t)xdr_admin_connect_set_daemon_timeout_args, &bad, SV_FROM_ADMIN,
               SV_ERR_INVALID_ARG,
               "unsupported flags (0x2) in function adminConnectSetDaemonTimeout");
    g_assert_cmpint(f->timeout_calls, ==, 1);
}

static void
test_unsupported(Fixture *f, gconstpointer d)
{
    admin_server_update_tls_files_args tls = {{"virtqemud"}, 0};

    (void)d;
    open_admin(f);
    call_fails(f, ADMIN_PROC_SERVER_UPDATE_TLS_FILES,
               (xdrproc_t)xdr_admin_server_update_tls_files_args, &tls, SV_FROM_RPC,
               SV_ERR_INTERNAL_ERROR,
               "internal error: no tls service found, unable to update tls files");
    call_fails(f, 20, NULL, NULL, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: 20");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    sv_log_init("test-admin", FALSE);
#define ADD(path, fn) g_test_add("/admin/" path, Fixture, NULL, setup, fn, teardown)
    ADD("open", test_open);
    ADD("servers", test_servers);
    ADD("clients", test_clients);
    ADD("client-info", test_client_info);
    ADD("client-close", test_client_close);
    ADD("client-limits", test_client_limits);
    ADD("logging", test_logging);
    ADD("timeout", test_timeout);
    ADD("unsupported", test_unsupported);
#undef ADD
    return g_test_run();
}
