/* qemu_migrate_recover.c: a migration's phase in a running guest's status file, and how a
 * restarted daemon ends a migration its predecessor left (libvirt's
 * qemuProcessRecoverMigrationIn/Out): no guest is lost and none runs twice. */
#include "qemu_migrate_priv.h"

#include "domain/domain_driver.h"
#include "domain/domain_run.h"
#include "qemu_domain.h"
#include "qemu_migration.h"
#include "util/error.h"

enum { DIR_NONE, DIR_IN, DIR_OUT };

void
qemu_migrate_status_format(SvDomainObj *obj, GString *buf)
{
    MigJob *job = mig_job_find(qemu_ctx_of(obj), obj);

    if (!job)
        return;
    g_string_append_printf(buf, "  <job async='%s' phase='%s' flags='0x%x'/>\n",
                           job->incoming ? "migration in" : "migration out",
                           mig_phase_name(job->phase), job->flags);
}

gboolean
qemu_migrate_status_load(xmlNodePtr job, int *ret_dir, int *ret_phase, guint *ret_flags,
                         GError **error)
{
    g_autofree char *async = job ? (char *)xmlGetProp(job, (const xmlChar *)"async") : NULL;
    g_autofree char *phase = job ? (char *)xmlGetProp(job, (const xmlChar *)"phase") : NULL;
    g_autofree char *flags = job ? (char *)xmlGetProp(job, (const xmlChar *)"flags") : NULL;
    char *end = NULL;
    guint64 f;

    *ret_dir = DIR_NONE;
    *ret_phase = MIG_PHASE_NONE;
    *ret_flags = 0;
    if (!job)
        return TRUE;
    if (g_strcmp0(async, "migration in") == 0)
        *ret_dir = DIR_IN;
    else if (g_strcmp0(async, "migration out") == 0)
        *ret_dir = DIR_OUT;
    for (int i = 0; i < MIG_PHASE_LAST && phase; i++) {
        if (g_str_equal(mig_phase_name(i), phase))
            *ret_phase = i;
    }
    f = flags ? g_ascii_strtoull(flags, &end, 16) : 0;
    if (!*ret_dir || *ret_phase == MIG_PHASE_NONE || !flags || *end ||
        f > SV_DOMAIN_MIGRATE_FLAGS_ALL) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "invalid migration job in the status file");
        return FALSE;
    }
    *ret_flags = (guint)f;
    return TRUE;
}

void
qemu_migrate_recovered(SvDomainObj *obj, int dir, int phase, guint flags)
{
    MigJob *job;

    if (dir == DIR_NONE)
        return;
    job = mig_job_begin(qemu_ctx_of(obj), obj, dir == DIR_IN, flags, phase, NULL);
    if (job)
        job->recovered = TRUE;
}

int
qemu_migrate_recover(SvDomainObj *obj, const char *status, gboolean *ret_handled)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    MigJob *job = mig_job_find(ctx, obj);
    gboolean settled;
    int phase;

    *ret_handled = job && job->recovered;
    if (!*ret_handled)
        return SV_STOP_NONE;
    g_message("domain %s: a migration (%s) was under way at %s when the daemon stopped",
              obj->def->name, job->incoming ? "in" : "out", mig_phase_name(job->phase));
    /* Settled: the destination's finish had started the guest's vCPUs, or the source's
     * confirm had begun after a migration that went well. */
    phase = job->phase;
    /* The end is decided here (an incoming guest's preparing connection is gone anyway). */
    sv_domain_run_of(obj)->autodestroy_client = 0;
    settled = job->incoming ? phase == MIG_PHASE_FINISH3 && g_str_equal(status, "running")
                            : phase == MIG_PHASE_CONFIRM3;
    qemu_migration_recover(obj,
                           job->incoming ? SV_DOMAIN_JOB_OPERATION_MIGRATION_IN
                                         : SV_DOMAIN_JOB_OPERATION_MIGRATION_OUT,
                           settled);
    mig_job_end(ctx, job);
    return SV_STOP_NONE;
}
