/* qemu_postparse.h: what libvirt's QEMU driver adds to a definition when it is defined. */
#pragma once

#include "conf/domain_conf.h"
#include "qemu_caps.h"

/* libvirt's QEMU defaults for a new definition (define, create, domxml-to-native): the
 * implicit devices, the values libvirt fills in and the addresses it assigns, so that
 * `dumpxml --inactive` shows what libvirt's would. `caps` is the probe of the guest's
 * emulator (ready). Fails with libvirt's error where libvirt's QEMU driver refuses the
 * definition at this point. */
gboolean qemu_domain_def_post_parse(SvDomainDef *def, QemuCaps *caps, GError **error);
