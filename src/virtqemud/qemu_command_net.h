/* qemu_command_net.h: a guest's <interface>s for QEMU: libvirt's define-time defaults, the
 * checks, and the -netdev/-device options as libvirt 9.0 writes them for QEMU 7.2. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"
#include "conf/domain_obj.h"
#include "qemu_caps.h"

/* At most this many queues per interface: each is an open tap (and vhost) file
 * descriptor in the daemon and in QEMU. libvirt has no limit of its own. */
#define QEMU_NET_MAX_QUEUES 256

/* The host side of one interface, opened by the start before QEMU runs and passed to it:
 * one tap fd per queue (none for user networking) and, when vhost-net serves the
 * interface, one vhost fd per queue. The fds belong to whoever made the struct. */
typedef struct QemuNetFds {
    int tapfds[QEMU_NET_MAX_QUEUES];
    guint n_tapfds;
    int vhostfds[QEMU_NET_MAX_QUEUES];
    guint n_vhostfds;
} QemuNetFds;

/* libvirt's QEMU defaults for interfaces at define time: model rtl8139 where none is
 * given, and a generated MAC address (sv_domain_net_generate_mac). */
void qemu_net_post_parse(SvDomainDef *def);

/* At define, before the defaults: a MAC for every interface without one, different from
 * every MAC of the daemon's domains (`list`) and of `def`'s other interfaces. libvirt
 * draws at random and never checks; this only makes a clash yet less likely. */
void qemu_net_assign_macs(SvDomainDef *def, SvDomainList *list);

/* Define-time checks libvirt's QEMU driver makes (qemuValidateDomainDeviceDefNetwork). */
gboolean qemu_net_check_def(const SvDomainDef *def, GError **error);

/* Start-time checks: the NIC models the probed QEMU has, multiqueue only on taps. */
gboolean qemu_net_check_start(const SvDomainDef *def, QemuCaps *caps, const char *emulator,
                              GError **error);

/* Whether the model is one of libvirt's virtio ones (virtio, virtio-transitional,
 * virtio-non-transitional). */
gboolean qemu_net_is_virtio(const SvDomainNetDef *net);
/* Whether the interface uses a tap (or macvtap) the daemon hands QEMU. */
gboolean qemu_net_uses_tap(const SvDomainNetDef *net);
/* How many queues (tap fds) the interface has: <driver queues> for virtio, else 1. */
guint qemu_net_queue_count(const SvDomainNetDef *net);
/* Whether vhost-net should serve the interface: a KVM guest's virtio on a tap, not
 * <driver name='qemu'>. */
gboolean qemu_net_wants_vhost(const SvDomainDef *def, const SvDomainNetDef *net);

/* Append the -netdev and -device of every interface. `fds`, one QemuNetFds per interface
 * (transfer none), must hold the tap fds of every tap interface; NULL only when there is
 * none. Fails with INTERNAL_ERROR when a tap interface has no fd. */
gboolean qemu_net_build(const SvDomainDef *def, const QemuNetFds *fds, GPtrArray *argv,
                        GError **error);

/* The -netdev and -device of the one interface `n` of `def`, which has its alias (a
 * hotplug's, qemu_hotplug.c): fds (transfer none) its tap fds, NULL for user networking. */
gboolean qemu_net_build_one(const SvDomainDef *def, const SvDomainNetDef *n,
                            const QemuNetFds *fds, GPtrArray *argv, GError **error);
