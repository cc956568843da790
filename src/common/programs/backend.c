/* backend.c: the socket and the identity of a connection opened on a client's behalf
 * (backend.h). */
#include "programs/backend.h"

#include "protocol/remote_dispatch.h"
#include "protocol/sv_wire_constants.h"

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
sv_backend_identify(SvRpcConn *conn, SvClient *client, SvRpcReplyFunc done, gpointer data)
{
    remote_typed_param params[3];
    remote_connect_set_identity_args a = {{0, params}, 0};
    gint64 uid, gid, pid;
    uid_t puid;
    gid_t pgid;
    pid_t ppid;
    gboolean known = sv_client_get_identity(client, &uid, &gid, &pid);

    if (!known && sv_client_get_peer(client, &puid, &pgid, &ppid)) {
        uid = puid;
        gid = pgid;
        pid = ppid;
        known = TRUE;
    }
    if (known) {
        params[0] = (remote_typed_param){"unix-user-id", {.type = SV_TYPED_PARAM_ULLONG}};
        params[0].value.remote_typed_param_value_u.ul = uid;
        params[1] = (remote_typed_param){"unix-group-id", {.type = SV_TYPED_PARAM_ULLONG}};
        params[1].value.remote_typed_param_value_u.ul = gid;
        params[2] = (remote_typed_param){"process-id", {.type = SV_TYPED_PARAM_LLONG}};
        params[2].value.remote_typed_param_value_u.l = pid;
        a.params.params_len = 3;
    }
    sv_rpc_conn_call(conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_AUTH_LIST,
                     (xdrproc_t)sv_xdr_void, NULL, auth_list_done, NULL);
    sv_rpc_conn_call(conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                     REMOTE_PROC_CONNECT_SET_IDENTITY,
                     (xdrproc_t)xdr_remote_connect_set_identity_args, &a, done, data);
}
