/* auth_client.c: SASL on a daemon's own connection to another daemon (auth_client.h). */
#include "programs/auth_client.h"

#include <string.h>

#include "protocol/remote_dispatch.h"
#include "rpc/sasl.h"
#include "rpc/sasl_layer.h"
#include "util/error.h"

/* ---------------------------------------------------------------- the auth file */

char *
sv_auth_file_path(const char *root)
{
    const char *env = g_getenv("LIBVIRT_AUTH_FILE");

    if (env && *env)
        return g_strdup(env);
    return g_strconcat(root ? root : "", "/etc/libvirt/auth.conf", NULL);
}

static void
no_credentials(const char *host, GError **error)
{
    g_debug("the auth file has no credentials for libvirt on %s", host);
    sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED, "%s",
                 "Failed to collect auth credentials");
}

gboolean
sv_auth_file_credentials(const char *text, const char *host, char **username, char **password,
                         GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *group = g_strdup_printf("auth-libvirt-%s", host);
    g_autofree char *name = NULL;
    g_autofree char *creds = NULL;
    g_autofree char *user = NULL;
    g_autofree char *pass = NULL;

    if (!g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, NULL)) {
        no_credentials(host, error);
        return FALSE;
    }
    name = g_key_file_get_string(kf, group, "credentials", NULL);
    if (!name)
        name = g_key_file_get_string(kf, "auth-libvirt-default", "credentials", NULL);
    creds = name ? g_strdup_printf("credentials-%s", name) : NULL;
    user = creds ? g_key_file_get_string(kf, creds, "authname", NULL) : NULL;
    if (creds && !user)
        user = g_key_file_get_string(kf, creds, "username", NULL);
    pass = user ? g_key_file_get_string(kf, creds, "password", NULL) : NULL;
    if (!pass) {
        no_credentials(host, error);
        return FALSE;
    }
    *username = g_steal_pointer(&user);
    *password = g_steal_pointer(&pass);
    return TRUE;
}

/* ---------------------------------------------------------------- the negotiation */

typedef struct {
    SvRpcConn *conn;
    SvSaslSession *sasl;
    gboolean secure;
    SvSaslStatus client; /* where the client side stands */
    SvAuthClientDone done;
    gpointer data;
} Nego;

static void
nego_end(Nego *n, const GError *error)
{
    n->done(n->conn, error, n->data);
    sv_sasl_session_unref(n->sasl);
    g_free(n);
}

static void step_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
                       const GError *error, gpointer data);

/* Send START (mech set) or STEP with the client's data (NULL: none). */
static void
send_step(Nego *n, const char *mech, GBytes *out)
{
    gsize len = out ? g_bytes_get_size(out) : 0;
    char *val = out ? (char *)g_bytes_get_data(out, NULL) : NULL;

    if (mech) {
        remote_auth_sasl_start_args a = {(char *)mech, out == NULL, {(u_int)len, val}};
        sv_rpc_conn_call(n->conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_AUTH_SASL_START,
                         (xdrproc_t)xdr_remote_auth_sasl_start_args, &a, step_reply, n);
    } else {
        remote_auth_sasl_step_args a = {out == NULL, {(u_int)len, val}};
        sv_rpc_conn_call(n->conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_AUTH_SASL_STEP, (xdrproc_t)xdr_remote_auth_sasl_step_args,
                         &a, step_reply, n);
    }
}

/* Both sides are done: the layer agreed must suit the connection (libvirt's client check);
 * one agreed (DIGEST-MD5 over plain TCP) carries every later byte, as the server's does. */
static gboolean
check_layer(Nego *n, GError **error)
{
    int ssf = sv_sasl_session_get_ssf(n->sasl, error);

    if (ssf < 0)
        return FALSE;
    if (!sv_sasl_ssf_enough(n->secure, ssf)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED,
                     "negotiation SSF %d was not strong enough", ssf);
        return FALSE;
    }
    if (ssf > 0)
        sv_rpc_conn_set_sasl_layer(n->conn, sv_sasl_layer_new(n->sasl));
    return TRUE;
}

/* The server's answer to START or STEP (the same layout): the client checks it, and the
 * negotiation ends when both sides say so. */
static void
step_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
           const GError *error, gpointer data)
{
    Nego *n = data;
    remote_auth_sasl_step_ret r = {0};
    g_autoptr(GBytes) out = NULL;
    g_autoptr(GError) local = NULL;
    const guint8 *in;
    gboolean server_done;

    (void)conn;
    (void)h;
    if (error) {
        nego_end(n, error);
        return;
    }
    if (!sv_xdr_decode(payload, len, (xdrproc_t)xdr_remote_auth_sasl_step_ret, &r, &local)) {
        nego_end(n, local);
        return;
    }
    server_done = r.complete != 0;
    /* SASL tells "no data" (nil) from empty data. */
    in = r.nil ? NULL : (const guint8 *)(r.data.data_val ? r.data.data_val : "");
    if (!(server_done && n->client == SV_SASL_COMPLETE) &&
        !sv_sasl_client_step(n->sasl, in, r.data.data_len, &out, &n->client, &local)) {
        xdr_free((xdrproc_t)xdr_remote_auth_sasl_step_ret, (char *)&r);
        nego_end(n, local);
        return;
    }
    xdr_free((xdrproc_t)xdr_remote_auth_sasl_step_ret, (char *)&r);
    if (!server_done || n->client != SV_SASL_COMPLETE) {
        send_step(n, NULL, out);
        return;
    }
    check_layer(n, &local);
    nego_end(n, local);
}

static void
init_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
           const GError *error, gpointer data)
{
    Nego *n = data;
    remote_auth_sasl_init_ret r = {0};
    g_autoptr(GBytes) out = NULL;
    g_autoptr(GError) local = NULL;
    const char *mech = NULL;

    (void)conn;
    (void)h;
    if (error) {
        nego_end(n, error);
        return;
    }
    if (!sv_xdr_decode(payload, len, (xdrproc_t)xdr_remote_auth_sasl_init_ret, &r, &local) ||
        !sv_sasl_client_start(n->sasl, r.mechlist, &mech, &out, &n->client, &local)) {
        xdr_free((xdrproc_t)xdr_remote_auth_sasl_init_ret, (char *)&r);
        nego_end(n, local);
        return;
    }
    g_debug("SASL: the server offers %s, using %s", r.mechlist, mech);
    xdr_free((xdrproc_t)xdr_remote_auth_sasl_init_ret, (char *)&r);
    send_step(n, mech, out);
}

/* A client session with the credentials for spec->host and libvirt's security rules. */
static SvSaslSession *
client_session(const SvAuthClientSpec *spec, GError **error)
{
    g_autofree char *text = NULL;
    g_autofree char *user = NULL;
    g_autofree char *password = NULL;
    g_autoptr(SvSaslSession) s = NULL;
    int min_ssf, max_ssf;
    gboolean anon;

    /* A small local file, read where the connection is made. */
    if (!g_file_get_contents(spec->auth_file, &text, NULL, NULL)) {
        no_credentials(spec->host, error);
        return NULL;
    }
    if (!sv_auth_file_credentials(text, spec->host, &user, &password, error) ||
        !(s = sv_sasl_client_new(spec->host, NULL, NULL, user, password, error)))
        return NULL;
    memset(password, 0, strlen(password));
    if (spec->tls_ssf && !sv_sasl_session_set_external_ssf(s, spec->tls_ssf, error))
        return NULL;
    sv_sasl_security_for(spec->secure, SV_SASL_SSF_MIN, &min_ssf, &max_ssf, &anon);
    if (!sv_sasl_session_set_security(s, min_ssf, max_ssf, anon, error))
        return NULL;
    return g_steal_pointer(&s);
}

void
sv_auth_client_sasl(SvRpcConn *conn, const SvAuthClientSpec *spec, SvAuthClientDone done,
                    gpointer data)
{
    Nego *n = g_new0(Nego, 1);
    g_autoptr(GError) error = NULL;

    n->conn = conn;
    n->secure = spec->secure;
    n->done = done;
    n->data = data;
    if (!(n->sasl = client_session(spec, &error))) {
        nego_end(n, error);
        return;
    }
    sv_rpc_conn_call(conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_AUTH_SASL_INIT,
                     (xdrproc_t)sv_xdr_void, NULL, init_reply, n);
}
