/* backend.c: the socket, the identity and the open sequence of a connection this daemon
 * opens to another daemon (backend.h). */
#include "programs/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/remote_dispatch.h"
#include "protocol/sv_wire_constants.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/fileio.h"

void
sv_backend_identity_of_client(SvBackendIdentity *out, SvClient *client)
{
    uid_t uid;
    gid_t gid;
    pid_t pid;

    *out = (SvBackendIdentity){0};
    out->known = sv_client_get_identity(client, &out->uid, &out->gid, &out->pid);
    if (!out->known && sv_client_get_peer(client, &uid, &gid, &pid)) {
        out->uid = uid;
        out->gid = gid;
        out->pid = pid;
        out->known = TRUE;
    }
    out->sasl_user = sv_client_get_sasl_user(client);
    out->x509_dname = sv_client_get_x509_dname(client);
}

void
sv_backend_identity_of_daemon(SvBackendIdentity *out)
{
    *out = (SvBackendIdentity){TRUE, getuid(), getgid(), getpid(), "", NULL, NULL};
}

/* ---------------------------------------------------------------- the system token */

static gboolean
token_create(int fd, const char *path, char out[SV_SYSTEM_TOKEN_LEN + 1], GError **error)
{
    guint8 raw[SV_SYSTEM_TOKEN_LEN / 2];

    if (getrandom(raw, sizeof(raw), 0) != sizeof(raw)) {
        sv_error_set_errno(error, SV_FROM_IDENTITY, errno, "Failed to write system token '%s'",
                           path);
        return FALSE;
    }
    for (gsize i = 0; i < sizeof(raw); i++)
        g_snprintf(out + 2 * i, 3, "%02x", raw[i]);
    if (write(fd, out, SV_SYSTEM_TOKEN_LEN) != SV_SYSTEM_TOKEN_LEN) {
        sv_error_set_errno(error, SV_FROM_IDENTITY, errno, "Failed to write system token '%s'",
                           path);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_backend_system_token(const char *run_dir, char out[SV_SYSTEM_TOKEN_LEN + 1], GError **error)
{
    g_autofree char *dir = g_build_filename(run_dir, "common", NULL);
    g_autofree char *path = g_build_filename(dir, "system.token", NULL);
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    g_auto(SvFd) fd = -1;
    struct stat st;
    ssize_t n;

    if (!sv_mkdir_p(dir, 0700, error))
        return FALSE;
    fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_IDENTITY, errno, "Unable to open system token %s",
                           path);
        return FALSE;
    }
    /* Daemons starting together: the first one under the lock writes it. */
    while (fcntl(fd, F_SETLKW, &lk) < 0) {
        if (errno != EINTR) {
            sv_error_set_errno(error, SV_FROM_IDENTITY, errno,
                               "Failed to lock system token '%s'", path);
            return FALSE;
        }
    }
    if (fstat(fd, &st) < 0) {
        sv_error_set_errno(error, SV_FROM_IDENTITY, errno, "Failed to check system token '%s'",
                           path);
        return FALSE;
    }
    if (st.st_size == 0)
        return token_create(fd, path, out, error);
    n = pread(fd, out, SV_SYSTEM_TOKEN_LEN + 1, 0);
    if (n != SV_SYSTEM_TOKEN_LEN) {
        sv_error_set_errno(error, SV_FROM_IDENTITY, n < 0 ? errno : EINVAL,
                           "System token in %s was corrupt", path);
        return FALSE;
    }
    out[SV_SYSTEM_TOKEN_LEN] = '\0';
    return TRUE;
}

/* ---------------------------------------------------------------- the open sequence */

char *
sv_backend_socket_path(const char *run_dir, const char *name, gboolean readonly)
{
    return g_strdup_printf("%s/virt%sd-sock%s", run_dir, name, readonly ? "-ro" : "");
}

static void
auth_list_done(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
               const GError *error, gpointer data)
{
    /* CONNECT_SET_IDENTITY, sent right behind it, carries the outcome. */
    (void)conn;
    (void)h;
    (void)payload;
    (void)len;
    (void)error;
    (void)data;
}

void
sv_backend_identify(SvRpcConn *conn, const SvBackendIdentity *id, SvRpcReplyFunc done,
                    gpointer data)
{
    remote_typed_param params[6];
    remote_connect_set_identity_args a = {{0, params}, 0};

    if (id->known) {
        params[0] = (remote_typed_param){"unix-user-id", {.type = SV_TYPED_PARAM_ULLONG}};
        params[0].value.remote_typed_param_value_u.ul = id->uid;
        params[1] = (remote_typed_param){"unix-group-id", {.type = SV_TYPED_PARAM_ULLONG}};
        params[1].value.remote_typed_param_value_u.ul = id->gid;
        params[2] = (remote_typed_param){"process-id", {.type = SV_TYPED_PARAM_LLONG}};
        params[2].value.remote_typed_param_value_u.l = id->pid;
        a.params.params_len = 3;
    }
    if (id->system_token[0]) {
        params[a.params.params_len] =
            (remote_typed_param){"system.token", {.type = SV_TYPED_PARAM_STRING}};
        params[a.params.params_len++].value.remote_typed_param_value_u.s =
            (char *)id->system_token;
    }
    if (id->sasl_user) {
        params[a.params.params_len] =
            (remote_typed_param){"sasl-user-name", {.type = SV_TYPED_PARAM_STRING}};
        params[a.params.params_len++].value.remote_typed_param_value_u.s = (char *)id->sasl_user;
    }
    if (id->x509_dname) {
        params[a.params.params_len] =
            (remote_typed_param){"x509-distinguished-name", {.type = SV_TYPED_PARAM_STRING}};
        params[a.params.params_len++].value.remote_typed_param_value_u.s =
            (char *)id->x509_dname;
    }
    sv_rpc_conn_call(conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_AUTH_LIST,
                     (xdrproc_t)sv_xdr_void, NULL, auth_list_done, NULL);
    sv_rpc_conn_call(conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                     REMOTE_PROC_CONNECT_SET_IDENTITY,
                     (xdrproc_t)xdr_remote_connect_set_identity_args, &a, done, data);
}

SvRpcConn *
sv_backend_open_family(const char *run_dir, const char *family, gboolean readonly,
                       const SvBackendIdentity *id, const SvRpcConnCallbacks *cb,
                       gpointer user, SvRpcReplyFunc done, gpointer data, GError **error)
{
    g_autofree char *path = sv_backend_socket_path(run_dir, family, readonly);
    g_autofree char *uri =
        g_strdup_printf("%s:///%s", family, getuid() == 0 ? "system" : "session");
    remote_connect_open_args a = {&uri, readonly ? SV_CONNECT_RO : 0};
    SvRpcConn *conn;
    int fd = sv_rpc_connect_unix(path, error);

    if (fd < 0)
        return NULL;
    conn = sv_rpc_conn_new(fd, cb, user);
    g_debug("opening %s on %s", uri, path);
    /* Corked: nothing is written (and no failure reported) before the caller holds conn. */
    sv_rpc_conn_cork(conn);
    sv_backend_identify(conn, id, done, data);
    sv_rpc_conn_call(conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_CONNECT_OPEN,
                     (xdrproc_t)xdr_remote_connect_open_args, &a, done, data);
    return conn;
}
