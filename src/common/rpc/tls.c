/* tls.c: x509 credentials, their checks, and TLS sessions (tls.h). The messages are
 * libvirt's (virnettlscontext.c), logged or returned where libvirt logs or returns them. */
#include "rpc/tls.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"

#define WRITE_BATCH_MAX (256 * 1024) /* bytes sealed per writev before the socket is tried */

struct SvTlsContext {
    gint ref;
    gboolean is_server;
    SvTlsConfig cfg;
    gnutls_certificate_credentials_t cred;
};

struct SvTlsSession {
    SvTlsContext *ctx;
    gnutls_session_t session;
    char *hostname;
    char *dname;
    gboolean handshake_done;
    gboolean unflushed;
};

void
sv_tls_config_clear(SvTlsConfig *cfg)
{
    g_clear_pointer(&cfg->ca_file, g_free);
    g_clear_pointer(&cfg->crl_file, g_free);
    g_clear_pointer(&cfg->cert_file, g_free);
    g_clear_pointer(&cfg->key_file, g_free);
    g_clear_pointer(&cfg->allowed_dn, g_strfreev);
    g_clear_pointer(&cfg->priority, g_free);
}

static void
config_copy(SvTlsConfig *to, const SvTlsConfig *from)
{
    *to = *from;
    to->ca_file = g_strdup(from->ca_file);
    to->crl_file = g_strdup(from->crl_file);
    to->cert_file = g_strdup(from->cert_file);
    to->key_file = g_strdup(from->key_file);
    to->allowed_dn = g_strdupv(from->allowed_dn);
    to->priority = g_strdup(from->priority ? from->priority : SV_TLS_DEFAULT_PRIORITY);
}

/* ---------------------------------------------------------------- certificate checks */

/* The reason gnutls' verification status gives, in libvirt's words. */
static const char *
status_reason(unsigned int status)
{
    if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
        return "The certificate uses an insecure algorithm";
    if (status & GNUTLS_CERT_REVOKED)
        return "The certificate has been revoked.";
    if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
        return "The certificate hasn't got a known issuer.";
    if (status & GNUTLS_CERT_INVALID)
        return "The certificate is not trusted.";
    return "Invalid certificate";
}

static gboolean
check_times(gnutls_x509_crt_t cert, const char *file, gboolean is_server, gboolean is_ca,
            GError **error)
{
    const char *who = is_ca ? "CA" : is_server ? "server" : "client";
    time_t now = time(NULL);

    if (gnutls_x509_crt_get_expiration_time(cert) < now) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "The %s certificate %s has expired", who, file);
        return FALSE;
    }
    if (gnutls_x509_crt_get_activation_time(cert) > now) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "The %s certificate %s is not yet active", who, file);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_constraints(gnutls_x509_crt_t cert, const char *file, gboolean is_server, gboolean is_ca,
                  GError **error)
{
    int status = gnutls_x509_crt_get_basic_constraints(cert, NULL, NULL, NULL);

    if (status > 0 && !is_ca) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "The certificate %s basic constraints show a CA, but we need one for a %s",
                     file, is_server ? "server" : "client");
        return FALSE;
    }
    if (status == 0 && is_ca) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "The certificate %s basic constraints do not show a CA", file);
        return FALSE;
    }
    if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE && is_ca) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "The certificate %s is missing basic constraints for a CA", file);
        return FALSE;
    }
    if (status < 0 && status != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Unable to query certificate %s basic constraints %s", file,
                     gnutls_strerror(status));
        return FALSE;
    }
    return TRUE;
}

/* A usage the certificate lacks: fatal when the extension is critical, else a warning. */
static gboolean
usage_missing(const char *what, const char *file, unsigned int critical, GError **error)
{
    if (critical) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR, "Certificate %s %s", file, what);
        return FALSE;
    }
    g_warning("Certificate %s %s", file, what);
    return TRUE;
}

static gboolean
check_usage(gnutls_x509_crt_t cert, const char *file, gboolean is_ca, GError **error)
{
    unsigned int usage = 0, critical = 0;
    int status = gnutls_x509_crt_get_key_usage(cert, &usage, &critical);

    if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        usage = is_ca ? GNUTLS_KEY_KEY_CERT_SIGN
                      : GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT;
    } else if (status < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Unable to query certificate %s key usage %s", file,
                     gnutls_strerror(status));
        return FALSE;
    }
    if (is_ca)
        return (usage & GNUTLS_KEY_KEY_CERT_SIGN) ||
               usage_missing("usage does not permit certificate signing", file, critical, error);
    if (!(usage & GNUTLS_KEY_DIGITAL_SIGNATURE) &&
        !usage_missing("usage does not permit digital signature", file, critical, error))
        return FALSE;
    return (usage & GNUTLS_KEY_KEY_ENCIPHERMENT) ||
           usage_missing("usage does not permit key encipherment", file, critical, error);
}

static gboolean
check_purpose(gnutls_x509_crt_t cert, const char *file, gboolean is_server, GError **error)
{
    gboolean server_ok = FALSE, client_ok = FALSE;
    unsigned int critical = 0;

    for (unsigned int i = 0;; i++) {
        char oid[256];
        size_t size = sizeof(oid);
        unsigned int crit = 0;
        int status = gnutls_x509_crt_get_key_purpose_oid(cert, i, oid, &size, &crit);

        if (status == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
            if (i == 0)
                server_ok = client_ok = TRUE; /* no purpose at all: any use */
            break;
        }
        if (status < 0) {
            sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                         "Unable to query certificate %s key purpose %s", file,
                         gnutls_strerror(status));
            return FALSE;
        }
        critical |= crit;
        if (g_str_equal(oid, GNUTLS_KP_TLS_WWW_SERVER))
            server_ok = TRUE;
        else if (g_str_equal(oid, GNUTLS_KP_TLS_WWW_CLIENT))
            client_ok = TRUE;
        else if (!g_str_equal(oid, GNUTLS_KP_ANY))
            server_ok = client_ok = TRUE;
    }
    if (is_server ? server_ok : client_ok)
        return TRUE;
    return usage_missing(is_server ? "purpose does not allow use for with a TLS server"
                                   : "purpose does not allow use for with a TLS client",
                         file, critical, error);
}

static gboolean
read_file(const char *path, gnutls_datum_t *out, GError **error)
{
    g_autofree char *data = NULL;
    gsize len;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(path, &data, &len, &local)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR, "%s", local->message);
        return FALSE;
    }
    out->data = (unsigned char *)g_steal_pointer(&data);
    out->size = (unsigned int)len;
    return TRUE;
}

#define CA_LIST_MAX 16

/* The certificates a sanity check loads, freed together. */
typedef struct {
    gnutls_x509_crt_t ca[CA_LIST_MAX];
    unsigned int n_ca;
    gnutls_x509_crt_t cert;
    gnutls_datum_t ca_data, cert_data;
} CertSet;

static void
cert_set_clear(CertSet *c)
{
    if (c->cert)
        gnutls_x509_crt_deinit(c->cert);
    for (unsigned int i = 0; i < c->n_ca; i++)
        gnutls_x509_crt_deinit(c->ca[i]);
    g_free(c->ca_data.data);
    g_free(c->cert_data.data);
    *c = (CertSet){0};
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CertSet, cert_set_clear)

static gboolean
load_ca_list(CertSet *c, const SvTlsConfig *cfg, gboolean is_server, GError **error)
{
    unsigned int n = CA_LIST_MAX;

    if (!read_file(cfg->ca_file, &c->ca_data, error))
        return FALSE;
    if (gnutls_x509_crt_list_import(c->ca, &n, &c->ca_data, GNUTLS_X509_FMT_PEM, 0) < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Unable to import CA certificate list %s", cfg->ca_file);
        return FALSE;
    }
    c->n_ca = n;
    for (unsigned int i = 0; i < n; i++) {
        if (!check_times(c->ca[i], cfg->ca_file, is_server, TRUE, error) ||
            !check_constraints(c->ca[i], cfg->ca_file, is_server, TRUE, error) ||
            !check_usage(c->ca[i], cfg->ca_file, TRUE, error))
            return FALSE;
    }
    return TRUE;
}

/* Our own certificate and the CA list checked before use, as libvirt does at start
 * unless tls_no_sanity_certificate is set. */
static gboolean
sanity_check(const SvTlsConfig *cfg, gboolean is_server, GError **error)
{
    g_auto(CertSet) c = {0};
    unsigned int status = 0;
    const char *who = is_server ? "server" : "client";

    if (!load_ca_list(&c, cfg, is_server, error))
        return FALSE;
    if (!cfg->cert_file || access(cfg->cert_file, R_OK) < 0)
        return TRUE; /* a client without a certificate of its own */
    if (!read_file(cfg->cert_file, &c.cert_data, error))
        return FALSE;
    if (gnutls_x509_crt_init(&c.cert) < 0 ||
        gnutls_x509_crt_import(c.cert, &c.cert_data, GNUTLS_X509_FMT_PEM) < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR, "Unable to import %s certificate %s",
                     who, cfg->cert_file);
        return FALSE;
    }
    if (!check_times(c.cert, cfg->cert_file, is_server, FALSE, error) ||
        !check_constraints(c.cert, cfg->cert_file, is_server, FALSE, error) ||
        !check_usage(c.cert, cfg->cert_file, FALSE, error) ||
        !check_purpose(c.cert, cfg->cert_file, is_server, error))
        return FALSE;
    if (gnutls_x509_crt_list_verify(&c.cert, 1, c.ca, c.n_ca, NULL, 0, 0, &status) < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Unable to verify %s certificate %s against CA certificate %s", who,
                     cfg->cert_file, cfg->ca_file);
        return FALSE;
    }
    if (status) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Our own certificate %s failed validation against %s: %s", cfg->cert_file,
                     cfg->ca_file, status_reason(status));
        return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- the context */

static gboolean
file_readable(const char *type, const char *path, GError **error)
{
    if (access(path, R_OK) == 0)
        return TRUE;
    sv_error_set_errno(error, SV_FROM_RPC, errno, "Cannot read %s '%s'", type, path);
    return FALSE;
}

static gboolean
load_credentials(SvTlsContext *ctx, GError **error)
{
    const SvTlsConfig *cfg = &ctx->cfg;
    int rc;

    if (!file_readable("CA certificate", cfg->ca_file, error))
        return FALSE;
    rc = gnutls_certificate_set_x509_trust_file(ctx->cred, cfg->ca_file, GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Unable to set x509 CA certificate: %s: %s", cfg->ca_file,
                     gnutls_strerror(rc));
        return FALSE;
    }
    if (cfg->crl_file && access(cfg->crl_file, R_OK) == 0) {
        rc = gnutls_certificate_set_x509_crl_file(ctx->cred, cfg->crl_file,
                                                  GNUTLS_X509_FMT_PEM);
        if (rc < 0) {
            sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                         "Unable to set x509 certificate revocation list: %s: %s",
                         cfg->crl_file, gnutls_strerror(rc));
            return FALSE;
        }
    }
    if (!ctx->is_server &&
        (access(cfg->cert_file, R_OK) < 0 || access(cfg->key_file, R_OK) < 0)) {
        g_debug("Skipping non-existent cert %s key %s on client", cfg->cert_file,
                cfg->key_file);
        return TRUE;
    }
    if (!file_readable("certificate", cfg->cert_file, error) ||
        !file_readable("private key", cfg->key_file, error))
        return FALSE;
    rc = gnutls_certificate_set_x509_key_file(ctx->cred, cfg->cert_file, cfg->key_file,
                                              GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Unable to set x509 key and certificate: %s, %s: %s", cfg->key_file,
                     cfg->cert_file, gnutls_strerror(rc));
        return FALSE;
    }
    return TRUE;
}

SvTlsContext *
sv_tls_context_new(const SvTlsConfig *cfg, gboolean is_server, GError **error)
{
    g_autoptr(SvTlsContext) ctx = g_new0(SvTlsContext, 1);
    int rc;

    ctx->ref = 1;
    ctx->is_server = is_server;
    config_copy(&ctx->cfg, cfg);
    rc = gnutls_certificate_allocate_credentials(&ctx->cred);
    if (rc < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Unable to allocate x509 credentials: %s", gnutls_strerror(rc));
        return NULL;
    }
    if (!cfg->no_sanity_certificate) {
        if (!file_readable("CA certificate", cfg->ca_file, error) ||
            (is_server && !file_readable("certificate", cfg->cert_file, error)) ||
            !sanity_check(cfg, is_server, error))
            return NULL;
    }
    if (!load_credentials(ctx, error))
        return NULL;
    return g_steal_pointer(&ctx);
}

SvTlsContext *
sv_tls_context_ref(SvTlsContext *ctx)
{
    g_atomic_int_inc(&ctx->ref);
    return ctx;
}

void
sv_tls_context_unref(SvTlsContext *ctx)
{
    if (!ctx || !g_atomic_int_dec_and_test(&ctx->ref))
        return;
    if (ctx->cred)
        gnutls_certificate_free_credentials(ctx->cred);
    sv_tls_config_clear(&ctx->cfg);
    g_free(ctx);
}

/* ---------------------------------------------------------------- sessions */

SvTlsSession *
sv_tls_session_new(SvTlsContext *ctx, int fd, const char *hostname, GError **error)
{
    g_autoptr(SvTlsSession) s = g_new0(SvTlsSession, 1);
    const char *err_pos = NULL;
    int rc;

    s->ctx = sv_tls_context_ref(ctx);
    s->hostname = g_strdup(hostname);
    rc = gnutls_init(&s->session, (ctx->is_server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
                                      GNUTLS_NONBLOCK);
    if (rc < 0) {
        s->session = NULL;
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Failed to initialize TLS session: %s", gnutls_strerror(rc));
        return NULL;
    }
    rc = gnutls_priority_set_direct(s->session, ctx->cfg.priority, &err_pos);
    if (rc < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                     "Failed to set TLS session priority to %s: %s", ctx->cfg.priority,
                     gnutls_strerror(rc));
        return NULL;
    }
    rc = gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, ctx->cred);
    if (rc < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Failed set TLS x509 credentials: %s", gnutls_strerror(rc));
        return NULL;
    }
    /* Asked for, not required: the check after the handshake decides, with libvirt's
     * message, and tls_no_verify_certificate can let a client without one in. */
    if (ctx->is_server)
        gnutls_certificate_server_set_request(s->session, GNUTLS_CERT_REQUEST);
    gnutls_transport_set_int(s->session, fd);
    return g_steal_pointer(&s);
}

void
sv_tls_session_free(SvTlsSession *s)
{
    if (!s)
        return;
    if (s->session)
        gnutls_deinit(s->session);
    sv_tls_context_unref(s->ctx);
    g_free(s->hostname);
    g_free(s->dname);
    g_free(s);
}

int
sv_tls_session_handshake(SvTlsSession *s, GError **error)
{
    int rc = gnutls_handshake(s->session);

    if (rc == 0) {
        s->handshake_done = TRUE;
        return 1;
    }
    if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
        return 0;
    if (!gnutls_error_is_fatal(rc))
        return 0; /* a warning alert: go on */
    sv_error_set(error, SV_FROM_RPC, SV_ERR_AUTH_FAILED, "TLS handshake failed %s",
                 gnutls_strerror(rc));
    return -1;
}

GIOCondition
sv_tls_session_wants(SvTlsSession *s)
{
    return gnutls_record_get_direction(s->session) ? G_IO_OUT : G_IO_IN;
}

gboolean
sv_tls_session_handshake_done(SvTlsSession *s)
{
    return s->handshake_done;
}

/* The DN against tls_allowed_dn_list (server), or the certificate against the host name
 * the client asked for (client). */
static gboolean
check_peer_name(SvTlsSession *s, gnutls_x509_crt_t cert, GError **error)
{
    char **allowed = s->ctx->cfg.allowed_dn;

    if (s->ctx->is_server && allowed) {
        for (char **p = allowed; *p; p++) {
            if (g_pattern_match_simple(*p, s->dname))
                return TRUE;
        }
        g_message("Failed ACL check for client DN '%s'", s->dname);
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR, "%s",
                     "Client's Distinguished Name is not on the list of allowed clients "
                     "(tls_allowed_dn_list).  Use 'virt-pki-query-dn clientcert.pem' to view "
                     "the Distinguished Name field in the client certificate, or run this "
                     "daemon with --verbose option.");
        return FALSE;
    }
    if (!s->ctx->is_server && s->hostname && !gnutls_x509_crt_check_hostname(cert, s->hostname)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC,
                     "Certificate %s owner does not match the hostname %s", "[session]",
                     s->hostname);
        return FALSE;
    }
    return TRUE;
}

/* Times of every certificate the peer sent; the first one's DN kept and checked. */
static gboolean
check_peer_certs(SvTlsSession *s, GError **error)
{
    unsigned int n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(s->session, &n);

    if (!certs || n == 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "%s", "The certificate has no peers");
        return FALSE;
    }
    for (unsigned int i = 0; i < n; i++) {
        gnutls_x509_crt_t cert;
        gboolean ok;

        if (gnutls_x509_crt_init(&cert) < 0)
            return FALSE;
        ok = gnutls_x509_crt_import(cert, &certs[i], GNUTLS_X509_FMT_DER) >= 0;
        if (!ok)
            sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "%s", "Unable to load certificate");
        ok = ok && check_times(cert, "[session]", !s->ctx->is_server, i > 0, error);
        if (ok && i == 0) {
            char dn[1024];
            size_t size = sizeof(dn);
            int rc = gnutls_x509_crt_get_dn(cert, dn, &size);
            if (rc < 0)
                sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                             "Failed to get certificate %s distinguished name: %s",
                             "[session]", gnutls_strerror(rc));
            else
                s->dname = g_strdup(dn);
            ok = rc >= 0 && check_peer_name(s, cert, error);
        }
        gnutls_x509_crt_deinit(cert);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

static gboolean
check_peer(SvTlsSession *s, GError **error)
{
    unsigned int status = 0;
    int rc = gnutls_certificate_verify_peers2(s->session, &status);

    if (rc < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR, "Unable to verify TLS peer: %s",
                     gnutls_strerror(rc));
        return FALSE;
    }
    if (status) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR,
                     "Certificate failed validation: %s", status_reason(status));
        return FALSE;
    }
    if (gnutls_certificate_type_get(s->session) != GNUTLS_CRT_X509) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_SYSTEM_ERROR, "%s",
                     "Only x509 certificates are supported");
        return FALSE;
    }
    return check_peer_certs(s, error);
}

gboolean
sv_tls_session_check_peer(SvTlsSession *s, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (check_peer(s, &local))
        return TRUE;
    if (s->ctx->cfg.no_verify_certificate) {
        g_message("Certificate check failed %s", local->message);
        g_message("Ignoring bad certificate at user request");
        return TRUE;
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

const char *
sv_tls_session_get_dname(SvTlsSession *s)
{
    return s->dname;
}

int
sv_tls_session_get_key_size(SvTlsSession *s)
{
    return (int)gnutls_cipher_get_key_size(gnutls_cipher_get(s->session));
}

/* errno for a gnutls return code of a record call, as libvirt maps them (a peer gone
 * without close_notify is EIO, a record cut short ENOMSG). */
static int
record_errno(gssize rc)
{
    if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
        return EAGAIN;
    if (rc == GNUTLS_E_UNEXPECTED_PACKET_LENGTH)
        return ENOMSG;
    return EIO;
}

gssize
sv_tls_session_recv(SvTlsSession *s, void *buf, gsize len)
{
    gssize rc = gnutls_record_recv(s->session, buf, len);

    if (rc >= 0)
        return rc;
    errno = record_errno(rc);
    if (errno == EIO)
        g_debug("TLS read: %s", gnutls_strerror((int)rc));
    return -1;
}

int
sv_tls_session_flush(SvTlsSession *s)
{
    int rc;

    if (!s->unflushed)
        return 0;
    rc = gnutls_record_uncork(s->session, 0);
    if (rc < 0) {
        errno = record_errno(rc);
        return -1;
    }
    s->unflushed = FALSE;
    return 0;
}

gssize
sv_tls_session_writev(SvTlsSession *s, const struct iovec *iov, int n)
{
    gsize total = 0;

    /* Records already sealed go first: nothing may overtake them. */
    if (sv_tls_session_flush(s) < 0)
        return -1;
    /* Corked, a batch of small messages makes few records and one write. */
    gnutls_record_cork(s->session);
    for (int i = 0; i < n && total < WRITE_BATCH_MAX; i++) {
        gssize rc = gnutls_record_send(s->session, iov[i].iov_base, iov[i].iov_len);
        if (rc < 0) {
            errno = record_errno(rc);
            return -1;
        }
        total += rc;
        if ((gsize)rc < iov[i].iov_len)
            break;
    }
    s->unflushed = TRUE;
    if (sv_tls_session_flush(s) < 0 && errno != EAGAIN)
        return -1;
    return (gssize)total;
}

gboolean
sv_tls_session_unflushed(SvTlsSession *s)
{
    return s->unflushed;
}

gsize
sv_tls_session_pending(SvTlsSession *s)
{
    return gnutls_record_check_pending(s->session);
}
