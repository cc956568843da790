/* remote_uri.c: open a connection to another host's daemon from a libvirt URI
 * (remote_uri.h): the socket and TLS handshake on a worker, then AUTH_LIST and
 * CONNECT_OPEN on the loop. */
#include "programs/remote_uri.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "protocol/remote_dispatch.h"
#include "rpc/transport.h"
#include "util/error.h"
#include "util/fd.h"

#define HANDSHAKE_TIMEOUT_S 30 /* connect, handshake and confirmation, on the worker */

/* What the client side takes from the URI's query, never sent to the server. */
static const char *const client_params[] = {
    "name", "command", "socket", "auth", "netcat", "keyfile", "no_verify", "no_tty",
    "pkipath", "known_hosts", "known_hosts_verify", "sshauth", "mode", "proxy",
    "tls_priority", "keepalive", NULL,
};

typedef struct {
    SvTransportKind transport;
    char *host;        /* NULL: a local unix socket */
    char *port;
    char *socket_path; /* unix */
    char *name;        /* what CONNECT_OPEN carries */
    gboolean no_verify;
    char *priority;
    char *ca_file, *crl_file, *cert_file, *key_file;
    /* Filled by the worker. */
    int fd;
    SvTlsSession *tls;
    remote_nonnull_string open_name; /* CONNECT_OPEN's argument */
} OpenJob;

static void
open_job_free(gpointer p)
{
    OpenJob *j = p;

    if (j->fd >= 0)
        close(j->fd);
    sv_tls_session_free(j->tls);
    g_free(j->host);
    g_free(j->port);
    g_free(j->socket_path);
    g_free(j->name);
    g_free(j->priority);
    g_free(j->ca_file);
    g_free(j->crl_file);
    g_free(j->cert_file);
    g_free(j->key_file);
    g_free(j);
}

/* ---------------------------------------------------------------- the URI */

static gboolean
is_client_param(const char *key)
{
    return g_strv_contains(client_params, key);
}

/* The query as the server sees it (client parameters removed); the client's own taken. */
static char *
parse_query(OpenJob *j, const char *query, const char *root)
{
    g_auto(GStrv) pairs = g_strsplit(query ? query : "", "&", -1);
    g_autoptr(GString) kept = g_string_new(NULL);
    g_autofree char *pki = NULL;

    for (char **p = pairs; *p; p++) {
        g_auto(GStrv) kv = g_strsplit(*p, "=", 2);
        g_autofree char *val = kv[0] && kv[1] ? g_uri_unescape_string(kv[1], NULL) : NULL;
        if (!kv[0] || !*kv[0])
            continue;
        if (!is_client_param(kv[0])) {
            g_string_append_printf(kept, "%s%s", kept->len ? "&" : "", *p);
        } else if (g_str_equal(kv[0], "socket")) {
            g_free(j->socket_path);
            j->socket_path = g_steal_pointer(&val);
        } else if (g_str_equal(kv[0], "no_verify")) {
            j->no_verify = val && g_ascii_strtoll(val, NULL, 10) != 0;
        } else if (g_str_equal(kv[0], "pkipath")) {
            g_free(pki);
            pki = g_steal_pointer(&val);
        } else if (g_str_equal(kv[0], "tls_priority")) {
            g_free(j->priority);
            j->priority = g_steal_pointer(&val);
        } else if (g_str_equal(kv[0], "name")) {
            g_free(j->name); /* the server's URI, given outright */
            j->name = g_steal_pointer(&val);
        }
    }
    /* pkipath= holds the four files side by side, as libvirt reads it. */
    if (pki) {
        j->ca_file = g_build_filename(pki, "cacert.pem", NULL);
        j->crl_file = g_build_filename(pki, "cacrl.pem", NULL);
        j->cert_file = g_build_filename(pki, "clientcert.pem", NULL);
        j->key_file = g_build_filename(pki, "clientkey.pem", NULL);
    } else {
        j->ca_file = g_strconcat(root, SV_TLS_CA_CERT, NULL);
        j->crl_file = g_strconcat(root, SV_TLS_CA_CRL, NULL);
        j->cert_file = g_strconcat(root, SV_TLS_CLIENT_CERT, NULL);
        j->key_file = g_strconcat(root, SV_TLS_CLIENT_KEY, NULL);
    }
    return g_string_free(g_steal_pointer(&kept), FALSE);
}

/* DRIVER[+TRANSPORT]://[HOST[:PORT]]/PATH[?QUERY]: libvirt reads no transport with a host
 * as TLS, and none without one as the local unix socket. */
static OpenJob *
parse_uri(const char *uri, const char *root, GError **error)
{
    g_autoptr(GUri) u = g_uri_parse(uri, G_URI_FLAGS_ENCODED_QUERY | G_URI_FLAGS_NON_DNS, NULL);
    g_autofree char *driver = NULL, *query = NULL;
    const char *plus;
    OpenJob *j;
    int kind;

    if (!u || !g_uri_get_scheme(u)) {
        sv_error_set(error, SV_FROM_URI, SV_ERR_INTERNAL_ERROR, "Unable to parse URI %s", uri);
        return NULL;
    }
    plus = strchr(g_uri_get_scheme(u), '+');
    driver = plus ? g_strndup(g_uri_get_scheme(u), plus - g_uri_get_scheme(u))
                  : g_strdup(g_uri_get_scheme(u));
    kind = plus ? sv_transport_kind_from_string(plus + 1)
           : (g_uri_get_host(u) && *g_uri_get_host(u)) ? SV_TRANSPORT_TLS : SV_TRANSPORT_UNIX;
    if (kind < 0) {
        sv_error_set(error, SV_FROM_REMOTE, SV_ERR_INVALID_ARG,
                     "transport in URL not recognised (should be tls|unix|ssh|ext|tcp|libssh2|libssh)");
        return NULL;
    }
    j = g_new0(OpenJob, 1);
    j->fd = -1;
    j->transport = kind;
    if (kind != SV_TRANSPORT_UNIX) {
        j->host = g_strdup(g_uri_get_host(u));
        j->port = g_uri_get_port(u) > 0 ? g_strdup_printf("%d", g_uri_get_port(u))
                  : g_strdup(kind == SV_TRANSPORT_TLS ? SV_TLS_PORT : SV_TCP_PORT);
    }
    query = parse_query(j, g_uri_get_query(u), root);
    /* Without a name= of its own: the URI without transport, user, host and port. */
    if (!j->name)
        j->name = g_strdup_printf("%s://%s%s%s", driver, g_uri_get_path(u), *query ? "?" : "",
                                  query);
    if (kind == SV_TRANSPORT_UNIX && !j->socket_path)
        j->socket_path = g_strdup_printf("%s/run/libvirt/virt%sd-sock", root, driver);
    return j;
}

/* ---------------------------------------------------------------- the worker */

static gboolean
tls_start(OpenJob *j, GError **error)
{
    SvTlsConfig cfg = {.ca_file = j->ca_file, .crl_file = j->crl_file,
                       .cert_file = j->cert_file,
                       .key_file = j->key_file, .no_verify_certificate = j->no_verify,
                       .priority = j->priority};
    g_autoptr(SvTlsContext) ctx = sv_tls_context_new(&cfg, FALSE, error);
    guint8 confirm = 0;
    gssize n;
    gint64 deadline = g_get_monotonic_time() + HANDSHAKE_TIMEOUT_S * G_USEC_PER_SEC;
    int r;

    if (!ctx)
        return FALSE;
    j->tls = sv_tls_session_new(ctx, j->fd, j->host, error);
    if (!j->tls)
        return FALSE;
    /* The socket blocks, each wait bounded by its timeout, until the handshake is over. */
    while ((r = sv_tls_session_handshake(j->tls, error)) == 0) {
        if (g_get_monotonic_time() > deadline) {
            sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "%s", "TLS handshake timed out");
            return FALSE;
        }
    }
    if (r < 0 || !sv_tls_session_check_peer(j->tls, error))
        return FALSE;
    /* The server's verdict on our certificate: one byte 1, or the end of the connection. */
    n = sv_tls_session_recv(j->tls, &confirm, 1);
    if (n < 0 && errno != ENOMSG) {
        sv_error_set_errno(error, SV_FROM_RPC, errno, "Unable to read TLS confirmation");
        return FALSE;
    }
    if (n != 1 || confirm != 1) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "%s",
                     "server verification (of our certificate or IP address) failed");
        return FALSE;
    }
    return TRUE;
}

static void
connect_worker(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    OpenJob *j = data;
    struct timeval tv = {HANDSHAKE_TIMEOUT_S, 0};
    GError *error = NULL;

    (void)source;
    (void)cancel;
    j->fd = j->transport == SV_TRANSPORT_UNIX ? sv_rpc_connect_unix(j->socket_path, &error)
                                              : sv_transport_connect_tcp(j->host, j->port, &error);
    if (j->fd >= 0 && j->transport == SV_TRANSPORT_TLS) {
        g_unix_set_fd_nonblocking(j->fd, FALSE, NULL);
        setsockopt(j->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(j->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (tls_start(j, &error)) {
            tv = (struct timeval){0, 0};
            setsockopt(j->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            setsockopt(j->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
            g_unix_set_fd_nonblocking(j->fd, TRUE, NULL);
        }
    }
    if (error)
        g_task_return_error(task, error);
    else
        g_task_return_boolean(task, TRUE);
}

/* ---------------------------------------------------------------- the open, on the loop */

static void
open_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
           const GError *error, gpointer data)
{
    GTask *task = data;

    (void)h;
    (void)payload;
    (void)len;
    if (error) {
        g_task_return_error(task, g_error_copy(error));
        sv_rpc_conn_free(conn);
    } else {
        g_task_return_pointer(task, conn, (GDestroyNotify)sv_rpc_conn_free);
    }
    g_object_unref(task);
}

/* libvirt's client goes on with the first type it supports in the server's list: NONE
 * only here, until SASL. */
static gboolean
auth_acceptable(const guint8 *payload, gsize len, GError **error)
{
    remote_auth_list_ret ret = {0};
    gboolean ok = FALSE;
    int first = -1;

    if (!sv_xdr_decode(payload, len, (xdrproc_t)xdr_remote_auth_list_ret, &ret, error))
        return FALSE;
    ok = ret.types.types_len == 0;
    for (guint i = 0; i < ret.types.types_len && !ok; i++) {
        if (first < 0)
            first = ret.types.types_val[i];
        ok = ret.types.types_val[i] == REMOTE_AUTH_NONE;
    }
    xdr_free((xdrproc_t)xdr_remote_auth_list_ret, (char *)&ret);
    if (!ok)
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED, "unsupported authentication type %d",
                     first);
    return ok;
}

static void
auth_list_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
                const GError *error, gpointer data)
{
    GTask *task = data;
    OpenJob *j = g_task_get_task_data(task);
    GError *local = NULL;
    remote_connect_open_args a = {&j->name, 0};

    (void)h;
    if (error || !auth_acceptable(payload, len, &local)) {
        g_task_return_error(task, local ? local : g_error_copy(error));
        g_object_unref(task);
        sv_rpc_conn_free(conn);
        return;
    }
    sv_rpc_conn_call(conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_CONNECT_OPEN,
                     (xdrproc_t)xdr_remote_connect_open_args, &a, open_reply, task);
}

static void
worker_done(GObject *source, GAsyncResult *res, gpointer data)
{
    GTask *task = data;
    OpenJob *j = g_task_get_task_data(task);
    static const SvRpcConnCallbacks none = {0};
    GError *error = NULL;
    SvRpcConn *conn;

    (void)source;
    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    conn = sv_rpc_conn_new_tls(j->fd, j->tls, &none, NULL);
    j->fd = -1;
    j->tls = NULL;
    /* libvirt's source daemon keeps its connection to the destination alive this way
     * (qemu.conf's keepalive_interval and keepalive_count, 5 and 5). */
    sv_rpc_conn_set_keepalive(conn, 5, 5);
    g_debug("opening %s over %s", j->name, sv_transport_kind_to_string(j->transport));
    sv_rpc_conn_call(conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_AUTH_LIST,
                     (xdrproc_t)sv_xdr_void, NULL, auth_list_reply, task);
}

void
sv_remote_uri_open(const char *uri, const char *root, GAsyncReadyCallback cb, gpointer data)
{
    GTask *task = g_task_new(NULL, NULL, cb, data);
    g_autoptr(GTask) worker = NULL;
    GError *error = NULL;
    OpenJob *j = parse_uri(uri, root ? root : "", &error);

    g_task_set_source_tag(task, sv_remote_uri_open);
    if (!j) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    g_task_set_task_data(task, j, open_job_free);
    worker = g_task_new(NULL, NULL, worker_done, task);
    g_task_set_task_data(worker, j, NULL);
    g_task_run_in_thread(worker, connect_worker);
}

SvRpcConn *
sv_remote_uri_open_finish(GAsyncResult *res, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(res, NULL), NULL);
    return g_task_propagate_pointer(G_TASK(res), error);
}
