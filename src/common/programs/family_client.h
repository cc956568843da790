/* family_client.h: a daemon's own calls to a secondary driver's daemon (virtsecretd,
 * virtstoraged, ...), as libvirt's drivers make them through virGetConnectSecret() and the
 * like: a connection opened for one piece of work on `<family>:///system` (`:///session`
 * when not root) with AUTH_LIST, CONNECT_SET_IDENTITY (the identity the work is done for:
 * the client's, or the daemon's own; elevated with the system token for the internal calls
 * that fetch a secret's value) and CONNECT_OPEN, then typed calls whose replies come back
 * on the loop, and closed when the work is done. Calls made before the open is answered
 * wait for it; they fail with the open's error if it fails. */
#pragma once
#include <glib.h>
#include <rpc/rpc.h>

#include "programs/backend.h"
#include "protocol/program.h"

typedef struct SvFamilyClient SvFamilyClient;

/* A call's outcome: `ret` decoded (freed after the callback returns; the callback takes
 * what it keeps), or `error` set (libvirt's error from the family daemon, or "End of file
 * while reading data: Input/output error" when it went away). The callback may free fc. */
typedef void (*SvFamilyReplyFunc)(SvFamilyClient *fc, void *ret, const GError *error,
                                  gpointer data);

/* Connect to `family`'s daemon on RUN_DIR/virt<family>d-sock and open it for `id`. NULL
 * with libvirt's error ("Failed to connect socket to '...': ...") when the socket cannot
 * be reached. */
SvFamilyClient *sv_family_client_new(const char *run_dir, SvProcFamily family,
                                     const SvBackendIdentity *id, GError **error);
/* Close the connection: the callbacks of calls still pending are never called. */
void sv_family_client_free(SvFamilyClient *fc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvFamilyClient, sv_family_client_free)

/* Call remote procedure `proc` with args (encoded now; filter may be sv_xdr_void with
 * NULL args); its reply is decoded with ret_filter into ret_size zeroed bytes (0 and
 * sv_xdr_void: no value) and handed to `done`, always later on the loop, never from
 * inside this call. */
void sv_family_client_call(SvFamilyClient *fc, int proc, xdrproc_t args_filter, void *args,
                           xdrproc_t ret_filter, gsize ret_size, SvFamilyReplyFunc done,
                           gpointer data);
