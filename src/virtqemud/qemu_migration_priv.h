/* qemu_migration_priv.h: what the source's and the destination's halves of a migration
 * (qemu_migration_out.c, qemu_migration.c) and its job's calls (qemu_migration_job.c)
 * share. Internal to them. */
#pragma once

#include "qemu_domain.h"
#include "qemu_migration.h"

struct QemuMigration {
    int operation; /* SV_DOMAIN_JOB_OPERATION_MIGRATION_IN or _OUT */
    guint flags;   /* virDomainMigrateFlags */
    gpointer run;  /* the guest's run (weak handle) */
    GTask *task;   /* the caller's operation waiting on QEMU, or NULL */
    void (*next)(SvDomainObj *obj, const GError *error); /* after the setup's commands */
    QemuMigrationStats stats;                            /* QEMU's status and its last figures */
    gint64 started;                                      /* g_get_real_time() when the job began */
    gint64 stopped;           /* when QEMU stopped the vCPUs for the last pass; 0: not yet */
    SvMigrationTuning tuning; /* what was given (compression copied) */
    char *uri;                /* the source's destination; the destination's listen URI */
    char *tls_hostname;
    guint port;                 /* destination: the port taken from migration_ports; 0: none */
    guint64 bandwidth;          /* source: MiB/s */
    gboolean resume;            /* source: the guest ran when the migration began */
    gboolean done;              /* the caller's operation on QEMU is over (completed, failed) */
    int end_reason, end_detail; /* the end decided for QEMU's exit; -1: none */
    int running_reason, resumed_detail; /* what the next RESUME means; -1: nothing special */
    guint finish_flags;                 /* destination: finish's flags */
    int fd; /* tunnelled: the stream's end for QEMU until it has it; -1 */
};

/* QEMU's name of a tunnelled migration's fd (getfd), and the URI naming it. */
#define MIG_FDNAME "migrate"
#define MIG_FD_URI "fd:" MIG_FDNAME

/* obj's migration (may be NULL). */
static inline QemuMigration *mig_of(SvDomainObj *obj)
{
    QemuDomain *qd = obj ? qemu_domain_of(obj) : NULL;

    return qd ? qd->mig : NULL;
}

/* The migration of the guest of run, if the run lasts and has one; its guest in ret_obj. */
QemuMigration *mig_find(gpointer run, SvDomainObj **ret_obj);

/* A new migration for operation (transfer full). */
QemuMigration *mig_new(int operation, const QemuMigrationSpec *spec);

/* A command's arguments {key: value}. (transfer full) */
JsonObject *mig_args1(const char *key, const char *value);

/* Answer the operation waiting (if any) from an idle, never inside the caller's stack:
 * error (transfer full) or success with value (transfer full, freed with value_free when
 * nobody takes it). */
void mig_return(QemuMigration *mig, GError *error, gpointer value, GDestroyNotify value_free);

/* Capabilities and parameters of this side, then mig->next(obj, error). */
void mig_setup(SvDomainObj *obj, void (*next)(SvDomainObj *obj, const GError *error));

/* A tunnelled migration's fd handed to QEMU (getfd MIG_FDNAME), then next(obj, error); at
 * once when there is none. */
void mig_give_fd(SvDomainObj *obj, void (*next)(SvDomainObj *obj, const GError *error));

/* libvirt 9.0's error of a migration QEMU ended without completing it ("migration out job:
 * QEMU's reason", "...: unexpectedly failed", "...: canceled by client"). (transfer full) */
GError *mig_status_error(const QemuMigration *mig);

/* The figures now: time elapsed, and the downtime once the vCPUs stopped. */
void mig_update_times(QemuMigration *mig);

/* The source's half (qemu_migration_out.c): QEMU's MIGRATION status changed. */
void mig_out_status(SvDomainObj *obj, QemuMigration *mig);
