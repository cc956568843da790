/* qemu_domcaps.h: domain capabilities (CONNECT_GET_DOMAIN_CAPABILITIES), computed from the
 * QEMU probe and the firmware descriptors, as libvirt 9.0 prints them. */
#pragma once

#include <glib.h>

#include "qemu_caps.h"

/* What a request asks for (any NULL: the default) and what the host has. */
typedef struct {
    const char *emulatorbin;
    const char *arch;
    const char *machine;
    const char *virttype;
    unsigned int flags;
    gboolean kvm_usable;              /* /dev/kvm usable */
    gboolean vfio_usable;             /* PCI passthrough possible (qemu_domcaps_host_vfio()) */
    gboolean swtpm;                   /* swtpm installed (TPM emulation) */
    const char *const *firmware_dirs; /* descriptor directories, the first wins a name
                                         (qemu_firmware_desc_dirs for a system daemon) */
} QemuDomcapsRequest;

/* Whether the host can pass PCI devices through with VFIO (libvirt's test: the VFIO
 * container device and IOMMU groups), and whether swtpm is on the daemon's PATH. */
gboolean qemu_domcaps_host_vfio(void);
gboolean qemu_domcaps_host_swtpm(void);

/* The request's architecture, machine and whether it asks for KVM, checked as libvirt checks
 * them (its errors); with check_virttype also that the virt type can run here. caps must be
 * ready. */
gboolean qemu_domcaps_resolve(QemuCaps *caps, const QemuDomcapsRequest *req,
                              gboolean check_virttype, const char **ret_arch,
                              const QemuMachine **ret_machine, gboolean *ret_kvm, GError **error);

/* The vendor libvirt's CPU map gives an x86 CPU model ("unknown" for none), or NULL for a
 * model the map does not have. */
const char *qemu_domcaps_cpu_vendor(const char *model);

/* Check the request as libvirt does (its errors), then the document. caps must be ready. */
char *qemu_domcaps_get(QemuCaps *caps, const QemuDomcapsRequest *req, GError **error);

/* Whether the machine (canonical name) has an IDE controller built in. */
gboolean qemu_domcaps_machine_has_ide(const char *machine);

/* The <guest> elements of the capabilities document (each followed by a blank line):
 * x86_64 and i686 for an x86_64 QEMU, with its machines in libvirt's order; a kvm domain
 * where kvm_usable (the host) and the probe ran with KVM. */
void qemu_capabilities_append_guests(GString *s, QemuCaps *caps, gboolean kvm_usable);
