/* domain_rename.h: DOMAIN_RENAME (issue 18 item 2, rename), served as libvirt's qemu driver
 * serves it, or refused as its lxc and libxl drivers refuse it (they have none). */
#pragma once

#include "domain/domain_driver.h"

void sv_domain_rename_install(SvRemoteHandlers *h);
void sv_domain_rename_install_no_support(SvRemoteHandlers *h);
