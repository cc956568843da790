/* qemu_coredump.h: a client's core dump (DOMAIN_CORE_DUMP, DOMAIN_CORE_DUMP_WITH_FORMAT;
 * `virsh dump`) as libvirt 9.0's QEMU driver runs it: an async job on the guest, visible to
 * DOMAIN_GET_JOB_INFO and DOMAIN_GET_JOB_STATS while it runs. */
#pragma once

#include "conf/domain_obj.h"
#include "domain/domain_driver.h"
#include "qemu_migration.h"
#include "qemu_monitor.h"

typedef struct QemuCoreDump QemuCoreDump;

/* Install DOMAIN_CORE_DUMP and DOMAIN_CORE_DUMP_WITH_FORMAT. */
void qemu_coredump_install(SvRemoteHandlers *h);

/* QEMU's DUMP_COMPLETED for obj: the dump under way, if any, is over. */
void qemu_coredump_completed(SvDomainObj *obj, JsonObject *data);

/* QEMU's MIGRATION for obj: a full dump under way, if any, is over once it completed or
 * failed. */
void qemu_coredump_migration(SvDomainObj *obj, JsonObject *data);

/* Keep stats (copied) as obj's last completed job, as libvirt keeps a completed job's
 * figures for DOMAIN_GET_JOB_STATS with COMPLETED (a migration's on its destination). */
void qemu_job_keep_completed(SvDomainObj *obj, const QemuMigrationStats *stats);

/* DOMAIN_ABORT_JOB on the dump under way (there is one): TRUE when QEMU may be told
 * migrate_cancel (a full dump is a migration into its file: its MIGRATION "cancelled" ends
 * it), else libvirt's error (a memory-only dump cannot be aborted). */
gboolean qemu_coredump_can_cancel(SvDomainObj *obj, GError **error);

/* QEMU is gone: the dump under way, if any, fails as libvirt's ("domain is not running"). */
void qemu_coredump_abort(SvDomainObj *obj);

/* DOMAIN_GET_JOB_INFO's answer on obj: a dump's progress while one runs (the call deferred
 * and answered from QEMU's query-dump), else type NONE in ret. */
void qemu_coredump_job_info(SvCall *call, SvDomainObj *obj, remote_domain_get_job_info_ret *ret);
/* DOMAIN_GET_JOB_STATS's answer likewise (flags: virDomainGetJobStatsFlags). COMPLETED asks
 * for the last completed job: as libvirt, a full dump's (its migration's figures) is kept
 * while the guest runs, and forgotten once read unless KEEP_COMPLETED; a memory-only dump
 * leaves none. */
void qemu_coredump_job_stats(SvCall *call, SvDomainObj *obj, guint flags,
                             remote_domain_get_job_stats_ret *ret);
