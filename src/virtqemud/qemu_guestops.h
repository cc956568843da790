/* qemu_guestops.h: virtqemud's operations on a running guest's devices (issue 18 item 2,
 * guest operations): DOMAIN_SEND_KEY and DOMAIN_INJECT_NMI. */
#pragma once

#include "domain/domain_driver.h"

/* Serve SEND_KEY (QMP send-key) and INJECT_NMI (QMP inject-nmi) in h. */
void qemu_guestops_install(SvRemoteHandlers *h);
