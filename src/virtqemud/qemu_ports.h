/* qemu_ports.h: a range of TCP ports handed out to guests (libvirt's virPortAllocator), for
 * the vnc and spice displays' autoport. */
#pragma once

#include <glib.h>

typedef struct QemuPorts QemuPorts;

/* The ports min..max (inclusive, 1 <= min <= max <= 65535), named `name` in errors. */
QemuPorts *qemu_ports_new(const char *name, guint min, guint max);
void qemu_ports_free(QemuPorts *ports);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuPorts, qemu_ports_free)

/* The lowest port of the range no guest has and nothing on the host is bound to (a bind
 * on the IPv4 and IPv6 wildcard addresses succeeds), now taken. FALSE, with libvirt's
 * error, when there is none. */
gboolean qemu_ports_acquire(QemuPorts *ports, guint *ret_port, GError **error);

/* Take the port a definition names (libvirt's virPortAllocatorSetUsed): 1 when taken now,
 * 0 for a port outside the range (nothing to take), -1 with libvirt's error when another
 * guest has it. */
int qemu_ports_reserve(QemuPorts *ports, guint port, GError **error);

/* Mark a port a guest already has as taken (a guest found again after a restart); ports
 * outside the range are ignored. */
void qemu_ports_set_used(QemuPorts *ports, guint port);

/* Give a taken port back; ports outside the range or not taken are ignored. */
void qemu_ports_release(QemuPorts *ports, guint port);

/* Whether `port` is taken (tests). */
gboolean qemu_ports_is_used(const QemuPorts *ports, guint port);
