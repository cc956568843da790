/* qemu_usb.h: USB ports and hubs of QEMU guests, as libvirt 9.0's QEMU driver gives them. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"

/* Whether the guest has USB: a USB controller of a model other than none. */
gboolean qemu_usb_def_has_usb(const SvDomainDef *def);

/* libvirt's refusal of USB inputs on a guest without USB (before any address is given). */
gboolean qemu_usb_check_inputs(const SvDomainDef *def, GError **error);

/* At define, after the PCI addresses: add the hubs the USB devices need, then give every USB
 * device (hubs, usb disks, inputs, usb sound, redirdevs ...) without a port the first free
 * one, keeping and checking the ports the XML gives. Fails with libvirt's errors (no USB,
 * a missing bus, a port out of range, twice the same port, no free port). */
gboolean qemu_usb_assign_addresses(SvDomainDef *def, GError **error);

/* Name the hubs as libvirt does at start ("hub0"...). */
void qemu_usb_assign_aliases(SvDomainDef *def);

/* The -device usb-hub of every hub (libvirt's place: after the controllers). */
void qemu_usb_build_hubs(const SvDomainDef *def, GPtrArray *argv);
