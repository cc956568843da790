/* family_relay.h: a hypervisor daemon's path to the secondary drivers. A client's call of
 * a procedure of the storage, secret, node-device, network, interface or nwfilter family
 * (SvProcInfo.family, from the .x) goes to that family's daemon over a connection this
 * daemon opens for the client on first use, as libvirt's per-driver daemons open
 * `<family>:///system` for each client: on RUN_DIR/virt<family>d-sock (-sock-ro for a
 * read-only client), with AUTH_LIST, the client's identity (CONNECT_SET_IDENTITY) and
 * CONNECT_OPEN (read-only for a read-only client). Calls that come meanwhile wait; then
 * frames go as they came (same serial) and replies come back as they are; the events the
 * family daemon sends on that connection, and the STREAM frames of relayed streams, go to
 * the client. One mechanism for every family. */
#pragma once
#include <glib.h>

#include "protocol/program.h"
#include "rpc/server.h"

typedef struct SvFamilyRelay SvFamilyRelay;

/* Relay the families of the set `families` (SV_PROC_FAMILY_BIT; the primary is never
 * relayed) to their daemons, whose sockets are under run_dir (ROOT/run/libvirt). */
SvFamilyRelay *sv_family_relay_new(const char *run_dir, guint families);
void sv_family_relay_free(SvFamilyRelay *relay);

/* Whether proc belongs to a family relayed. */
gboolean sv_family_relay_relays(SvFamilyRelay *relay, const SvProcInfo *proc);
/* Take an admitted call of a relayed family (its whole frame, length word included):
 * deferred, and answered with the family daemon's reply; with libvirt's error when the
 * family's socket cannot be reached ("Failed to connect socket to 'PATH': ...", a later
 * call tries again) or when the family daemon goes away before it answers ("End of file
 * while reading data: Input/output error"; its connection is dropped, and the next call
 * opens a new one). */
void sv_family_relay_call(SvFamilyRelay *relay, SvCall *call, const guint8 *frame, gsize len);
/* A client's STREAM frame: TRUE when it belongs to a relayed stream and went on. */
gboolean sv_family_relay_stream(SvFamilyRelay *relay, SvClient *c, const guint8 *frame,
                                gsize len);
