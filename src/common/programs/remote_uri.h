/* remote_uri.h: a connection this daemon opens to another host's daemon from a libvirt URI
 * (the source daemon's peer-to-peer migration), as a client's virConnectOpen would. */
#pragma once

#include <gio/gio.h>

#include "rpc/client.h"

/* Open a connection to uri as virConnectOpen would (transport, auth NONE or SASL
 * later, CONNECT_OPEN with flags 0); cb runs on the loop.
 *
 * Transports: DRIVER+tcp://HOST[:PORT]/PATH (port 16509), DRIVER+tls://HOST[:PORT]/PATH
 * (port 16514; the client certificate, key and CA at libvirt's client paths below root:
 * ROOT/etc/pki/libvirt/clientcert.pem, ROOT/etc/pki/libvirt/private/clientkey.pem,
 * ROOT/etc/pki/CA/cacert.pem; root NULL or "" is /), DRIVER+unix:///PATH?socket=SOCKET
 * (else libvirt's system socket of the driver's daemon below root's run directory); a URI
 * with no "+transport" and a host is TLS, as libvirt reads it. The name sent in
 * CONNECT_OPEN is the URI without its transport and without the query parameters the
 * client side consumes (socket, no_verify, pkipath, ...), as libvirt's remote driver
 * sends it. Errors are libvirt's: the connect failure, the TLS handshake or certificate
 * check, the AUTH_LIST answer, CONNECT_OPEN's error as the other side sent it. */
void sv_remote_uri_open(const char *uri, const char *root /* pki paths below it */,
                        GAsyncReadyCallback cb, gpointer data);

/* The open connection (transfer full) with no callbacks set: frames that are not replies
 * to the caller's calls are dropped until the caller sets its own
 * (sv_rpc_conn_set_callbacks). Keepalive is on, 5 s and 5 PINGs as libvirt's source
 * daemon sets it for a migration's destination (sv_rpc_conn_set_keepalive changes it). NULL
 * with *error set on failure. */
SvRpcConn *sv_remote_uri_open_finish(GAsyncResult *res, GError **error);
