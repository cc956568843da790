/* qemu_graphicsfd.h: DOMAIN_OPEN_GRAPHICS_FD, a local connection to a running guest's VNC
 * or SPICE display (issue 18 item 2). */
#pragma once

#include "domain/domain_driver.h"

/* Serve DOMAIN_OPEN_GRAPHICS_FD in h. */
void qemu_graphicsfd_install(SvRemoteHandlers *h);
