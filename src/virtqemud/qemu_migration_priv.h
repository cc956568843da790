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
    /* What waits for QEMU's migration to end (the destination's finish, the source's
     * confirm after post-copy's start), or NULL. */
    void (*on_end)(SvDomainObj *obj, const GError *error);
    gboolean postcopy;    /* destination: resumed in post-copy */
    gboolean confirming;  /* source: task is confirm's, answered once it is done */
    gboolean killing;     /* the migration itself ends QEMU (its decided end applies) */
    GError *cancel_error; /* source: why the daemon cancelled it (perform's answer) */
    GError *start_error;  /* destination: why the incoming start failed, for prepare */
    SvMigCookieStats *source_stats; /* destination: the source's figures (finish's cookie) */
    gint64 source_received;         /* when they came, ms since the epoch */
    GStrv nbd_asked;      /* MIGRATE_DISKS, or NULL */
    char *nbd_listen;     /* destination: where the NBD server listens, NULL: the migration's */
    int fd;               /* tunnelled: the stream's end for QEMU until it has it; -1 */
    /* Storage copy (qemu_migration_nbd.c). */
    GPtrArray *nbd_disks;    /* the disks copied (NULL: no storage copy) */
    char *nbd_host;          /* source: the destination's NBD server */
    guint nbd_port;          /* its port; the destination's from the migration range or given */
    gboolean nbd_port_taken; /* destination: nbd_port is one of migration_ports */
    guint batch;             /* commands sent together still unanswered */
    GError *batch_error;     /* the first refusal among them */
    int nbd_waiting;         /* what the mirrors' events are awaited for: NBD_WAIT_* or 0 */
    void (*nbd_after)(SvDomainObj *obj, const GError *error); /* once the storage step ends */
};

#define NBD_WAIT_READY     1
#define NBD_WAIT_CONCLUDED 2

/* QEMU's name of a tunnelled migration's fd (getfd), and the URI naming it. */
#define MIG_FDNAME "migrate"
#define MIG_FD_URI "fd:" MIG_FDNAME

/* Whether QEMU's migration is in post-copy. */
static inline gboolean
mig_in_postcopy(const QemuMigration *mig)
{
    return mig->stats.status && g_str_equal(mig->stats.status, "postcopy-active");
}

/* obj's migration (may be NULL). */
static inline QemuMigration *
mig_of(SvDomainObj *obj)
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

/* Storage copy (qemu_migration_nbd.c). The disks to copy: those named in asked (targets;
 * NULL: libvirt's choice, every disk with a medium neither shared nor read-only), else
 * libvirt's error for a target that is not there. */
gboolean mig_nbd_choose(SvDomainObj *obj, const char *const *asked, GError **error);
/* Their targets. (transfer full) */
GStrv mig_nbd_targets(QemuMigration *mig);
void mig_nbd_free(QemuMigration *mig);
/* Destination: serve them on address:nbd_port, then next. */
void mig_nbd_serve(SvDomainObj *obj, const char *address,
                   void (*next)(SvDomainObj *obj, const GError *error));
/* Destination: stop serving (nothing when nothing was served), then next. */
void mig_nbd_stop(SvDomainObj *obj, void (*next)(SvDomainObj *obj, const GError *error));
/* Source: mirror them to nbd_host:nbd_port until all are ready, then next. */
void mig_nbd_mirror(SvDomainObj *obj, void (*next)(SvDomainObj *obj, const GError *error));
/* Source: end the mirrors (completed in sync, or cancelled with force) and delete their
 * targets' nodes, then next. */
void mig_nbd_complete(SvDomainObj *obj, gboolean force,
                      void (*next)(SvDomainObj *obj, const GError *error));

/* The source's half (qemu_migration_out.c): QEMU's MIGRATION status changed. */
void mig_out_status(SvDomainObj *obj, QemuMigration *mig);
