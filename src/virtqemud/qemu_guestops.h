/* qemu_guestops.h: virtqemud's operations on a running guest's devices (issue 18 item 2,
 * guest operations): DOMAIN_SEND_KEY and DOMAIN_INJECT_NMI. */
#pragma once

#include "domain/domain_driver.h"
#include "qemu_monitor.h"

/* Serve SEND_KEY (QMP send-key) and INJECT_NMI (QMP inject-nmi) in h. */
void qemu_guestops_install(SvRemoteHandlers *h);

/* A QMP command's end that answers the deferred call `data` (an SvCall) with no return
 * value, or with the command's error. */
void qemu_guestops_answer_call(QemuMonitor *mon, JsonNode *ret, const GError *error,
                               gpointer data);

/* The monitor of dom's guest, running, or NULL with libvirt's error (no such domain,
 * "domain is not running"). */
QemuMonitor *qemu_guestops_monitor(SvDomainDriver *drv, const remote_nonnull_domain *dom,
                                   GError **error);
