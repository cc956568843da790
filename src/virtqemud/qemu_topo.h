/* qemu_topo.h: libvirt's define-time defaults for a QEMU guest's machine and the controllers
 * the machine brings (qemu_topo.c); the PCI addresses are qemu_pci.h's. */
#pragma once

#include "conf/domain_conf.h"
#include "qemu_caps.h"

/* `arch` (x86_64), the emulator (the probed one) and the machine type filled in, the
 * machine as QEMU's canonical name ("pc" -> "pc-i440fx-7.2"), as libvirt writes them at
 * define. `caps` is ready. */
void qemu_topo_machine_defaults(SvDomainDef *def, QemuCaps *caps);

/* libvirt's error for a machine type QEMU does not have (its check after the defaults). */
gboolean qemu_topo_check_machine(const SvDomainDef *def, QemuCaps *caps, GError **error);

/* The controllers libvirt adds for the machine (its PCI root, the USB controller, q35's SATA
 * controller) and for the disks on controller buses, and the models it gives controllers
 * without one. */
gboolean qemu_topo_add_implicit_controllers(SvDomainDef *def, GError **error);

/* The machine families libvirt tells apart here, by (canonical or alias) name. */
gboolean qemu_topo_machine_is_i440fx(const char *machine);
gboolean qemu_topo_machine_is_q35(const char *machine);
