/* tls.h: x509 credentials and TLS sessions over a connected socket (GnuTLS), for the
 * server's TLS listeners and for connections this daemon opens, with libvirt's checks of
 * its own certificates, of the peer's, and of tls_allowed_dn_list. */
#pragma once

#include <gio/gio.h>
#include <sys/uio.h>

/* libvirt's default x509 paths (below a daemon's --root). */
#define SV_TLS_CA_CERT "/etc/pki/CA/cacert.pem"
#define SV_TLS_CA_CRL "/etc/pki/CA/cacrl.pem"
#define SV_TLS_SERVER_CERT "/etc/pki/libvirt/servercert.pem"
#define SV_TLS_SERVER_KEY "/etc/pki/libvirt/private/serverkey.pem"
#define SV_TLS_CLIENT_CERT "/etc/pki/libvirt/clientcert.pem"
#define SV_TLS_CLIENT_KEY "/etc/pki/libvirt/private/clientkey.pem"
#define SV_TLS_DEFAULT_PRIORITY "NORMAL"

typedef struct {
    char *ca_file;
    char *crl_file;  /* may be missing on disk: skipped */
    char *cert_file; /* a client's may be missing (with its key): none is offered */
    char *key_file;
    gboolean no_sanity_certificate; /* our own certificates are not checked at load */
    gboolean no_verify_certificate; /* the peer's failures are logged, not fatal */
    char **allowed_dn;              /* server: fnmatch patterns; NULL: any DN */
    char *priority;                 /* NULL: SV_TLS_DEFAULT_PRIORITY */
} SvTlsConfig;

void sv_tls_config_clear(SvTlsConfig *cfg);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SvTlsConfig, sv_tls_config_clear)

typedef struct SvTlsContext SvTlsContext;
typedef struct SvTlsSession SvTlsSession;

/* Load and check the credentials (the files are read now); libvirt's errors ("Cannot read
 * CA certificate '...'", "The server certificate ... has expired", ...). The context
 * keeps a copy of cfg. */
SvTlsContext *sv_tls_context_new(const SvTlsConfig *cfg, gboolean is_server, GError **error);
SvTlsContext *sv_tls_context_ref(SvTlsContext *ctx);
void sv_tls_context_unref(SvTlsContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvTlsContext, sv_tls_context_unref)

/* A session on a connected, non-blocking socket (not owned: the caller closes it after
 * freeing the session). hostname: a client's peer name checked against the server's
 * certificate; NULL on a server. */
SvTlsSession *sv_tls_session_new(SvTlsContext *ctx, int fd, const char *hostname,
                                 GError **error);
void sv_tls_session_free(SvTlsSession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvTlsSession, sv_tls_session_free)

/* One step of the handshake: 1 done, 0 to be called again when the socket is ready for
 * sv_tls_session_wants(), -1 with *error set. */
int sv_tls_session_handshake(SvTlsSession *s, GError **error);
/* G_IO_IN or G_IO_OUT: what the unfinished handshake waits for. */
GIOCondition sv_tls_session_wants(SvTlsSession *s);
gboolean sv_tls_session_handshake_done(SvTlsSession *s);

/* After the handshake: the peer's certificate checked as libvirt's
 * virNetTLSContextCheckCertificate does (chain, times, and then the DN against
 * tls_allowed_dn_list on a server, the hostname on a client). With
 * no_verify_certificate a failure is logged and TRUE returned. */
gboolean sv_tls_session_check_peer(SvTlsSession *s, GError **error);

/* The peer's x509 distinguished name once checked, or NULL. */
const char *sv_tls_session_get_dname(SvTlsSession *s);
/* The cipher's key size in bytes (libvirt's TLS SSF is this times 8). */
int sv_tls_session_get_key_size(SvTlsSession *s);

/* Like recv(2): bytes read, 0 at the peer's end (close_notify), -1 with errno (EAGAIN:
 * nothing now; EIO: the peer went without close_notify, or the session broke). */
gssize sv_tls_session_recv(SvTlsSession *s, void *buf, gsize len);
/* Like writev(2): bytes taken (all of them or none: they are sealed into records, which
 * may still wait for the socket, see sv_tls_session_unflushed), or -1 with errno. */
gssize sv_tls_session_writev(SvTlsSession *s, const struct iovec *iov, int n);
/* Records sealed but not all written yet: the socket must be watched for G_IO_OUT and
 * sv_tls_session_flush called. */
gboolean sv_tls_session_unflushed(SvTlsSession *s);
/* Write what is left: 0 done, -1 with errno (EAGAIN: call again when writable). */
int sv_tls_session_flush(SvTlsSession *s);
/* Decrypted bytes held in the session, readable without the socket being readable. */
gsize sv_tls_session_pending(SvTlsSession *s);
