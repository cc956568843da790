/* qemu_dac.h: file ownership for QEMU's user, as libvirt's DAC security driver keeps it.
 *
 * With dynamic_ownership (the default) the files a guest's QEMU opens by path are given
 * to QEMU's user and group at start. Each file's owner before the first running guest is
 * remembered (remember_owner, the default) and counted across running guests, as libvirt
 * does it: in the file's trusted.libvirt.security.* attributes, which libvirt's daemons
 * read too (where the file system keeps none: in the daemon); when the last of them
 * stops, the file gets that owner back (without remember_owner, or when nothing is
 * remembered: root, as libvirt does). Read-only and shareable images are given but never taken back, as
 * libvirt does: another guest may still read them. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <sys/types.h>

#include "util/conffile.h"

typedef struct QemuDac QemuDac;

/* Read dynamic_ownership and remember_owner from virtqemud.conf (0 or 1, default 1);
 * files go to uid:gid. */
QemuDac *qemu_dac_new(SvConfFile *conf, uid_t uid, gid_t gid, GError **error);
void qemu_dac_free(QemuDac *dac);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuDac, qemu_dac_free)

/* Whether files are given to QEMU's user at all (dynamic_ownership). */
gboolean qemu_dac_enabled(const QemuDac *dac);

/* libvirt's DAC label of QEMU's identity: "+UID:+GID". (transfer full) */
char *qemu_dac_label(const QemuDac *dac);

/* Give `path` to QEMU's user for one guest. When `restore`, the file's owner is
 * remembered (counted) and its resolved path added to `owned` (the guest's list, of
 * char *), to be given back by qemu_dac_restore(). A path already in `owned` is left.
 * A missing file fails with SYSTEM_ERROR, as libvirt's chown does. */
gboolean qemu_dac_own(QemuDac *dac, GPtrArray *owned, const char *path, gboolean restore,
                      GError **error);

/* The guest no longer uses the files in `owned`: each goes back to its remembered owner
 * once no other running guest uses it. Empties `owned`. */
void qemu_dac_restore(QemuDac *dac, GPtrArray *owned);

/* For the status file: one "  <chown path='...' uid='N' gid='N'/>" line per owned file,
 * with the owner it goes back to. */
void qemu_dac_format_status(QemuDac *dac, const GPtrArray *owned, GString *out);

/* A restarted daemon takes the <chown> children of `domstatus` back: the files are
 * counted as in use again and added to `owned`. */
void qemu_dac_take_status(QemuDac *dac, GPtrArray *owned, xmlNodePtr domstatus);
