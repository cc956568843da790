/* auth.c: the authentication configuration and the remote program's AUTH_* calls
 * (auth.h): SASL as libvirt's daemons run it (rpc/sasl.h), every failure answered with
 * libvirt's one "authentication failed" and its reason logged. */
#include "programs/auth.h"

#include <string.h>

#include "rpc/sasl.h"
#include "util/error.h"

/* ---------------------------------------------------------------- configuration */

static gboolean
get_auth(SvConfFile *conf, const char *path, const char *key, SvAuth *out, GError **error)
{
    g_autofree char *word = NULL;
    int auth;

    if (!sv_conf_file_get_string(conf, key, &word, error))
        return FALSE;
    if (!word)
        return TRUE;
    auth = sv_auth_from_string(word);
    /* libvirt's words; polkit needs a polkit this build has not. */
    if (auth < 0 || auth == SV_AUTH_POLKIT) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED, "%s: %s: unsupported auth %s",
                     path, key, word);
        return FALSE;
    }
    *out = (SvAuth)auth;
    return TRUE;
}

gboolean
sv_auth_config_load(SvAuthConfig *cfg, SvConfFile *conf, const char *path, gboolean with_ip,
                    GError **error)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->tcp = with_ip ? SV_AUTH_SASL : SV_AUTH_NONE;
    cfg->tcp_min_ssf = SV_SASL_SSF_MIN;
    if (!get_auth(conf, path, "auth_unix_rw", &cfg->unix_rw, error) ||
        !get_auth(conf, path, "auth_unix_ro", &cfg->unix_ro, error))
        return FALSE;
    if (with_ip) {
        if (!get_auth(conf, path, "auth_tcp", &cfg->tcp, error) ||
            !get_auth(conf, path, "auth_tls", &cfg->tls, error) ||
            !sv_conf_file_get_uint(conf, "tcp_min_ssf", &cfg->tcp_min_ssf, error))
            return FALSE;
        if (cfg->tcp_min_ssf < SV_SASL_SSF_MIN) {
            sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                         "minimum SSF levels lower than %d are not supported", SV_SASL_SSF_MIN);
            return FALSE;
        }
    }
    return sv_conf_file_get_strv(conf, "sasl_allowed_username_list",
                                 &cfg->sasl_allowed_usernames, error);
}

void
sv_auth_config_clear(SvAuthConfig *cfg)
{
    g_clear_pointer(&cfg->sasl_allowed_usernames, g_strfreev);
}

/* The rules of the AUTH_SASL_* calls: one set per process, as libsasl2's own state. */
static struct {
    gboolean ready;  /* sv_sasl_server_init succeeded */
    gboolean failed; /* ... or failed, and said so */
    char *conf_dir;
    guint tcp_min_ssf;
    GStrv allowed;
} rules;

void
sv_auth_setup(const SvAuthConfig *cfg, const char *sasl_conf_dir)
{
    rules.tcp_min_ssf = cfg->tcp_min_ssf;
    g_strfreev(rules.allowed);
    rules.allowed = g_strdupv(cfg->sasl_allowed_usernames);
    g_free(rules.conf_dir);
    rules.conf_dir = g_strdup(sasl_conf_dir);
}

/* libsasl2 is set up when a client first asks for SASL: a daemon with no such client
 * (virtproxyd without its TCP listener, whose default is SASL) never loads its plugins. */
static gboolean
sasl_ready(void)
{
    g_autoptr(GError) error = NULL;

    if (rules.ready || rules.failed)
        return rules.ready;
    rules.ready = sv_sasl_server_init(rules.conf_dir, &error);
    rules.failed = !rules.ready;
    if (rules.failed)
        g_warning("SASL authentication is not available: %s", error->message);
    return rules.ready;
}

/* ---------------------------------------------------------------- AUTH_LIST */

static gboolean
auth_list(SvCall *call, remote_auth_list_ret *ret, GError **error)
{
    (void)error;
    ret->types.types_len = 1;
    ret->types.types_val = g_new0(remote_auth_type, 1);
    ret->types.types_val[0] = (remote_auth_type)sv_client_get_auth(sv_call_get_client(call));
    return TRUE;
}

/* ---------------------------------------------------------------- SASL */

/* A client's negotiation under way. */
typedef struct {
    SvSaslSession *sasl;
    gboolean stepping; /* a step runs on a worker */
} AuthClient;

static void
auth_client_free(gpointer p)
{
    AuthClient *ac = p;

    g_clear_pointer(&ac->sasl, sv_sasl_session_unref);
    g_free(ac);
}

static const SvAttachKey auth_key = {"SASL negotiation", SV_ATTACH_LEVEL_PROGRAM};

/* libvirt tells the client nothing more, whatever went wrong (the reason is logged): a
 * client probing names or mechanisms learns nothing. A failed start or step ends the
 * negotiation; a refused init leaves one under way alone, as libvirt's. */
static void
auth_failed(SvClient *c, const char *what, const GError *why, GError **error)
{
    g_message("client %" G_GUINT64_FORMAT ": SASL %s refused%s%s", sv_client_get_id(c), what,
              why ? ": " : "", why ? why->message : "");
    if (!g_str_equal(what, "init"))
        sv_client_attach(c, &auth_key, NULL, NULL);
    sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED, "%s", "authentication failed");
}

/* A new session with libvirt's security rules for this connection. */
static SvSaslSession *
session_for(SvClient *c, GError **error)
{
    g_autofree char *local = sv_client_sasl_local_addr(c);
    g_autofree char *remote = sv_client_sasl_remote_addr(c);
    g_autoptr(SvSaslSession) s = sv_sasl_session_new(local, remote, error);
    int min_ssf, max_ssf;
    gboolean anon;

    if (!s)
        return NULL;
    /* TLS is a security layer under SASL's: SASL wants its strength in bits. */
    if (sv_client_get_transport(c) == SV_TRANSPORT_TLS &&
        !sv_sasl_session_set_external_ssf(s, sv_client_get_tls_key_size(c) * 8, error))
        return NULL;
    sv_sasl_security_for(sv_client_is_secure(c), rules.tcp_min_ssf, &min_ssf, &max_ssf, &anon);
    if (!sv_sasl_session_set_security(s, min_ssf, max_ssf, anon, error))
        return NULL;
    return g_steal_pointer(&s);
}

static gboolean
auth_sasl_init(SvCall *call, remote_auth_sasl_init_ret *ret, GError **error)
{
    SvClient *c = sv_call_get_client(call);
    g_autoptr(GError) why = NULL;
    g_autoptr(SvSaslSession) s = NULL;
    AuthClient *ac;

    if (sv_client_get_auth(c) != SV_AUTH_SASL || !sasl_ready() ||
        sv_client_attachment(c, &auth_key)) {
        auth_failed(c, "init", NULL, error);
        return FALSE;
    }
    if (!(s = session_for(c, &why)) ||
        !(ret->mechlist = sv_sasl_session_list_mechanisms(s, &why))) {
        auth_failed(c, "init", why, error);
        return FALSE;
    }
    g_debug("client %" G_GUINT64_FORMAT ": SASL mechanisms offered: %s", sv_client_get_id(c),
            ret->mechlist);
    ac = g_new0(AuthClient, 1);
    ac->sasl = g_steal_pointer(&s);
    sv_client_attach(c, &auth_key, ac, auth_client_free);
    return TRUE;
}

/* The negotiation succeeded: whether libvirt lets the client in, and as whom. */
static gboolean
sasl_finish(SvClient *c, SvSaslSession *s, GError **error)
{
    g_autofree char *user = NULL;
    int ssf = sv_sasl_session_get_ssf(s, error);

    if (ssf < 0)
        return FALSE;
    if (!sv_sasl_ssf_enough(sv_client_is_secure(c), ssf)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED, "negotiated SSF %d was not strong enough",
                     ssf);
        return FALSE;
    }
    /* A security layer would wrap every later frame, which this transport does not do:
     * on a secure connection none is asked for (max_ssf 0), elsewhere none would do. */
    if (ssf > 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED,
                     "negotiated SSF %d needs a SASL security layer, not supported", ssf);
        return FALSE;
    }
    if (!(user = sv_sasl_session_get_username(s, error)))
        return FALSE;
    if (!sv_sasl_username_allowed((const char *const *)rules.allowed, user)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Client's username is not on the list of allowed clients (%s)", user);
        return FALSE;
    }
    sv_client_set_sasl_user(c, user);
    sv_client_set_authenticated(c);
    sv_client_attach(c, &auth_key, NULL, NULL);
    g_message("client %" G_GUINT64_FORMAT " authenticated with SASL as '%s'",
              sv_client_get_id(c), user);
    return TRUE;
}

/* A step's answer: remote_auth_sasl_start_ret and remote_auth_sasl_step_ret alike. */
typedef struct {
    int complete;
    int nil;
    GBytes *data;
} StepAnswer;

typedef struct {
    SvCall *call; /* deferred */
    SvClient *client;
    SvSaslSession *sasl;
    gboolean start;
} Pending;

static void
reply_step(SvCall *call, gboolean start, const StepAnswer *a)
{
    gsize len = a->data ? g_bytes_get_size(a->data) : 0;
    /* Empty data is not "no data": it needs a buffer all the same. */
    char *val = a->data ? g_memdup2(g_bytes_get_data(a->data, NULL), MAX(len, 1)) : NULL;

    if (start) {
        remote_auth_sasl_start_ret r = {a->complete, a->nil, {(u_int)len, val}};
        sv_call_reply(call, &r);
    } else {
        remote_auth_sasl_step_ret r = {a->complete, a->nil, {(u_int)len, val}};
        sv_call_reply(call, &r);
    }
    g_free(val);
}

/* What the step came to: the answer, the client let in when it completed. */
static gboolean
step_outcome(Pending *p, GAsyncResult *res, StepAnswer *a, GError **error)
{
    SvSaslStatus status;

    if (!sv_sasl_session_step_finish(p->sasl, res, &status, &a->data, error))
        return FALSE;
    if (a->data && g_bytes_get_size(a->data) > SV_SASL_DATA_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED, "sasl reply data too long %zu",
                     g_bytes_get_size(a->data));
        return FALSE;
    }
    if (status == SV_SASL_COMPLETE && !sasl_finish(p->client, p->sasl, error))
        return FALSE;
    a->nil = a->data == NULL;
    a->complete = status == SV_SASL_COMPLETE;
    return TRUE;
}

static void
step_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree Pending *p = data;
    g_autoptr(GError) why = NULL;
    StepAnswer a = {0};
    AuthClient *ac = sv_client_attachment(p->client, &auth_key);

    (void)source;
    if (ac && ac->sasl == p->sasl)
        ac->stepping = FALSE;
    if (step_outcome(p, res, &a, &why)) {
        reply_step(p->call, p->start, &a);
    } else {
        GError *error = NULL;
        auth_failed(p->client, p->start ? "start" : "step", why, &error);
        sv_call_fail(p->call, error);
    }
    g_clear_pointer(&a.data, g_bytes_unref);
    sv_sasl_session_unref(p->sasl);
    sv_client_unref(p->client);
}

/* Start or continue the client's negotiation on a worker; the reply comes from step_done. */
static gboolean
sasl_step(SvCall *call, const char *mech, int nil, const char *data, u_int len, GError **error)
{
    SvClient *c = sv_call_get_client(call);
    AuthClient *ac = sv_client_attachment(c, &auth_key);
    Pending *p;

    if (sv_client_get_auth(c) != SV_AUTH_SASL || !ac || ac->stepping) {
        auth_failed(c, mech ? "start" : "step", NULL, error);
        return FALSE;
    }
    p = g_new0(Pending, 1);
    p->call = sv_call_defer(call);
    p->client = sv_client_ref(c);
    p->sasl = sv_sasl_session_ref(ac->sasl);
    p->start = mech != NULL;
    ac->stepping = TRUE;
    /* SASL tells "no data" (nil) from empty data. */
    sv_sasl_session_step_async(ac->sasl, mech, nil ? NULL : (const guint8 *)(data ? data : ""),
                               len, step_done, p);
    return TRUE;
}

static gboolean
auth_sasl_start(SvCall *call, remote_auth_sasl_start_args *args, remote_auth_sasl_start_ret *ret,
                GError **error)
{
    (void)ret;
    return sasl_step(call, args->mech, args->nil, args->data.data_val, args->data.data_len, error);
}

static gboolean
auth_sasl_step(SvCall *call, remote_auth_sasl_step_args *args, remote_auth_sasl_step_ret *ret,
               GError **error)
{
    (void)ret;
    return sasl_step(call, NULL, args->nil, args->data.data_val, args->data.data_len, error);
}

void
sv_auth_handlers(SvRemoteHandlers *h)
{
    h->auth_list = auth_list;
    h->auth_sasl_init = auth_sasl_init;
    h->auth_sasl_start = auth_sasl_start;
    h->auth_sasl_step = auth_sasl_step;
}
