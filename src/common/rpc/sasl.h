/* sasl.h: the server side of a SASL negotiation (Cyrus libsasl2), as libvirt's daemons run
 * it: the service "libvirt", its configuration file libvirt.conf (mechanisms, sasldb_path),
 * and the security rules a connection's kind decides. */
#pragma once

#include <gio/gio.h>

/* The service libvirt registers, which names the configuration file (libvirt.conf). */
#define SV_SASL_SERVICE "libvirt"

/* libvirt's limit on one step's data either way (remote_protocol.x). */
#define SV_SASL_DATA_MAX 65536

/* The weakest security layer libvirt takes on a connection that is not secure by itself
 * ("good enough for Kerberos"), and tcp_min_ssf's default and floor. */
#define SV_SASL_SSF_MIN 56

typedef enum {
    SV_SASL_COMPLETE,
    SV_SASL_CONTINUE,
} SvSaslStatus;

/* Initialise libsasl2's server side once per process, reading CONF_DIR/libvirt.conf, or,
 * with conf_dir NULL, the library's own choice (SASL_CONF_PATH, else /etc/sasl2). Errors
 * are libvirt's "failed to initialize SASL library: N (TEXT)" (AUTH_FAILED). Calling it
 * again does nothing. */
gboolean sv_sasl_server_init(const char *conf_dir, GError **error);

/* One connection's negotiation. The library is used by one thread at a time (its global
 * state is not locked by itself): every function here takes sasl.c's lock. */
typedef struct SvSaslSession SvSaslSession;

/* A session for a client at these addresses ("ADDR;PORT"; NULL for a unix socket). */
SvSaslSession *sv_sasl_session_new(const char *local_addr, const char *remote_addr,
                                   GError **error);
SvSaslSession *sv_sasl_session_ref(SvSaslSession *s);
void sv_sasl_session_unref(SvSaslSession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvSaslSession, sv_sasl_session_unref)

/* The strength (bits) of a security layer under SASL's, a TLS session's. */
gboolean sv_sasl_session_set_external_ssf(SvSaslSession *s, int ssf, GError **error);
/* The security layer asked for, and whether anonymous and plain-text mechanisms may be
 * used (sv_sasl_security_for says which libvirt asks for). */
gboolean sv_sasl_session_set_security(SvSaslSession *s, int min_ssf, int max_ssf,
                                      gboolean allow_anonymous, GError **error);
/* The mechanisms the client may choose from, comma-separated; an error when none is left
 * (libvirt's "no SASL mechanisms are available"). (transfer full) */
char *sv_sasl_session_list_mechanisms(SvSaslSession *s, GError **error);

/* Run one step on a worker: the first (mech set: sasl_server_start) or a following one
 * (mech NULL). input NULL is SASL's "no data", which differs from empty data. cb runs on
 * the calling thread's main context. */
void sv_sasl_session_step_async(SvSaslSession *s, const char *mech, const guint8 *input,
                                gsize len, GAsyncReadyCallback cb, gpointer data);
/* The step's outcome; *out gets the data for the client, NULL for "no data" (transfer
 * full). Errors are libvirt's "Failed to start SASL negotiation: N (DETAIL)" or "Failed
 * to step SASL negotiation: ..." (AUTH_FAILED, RPC). */
gboolean sv_sasl_session_step_finish(SvSaslSession *s, GAsyncResult *res,
                                     SvSaslStatus *status, GBytes **out, GError **error);

/* After COMPLETE: who the client authenticated as (transfer full), and the strength of
 * the security layer agreed (0: none). */
char *sv_sasl_session_get_username(SvSaslSession *s, GError **error);
int sv_sasl_session_get_ssf(SvSaslSession *s, GError **error);

/* ---- libvirt's rules, pure ---- */

/* The security layer to ask for: none on a connection that is secure by itself (a unix
 * socket, TLS), with anonymous mechanisms allowed; else at least tcp_min_ssf bits and no
 * anonymous or plain-text mechanism. */
void sv_sasl_security_for(gboolean secure, guint tcp_min_ssf, int *min_ssf, int *max_ssf,
                          gboolean *allow_anonymous);
/* Whether the layer agreed is strong enough for the connection. */
gboolean sv_sasl_ssf_enough(gboolean secure, int ssf);
/* Whether username matches one of the glob patterns (sasl_allowed_username_list); NULL
 * patterns: anyone. */
gboolean sv_sasl_username_allowed(const char *const *patterns, const char *username);
