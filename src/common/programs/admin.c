/* admin.c: the admin program's handlers: servers, clients, limits, logging, idle timeout. */
#include "programs/admin.h"

#include <gio/gio.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "programs/remote.h"
#include "util/error.h"
#include "util/log.h"

/* Typed parameter names (libvirt-admin.h). */
#define CLIENT_INFO_READONLY          "readonly"
#define CLIENT_INFO_SASL_USER_NAME    "sasl_user_name"
#define CLIENT_INFO_UNIX_USER_ID      "unix_user_id"
#define CLIENT_INFO_UNIX_USER_NAME    "unix_user_name"
#define CLIENT_INFO_UNIX_GROUP_ID     "unix_group_id"
#define CLIENT_INFO_UNIX_GROUP_NAME   "unix_group_name"
#define CLIENT_INFO_UNIX_PROCESS_ID   "unix_process_id"
#define CLIENT_INFO_SELINUX_CONTEXT   "selinux_context"
#define CLIENT_INFO_SOCKET_ADDR       "sock_addr"
#define CLIENT_INFO_X509_DNAME        "tls_x509_dname"
#define SERVER_CLIENTS_MAX            "nclients_max"
#define SERVER_CLIENTS_CURRENT        "nclients"
#define SERVER_CLIENTS_UNAUTH_MAX     "nclients_unauth_max"
#define SERVER_CLIENTS_UNAUTH_CURRENT "nclients_unauth"
/* splitvirt's own: read-only sockets have their own limit (max_readonly_clients). */
#define SERVER_CLIENTS_RO_MAX         "nclients_readonly_max"
#define SERVER_CLIENTS_RO_CURRENT     "nclients_readonly"

struct SvAdmin {
    SvAdminHandlers handlers;
    GPtrArray *servers; /* SvServer (transfer none), sorted by name as libvirt lists them */
    SvAdminSetTimeoutFunc set_timeout;
    gpointer set_timeout_data;
};

static SvAdmin *
admin_of(SvCall *call)
{
    return sv_call_get_server_data(call);
}

static SvServer *
server_find(SvAdmin *adm, const char *name)
{
    for (guint i = 0; i < adm->servers->len; i++) {
        if (g_str_equal(sv_server_get_name(adm->servers->pdata[i]), name))
            return adm->servers->pdata[i];
    }
    return NULL;
}

/* The daemon's lookup, with its error: what the plainer calls answer. */
static SvServer *
server_get(SvCall *call, const char *name, GError **error)
{
    SvServer *srv = server_find(admin_of(call), name);

    if (!srv)
        sv_error_set(error, SV_FROM_RPC, SV_ERR_NO_SERVER, "No server named '%s'", name);
    return srv;
}

/* The same lookup with the admin dispatcher's own error (client info and setters). */
static SvServer *
server_get_admin(SvCall *call, const char *name, GError **error)
{
    SvServer *srv = server_find(admin_of(call), name);

    if (!srv)
        sv_error_set(error, SV_FROM_ADMIN, SV_ERR_NO_SERVER,
                     "no server with matching name '%s' found", name);
    return srv;
}

static SvClient *
client_get(SvServer *srv, guint64 id, GError **error)
{
    SvClient *c = sv_server_lookup_client(srv, id);

    if (!c)
        sv_error_set(error, SV_FROM_RPC, SV_ERR_NO_CLIENT,
                     "No client with matching ID '%" G_GUINT64_FORMAT "'", id);
    return c;
}

static void
server_to_wire(SvServer *srv, admin_nonnull_server *out)
{
    out->name = g_strdup(sv_server_get_name(srv));
}

static void
client_to_wire(SvClient *c, admin_nonnull_client *out)
{
    server_to_wire(sv_client_get_server(c), &out->srv);
    out->id = sv_client_get_id(c);
    out->timestamp = sv_client_get_connect_time(c) / G_USEC_PER_SEC;
    out->transport = sv_client_get_transport(c); /* libvirt's numbers */
}

/* Append a parameter to params (room for it allocated by the caller). */
static admin_typed_param *
param_add(admin_typed_param *params, u_int *n, const char *field, int type)
{
    admin_typed_param *p = &params[(*n)++];

    p->field = g_strdup(field);
    p->value.type = type;
    return p;
}

static void
param_add_uint(admin_typed_param *params, u_int *n, const char *field, guint v)
{
    param_add(params, n, field, SV_TYPED_PARAM_UINT)->value.admin_typed_param_value_u.ui = v;
}

static const char *
typed_param_type_name(int type)
{
    static const char *const names[] = {NULL,     "int",    "uint",    "llong",
                                        "ullong", "double", "boolean", "string"};

    return type >= SV_TYPED_PARAM_INT && type <= SV_TYPED_PARAM_STRING ? names[type] : "unknown";
}

/* As virTypedParamsValidate for uint parameters: each of params is one of the n
 * `names`, a uint, and given once; its value goes to values[index] (preset to -1). */
static gboolean
params_get_uints(const admin_typed_param *params, u_int n_params, const char *const *names,
                 gint64 *values, gsize n, GError **error)
{
    for (u_int i = 0; i < n_params; i++) {
        const admin_typed_param *p = &params[i];
        gsize k = 0;

        while (k < n && !g_str_equal(p->field, names[k]))
            k++;
        if (k == n) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_ARGUMENT_UNSUPPORTED,
                         "parameter '%s' not supported", p->field);
            return FALSE;
        }
        if (p->value.type != SV_TYPED_PARAM_UINT) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                         "invalid type '%s' for parameter '%s', expected '%s'",
                         typed_param_type_name(p->value.type), p->field,
                         typed_param_type_name(SV_TYPED_PARAM_UINT));
            return FALSE;
        }
        if (values[k] >= 0) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                         "parameter '%s' occurs multiple times", p->field);
            return FALSE;
        }
        values[k] = p->value.admin_typed_param_value_u.ui;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- connection */

static gboolean
connect_open(SvCall *call, admin_connect_open_args *args, GError **error)
{
    uid_t uid = (uid_t)-1;
    pid_t pid = 0;

    if (!sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminDispatchConnectOpen", error))
        return FALSE;
    /* The socket's mode already limits who connects; libvirt also insists on its own
     * uid, so a socket opened up by mistake still grants nothing. Root is always let in
     * (docs/operations.md): virtproxyd runs as its own user, and root administers it. */
    if (!sv_client_get_peer(sv_call_get_client(call), &uid, NULL, &pid) ||
        (uid != 0 && uid != geteuid())) {
        sv_error_set(error, SV_FROM_ADMIN, SV_ERR_OPERATION_DENIED,
                     "Disallowing client %lld with uid %lld", (long long)pid, (long long)uid);
        return FALSE;
    }
    return TRUE;
}

static gboolean
connect_close(SvCall *call, GError **error)
{
    (void)call;
    (void)error;
    return TRUE; /* the table's "close" flag closes the connection after the reply */
}

static gboolean
connect_get_lib_version(SvCall *call, admin_connect_get_lib_version_ret *ret, GError **error)
{
    (void)call;
    (void)error;
    ret->libVer = SV_ADMIN_LIB_VERSION;
    return TRUE;
}

/* ---------------------------------------------------------------- servers */

static gboolean
connect_list_servers(SvCall *call, admin_connect_list_servers_args *args,
                     admin_connect_list_servers_ret *ret, GError **error)
{
    SvAdmin *adm = admin_of(call);

    if (!sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminConnectListServers", error))
        return FALSE;
    ret->ret = adm->servers->len;
    if (!args->need_results)
        return TRUE;
    ret->servers.servers_val = g_new0(admin_nonnull_server, adm->servers->len);
    for (guint i = 0; i < adm->servers->len; i++)
        server_to_wire(adm->servers->pdata[i], &ret->servers.servers_val[i]);
    ret->servers.servers_len = adm->servers->len;
    return TRUE;
}

static gboolean
connect_lookup_server(SvCall *call, admin_connect_lookup_server_args *args,
                      admin_connect_lookup_server_ret *ret, GError **error)
{
    SvServer *srv = server_get(call, args->name, error);

    if (!srv)
        return FALSE;
    if (!sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminConnectLookupServer", error))
        return FALSE;
    server_to_wire(srv, &ret->srv);
    return TRUE;
}

/* Calls run on the main loop, never on worker threads: the pool is empty. */
static gboolean
server_get_threadpool_parameters(SvCall *call, admin_server_get_threadpool_parameters_args *args,
                                 admin_server_get_threadpool_parameters_ret *ret, GError **error)
{
    static const char *const fields[] = {"minWorkers",  "maxWorkers",  "nWorkers",
                                         "freeWorkers", "prioWorkers", "jobQueueDepth"};

    if (!server_get(call, args->srv.name, error) ||
        !sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminServerGetThreadPoolParameters",
                        error))
        return FALSE;
    ret->params.params_val = g_new0(admin_typed_param, G_N_ELEMENTS(fields));
    for (gsize i = 0; i < G_N_ELEMENTS(fields); i++)
        param_add_uint(ret->params.params_val, &ret->params.params_len, fields[i], 0);
    return TRUE;
}

static gboolean
server_set_threadpool_parameters(SvCall *call, admin_server_set_threadpool_parameters_args *args,
                                 GError **error)
{
    static const char *const names[] = {"minWorkers", "maxWorkers", "prioWorkers"};
    gint64 values[G_N_ELEMENTS(names)] = {-1, -1, -1};

    if (!server_get_admin(call, args->srv.name, error) ||
        !sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminServerSetThreadPoolParameters",
                        error) ||
        !params_get_uints(args->params.params_val, args->params.params_len, names, values,
                          G_N_ELEMENTS(names), error))
        return FALSE;
    sv_error_set(error, SV_FROM_ADMIN, SV_ERR_OPERATION_UNSUPPORTED,
                 "calls are served on the daemon's main loop, there is no worker pool to resize");
    return FALSE;
}

static gboolean
server_update_tls_files(SvCall *call, admin_server_update_tls_files_args *args, GError **error)
{
    if (!server_get(call, args->srv.name, error) ||
        !sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminServerUpdateTlsFiles", error))
        return FALSE;
    sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                 "no tls service found, unable to update tls files");
    return FALSE;
}

/* ---------------------------------------------------------------- clients */

typedef struct {
    admin_nonnull_client *out;
    guint n;
    gboolean fill;
} ListClients;

static void
list_one_client(SvClient *c, gpointer data)
{
    ListClients *lc = data;

    if (lc->fill)
        client_to_wire(c, &lc->out[lc->n]);
    lc->n++;
}

static gboolean
server_list_clients(SvCall *call, admin_server_list_clients_args *args,
                    admin_server_list_clients_ret *ret, GError **error)
{
    SvServer *srv = server_get(call, args->srv.name, error);
    ListClients lc = {NULL, 0, args->need_results != 0};
    guint n;

    if (!srv || !sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminServerListClients", error))
        return FALSE;
    n = sv_server_n_clients(srv);
    if (n > ADMIN_CLIENT_LIST_MAX) {
        sv_error_set(error, SV_FROM_ADMIN, SV_ERR_INTERNAL_ERROR,
                     "Too many clients '%u' for limit '%d'", n, ADMIN_CLIENT_LIST_MAX);
        return FALSE;
    }
    if (lc.fill)
        lc.out = g_new0(admin_nonnull_client, MAX(n, 1));
    sv_server_foreach_client(srv, list_one_client, &lc);
    ret->clients.clients_val = lc.out;
    ret->clients.clients_len = lc.fill ? lc.n : 0;
    ret->ret = lc.n;
    return TRUE;
}

static gboolean
server_lookup_client(SvCall *call, admin_server_lookup_client_args *args,
                     admin_server_lookup_client_ret *ret, GError **error)
{
    SvServer *srv = server_get(call, args->srv.name, error);
    SvClient *c = srv ? client_get(srv, args->id, error) : NULL;

    if (!c || !sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminServerLookupClient", error))
        return FALSE;
    client_to_wire(c, &ret->clnt);
    return TRUE;
}

static gboolean
client_close(SvCall *call, admin_client_close_args *args, GError **error)
{
    SvServer *srv = server_get(call, args->clnt.srv.name, error);
    SvClient *c = srv ? client_get(srv, args->clnt.id, error) : NULL;

    if (!c || !sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminClientClose", error))
        return FALSE;
    g_message("client %" G_GUINT64_FORMAT " of server %s disconnected by an administrator",
              args->clnt.id, sv_server_get_name(srv));
    sv_client_close(c, "disconnected by an administrator");
    return TRUE;
}

/* What CLIENT_GET_INFO reports, taken on the loop; the names are looked up on a
 * worker thread, since NSS may ask a remote directory. */
typedef struct {
    gboolean readonly;
    char *sasl_user;
    gboolean have_ids;
    gint64 uid, gid, pid;
    char *user_name;
    char *group_name;
    char *selinux_context;
    char *sock_addr;  /* TCP and TLS clients */
    char *x509_dname; /* TLS clients */
} ClientInfo;

static void
client_info_free(gpointer p)
{
    ClientInfo *ci = p;

    g_free(ci->sasl_user);
    g_free(ci->user_name);
    g_free(ci->group_name);
    g_free(ci->selinux_context);
    g_free(ci->sock_addr);
    g_free(ci->x509_dname);
    g_free(ci);
}

/* The peer's security label, when an LSM gives one. (transfer full) */
static char *
peer_security_context(SvClient *c)
{
    char buf[4096];
    socklen_t len = sizeof(buf) - 1;

    if (getsockopt(sv_client_get_fd(c), SOL_SOCKET, SO_PEERSEC, buf, &len) < 0 || len == 0)
        return NULL;
    buf[len] = '\0';
    return buf[0] ? g_strdup(buf) : NULL;
}

static void
client_info_lookup_names(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    ClientInfo *ci = data;
    g_autofree char *buf = NULL;
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    gsize len = size > 0 ? MAX((gsize)size, 16384) : 16384;
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;

    (void)source;
    (void)cancel;
    buf = g_malloc(len);
    if (getpwuid_r((uid_t)ci->uid, &pw, buf, len, &pwp) == 0 && pwp)
        ci->user_name = g_strdup(pw.pw_name);
    if (getgrgid_r((gid_t)ci->gid, &gr, buf, len, &grp) == 0 && grp)
        ci->group_name = g_strdup(gr.gr_name);
    g_task_return_boolean(task, TRUE);
}

/* The order and types are libvirt's: unix clients' ids, or a remote client's address;
 * then its certificate's DN and its security label. */
static void
client_info_reply(GObject *source, GAsyncResult *res, gpointer data)
{
    SvCall *call = data;
    ClientInfo *ci = g_task_get_task_data(G_TASK(res));
    admin_client_get_info_ret ret = {{0}};
    admin_typed_param *p;
    u_int *n = &ret.params.params_len;

    (void)source;
    p = ret.params.params_val = g_new0(admin_typed_param, 11);
    param_add(p, n, CLIENT_INFO_READONLY, SV_TYPED_PARAM_BOOLEAN)
        ->value.admin_typed_param_value_u.b = ci->readonly;
    if (ci->sasl_user)
        param_add(p, n, CLIENT_INFO_SASL_USER_NAME, SV_TYPED_PARAM_STRING)
            ->value.admin_typed_param_value_u.s = g_strdup(ci->sasl_user);
    if (ci->have_ids) {
        param_add(p, n, CLIENT_INFO_UNIX_USER_ID, SV_TYPED_PARAM_INT)
            ->value.admin_typed_param_value_u.i = (int)ci->uid;
        if (ci->user_name)
            param_add(p, n, CLIENT_INFO_UNIX_USER_NAME, SV_TYPED_PARAM_STRING)
                ->value.admin_typed_param_value_u.s = g_strdup(ci->user_name);
        param_add(p, n, CLIENT_INFO_UNIX_GROUP_ID, SV_TYPED_PARAM_INT)
            ->value.admin_typed_param_value_u.i = (int)ci->gid;
        if (ci->group_name)
            param_add(p, n, CLIENT_INFO_UNIX_GROUP_NAME, SV_TYPED_PARAM_STRING)
                ->value.admin_typed_param_value_u.s = g_strdup(ci->group_name);
        param_add(p, n, CLIENT_INFO_UNIX_PROCESS_ID, SV_TYPED_PARAM_INT)
            ->value.admin_typed_param_value_u.i = (int)ci->pid;
    }
    if (ci->sock_addr)
        param_add(p, n, CLIENT_INFO_SOCKET_ADDR, SV_TYPED_PARAM_STRING)
            ->value.admin_typed_param_value_u.s = g_strdup(ci->sock_addr);
    if (ci->x509_dname)
        param_add(p, n, CLIENT_INFO_X509_DNAME, SV_TYPED_PARAM_STRING)
            ->value.admin_typed_param_value_u.s = g_strdup(ci->x509_dname);
    if (ci->selinux_context)
        param_add(p, n, CLIENT_INFO_SELINUX_CONTEXT, SV_TYPED_PARAM_STRING)
            ->value.admin_typed_param_value_u.s = g_strdup(ci->selinux_context);
    sv_call_reply(call, &ret);
    xdr_free((xdrproc_t)xdr_admin_client_get_info_ret, (char *)&ret);
}

static gboolean
client_get_info(SvCall *call, admin_client_get_info_args *args, admin_client_get_info_ret *ret,
                GError **error)
{
    SvServer *srv = server_get_admin(call, args->clnt.srv.name, error);
    SvClient *c = srv ? sv_server_lookup_client(srv, args->clnt.id) : NULL;
    ClientInfo *ci;
    GTask *task;
    uid_t uid;
    gid_t gid;
    pid_t pid;

    (void)ret;
    if (!srv)
        return FALSE;
    if (!c) {
        sv_error_set(error, SV_FROM_ADMIN, SV_ERR_NO_CLIENT,
                     "no client with matching id '%" G_GUINT64_FORMAT "' found", args->clnt.id);
        return FALSE;
    }
    if (!sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminClientGetInfo", error))
        return FALSE;
    ci = g_new0(ClientInfo, 1);
    ci->readonly = sv_client_is_readonly(c);
    ci->sasl_user = g_strdup(sv_client_get_sasl_user(c));
    /* A trusted proxy's connection stands for the client it relays (libvirt's identity). */
    if (sv_remote_client_get_identity(c, &ci->uid, &ci->gid, &ci->pid)) {
        ci->have_ids = TRUE;
    } else if (sv_client_get_peer(c, &uid, &gid, &pid)) {
        ci->have_ids = TRUE;
        ci->uid = uid;
        ci->gid = gid;
        ci->pid = pid;
    }
    ci->selinux_context = peer_security_context(c);
    ci->sock_addr = g_strdup(sv_client_get_sock_addr(c));
    ci->x509_dname = g_strdup(sv_client_get_x509_dname(c));
    task = g_task_new(NULL, NULL, client_info_reply, sv_call_defer(call));
    g_task_set_task_data(task, ci, client_info_free);
    g_task_run_in_thread(task, client_info_lookup_names);
    g_object_unref(task);
    return TRUE;
}

/* ---------------------------------------------------------------- client limits */

static gboolean
server_get_client_limits(SvCall *call, admin_server_get_client_limits_args *args,
                         admin_server_get_client_limits_ret *ret, GError **error)
{
    SvServer *srv = server_get(call, args->srv.name, error);
    admin_typed_param *p;
    u_int *n = &ret->params.params_len;

    if (!srv ||
        !sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminServerGetClientLimits", error))
        return FALSE;
    p = ret->params.params_val = g_new0(admin_typed_param, 6);
    param_add_uint(p, n, SERVER_CLIENTS_MAX, sv_server_get_max_clients(srv));
    param_add_uint(p, n, SERVER_CLIENTS_CURRENT, sv_server_n_clients(srv));
    param_add_uint(p, n, SERVER_CLIENTS_UNAUTH_MAX, sv_server_get_max_anonymous_clients(srv));
    param_add_uint(p, n, SERVER_CLIENTS_UNAUTH_CURRENT, sv_server_n_unauth_clients(srv));
    /* virt-admin prints every parameter it gets, so these show where they apply. */
    if (sv_server_serves_readonly(srv)) {
        param_add_uint(p, n, SERVER_CLIENTS_RO_MAX, sv_server_get_max_readonly_clients(srv));
        param_add_uint(p, n, SERVER_CLIENTS_RO_CURRENT, sv_server_n_readonly_clients(srv));
    }
    return TRUE;
}

static gboolean
server_set_client_limits(SvCall *call, admin_server_set_client_limits_args *args,
                         GError **error)
{
    static const char *const names[] = {SERVER_CLIENTS_MAX, SERVER_CLIENTS_UNAUTH_MAX,
                                        SERVER_CLIENTS_RO_MAX};
    SvServer *srv = server_get_admin(call, args->srv.name, error);
    gint64 values[G_N_ELEMENTS(names)] = {-1, -1, -1};
    gint64 max, max_unauth;

    if (!srv ||
        !sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminServerSetClientLimits", error) ||
        !params_get_uints(args->params.params_val, args->params.params_len, names, values,
                          G_N_ELEMENTS(names), error))
        return FALSE;
    max = values[0];
    max_unauth = values[1];
    if (max < 0)
        max = sv_server_get_max_clients(srv);
    if (max_unauth < 0)
        max_unauth = sv_server_get_max_anonymous_clients(srv);
    if (max < max_unauth) {
        /* libvirt 9.0.0's wording, inverted as it is. */
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INVALID_ARG,
                     "The overall maximum number of clients waiting for authentication must "
                     "not be less than the overall maximum number of clients");
        return FALSE;
    }
    sv_server_set_client_limits(srv, (guint)max, (guint)max_unauth);
    if (values[2] >= 0)
        sv_server_set_max_readonly_clients(srv, (guint)values[2]);
    g_message("server %s: max_clients %u, max_anonymous_clients %u, max_readonly_clients %u "
              "(set by an administrator)", sv_server_get_name(srv), (guint)max,
              (guint)max_unauth, sv_server_get_max_readonly_clients(srv));
    return TRUE;
}

/* ---------------------------------------------------------------- logging, timeout */

static gboolean
connect_get_logging_outputs(SvCall *call, admin_connect_get_logging_outputs_args *args,
                            admin_connect_get_logging_outputs_ret *ret, GError **error)
{
    (void)call;
    if (!sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminConnectGetLoggingOutputs", error))
        return FALSE;
    ret->outputs = sv_log_get_outputs(&ret->noutputs);
    return TRUE;
}

static gboolean
connect_get_logging_filters(SvCall *call, admin_connect_get_logging_filters_args *args,
                            admin_connect_get_logging_filters_ret *ret, GError **error)
{
    char *filters;

    (void)call;
    if (!sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminConnectGetLoggingFilters", error))
        return FALSE;
    filters = sv_log_get_filters(&ret->nfilters);
    if (filters) {
        ret->filters = g_new(admin_nonnull_string, 1);
        *ret->filters = filters;
    }
    return TRUE;
}

static gboolean
connect_set_logging_outputs(SvCall *call, admin_connect_set_logging_outputs_args *args,
                            GError **error)
{
    (void)call;
    if (!sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminConnectSetLoggingOutputs", error))
        return FALSE;
    return sv_log_set_outputs(args->outputs ? *args->outputs : NULL, error);
}

static gboolean
connect_set_logging_filters(SvCall *call, admin_connect_set_logging_filters_args *args,
                            GError **error)
{
    (void)call;
    if (!sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminConnectSetLoggingFilters", error))
        return FALSE;
    return sv_log_set_filters(args->filters ? *args->filters : NULL, error);
}

static gboolean
connect_set_daemon_timeout(SvCall *call, admin_connect_set_daemon_timeout_args *args,
                           GError **error)
{
    SvAdmin *adm = admin_of(call);

    if (!sv_check_flags(args->flags, 0, SV_FROM_ADMIN, "adminConnectSetDaemonTimeout", error))
        return FALSE;
    g_message("idle timeout set to %u seconds by an administrator", args->timeout);
    adm->set_timeout(args->timeout, adm->set_timeout_data);
    return TRUE;
}

/* ---------------------------------------------------------------- setup */

static const SvAdminHandlers handlers = {
    .connect_open = connect_open,
    .connect_close = connect_close,
    .connect_get_lib_version = connect_get_lib_version,
    .connect_list_servers = connect_list_servers,
    .connect_lookup_server = connect_lookup_server,
    .server_get_threadpool_parameters = server_get_threadpool_parameters,
    .server_set_threadpool_parameters = server_set_threadpool_parameters,
    .server_list_clients = server_list_clients,
    .server_lookup_client = server_lookup_client,
    .client_get_info = client_get_info,
    .client_close = client_close,
    .server_get_client_limits = server_get_client_limits,
    .server_set_client_limits = server_set_client_limits,
    .connect_get_logging_outputs = connect_get_logging_outputs,
    .connect_get_logging_filters = connect_get_logging_filters,
    .connect_set_logging_outputs = connect_set_logging_outputs,
    .connect_set_logging_filters = connect_set_logging_filters,
    .server_update_tls_files = server_update_tls_files,
    .connect_set_daemon_timeout = connect_set_daemon_timeout,
};

SvAdmin *
sv_admin_new(SvAdminSetTimeoutFunc set_timeout, gpointer data)
{
    SvAdmin *adm = g_new0(SvAdmin, 1);

    adm->handlers = handlers;
    if (!set_timeout)
        adm->handlers.connect_set_daemon_timeout = NULL;
    adm->servers = g_ptr_array_new();
    adm->set_timeout = set_timeout;
    adm->set_timeout_data = data;
    return adm;
}

void
sv_admin_free(SvAdmin *adm)
{
    if (!adm)
        return;
    g_ptr_array_unref(adm->servers);
    g_free(adm);
}

static gint
server_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(sv_server_get_name(*(SvServer *const *)a),
                  sv_server_get_name(*(SvServer *const *)b));
}

void
sv_admin_add_server(SvAdmin *adm, SvServer *srv)
{
    g_return_if_fail(!server_find(adm, sv_server_get_name(srv)));
    g_ptr_array_add(adm->servers, srv);
    g_ptr_array_sort(adm->servers, server_cmp);
}

void
sv_admin_serve(SvAdmin *adm, SvServer *on)
{
    sv_server_set_user_data(on, adm);
    sv_server_add_program(on, &sv_admin_handlers_info, &adm->handlers);
}
