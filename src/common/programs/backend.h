/* backend.h: a connection this daemon opens to another daemon (the proxy's to a hypervisor
 * daemon, a hypervisor daemon's to a secondary driver's, on a client's behalf or on its own):
 * the socket it goes to and the identity sent before the open, as libvirt's remote driver
 * forwards it. */
#pragma once
#include <glib.h>

#include "rpc/client.h"
#include "rpc/server.h"

/* libvirt's system token: 16 random bytes in hex, shared by the daemons of one host in
 * RUN_DIR/common/system.token. */
#define SV_SYSTEM_TOKEN_LEN 32

/* Who a connection to another daemon speaks for (CONNECT_SET_IDENTITY's parameters). With
 * the system token it is libvirt's "elevated" identity: a daemon's own internal call made
 * for that user, to which virtsecretd gives a private secret's value. */
typedef struct {
    gboolean known; /* uid, gid and pid are set */
    gint64 uid, gid, pid;
    char system_token[SV_SYSTEM_TOKEN_LEN + 1]; /* "" unless elevated */
    /* The SASL username the client authenticated as (sasl-user-name), NULL: none; the
     * client's (transfer none), so the identity is sent while the client is there. */
    const char *sasl_user;
    /* The DN of the client's x509 certificate (x509-distinguished-name), likewise. */
    const char *x509_dname;
} SvBackendIdentity;

/* The identity a trusted proxy forwarded for `client`, else its peer's uid, gid and pid;
 * and its SASL username and certificate DN. */
void sv_backend_identity_of_client(SvBackendIdentity *out, SvClient *client);
/* This daemon's own identity (libvirt's system identity: autostart, reconnect). */
void sv_backend_identity_of_daemon(SvBackendIdentity *out);

/* Read RUN_DIR/common/system.token, or create it (0600, under a lock, in a 0700
 * directory) when this is the first daemon of the host to need it, as libvirt does. */
gboolean sv_backend_system_token(const char *run_dir, char out[SV_SYSTEM_TOKEN_LEN + 1],
                                 GError **error);

/* RUN_DIR/virt<name>d-sock, or -sock-ro for a read-only client. (transfer full) */
char *sv_backend_socket_path(const char *run_dir, const char *name, gboolean readonly);

/* Send AUTH_LIST and CONNECT_SET_IDENTITY naming who is really asking (id), so the
 * backend's access rules hold end to end. `done` gets CONNECT_SET_IDENTITY's reply (an
 * AUTH_LIST refusal makes that fail too; the backend answers in order). As with every
 * call on conn, freeing conn first means `done` is never called. */
void sv_backend_identify(SvRpcConn *conn, const SvBackendIdentity *id, SvRpcReplyFunc done,
                         gpointer data);

/* Open `family`'s daemon (storage, secret, ...) as libvirt opens `<family>:///system`
 * (`:///session` when not root) for a daemon's use: connect to its socket under run_dir
 * (-sock-ro when readonly), then AUTH_LIST, CONNECT_SET_IDENTITY (id) and CONNECT_OPEN
 * (read-only when readonly), sent at once. `done` hears the failure of either, or
 * CONNECT_OPEN's reply (h->proc is REMOTE_PROC_CONNECT_OPEN then, and an OK reply of
 * CONNECT_SET_IDENTITY, which comes first, is to be ignored): the caller drops the
 * connection on a failure, so that nothing more comes. The connection comes back corked:
 * the caller uncorks it (sv_rpc_conn_uncork) once it holds it, which may already report a
 * failure. NULL with libvirt's error when the socket cannot be reached. */
SvRpcConn *sv_backend_open_family(const char *run_dir, const char *family, gboolean readonly,
                                  const SvBackendIdentity *id, const SvRpcConnCallbacks *cb,
                                  gpointer user, SvRpcReplyFunc done, gpointer data,
                                  GError **error);
