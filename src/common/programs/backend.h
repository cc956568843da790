/* backend.h: a connection this daemon opens to another daemon on a client's behalf (the
 * proxy's to a hypervisor daemon, a hypervisor daemon's to a secondary driver's): the
 * socket it goes to and the client's identity sent before the open, as libvirt's remote
 * driver forwards it. */
#pragma once
#include <glib.h>

#include "rpc/client.h"
#include "rpc/server.h"

/* RUN_DIR/virt<name>d-sock, or -sock-ro for a read-only client. (transfer full) */
char *sv_backend_socket_path(const char *run_dir, const char *name, gboolean readonly);

/* Send AUTH_LIST and CONNECT_SET_IDENTITY naming who is really asking on `client`'s
 * connection (the identity a trusted proxy forwarded for it, else its peer's uid, gid and
 * pid), so the backend's access rules hold end to end. `done` gets CONNECT_SET_IDENTITY's
 * reply (an AUTH_LIST refusal makes that fail too; the backend answers in order). As with
 * every call on conn, freeing conn first means `done` is never called. */
void sv_backend_identify(SvRpcConn *conn, SvClient *client, SvRpcReplyFunc done, gpointer data);
