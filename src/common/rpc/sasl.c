/* sasl.c: the server side of a SASL negotiation on libsasl2 (sasl.h). */
#include "rpc/sasl.h"

#include <sasl/sasl.h>
#include <string.h>

#include "util/error.h"

/* libsasl2 locks nothing of its own (its default mutex hooks do nothing), and its plugins
 * share state across connections: one thread at a time inside it. Steps run on workers
 * because a mechanism may read files (sasldb) or ask a server (GSSAPI). */
static GMutex sasl_lock;
static gboolean sasl_ready;
static char *sasl_conf_dir;

struct SvSaslSession {
    gint ref;
    sasl_conn_t *conn;
    /* A client's credentials, and the callbacks that hand them to its mechanism. */
    char *username;
    sasl_secret_t *secret;
    sasl_callback_t callbacks[4];
};

static int
log_cb(void *context, int level, const char *message)
{
    (void)context;
    g_debug("sasl (level %d): %s", level, message);
    return SASL_OK;
}

static int
conf_path_cb(void *context, char **path)
{
    (void)context;
    *path = sasl_conf_dir;
    return SASL_OK;
}

gboolean
sv_sasl_server_init(const char *conf_dir, GError **error)
{
    /* The library keeps the array: it lives as long as the process. */
    static sasl_callback_t with_dir[] = {
        {SASL_CB_LOG, (int (*)(void))(void (*)(void))log_cb, NULL},
        {SASL_CB_GETCONFPATH, (int (*)(void))(void (*)(void))conf_path_cb, NULL},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    int err;

    g_mutex_lock(&sasl_lock);
    if (sasl_ready) {
        g_mutex_unlock(&sasl_lock);
        return TRUE;
    }
    sasl_conf_dir = g_strdup(conf_dir);
    if (!conf_dir)
        with_dir[1] = with_dir[2];
    err = sasl_server_init(with_dir, SV_SASL_SERVICE);
    sasl_ready = err == SASL_OK;
    g_mutex_unlock(&sasl_lock);
    if (err != SASL_OK) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED,
                     "failed to initialize SASL library: %d (%s)", err,
                     sasl_errstring(err, NULL, NULL));
        return FALSE;
    }
    return TRUE;
}

SvSaslSession *
sv_sasl_session_new(const char *local_addr, const char *remote_addr, GError **error)
{
    sasl_conn_t *conn = NULL;
    SvSaslSession *s;
    int err;

    g_mutex_lock(&sasl_lock);
    err = sasl_server_new(SV_SASL_SERVICE, NULL, NULL, local_addr, remote_addr, NULL,
                          SASL_SUCCESS_DATA, &conn);
    g_mutex_unlock(&sasl_lock);
    if (err != SASL_OK) {
        /* libvirt's words, "client" and all. */
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED,
                     "Failed to create SASL client context: %d (%s)", err,
                     sasl_errstring(err, NULL, NULL));
        return NULL;
    }
    s = g_new0(SvSaslSession, 1);
    s->ref = 1;
    s->conn = conn;
    return s;
}

SvSaslSession *
sv_sasl_session_ref(SvSaslSession *s)
{
    g_atomic_int_inc(&s->ref);
    return s;
}

void
sv_sasl_session_unref(SvSaslSession *s)
{
    if (!s || !g_atomic_int_dec_and_test(&s->ref))
        return;
    g_mutex_lock(&sasl_lock);
    sasl_dispose(&s->conn);
    g_mutex_unlock(&sasl_lock);
    g_free(s->username);
    if (s->secret)
        memset(s->secret->data, 0, s->secret->len);
    g_free(s->secret);
    g_free(s);
}

/* sasl_setprop under the lock; libvirt's "cannot set WHAT N (TEXT)". */
static gboolean
set_prop(SvSaslSession *s, int prop, const void *value, const char *what, GError **error)
{
    int err;

    g_mutex_lock(&sasl_lock);
    err = sasl_setprop(s->conn, prop, value);
    g_mutex_unlock(&sasl_lock);
    if (err != SASL_OK) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "cannot set %s %d (%s)", what, err,
                     sasl_errstring(err, NULL, NULL));
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_sasl_session_set_external_ssf(SvSaslSession *s, int ssf, GError **error)
{
    sasl_ssf_t v = (sasl_ssf_t)ssf;

    return set_prop(s, SASL_SSF_EXTERNAL, &v, "external SSF", error);
}

gboolean
sv_sasl_session_set_security(SvSaslSession *s, int min_ssf, int max_ssf,
                             gboolean allow_anonymous, GError **error)
{
    sasl_security_properties_t props = {
        .min_ssf = (sasl_ssf_t)min_ssf,
        .max_ssf = (sasl_ssf_t)max_ssf,
        /* The most one security-layer block may carry, libvirt's choice. */
        .maxbufsize = 1 << 16,
        .security_flags = allow_anonymous ? 0 : SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT,
    };

    return set_prop(s, SASL_SEC_PROPS, &props, "security props", error);
}

char *
sv_sasl_session_list_mechanisms(SvSaslSession *s, GError **error)
{
    const char *list = NULL;
    g_autofree char *detail = NULL;
    char *ret = NULL;
    int err;

    g_mutex_lock(&sasl_lock);
    err = sasl_listmech(s->conn, NULL, "", ",", "", &list, NULL, NULL);
    if (err == SASL_OK)
        ret = g_strdup(list);
    else
        detail = g_strdup(sasl_errdetail(s->conn));
    g_mutex_unlock(&sasl_lock);
    if (err != SASL_OK) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                     "cannot list SASL mechanisms %d (%s)",
                     err, detail);
        return NULL;
    }
    if (!*ret) {
        g_free(ret);
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "%s",
                     "no SASL mechanisms are available");
        return NULL;
    }
    return ret;
}

/* ---------------------------------------------------------------- steps */

typedef struct {
    SvSaslSession *s;
    char *mech; /* NULL: a following step */
    GBytes *input; /* NULL: no data */
    GBytes *output;
    SvSaslStatus status;
} Step;

static void
step_free(gpointer p)
{
    Step *st = p;

    sv_sasl_session_unref(st->s);
    g_free(st->mech);
    g_clear_pointer(&st->input, g_bytes_unref);
    g_clear_pointer(&st->output, g_bytes_unref);
    g_free(st);
}

static void
step_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    Step *st = data;
    gsize inlen = 0;
    const char *in = st->input ? g_bytes_get_data(st->input, &inlen) : NULL;
    const char *out = NULL;
    unsigned outlen = 0;
    g_autofree char *detail = NULL;
    GError *error = NULL;
    int err;

    (void)source;
    (void)cancel;
    g_mutex_lock(&sasl_lock);
    if (st->mech)
        err = sasl_server_start(st->s->conn, st->mech, in, (unsigned)inlen, &out, &outlen);
    else
        err = sasl_server_step(st->s->conn, in, (unsigned)inlen, &out, &outlen);
    /* The library's buffer lasts until its next call on the connection: copied here. */
    if (err == SASL_OK || err == SASL_CONTINUE)
        st->output = out ? g_bytes_new(out, outlen) : NULL;
    else
        detail = g_strdup(sasl_errdetail(st->s->conn));
    g_mutex_unlock(&sasl_lock);
    if (err != SASL_OK && err != SASL_CONTINUE) {
        sv_error_set(&error, SV_FROM_RPC, SV_ERR_AUTH_FAILED,
                     "Failed to %s SASL negotiation: %d (%s)",
                     st->mech ? "start" : "step", err, detail);
        g_task_return_error(task, error);
        return;
    }
    st->status = err == SASL_OK ? SV_SASL_COMPLETE : SV_SASL_CONTINUE;
    g_task_return_boolean(task, TRUE);
}

void
sv_sasl_session_step_async(SvSaslSession *s, const char *mech, const guint8 *input, gsize len,
                           GAsyncReadyCallback cb, gpointer data)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, cb, data);
    Step *st = g_new0(Step, 1);

    st->s = sv_sasl_session_ref(s);
    st->mech = g_strdup(mech);
    st->input = input ? g_bytes_new(input, len) : NULL;
    g_task_set_source_tag(task, sv_sasl_session_step_async);
    g_task_set_task_data(task, st, step_free);
    g_task_run_in_thread(task, step_thread);
}

gboolean
sv_sasl_session_step_finish(SvSaslSession *s, GAsyncResult *res, SvSaslStatus *status,
                            GBytes **out, GError **error)
{
    GTask *task = G_TASK(res);
    Step *st = g_task_get_task_data(task);

    g_return_val_if_fail(st->s == s, FALSE);
    if (!g_task_propagate_boolean(task, error))
        return FALSE;
    *status = st->status;
    *out = g_steal_pointer(&st->output);
    return TRUE;
}

char *
sv_sasl_session_get_username(SvSaslSession *s, GError **error)
{
    const void *val = NULL;
    char *ret = NULL;
    int err;

    g_mutex_lock(&sasl_lock);
    err = sasl_getprop(s->conn, SASL_USERNAME, &val);
    if (err == SASL_OK && val)
        ret = g_strdup(val);
    g_mutex_unlock(&sasl_lock);
    if (err != SASL_OK)
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED,
                     "cannot query SASL username on connection %d (%s)", err,
                     sasl_errstring(err, NULL, NULL));
    else if (!ret)
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED, "%s", "no client username was found");
    return ret;
}

int
sv_sasl_session_get_ssf(SvSaslSession *s, GError **error)
{
    const void *val = NULL;
    int ssf = -1;
    int err;

    g_mutex_lock(&sasl_lock);
    err = sasl_getprop(s->conn, SASL_SSF, &val);
    if (err == SASL_OK)
        ssf = (int)*(const sasl_ssf_t *)val;
    g_mutex_unlock(&sasl_lock);
    if (err != SASL_OK)
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED,
                     "cannot query SASL ssf on connection %d (%s)", err,
                     sasl_errstring(err, NULL, NULL));
    return ssf;
}

/* ---------------------------------------------------------------- the security layer */

gsize
sv_sasl_session_max_out(SvSaslSession *s)
{
    const void *val = NULL;
    gsize max = 0;

    g_mutex_lock(&sasl_lock);
    if (sasl_getprop(s->conn, SASL_MAXOUTBUF, &val) == SASL_OK && val)
        max = *(const unsigned *)val;
    g_mutex_unlock(&sasl_lock);
    return max ? max : SV_SASL_DATA_MAX;
}

/* sasl_encode or sasl_decode of in, appended to out. */
static gboolean
code(SvSaslSession *s, gboolean encode, const guint8 *in, gsize len, GByteArray *out,
     GError **error)
{
    const char *o = NULL;
    unsigned olen = 0;
    int err;

    g_mutex_lock(&sasl_lock);
    err = encode ? sasl_encode(s->conn, (const char *)in, (unsigned)len, &o, &olen)
                 : sasl_decode(s->conn, (const char *)in, (unsigned)len, &o, &olen);
    if (err == SASL_OK && olen)
        g_byte_array_append(out, (const guint8 *)o, olen);
    g_mutex_unlock(&sasl_lock);
    if (err != SASL_OK) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED, "failed to %s SASL data: %d (%s)",
                     encode ? "encode" : "decode", err, sasl_errstring(err, NULL, NULL));
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_sasl_session_encode(SvSaslSession *s, const guint8 *in, gsize len, GByteArray *out,
                       GError **error)
{
    return code(s, TRUE, in, len, out, error);
}

gboolean
sv_sasl_session_decode(SvSaslSession *s, const guint8 *in, gsize len, GByteArray *out,
                       GError **error)
{
    return code(s, FALSE, in, len, out, error);
}

/* ---------------------------------------------------------------- the client side */

static int
client_name_cb(void *context, int id, const char **result, unsigned *len)
{
    SvSaslSession *s = context;

    if (id != SASL_CB_AUTHNAME && id != SASL_CB_USER)
        return SASL_BADPARAM;
    *result = s->username;
    if (len)
        *len = strlen(s->username);
    return SASL_OK;
}

static int
client_secret_cb(sasl_conn_t *conn, void *context, int id, sasl_secret_t **out)
{
    SvSaslSession *s = context;

    (void)conn;
    if (id != SASL_CB_PASS)
        return SASL_BADPARAM;
    *out = s->secret;
    return SASL_OK;
}

SvSaslSession *
sv_sasl_client_new(const char *host, const char *local_addr, const char *remote_addr,
                   const char *username, const char *password, GError **error)
{
    static gsize client_ready;
    static int init_err;
    g_autoptr(SvSaslSession) s = g_new0(SvSaslSession, 1);
    gsize plen = strlen(password);
    int err;

    if (g_once_init_enter(&client_ready)) {
        g_mutex_lock(&sasl_lock);
        init_err = sasl_client_init(NULL);
        g_mutex_unlock(&sasl_lock);
        g_once_init_leave(&client_ready, 1);
    }
    if (init_err != SASL_OK) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED,
                     "failed to initialize SASL library: %d (%s)", init_err,
                     sasl_errstring(init_err, NULL, NULL));
        return NULL;
    }
    s->ref = 1;
    s->username = g_strdup(username);
    s->secret = g_malloc0(sizeof(sasl_secret_t) + plen);
    s->secret->len = plen;
    memcpy(s->secret->data, password, plen);
    s->callbacks[0] = (sasl_callback_t){SASL_CB_AUTHNAME,
                                        (int (*)(void))(void (*)(void))client_name_cb, s};
    s->callbacks[1] = (sasl_callback_t){SASL_CB_USER,
                                        (int (*)(void))(void (*)(void))client_name_cb, s};
    s->callbacks[2] = (sasl_callback_t){SASL_CB_PASS,
                                        (int (*)(void))(void (*)(void))client_secret_cb, s};
    s->callbacks[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    g_mutex_lock(&sasl_lock);
    err = sasl_client_new(SV_SASL_SERVICE, host, local_addr, remote_addr, s->callbacks,
                          SASL_SUCCESS_DATA, &s->conn);
    g_mutex_unlock(&sasl_lock);
    if (err != SASL_OK) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED,
                     "Failed to create SASL client context: %d (%s)", err,
                     sasl_errstring(err, NULL, NULL));
        return NULL;
    }
    return g_steal_pointer(&s);
}

/* A client step's outcome, its output copied; libvirt's errors. */
static gboolean
client_outcome(SvSaslSession *s, int err, const char *out, unsigned outlen, const char *what,
               GBytes **ret_out, SvSaslStatus *status, GError **error)
{
    if (err != SASL_OK && err != SASL_CONTINUE) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED,
                     "Failed to %s SASL negotiation: %d (%s)",
                     what, err, sasl_errdetail(s->conn));
        return FALSE;
    }
    *ret_out = out ? g_bytes_new(out, outlen) : NULL;
    *status = err == SASL_OK ? SV_SASL_COMPLETE : SV_SASL_CONTINUE;
    return TRUE;
}

gboolean
sv_sasl_client_start(SvSaslSession *s, const char *mechlist, const char **mech, GBytes **out,
                     SvSaslStatus *status, GError **error)
{
    const char *data = NULL;
    unsigned len = 0;
    gboolean ok;
    int err;

    g_mutex_lock(&sasl_lock);
    err = sasl_client_start(s->conn, mechlist, NULL, &data, &len, mech);
    ok = client_outcome(s, err, data, len, "start", out, status, error);
    g_mutex_unlock(&sasl_lock);
    return ok;
}

gboolean
sv_sasl_client_step(SvSaslSession *s, const guint8 *input, gsize len, GBytes **out,
                    SvSaslStatus *status, GError **error)
{
    const char *data = NULL;
    unsigned outlen = 0;
    gboolean ok;
    int err;

    g_mutex_lock(&sasl_lock);
    err = sasl_client_step(s->conn, (const char *)input, (unsigned)len, NULL, &data, &outlen);
    ok = client_outcome(s, err, data, outlen, "step", out, status, error);
    g_mutex_unlock(&sasl_lock);
    return ok;
}

/* ---------------------------------------------------------------- rules */

void
sv_sasl_security_for(gboolean secure, guint tcp_min_ssf, int *min_ssf, int *max_ssf,
                     gboolean *allow_anonymous)
{
    if (secure) {
        *min_ssf = 0;
        *max_ssf = 0;
        *allow_anonymous = TRUE;
        return;
    }
    *min_ssf = (int)tcp_min_ssf;
    *max_ssf = 100000; /* anything the mechanism offers */
    *allow_anonymous = FALSE;
}

gboolean
sv_sasl_ssf_enough(gboolean secure, int ssf)
{
    return secure || ssf >= SV_SASL_SSF_MIN;
}

gboolean
sv_sasl_username_allowed(const char *const *patterns, const char *username)
{
    if (!patterns)
        return TRUE;
    for (; *patterns; patterns++) {
        if (g_pattern_match_simple(*patterns, username))
            return TRUE;
    }
    return FALSE;
}
