/* qemu_hostdev.h: host devices and the host's TPM at start (capabilities area). */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"

/* The start-time refusal of <hostdev> and <tpm>: where the host cannot give the device,
 * libvirt 9.0's error for it (the sysfs directory libvirt opens, the PCI passthrough check,
 * the TPM device); where it could, CONFIG_UNSUPPORTED, as this driver passes no host device
 * through. */
/* libvirt's define-time defaults: a SCSI host device without an address gets the first
 * drive address no SCSI disk or host device uses (controller, then unit; bus and target
 * 0), and its controller when there is none. After the disks' addresses, before the
 * machine's implicit controllers. */
void qemu_hostdev_post_parse(SvDomainDef *def);

/* No command line is built for a guest with them (domxml-to-native, the argv goldens):
 * CONFIG_UNSUPPORTED naming the element, as nothing of them would reach QEMU. */
gboolean qemu_hostdev_check_argv(const SvDomainDef *def, GError **error);

gboolean qemu_hostdev_check_start(const SvDomainDef *def, gboolean vfio_usable, GError **error);
