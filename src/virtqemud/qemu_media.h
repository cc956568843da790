/* qemu_media.h: the medium of a running guest's cdrom or floppy changed, inserted or
 * ejected (update-device of a <disk>, virsh change-media; issue 18 item 2). */
#pragma once

#include "conf/domain_obj.h"
#include "qemu_monitor.h"

/* libvirt's checks of a live update of disk `old` into `new` (qemuDomainDiskChangeSupported
 * and the removable-only source change), in its order; *change: the medium changes. */
gboolean qemu_media_check(const SvDomainDiskDef *old, const SvDomainDiskDef *new,
                          gboolean *change, GError **error);

/* The medium of `new` (given its node index when it has one) as QEMU gets it. */
typedef void (*QemuMediaDone)(const GError *error, gpointer data);

/* The tray of the drive of `alias` opened (forced when `force`), its medium removed, new's
 * image added and inserted (none when new is empty), the tray closed; then done. A failure
 * deletes the nodes added. The old medium's nodes are the caller's to delete. */
void qemu_media_change(QemuMonitor *mon, const char *alias, const SvDomainDiskDef *new,
                       gboolean force, QemuMediaDone done, gpointer data);

/* The live disk takes new's medium (its image or network source, format, node index,
 * startup policy); what it had goes to new. */
void qemu_media_apply(SvDomainDiskDef *live, SvDomainDiskDef *new);
