/* daemon_net.h: the TCP and TLS listeners of a daemon that listens on the network
 * (virtproxyd, as libvirt's): from systemd's -tcp/-tls socket units, or bound with
 * --listen as the keys listen_tcp, listen_tls, tcp_port, tls_port and listen_addr say; the
 * server's x509 credentials from key_file, cert_file, ca_file, crl_file (libvirt's paths
 * below ROOT by default), tls_no_sanity_certificate, tls_no_verify_certificate,
 * tls_allowed_dn_list and tls_priority. */
#pragma once

#include <glib.h>

#include "programs/auth.h"
#include "rpc/server.h"
#include "util/conffile.h"

/* Descriptors systemd passed for the -tcp and -tls socket units. */
typedef struct {
    GArray *tcp; /* int */
    GArray *tls; /* int */
} SvNetSockets;

void sv_net_sockets_clear(SvNetSockets *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SvNetSockets, sv_net_sockets_clear)

/* Add srv's network listeners: those systemd passed (`activated`: it passed any socket at
 * all), or, with `listen` (--listen) and no activation, those the configuration asks for.
 * --listen with activation is libvirt's error. Their clients must pass auth->tcp and
 * auth->tls. */
gboolean sv_daemon_net_setup(SvServer *srv, SvConfFile *conf, const char *root,
                             gboolean listen, gboolean activated, SvNetSockets *passed,
                             const SvAuthConfig *auth, GError **error);
