/* qemu_volume.h: <disk type='volume'> resolved through the storage daemon (virtstoraged)
 * when a guest starts, when such a disk is attached to a running guest and when a cdrom's
 * or floppy's medium changes to a volume (qemu_update.c), as libvirt's
 * virDomainDiskTranslateSourcePool does it: the pool looked up by name and found active,
 * the volume looked up in it, its type (virStorageVolGetInfo) and the pool's type (its
 * XML) checked, and its path (virStorageVolGetPath) is what QEMU opens. The calls go over
 * a connection of their own to the storage daemon, opened for the client the work is
 * done for (programs/family_client.h). The definitions keep the pool's and the volume's
 * names; the live one holds the path too (SvDomainDiskDef.source, in status files only). */
#pragma once

#include "conf/domain_obj.h"
#include "domain/domain_driver.h"
#include "programs/backend.h"
#include "rpc/server.h"

typedef struct QemuVolumeWork QemuVolumeWork;

/* The outcome: error NULL when every volume disk of the definition given resolved, which
 * qemu_volume_apply() then writes into a definition; else libvirt's error for the first
 * that did not. The callback owns `work` (qemu_volume_work_free). */
typedef void (*QemuVolumeDone)(QemuVolumeWork *work, const GError *error, gpointer data);

/* Resolve the volume disks of `def` not resolved yet (the names are copied: def may go
 * meanwhile), with the storage daemon's socket under family_run_dir (ROOT/run/libvirt),
 * for identity `id`. At a cold boot, a volume with startupPolicy='optional' that does not
 * resolve is dropped rather than failing the work, as libvirt drops it. NULL when def has
 * none such (nothing to do); else `done` is called later on the loop, never from inside
 * this call. */
QemuVolumeWork *qemu_volume_resolve(const SvDomainDef *def, const char *family_run_dir,
                                    const SvBackendIdentity *id, gboolean cold_boot,
                                    QemuVolumeDone done, gpointer data);

/* Write the paths and types found into the volume disks of `def` with the same targets,
 * pools and volumes; dropped ones leave def (a disk) or become empty drives (a cdrom or
 * floppy). */
void qemu_volume_apply(const QemuVolumeWork *work, SvDomainDef *def);

/* Stop the work (its callback is never called) or free a finished one; NULL is fine. */
void qemu_volume_work_free(QemuVolumeWork *work);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuVolumeWork, qemu_volume_work_free)

/* Whether def has a volume disk not resolved yet. */
gboolean qemu_volume_pending(const SvDomainDef *def);

/* What qemu_volume_resolve_device() gives: obj found again by its run, dev as given and
 * resolved, a copy of it with the volume's path (both transfer full); or error (obj, dev and
 * resolved NULL), the storage daemon's or "domain is not running". */
typedef void (*QemuVolumeThen)(SvDomainObj *obj, SvDomainDef *dev, SvDomainDef *resolved,
                               const GError *error, gpointer data);

/* The volume device of dev (transfer full: a device definition) resolved for the client of
 * call, on running obj; `then` later on the loop. */
void qemu_volume_resolve_device(SvCall *call, SvDomainObj *obj, SvDomainDef *dev,
                                QemuVolumeThen then, gpointer data);

/* SvHotplugFacts.attach_live for a volume disk (the only device of dev): resolved for the
 * client of call, then plugged as any disk; done hears the first error. FALSE with error
 * only for a refusal before the work began. */
gboolean qemu_volume_attach(SvCall *call, SvDomainObj *obj, SvDomainDef *dev,
                            SvStoreDoneFunc done, gpointer data, GError **error);
