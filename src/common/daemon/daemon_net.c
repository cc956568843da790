/* daemon_net.c: a daemon's TCP and TLS listeners and its server credentials
 * (daemon_net.h). */
#include "daemon/daemon_net.h"

#include <unistd.h>

#include "rpc/tls.h"
#include "rpc/transport.h"
#include "util/error.h"

static void
close_all(GArray *fds)
{
    for (guint i = 0; fds && i < fds->len; i++)
        close(g_array_index(fds, int, i));
    if (fds)
        g_array_set_size(fds, 0);
}

void
sv_net_sockets_clear(SvNetSockets *s)
{
    close_all(s->tcp);
    close_all(s->tls);
    g_clear_pointer(&s->tcp, g_array_unref);
    g_clear_pointer(&s->tls, g_array_unref);
}

static gboolean
get_bool(SvConfFile *conf, const char *key, gboolean *out, GError **error)
{
    guint v = *out;

    if (!sv_conf_file_get_uint(conf, key, &v, error))
        return FALSE;
    *out = v != 0;
    return TRUE;
}

/* key_file, cert_file and ca_file go together, as libvirt requires; unset, all three are
 * libvirt's defaults below root. */
static gboolean
tls_paths(SvConfFile *conf, const char *root, SvTlsConfig *cfg, GError **error)
{
    if (!sv_conf_file_get_string(conf, "key_file", &cfg->key_file, error) ||
        !sv_conf_file_get_string(conf, "cert_file", &cfg->cert_file, error) ||
        !sv_conf_file_get_string(conf, "ca_file", &cfg->ca_file, error) ||
        !sv_conf_file_get_string(conf, "crl_file", &cfg->crl_file, error))
        return FALSE;
    if (cfg->key_file || cfg->cert_file || cfg->ca_file) {
        const char *missing = !cfg->ca_file     ? "No CA certificate path set to match server key/cert"
                              : !cfg->cert_file ? "No server certificate path set to match server key"
                              : !cfg->key_file  ? "No server key path set to match server cert"
                                                : NULL;
        if (missing) {
            sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED, "%s", missing);
            return FALSE;
        }
        return TRUE;
    }
    cfg->key_file = g_strconcat(root, SV_TLS_SERVER_KEY, NULL);
    cfg->cert_file = g_strconcat(root, SV_TLS_SERVER_CERT, NULL);
    cfg->ca_file = g_strconcat(root, SV_TLS_CA_CERT, NULL);
    if (!cfg->crl_file)
        cfg->crl_file = g_strconcat(root, SV_TLS_CA_CRL, NULL);
    return TRUE;
}

static SvTlsContext *
tls_context(SvConfFile *conf, const char *root, GError **error)
{
    g_auto(SvTlsConfig) cfg = {0};

    if (!tls_paths(conf, root, &cfg, error) ||
        !get_bool(conf, "tls_no_sanity_certificate", &cfg.no_sanity_certificate, error) ||
        !get_bool(conf, "tls_no_verify_certificate", &cfg.no_verify_certificate, error) ||
        !sv_conf_file_get_strv(conf, "tls_allowed_dn_list", &cfg.allowed_dn, error) ||
        !sv_conf_file_get_string(conf, "tls_priority", &cfg.priority, error))
        return NULL;
    return sv_tls_context_new(&cfg, TRUE, error);
}

/* Bind what the configuration asks for under --listen. */
static gboolean
bind_configured(SvConfFile *conf, SvNetSockets *out, GError **error)
{
    gboolean listen_tcp = FALSE, listen_tls = TRUE;
    g_autofree char *addr = NULL;
    g_autofree char *tcp_port = g_strdup(SV_TCP_PORT);
    g_autofree char *tls_port = g_strdup(SV_TLS_PORT);

    if (!get_bool(conf, "listen_tcp", &listen_tcp, error) ||
        !get_bool(conf, "listen_tls", &listen_tls, error) ||
        !sv_conf_file_get_string(conf, "listen_addr", &addr, error) ||
        !sv_conf_file_get_string(conf, "tcp_port", &tcp_port, error) ||
        !sv_conf_file_get_string(conf, "tls_port", &tls_port, error))
        return FALSE;
    if (listen_tcp && !(out->tcp = sv_transport_listen_tcp(addr, tcp_port, error)))
        return FALSE;
    if (listen_tls && !(out->tls = sv_transport_listen_tcp(addr, tls_port, error)))
        return FALSE;
    return TRUE;
}

gboolean
sv_daemon_net_setup(SvServer *srv, SvConfFile *conf, const char *root, gboolean listen,
                    gboolean activated, SvNetSockets *passed, const SvAuthConfig *auth,
                    GError **error)
{
    g_auto(SvNetSockets) bound = {0};
    SvNetSockets *use = activated ? passed : &bound;
    g_autoptr(SvTlsContext) tls = NULL;

    if (listen && activated) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "%s",
                     "--listen parameter not permitted with systemd activation sockets, see "
                     "'man libvirtd' for further guidance");
        return FALSE;
    }
    if (!activated && (!listen || !bind_configured(conf, &bound, error)))
        return !listen;
    if (use->tls && use->tls->len && !(tls = tls_context(conf, root, error)))
        return FALSE;
    for (guint i = 0; use->tcp && i < use->tcp->len; i++) {
        sv_server_add_listener_net(srv, g_array_index(use->tcp, int, i), NULL);
        sv_server_set_listener_auth(srv, g_array_index(use->tcp, int, i), auth->tcp);
    }
    for (guint i = 0; use->tls && i < use->tls->len; i++) {
        sv_server_add_listener_net(srv, g_array_index(use->tls, int, i), tls);
        sv_server_set_listener_auth(srv, g_array_index(use->tls, int, i), auth->tls);
    }
    /* The listeners own them now. */
    g_clear_pointer(&use->tcp, g_array_unref);
    g_clear_pointer(&use->tls, g_array_unref);
    return TRUE;
}
