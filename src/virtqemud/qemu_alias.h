/* qemu_alias.h: the names libvirt's QEMU driver gives a guest's devices at start. */
#pragma once

#include "conf/domain_conf.h"

/* Give every device of `def` (a live definition about to start) that has no alias yet the
 * alias libvirt 9.0 gives it ("virtio-disk0", "ide0-0-1", "net0", "serial0", "usb",
 * "pci.1" ...). User aliases ("ua-...") are kept. QEMU's device ids are these aliases. */
void qemu_domain_assign_aliases(SvDomainDef *def);
