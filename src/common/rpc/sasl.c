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
    g_free(s);
}

gboolean
sv_sasl_session_set_external_ssf(SvSaslSession *s, int ssf, GError **error)
{
    sasl_ssf_t v = (sasl_ssf_t)ssf;
    int err;

    g_mutex_lock(&sasl_lock);
    err = sasl_setprop(s->conn, SASL_SSF_EXTERNAL, &v);
    g_mutex_unlock(&sasl_lock);
    if (err != SASL_OK) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "cannot set external SSF %d (%s)",
                     err, sasl_errstring(err, NULL, NULL));
        return FALSE;
    }
    return TRUE;
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
    int err;

    g_mutex_lock(&sasl_lock);
    err = sasl_setprop(s->conn, SASL_SEC_PROPS, &props);
    g_mutex_unlock(&sasl_lock);
    if (err != SASL_OK) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "cannot set security props %d (%s)",
                     err, sasl_errstring(err, NULL, NULL));
        return FALSE;
    }
    return TRUE;
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
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "cannot list SASL mechanisms %d (%s)",
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
        sv_error_set(&error, SV_FROM_RPC, SV_ERR_AUTH_FAILED, "Failed to %s SASL negotiation: %d (%s)",
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
