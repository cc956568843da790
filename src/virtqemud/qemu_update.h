/* qemu_update.h: DOMAIN_UPDATE_DEVICE_FLAGS on virtqemud (issue 18 item 2, update-device):
 * an interface's link state (QMP set_link) and a display's password (set_password,
 * expire_password), live and in the persistent definition. */
#pragma once

#include "domain/domain_driver.h"

/* Serve DOMAIN_UPDATE_DEVICE_FLAGS in h. */
void qemu_update_install(SvRemoteHandlers *h);
