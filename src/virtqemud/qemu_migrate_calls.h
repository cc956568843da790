/* qemu_migrate_calls.h: virtqemud's migration procedures (libvirt's version 3 with
 * parameters): BEGIN3, PREPARE3, PERFORM3, FINISH3 and CONFIRM3, managed by a client
 * (virDomainMigrate3: it calls each phase on the daemon it belongs to) or peer-to-peer (the
 * source daemon's PERFORM3 drives the destination's PREPARE3 and FINISH3 itself), offline
 * (the definition alone) or live (qemu_migration.h moves the guest). */
#pragma once

#include "programs/remote.h"
#include "qemu_process.h"

/* The migrations under way in one daemon (transfer full: qemu_migrations_free). */
QemuMigrations *qemu_migrations_new(void);
void qemu_migrations_free(QemuMigrations *m);

/* Serve the five phases in h; their handlers find ctx (and ctx->migrations) from their call. */
void qemu_migrate_install(QemuProcessContext *ctx, SvRemoteHandlers *h);
