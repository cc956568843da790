/* qemu_command_controller.h: controllers on QEMU's command line, as libvirt 9.0 writes them
 * for QEMU 7.2, and libvirt's QEMU defaults and checks for them at define. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"

/* libvirt's QEMU controller defaults at define: usb and scsi models, pci <model name>,
 * pcie-root-port <target chassis> and, where the address is known, <target port>; a
 * <model name> that is not the model's fails with libvirt's error. */
gboolean qemu_controller_def_post_parse(SvDomainDef *def, GError **error);

/* libvirt's <target port> of each pcie-root-port without one, from its PCI address
 * (slot << 3 | function). qemu_controller_def_post_parse() does it for the addresses the
 * XML gives; run it again once define-time PCI addresses are assigned (the command line
 * computes it the same way when it is still unset). */
void qemu_controllers_fill_ports(SvDomainDef *def);

/* The controllers this QEMU cannot have, with libvirt's errors (IDE on q35, queues on
 * other models than virtio-scsi) or as unsupported (ccid, xenbus, fdc). */
gboolean qemu_controller_check(const SvDomainDef *def, GError **error);

/* Append the -device options of the controllers QEMU does not have built in, in
 * libvirt's order (pci by index, then usb, scsi, sata, virtio-serial). */
void qemu_command_build_controllers(const SvDomainDef *def, GPtrArray *argv);
