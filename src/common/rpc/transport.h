/* transport.h: what a connection runs over (a unix socket, plain TCP, or TLS over TCP),
 * and the TCP sockets under the last two: listening on libvirt's listen_addr and port,
 * connecting to a remote daemon, and a peer's address as libvirt formats it. */
#pragma once

#include <glib.h>

/* libvirt's virClientTransport numbers (virt-admin's client list shows them). */
typedef enum {
    SV_TRANSPORT_UNIX = 0,
    SV_TRANSPORT_TCP = 1,
    SV_TRANSPORT_TLS = 2,
    SV_TRANSPORT_LAST,
} SvTransportKind;

/* "unix", "tcp", "tls" (libvirt's names, also the URI's "+transport"). */
const char *sv_transport_kind_to_string(SvTransportKind kind);
/* -1 for an unknown name. */
int sv_transport_kind_from_string(const char *name);

/* libvirt's default ports. */
#define SV_TCP_PORT "16509"
#define SV_TLS_PORT "16514"

/* Listening sockets (non-blocking, close-on-exec) for every address `addr` resolves to,
 * all of them when NULL or empty, on `port` (a number or a service name). (transfer full:
 * an array of descriptors) */
GArray *sv_transport_listen_tcp(const char *addr, const char *port, GError **error);

/* Connect to host:port (blocking: run it on a worker), trying each address in turn;
 * libvirt's errors. Returns a non-blocking, close-on-exec socket. */
int sv_transport_connect_tcp(const char *host, const char *port, GError **error);

/* The peer's (or, local, our own) address of a connected socket as libvirt shows it,
 * "ADDR;PORT", or NULL for a unix socket. (transfer full) */
char *sv_transport_format_addr(int fd, gboolean local);
