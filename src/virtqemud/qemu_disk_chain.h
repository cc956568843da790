/* qemu_disk_chain.h: the backing chains of qcow2 disk images, read from their headers at
 * start and hotplug as libvirt reads them, so QEMU is told every image it opens (never left to probe
 * formats itself) and the live XML shows the chain. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"

/* The backing file a qcow2 header names: `buf` holds the image's first `len` bytes.
 * *ret_name is NULL when the image has no backing file; *ret_format is the format the
 * header records for it (the backing format extension), or NULL. FALSE with an error
 * when `buf` is no qcow2 header or names what lies outside it. */
gboolean qemu_qcow2_backing(const guint8 *buf, gsize len, char **ret_name, char **ret_format,
                            GError **error);

/* Complete the chains of the local qcow2 disks of `def` (a guest's live definition) that
 * the XML leaves open, from the disk's image or the last one its <backingStore> names:
 * each image's backing file, relative names taken from the image's directory, until an
 * image without one, which closes the chain. An image that cannot be read is left as it
 * is (QEMU reports it). A backing file whose format the header does not record has it
 * probed where libvirt 9.0 probes it (an image naming no backing file of its own: qcow2,
 * else raw), and fails as in libvirt otherwise. */
gboolean qemu_disk_probe_chains(SvDomainDef *def, GError **error);

/* The same for one disk (a disk plugged live, whose chain libvirt reads as a start does). */
gboolean qemu_disk_probe_chain(SvDomainDiskDef *d, GError **error);
