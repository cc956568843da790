/* qemu_migration_qmp.h: what a migration says to QEMU and reads back, as pure functions of
 * their inputs (no monitor, no guest): the capabilities and parameters each side sets, the
 * incoming URI, and the figures of query-migrate, as libvirt 9.0's qemu_migration_params.c
 * and qemu_monitor_json.c form and read them. */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/migration_cookie.h"
#include "qemu_migration.h"

/* libvirt's default migration speed when none was set: its QEMU_DOMAIN_MIG_BANDWIDTH_MAX,
 * the largest MiB/s whose bytes/s fit QEMU's int64. */
#define QEMU_MIGRATION_BANDWIDTH_MAX (G_MAXINT64 / (1024 * 1024))

/* The alias of the TLS credentials object of a migration (QEMU's tls-creds). */
#define QEMU_MIGRATION_TLS_ALIAS "objlibvirt_migrate_tls0"

/* migrate-set-capabilities' arguments for one side (source or destination) of a migration
 * with flags (virDomainMigrateFlags) and tuning (may be NULL): every capability of
 * libvirt's list that QEMU names in supported (query-migrate-capabilities' answer; NULL:
 * all of them) with its state: on for what the flags and methods ask and what libvirt
 * always turns on for that side (pause-before-switchover on the source, late-block-activate
 * on the destination), off otherwise. (transfer full) */
JsonObject *qemu_migration_caps_args(JsonArray *supported, guint flags, gboolean source,
                                     const SvMigrationTuning *tuning);

/* migrate-set-capabilities' arguments that undo a migration's on a guest that stays (its
 * migration failed): every capability of libvirt's list off but "events", as libvirt resets
 * them, so a later dump (a migration into a file) does not stop before switchover.
 * (transfer full) */
JsonObject *qemu_migration_caps_reset_args(void);

/* migrate-set-parameters' arguments for one side: the tunables given that reach that side,
 * the TLS credentials (tls_hostname: the source's name to check the destination's
 * certificate against; both "" without TLS), and on the source max-bandwidth from
 * bandwidth_mib (MiB/s). (transfer full) */
JsonObject *qemu_migration_params_args(guint flags, gboolean source,
                                       const SvMigrationTuning *tuning, guint64 bandwidth_mib,
                                       const char *tls_hostname);

/* The URI the destination's QEMU listens on: "tcp:ADDRESS:PORT", an IPv6 address in
 * brackets. (transfer full) */
char *qemu_migration_listen_uri(const char *address, guint port);

/* The host of QEMU's migration URI "tcp:HOST:PORT" (an IPv6 address without its brackets),
 * or NULL for another form. (transfer full) */
char *qemu_migration_uri_host(const char *uri);

/* Fill stats from query-migrate's answer o (the figures QEMU has; stats' type, operation and
 * time_elapsed are left alone). */
void qemu_migration_stats_read(JsonObject *o, QemuMigrationStats *stats);

/* The cookie's <statistics> of stats (the figures; times are the caller's), and the figures
 * of a cookie's <statistics> into stats (type, operation and status left alone). */
void qemu_migration_stats_to_cookie(const QemuMigrationStats *stats, SvMigCookieStats *out);
void qemu_migration_stats_from_cookie(const SvMigCookieStats *in, QemuMigrationStats *stats);

/* libvirt's typed parameters of a migration job's statistics, in its order (transfer full:
 * an array of remote_typed_param; free with qemu_migration_params_free). */
GArray *qemu_migration_stats_params(const QemuMigrationStats *stats);
void qemu_migration_params_free(GArray *params);

/* What QEMU's migration status means for the job (virDomainJobType): UNBOUNDED while it
 * runs, COMPLETED, FAILED, CANCELLED; NONE for "none" and unknown words. */
int qemu_migration_status_job_type(const char *status);
