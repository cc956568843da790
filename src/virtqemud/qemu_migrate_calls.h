/* qemu_migrate_calls.h: virtqemud's migration procedures (libvirt's version 3 with
 * parameters): BEGIN3, PREPARE3, PERFORM3, FINISH3 and CONFIRM3, managed by a client
 * (virDomainMigrate3: it calls each phase on the daemon it belongs to) or peer-to-peer (the
 * source daemon's PERFORM3 drives the destination's PREPARE3 and FINISH3 itself), offline
 * (the definition alone) or live (qemu_migration.h moves the guest). */
#pragma once

#include <libxml/tree.h>

#include "programs/remote.h"
#include "qemu_process.h"

/* The migrations under way in one daemon (transfer full: qemu_migrations_free). */
QemuMigrations *qemu_migrations_new(void);
void qemu_migrations_free(QemuMigrations *m);

/* Serve the five phases in h; their handlers find ctx (and ctx->migrations) from their call. */
void qemu_migrate_install(QemuProcessContext *ctx, SvRemoteHandlers *h);

/* ---------------------------------------------------------------- status files */

/* The migration job of obj, if any, as a status file's <job> line (appended to buf):
 * async='migration in|out', phase as libvirt names it, flags. */
void qemu_migrate_status_format(SvDomainObj *obj, GString *buf);
/* Read a status file's <job> (NULL: none) back, checked: *ret_dir 0 (none), 1 (in) or 2
 * (out), *ret_phase libvirt's phase number. FALSE with INTERNAL_ERROR (QEMU) otherwise. */
gboolean qemu_migrate_status_load(xmlNodePtr job, int *ret_dir, int *ret_phase,
                                  guint *ret_flags, GError **error);

/* A restarted daemon has taken back obj, whose status file recorded a migration (dir,
 * phase, flags as read above): the job is known again, until reconcile ends it. */
void qemu_migrate_recovered(SvDomainObj *obj, int dir, int phase, guint flags);
/* Once QEMU's state is known (status: QEMU's run state), end a recovered migration as
 * libvirt does: the source's guest runs on (the migration cancelled in QEMU, RUNNING/
 * MIGRATION_CANCELED) unless confirm had begun after success (then it is stopped); the
 * destination's is stopped unless finish had started it. Returns the stop cause to carry
 * through (SV_STOP_NONE: none), and whether there was a migration (*ret_handled). */
int qemu_migrate_recover(SvDomainObj *obj, const char *status, gboolean *ret_handled);
