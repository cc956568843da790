/* qemu_interface.h: the host side of a QEMU guest's interfaces, as libvirt 9.0's
 * qemu_interface.c makes it: taps (created, or given with managed='no'), bridge ports,
 * macvtaps and vhost-net, opened before QEMU runs and handed to it as fds. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"
#include "qemu_command_net.h"

/* What a start opened for QEMU: one QemuNetFds per interface of the live definition. */
typedef struct {
    QemuNetFds *fds; /* n of them */
    guint n;
} QemuNetHost;

/* Open the host side of every interface of `live` (the running copy): the taps' and
 * macvtaps' names the kernel gave go into its <target dev>, so the live XML shows them.
 * Taps are not persistent (they end with QEMU's fds); macvtaps are links, removed by
 * qemu_interface_release(). On failure what was made is undone, with libvirt's error.
 * (transfer full: qemu_net_host_free) */
QemuNetHost *qemu_interface_prepare(SvDomainDef *live, GError **error);

/* Append every fd of `host` to `keep` (of int): QEMU inherits them. */
void qemu_net_host_keep_fds(const QemuNetHost *host, GArray *keep);

/* Close the daemon's copies of the fds (QEMU holds its own) and free. NULL is fine. */
void qemu_net_host_free(QemuNetHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuNetHost, qemu_net_host_free)

/* The guest is gone: remove what its interfaces left on the host (its macvtaps), named by
 * its live definition, also when a restarted daemon finds the guest gone. Taps the daemon
 * made ended with QEMU; taps it was given (managed='no') stay, their rates cleared. */
void qemu_interface_release(const SvDomainDef *live);

/* What outlives the guest of one interface's <bandwidth>: the qdiscs on a tap it was given
 * (managed='no'), cleared as libvirt clears them when the guest stops or the interface is
 * unplugged; qemu_interface_release() does it for each. */
void qemu_interface_clear_bandwidth(const SvDomainNetDef *n);

/* The guest is gone: the ports its interfaces of type network had on their networks are
 * deleted (domain/domain_netport.h), with the network daemon's socket under family_run_dir;
 * nothing waits for it. */
void qemu_interface_release_ports(const SvDomainDef *live, const char *family_run_dir);
