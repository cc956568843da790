/* admin.h: the admin program (virt-admin) on a daemon's admin server: the daemon's
 * servers and their clients, client limits, logging settings and the idle timeout. */
#pragma once

#include "protocol/admin_dispatch.h"
#include "rpc/server.h"

/* The libvirt release whose admin protocol this is (CONNECT_GET_LIB_VERSION). */
#define SV_ADMIN_LIB_VERSION 9000000

typedef struct SvAdmin SvAdmin;

/* Change the daemon's idle timeout to `timeout` seconds; 0 never exits idle. */
typedef void (*SvAdminSetTimeoutFunc)(guint timeout, gpointer data);

/* An admin program listing no servers yet. With set_timeout NULL,
 * CONNECT_SET_DAEMON_TIMEOUT answers "unknown procedure". */
SvAdmin *sv_admin_new(SvAdminSetTimeoutFunc set_timeout, gpointer data);
void sv_admin_free(SvAdmin *adm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvAdmin, sv_admin_free)

/* List srv under its own name (transfer none): free adm only after the server the
 * program is served on, so no call sees a freed server. */
void sv_admin_add_server(SvAdmin *adm, SvServer *srv);

/* Serve the admin program on `on` (the daemon's admin server, usually one of the
 * servers added). Uses on's user data (sv_server_set_user_data). */
void sv_admin_serve(SvAdmin *adm, SvServer *on);
