/* qemu_command_disk.h: disks on QEMU's command line, as libvirt 9.0 writes them for QEMU 7.2
 * (-blockdev storage and format nodes, -device JSON), and their define-time defaults. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "conf/domain_conf.h"

struct QemuDiskSecret; /* qemu_secret.h */

/* libvirt's QEMU defaults and checks for disks and controllers at define time: the
 * controllers' (qemu_controller_def_post_parse()); <driver name='qemu'> and type raw
 * where absent; driver names other than qemu, unsafe serials and wwn on buses
 * without one are refused with libvirt's errors. */
gboolean qemu_disk_def_post_parse(SvDomainDef *def, GError **error);

/* Checks at start of what this QEMU cannot run (buses, formats), with libvirt's errors. */
gboolean qemu_disk_check(const SvDomainDef *def, GError **error);

/* What libvirt checks only when the guest starts: a network disk's hosts. */
gboolean qemu_disk_check_start(const SvDomainDef *def, GError **error);

/* The node name index libvirt gives a disk's top image: disks are numbered from the last
 * one up, each image of a backing chain after the one above it, empty cdroms included, so
 * the top of disk `i` is "libvirt-N-format" with N = this. */
guint qemu_disk_node_index(const SvDomainDef *def, guint i);

/* The live state libvirt gives disks at start, on the guest's live definition: optional
 * images that are missing dropped (a cdrom's medium, a whole disk), node indexes
 * (<source index>, <backingStore index>), the end of a raw image's chain, no format for
 * an empty drive. */
void qemu_disk_assign_live(SvDomainDef *def);

/* The arguments of QMP block_set_io_throttle for disk `d` (its <iotune>), which libvirt
 * sends once QEMU runs and before the guest does; NULL when it has none to apply (or is an
 * empty cdrom). (transfer full) */
JsonObject *qemu_disk_throttle_args(const SvDomainDiskDef *d);

/* QMP's names (block_set_io_throttle, query-block) of the <iotune> values. */
extern const char *const qemu_disk_throttle_keys[SV_DOMAIN_IOTUNE_LAST];

/* block_set_io_throttle's arguments for disk d (it has an alias) with these values and
 * throttle group (NULL: QEMU's). (transfer full) */
JsonObject *qemu_disk_throttle_build(const SvDomainDiskDef *d, const guint64 values[],
                                     const char *group);

/* Append the -blockdev and -device options of every disk, a LUKS disk's secret object
 * (QemuDiskSecret of `secrets` at its index; secrets may be NULL) before its nodes, and
 * its format node opened with it (qcow2's encrypt options, raw's luks driver). */
void qemu_command_build_disks(const SvDomainDef *def, GPtrArray *secrets, GPtrArray *argv);

/* The same for the one disk `d` of the live definition `def`, with its node index
 * (<source index>) set: what a hotplug sends QEMU (qemu_hotplug.c). */
void qemu_command_build_disk(const SvDomainDef *def, const SvDomainDiskDef *d,
                             const struct QemuDiskSecret *secret, GPtrArray *argv);

/* Only the -blockdev options of disk `d`'s image (and its chain), with its node index
 * (<source index>) set: a new medium in a cdrom or floppy (qemu_media.c). */
void qemu_command_build_disk_nodes(const SvDomainDiskDef *d, GPtrArray *argv);
