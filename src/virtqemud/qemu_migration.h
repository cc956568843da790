/* qemu_migration.h: the QEMU side of a guest's migration in virtqemud: the destination's
 * QEMU started with -incoming defer and listening, the source's QEMU sending (memory, and
 * disks over NBD when storage is copied), the job both sides show while it runs, and the
 * end of each side (resume, kill, or back to running on the source).
 *
 * The phases (begin, prepare, perform, finish, confirm) and their RPC handlers are
 * qemu_migrate_calls.c's; they call the functions below, each for one guest, on the loop.
 * Every asynchronous function completes on the loop (its callback with the GAsyncResult
 * to pass to the matching _finish); the guest is found again by the caller's own handle,
 * obj is only valid when the callback runs if the caller's handle still finds it. */
#pragma once

#include "conf/migration_cookie.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "conf/domain_obj.h"
#include "conf/migration_params.h"
#include "domain/domain_driver.h"

/* What one side's QEMU is asked to do. Strings and arrays are the caller's (transfer none)
 * and need only last until the call returns. */
typedef struct {
    guint flags;                     /* virDomainMigrateFlags */
    const SvMigrationTuning *tuning; /* NULL: nothing given */

    /* Destination. */
    const char *listen_address; /* LISTEN_ADDRESS, or NULL: every address ("[::]", or
                                   "0.0.0.0" without IPv6) */
    guint port;                 /* the port asked for in the URI; 0: the first free one of
                                   migration_port_min..max (49152..49215) */
    const char *nbd_listen;     /* DISKS_URI's or the listen address for the NBD server,
                                   NULL: as listen_address */
    guint nbd_port;             /* DISKS_PORT; 0: the first free one of the same range */

    /* Source. */
    const char *uri;      /* QEMU's migration URI: "tcp:HOST:PORT" (native) */
    const char *nbd_host; /* the destination's NBD server (NON_SHARED_*): host from
                             the URI, port from its cookie; NULL: no storage copy */
    guint nbd_server_port;
    const char *tls_hostname; /* TLS_DESTINATION, or NULL: the URI's host */

    /* Both, storage copy: the targets of the disks to copy (MIGRATE_DISKS); NULL: every
     * writable disk that is neither shared, read-only nor empty (libvirt's choice). */
    const char *const *disks;

    /* Tunnelled (TUNNELLED): the stream's end QEMU reads (destination) or writes (source);
     * -1 for a native migration. Taken by the call (transfer full) when >= 0. */
    int fd;
} QemuMigrationSpec;

/* What the destination's QEMU listens on, for prepare's answer and cookie. */
typedef struct {
    char *uri;       /* what QEMU was given, e.g. "tcp:[::]:49152" */
    guint port;      /* the migration port (0 when tunnelled) */
    guint nbd_port;  /* the NBD server's port, 0: none */
    GStrv nbd_disks; /* the targets exported over NBD (NULL: none) */
} QemuIncoming;

void qemu_incoming_clear(QemuIncoming *in);

/* A migration's figures as libvirt's job statistics name them (virDomainGetJobStats:
 * VIR_DOMAIN_JOB_*), from QEMU's query-migrate and the mirrors' progress; the has_ members
 * say which ones QEMU gave (libvirt leaves the others out). Times in ms, sizes in bytes,
 * rates in bytes/s. qemu_migration_qmp.h reads and writes them. */
typedef struct {
    int type;             /* virDomainJobType: UNBOUNDED, COMPLETED, FAILED, ... */
    int operation;        /* virDomainJobOperation: MIGRATION_IN or _OUT (DUMP for a
                             full dump's, which is a migration into its file) */
    gboolean savedump;    /* a save's or a dump's: no disk or compression figures */
    guint64 time_elapsed; /* since the job began */
    gboolean has_downtime;
    guint64 downtime;
    gboolean has_setup_time;
    guint64 setup_time;
    guint64 ram_total, ram_transferred, ram_remaining;
    gboolean has_ram_duplicate;
    guint64 ram_duplicate, ram_normal, ram_normal_bytes;
    guint64 ram_bps; /* 0: not given */
    guint64 ram_dirty_rate, ram_iteration, ram_postcopy_requests;
    guint64 ram_page_size; /* 0: not given */
    guint64 disk_total, disk_transferred, disk_remaining, disk_bps;
    guint64 mirror_total, mirror_transferred; /* the NBD mirrors' (storage copy) */
    gboolean has_xbzrle;
    guint64 xbzrle_cache_size, xbzrle_bytes, xbzrle_pages, xbzrle_cache_miss, xbzrle_overflow;
    int cpu_throttle_percentage; /* 0: not given */
    gint64 started_ms, stopped_ms; /* the job's start, the vCPUs' stop: ms since the epoch, 0:
                                      not yet (the cookie's <started>, <stopped>) */
    gboolean has_delta; /* destination: delta is known */
    gint64 delta;       /* ms from the source's sending its figures to our receiving them */
    char *status;                /* QEMU's status ("active", "completed", ...) or NULL */
    char *error_desc;            /* QEMU's reason when it failed, or NULL */
} QemuMigrationStats;

void qemu_migration_stats_clear(QemuMigrationStats *stats);

/* JOB_COMPLETED of obj's job with its final figures (a migration's, a full dump's). */
void qemu_job_emit_completed(SvDomainObj *obj, const QemuMigrationStats *stats);

/* ---------------------------------------------------------------- destination */

/* Start QEMU for the incoming guest obj (inactive, with the definition prepare decided),
 * paused with -incoming defer: the guest becomes PAUSED/MIGRATION and sends STARTED/
 * MIGRATED as libvirt's; capabilities and parameters set as the source will use them;
 * migrate-incoming on spec's address and port (or fd); an NBD server exporting the disks to
 * copy (NON_SHARED_*). cb runs on the loop once QEMU listens or the start failed (then
 * nothing of the guest runs: it is inactive, or removed when it was not defined). */
void qemu_migration_incoming_start(SvDomainObj *obj, const QemuMigrationSpec *spec,
                                   GAsyncReadyCallback cb, gpointer data);
/* TRUE with out filled (qemu_incoming_clear it), or FALSE with error set (the start's cause
 * when it failed). obj is not used: call it even when the guest is gone (a transient one
 * whose start failed is removed), so the cause reaches prepare's caller. */
gboolean qemu_migration_incoming_start_finish(SvDomainObj *obj, GAsyncResult *res,
                                              QemuIncoming *out, GError **error);

/* Destination, finish phase. ok: the incoming migration is awaited until QEMU completed it
 * (it may still be loading the last pass when the source is done), the NBD server stops,
 * and the guest resumes (RESUMED/MIGRATED, RUNNING/MIGRATED) unless PAUSED is in flags
 * (then PAUSED/USER with SUSPENDED/PAUSED, as libvirt). Not ok (the source cancelled), or
 * the incoming migration failed: QEMU is killed (STOPPED/FAILED, SHUTOFF/FAILED) and a
 * transient guest removed; the _finish then gives FALSE with libvirt's error. cb runs on
 * the loop. */
void qemu_migration_incoming_finish(SvDomainObj *obj, gboolean ok, guint flags,
                                    GAsyncReadyCallback cb, gpointer data);
gboolean qemu_migration_incoming_finish_finish(SvDomainObj *obj, GAsyncResult *res, GError **error);

/* ---------------------------------------------------------------- source */

/* Send obj (running or paused, with no other job) to where spec says: capabilities and
 * parameters set, the NBD mirrors of the disks to copy first (blockdev-mirror to the
 * destination's server, until all are ready), then `migrate`. Progress comes from QEMU's
 * MIGRATION events; when QEMU stops the vCPUs for the last pass the guest becomes PAUSED/
 * MIGRATION with SUSPENDED/MIGRATED (SUSPENDED/POSTCOPY, RUNNING/POSTCOPY for post-copy).
 * cb runs once QEMU completed, failed, or was aborted (DOMAIN_ABORT_JOB); while it runs
 * the guest's job is MIGRATION_OUT. */
void qemu_migration_outgoing_run(SvDomainObj *obj, const QemuMigrationSpec *spec,
                                 GAsyncReadyCallback cb, gpointer data);
/* TRUE with the final figures in stats (may be NULL; qemu_migration_stats_clear it), or
 * FALSE with libvirt's error (failed: OPERATION_FAILED "migration out job: QEMU's reason",
 * aborted: OPERATION_ABORTED "migration out job: canceled by client"). */
gboolean qemu_migration_outgoing_run_finish(SvDomainObj *obj, GAsyncResult *res,
                                            QemuMigrationStats *stats, GError **error);

/* Source: end the migration under way with why (copied) as perform's answer instead of
 * QEMU's own end: libvirt's OPERATION_FAILED "Lost connection to destination host" when a
 * peer-to-peer migration's connection to the destination breaks (the destination's daemon
 * killed, the network cut: QEMU's own stream may hang without an error). QEMU is told
 * migrate_cancel; nothing happens when no outgoing migration runs. */
void qemu_migration_outgoing_cancel(SvDomainObj *obj, const GError *why);

/* Source, confirm phase. ok: the destination runs the guest: QEMU is stopped and the guest
 * STOPPED/MIGRATED (inactive; transient ones removed). Not ok: the mirrors are cancelled
 * and the guest runs again where it was running (RESUMED/MIGRATED), or stays paused. */
void qemu_migration_outgoing_confirm(SvDomainObj *obj, gboolean ok, guint flags);
/* The same, with cb on the loop once confirm is done (ok: QEMU is gone and the guest
 * STOPPED/MIGRATED; not ok: the guest runs again, or stays paused), so confirm's call is
 * answered after it as libvirt's is (a client looking at the source right after the
 * migration sees it shut off). _finish: TRUE (a guest already gone is done too). */
void qemu_migration_outgoing_confirm_async(SvDomainObj *obj, gboolean ok, guint flags,
                                           GAsyncReadyCallback cb, gpointer data);
gboolean qemu_migration_outgoing_confirm_finish(GAsyncResult *res, GError **error);

/* After a daemon restart (reconnect, the monitor ready), the end of a migration of obj its
 * predecessor left under way (the caller knows from the status file which side obj was,
 * operation MIGRATION_IN or _OUT, and whether it was settled), as libvirt recovers it, so
 * exactly one copy of the guest runs:
 * - incoming, settled (finish ran): nothing to do, the guest is this side's;
 * - incoming, not settled: QEMU killed (SHUTOFF/FAILED, STOPPED/FAILED);
 * - outgoing, settled (the destination confirmed it has the guest): QEMU killed
 *   (SHUTOFF/MIGRATED, STOPPED/MIGRATED);
 * - outgoing, not settled: QEMU's migration cancelled if it still runs, and a guest the
 *   migration paused runs again (RUNNING/MIGRATION_CANCELED, RESUMED/MIGRATED); one in
 *   post-copy or paused by its user stays paused. */
void qemu_migration_recover(SvDomainObj *obj, int operation, gboolean settled);

/* ---------------------------------------------------------------- the job */

/* Whether a migration of obj is under way on this side (its job MIGRATION_IN or _OUT). */
gboolean qemu_migration_active(SvDomainObj *obj);
/* obj is the copy of an incoming migration this side has not finished (no finish yet). */
gboolean qemu_migration_incoming_unfinished(SvDomainObj *obj);

/* DOMAIN_GET_JOB_INFO (stats FALSE) or DOMAIN_GET_JOB_STATS (TRUE) while a migration of obj
 * is under way: the call deferred and answered from QEMU's query-migrate; FALSE when none
 * is (the caller answers). */
gboolean qemu_migration_job_query(SvCall *call, SvDomainObj *obj, gboolean stats);

/* The speed (MiB/s) MIGRATE_SET_MAX_SPEED gave obj for its next migration, else libvirt's
 * unlimited. */
guint64 qemu_migration_kept_speed(SvDomainObj *obj);

/* Install the job's calls: ABORT_JOB(_FLAGS), MIGRATE_SET/GET_MAX_DOWNTIME,
 * SET/GET_MAX_SPEED, GET/SET_COMPRESSION_CACHE, START_POST_COPY. */
void qemu_migration_job_install(SvRemoteHandlers *h);

/* ---------------------------------------------------------------- virtqemud's hooks */

/* What the process code (start, events, exit) asks of the migration under way; each does
 * nothing (or answers FALSE) for a guest with none. */
typedef struct QemuMigration QemuMigration;

/* Free what the run still holds of a migration (the run's data goes). */
void qemu_migration_free(QemuMigration *mig);

/* The incoming start's QEMU is ready (qemu_start.c, its last step): capabilities, parameters
 * and migrate-incoming, then the start's end as a migration's (PAUSED/MIGRATION,
 * STARTED/MIGRATED). */
void qemu_migration_incoming_launched(SvDomainObj *obj);

/* QEMU's MIGRATION event. */
void qemu_migration_event(SvDomainObj *obj, JsonObject *data);

/* Destination, finish phase: the source's figures of the job (its cookie's <statistics>),
 * which the incoming job completes with, as libvirt's destination reports them. */
void qemu_migration_incoming_source_stats(SvDomainObj *obj, const SvMigCookieStats *stats);

/* QEMU's MIGRATION_PASS: MIGRATION_ITERATION of the pass over memory QEMU begins, while a
 * migration of obj is under way (the source's; as libvirt, nothing without one). */
void qemu_migration_pass(SvDomainObj *obj, JsonObject *data);

/* QEMU's JOB_STATUS_CHANGE: a storage copy's mirror became ready or ended. */
void qemu_migration_job_status(SvDomainObj *obj, JsonObject *data);

/* QEMU's STOP of a running guest: the paused reason and SUSPENDED detail an outgoing
 * migration gives it (MIGRATION/MIGRATED, or POSTCOPY/POSTCOPY); FALSE when none. */
gboolean qemu_migration_paused_reason(SvDomainObj *obj, int *ret_reason, int *ret_detail);

/* QEMU's RESUME of a paused guest: the running reason and RESUMED detail the migration's own
 * cont asked for (MIGRATED/MIGRATED on the destination, MIGRATION_CANCELED/MIGRATED on the
 * source); FALSE when none. */
gboolean qemu_migration_running_reason(SvDomainObj *obj, int *ret_reason, int *ret_detail);

/* QEMU has exited: how the migration decided the guest ends (the source's after confirm:
 * SHUTOFF/MIGRATED, STOPPED/MIGRATED; the destination's: SHUTOFF/FAILED, STOPPED/FAILED);
 * FALSE when it decided nothing. */
gboolean qemu_migration_decided_end(SvDomainObj *obj, int *ret_reason, int *ret_detail);

/* The incoming start failed with error (the start's error as its call would get it): what
 * prepare's answer is, unless the migration's own step failed first. */
void qemu_migration_start_error(SvDomainObj *obj, const GError *error);

/* QEMU is gone (the run's release): an operation waiting on it fails ("domain is not
 * running", or the start's error), the migration port is given back. */
void qemu_migration_release(SvDomainObj *obj);
