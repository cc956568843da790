/* auth.h: how clients authenticate to a daemon: the configuration (auth_unix_rw,
 * auth_unix_ro, auth_tcp, auth_tls, sasl_allowed_username_list, tcp_min_ssf) and the
 * remote program's AUTH_LIST and AUTH_SASL_INIT/START/STEP. */
#pragma once

#include "protocol/remote_dispatch.h"
#include "rpc/server.h"
#include "util/conffile.h"

typedef struct {
    SvAuth unix_rw;
    SvAuth unix_ro;
    SvAuth tcp; /* read only where the daemon listens on TCP (with_ip) */
    SvAuth tls;
    guint tcp_min_ssf;
    GStrv sasl_allowed_usernames; /* glob patterns; NULL: anyone */
} SvAuthConfig;

/* Read the keys with libvirt's defaults for a build without polkit: none on the unix
 * sockets and TLS, sasl on TCP, tcp_min_ssf 56. with_ip: the daemon may listen on TCP
 * (libvirt reads auth_tcp, auth_tls and tcp_min_ssf only then). Errors are libvirt's
 * (CONFIG_UNSUPPORTED): "PATH: KEY: unsupported auth WORD", "minimum SSF levels lower than
 * 56 are not supported". "polkit" is refused: there is no polkit here. */
gboolean sv_auth_config_load(SvAuthConfig *cfg, SvConfFile *conf, const char *path,
                             gboolean with_ip, GError **error);
void sv_auth_config_clear(SvAuthConfig *cfg);

/* The AUTH_SASL_* calls' rules (cfg's, copied) and where libsasl2's service "libvirt" finds
 * its configuration: sasl_conf_dir (ROOT/etc/sasl2 under --root; NULL: the library's own
 * search, /etc/sasl2). libsasl2 itself is set up when a client first asks for SASL. */
void sv_auth_setup(const SvAuthConfig *cfg, const char *sasl_conf_dir);

/* Put the AUTH_* handlers in h (sv_remote_common_handlers does). */
void sv_auth_handlers(SvRemoteHandlers *h);
