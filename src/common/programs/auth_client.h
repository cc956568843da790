/* auth_client.h: a daemon's own connection to another daemon (peer-to-peer migration's)
 * authenticating with SASL, as libvirt's remote driver does for a daemon: with the
 * credentials libvirt's auth file holds for the service "libvirt" on the server's host. */
#pragma once

#include <glib.h>

#include "rpc/client.h"

typedef struct {
    const char *host;      /* the server's host name ("localhost" for a unix socket) */
    const char *auth_file; /* libvirt's auth file (sv_auth_file_path) */
    gboolean secure;       /* a unix socket or TLS: no SASL security layer is asked for */
    int tls_ssf;           /* TLS: the session's key size in bits; 0 otherwise */
} SvAuthClientSpec;

/* done's error is NULL once the server let the connection in. */
typedef void (*SvAuthClientDone)(SvRpcConn *conn, const GError *error, gpointer data);

/* Run AUTH_SASL_INIT, START and STEP on conn until both sides are done (the client always
 * checks the server's last word: mutual authentication), as libvirt's remote driver; done
 * runs on the loop, once, unless conn is freed first. Errors: the server's (AUTH_FAILED
 * "authentication failed"), the client library's, libvirt's "Failed to collect auth
 * credentials" (AUTH_FAILED) when the auth file has none for host, "negotiation SSF N was
 * not strong enough" on a connection that is not secure. A SASL security layer is not
 * run on this side (SvRpcConn has none; the server side has sasl_layer.h): a negotiation
 * that agrees one is refused. */
void sv_auth_client_sasl(SvRpcConn *conn, const SvAuthClientSpec *spec, SvAuthClientDone done,
                         gpointer data);

/* The auth file a daemon reads: $LIBVIRT_AUTH_FILE, else ROOT/etc/libvirt/auth.conf (root
 * NULL or "": /etc/libvirt/auth.conf). (transfer full) */
char *sv_auth_file_path(const char *root);

/* From an auth file's text (libvirt's format: [auth-libvirt-HOST] or [auth-libvirt-default]
 * naming credentials=NAME, and [credentials-NAME] with authname (or username) and
 * password), the credentials for the service "libvirt" on host; FALSE with *error set when
 * there are none (or the text does not parse). Pure. */
gboolean sv_auth_file_credentials(const char *text, const char *host, char **username,
                                  char **password, GError **error);
