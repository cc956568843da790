/* qemu_migrate_calls.c: the migration phases of libvirt 9.0's QEMU driver on this daemon
 * (qemu_migrate_calls.h): the jobs, the cookies, BEGIN3 (source), PREPARE3 and FINISH3
 * (destination), CONFIRM3 (source); PERFORM3 is qemu_migrate_perform.c's.
 *
 * An OFFLINE migration moves the definition only: begin sends it, prepare adds it here as
 * a transient inactive domain, finish makes it persistent (DEFINED), confirm leaves the
 * source's domain as it is (or forgets its definition with UNDEFINE_SOURCE). A live one
 * starts QEMU incoming at prepare and ends it at finish through qemu_migration.h. */
#include "qemu_migrate_calls.h"
#include "qemu_migrate_priv.h"

#include <string.h>

#include "conf/uuid.h"
#include "domain/domain_driver.h"
#include "domain/domain_migrate_params.h"
#include "qemu_domain.h"
#include "qemu_migration.h"
#include "qemu_stats.h"
#include "qemu_ports.h"
#include "qemu_status.h"
#include "util/error.h"

static const char *const phase_names[MIG_PHASE_LAST] = {
    "none", "perform2", "begin3", "perform3", "perform3_done", "confirm3_cancelled",
    "confirm3", "prepare", "finish2", "finish3",
};

const char *
mig_phase_name(int phase)
{
    return phase >= 0 && phase < MIG_PHASE_LAST ? phase_names[phase] : "none";
}

/* ---------------------------------------------------------------- jobs */

static void
job_free(gpointer p)
{
    MigJob *job = p;

    g_free(job->key);
    g_free(job->origname);
    g_free(job);
}

QemuMigrations *
qemu_migrations_new(void)
{
    QemuMigrations *m = g_new0(QemuMigrations, 1);

    m->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, job_free);
    return m;
}

void
qemu_migrations_free(QemuMigrations *m)
{
    if (!m)
        return;
    g_hash_table_unref(m->jobs);
    g_free(m);
}

static char *
key_of(const SvDomainObj *obj)
{
    char uuid[SV_UUID_STRING_LEN + 1];

    sv_uuid_format(obj->def->uuid, uuid);
    return g_strdup(uuid);
}

MigJob *
mig_job_find(QemuProcessContext *ctx, const SvDomainObj *obj)
{
    g_autofree char *key = key_of(obj);

    return g_hash_table_lookup(ctx->migrations->jobs, key);
}

MigJob *
mig_job_by_key(QemuProcessContext *ctx, const char *key)
{
    return g_hash_table_lookup(ctx->migrations->jobs, key);
}

SvDomainObj *
mig_domain_find(QemuProcessContext *ctx, const char *key)
{
    guint8 uuid[16];

    if (!sv_uuid_parse(key, uuid))
        return NULL;
    return sv_domain_list_find_by_uuid(ctx->domains->list, uuid);
}

/* A running guest's status file follows its job (a restarted daemon ends the migration
 * from it). */
static void
job_saved(MigJob *job)
{
    SvDomainObj *obj = mig_domain_find(job->ctx, job->key);

    if (obj && obj->priv && sv_domain_obj_is_active(obj))
        qemu_status_save(obj);
}

MigJob *
mig_job_begin(QemuProcessContext *ctx, SvDomainObj *obj, gboolean incoming, guint flags,
              int phase, GError **error)
{
    MigJob *job;

    if (mig_job_find(ctx, obj)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "another migration job is already running for domain '%s'",
                     obj->def->name);
        return NULL;
    }
    job = g_new0(MigJob, 1);
    job->ctx = ctx;
    job->key = key_of(obj);
    job->incoming = incoming;
    job->flags = flags;
    job->phase = phase;
    g_hash_table_insert(ctx->migrations->jobs, job->key, job);
    sv_domain_driver_hold(ctx->domains, TRUE);
    g_debug("migration of %s: %s job begins at %s", obj->def->name, incoming ? "in" : "out",
            mig_phase_name(phase));
    job_saved(job);
    return job;
}

MigJob *
mig_job_get(QemuProcessContext *ctx, const SvDomainObj *obj, gboolean incoming, GError **error)
{
    MigJob *job = mig_job_find(ctx, obj);

    if (job && job->incoming == incoming)
        return job;
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                 incoming ? "domain '%s' is not processing incoming migration"
                          : "domain '%s' is not being migrated",
                 obj->def->name);
    return NULL;
}

gboolean
mig_job_phase(MigJob *job, int phase, GError **error)
{
    if (phase < job->phase) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "migration protocol going backwards %s => %s",
                     mig_phase_name(job->phase), mig_phase_name(phase));
        return FALSE;
    }
    g_debug("migration job %s: %s -> %s", job->key, mig_phase_name(job->phase),
            mig_phase_name(phase));
    job->phase = phase;
    job_saved(job);
    return TRUE;
}

void
mig_job_end(QemuProcessContext *ctx, MigJob *job)
{
    g_autofree char *key = g_strdup(job->key);
    SvDomainObj *obj;

    g_debug("migration job %s ends at %s", job->key, mig_phase_name(job->phase));
    g_hash_table_remove(ctx->migrations->jobs, job->key);
    obj = mig_domain_find(ctx, key);
    if (obj && obj->priv && sv_domain_obj_is_active(obj))
        qemu_status_save(obj);
    sv_domain_driver_hold(ctx->domains, FALSE);
}

/* ---------------------------------------------------------------- cookies */

static void
host_uuid(QemuProcessContext *ctx, guint8 out[16])
{
    if (!sv_uuid_parse(sv_daemon_host_uuid(ctx->daemon), out))
        memset(out, 0, 16);
}

SvMigrationCookie *
mig_cookie_new(QemuProcessContext *ctx, const char *name, const guint8 uuid[16])
{
    guint8 host[16];

    host_uuid(ctx, host);
    return sv_migration_cookie_new(name, uuid, g_get_host_name(), host);
}

void
mig_cookie_to_wire(const SvMigrationCookie *c, u_int *ret_len, char **ret_val)
{
    char *xml = sv_migration_cookie_format(c);

    g_debug("migration cookie sent: %s", xml);
    *ret_len = (u_int)strlen(xml) + 1;
    *ret_val = xml;
}

SvMigrationCookie *
mig_cookie_from_wire(QemuProcessContext *ctx, const char *val, u_int len, guint accept,
                     const char *name, const guint8 uuid[16], const char *dname,
                     GError **error)
{
    guint8 host[16];
    SvMigCookieExpect expect = {name, uuid, host, dname};

    host_uuid(ctx, host);
    g_debug("migration cookie received (%u bytes): %.*s", len, len ? (int)len - 1 : 0,
            val ? val : "");
    return sv_migration_cookie_parse(val, len, accept, &expect, error);
}

/* ---------------------------------------------------------------- begin */

/* The disks MIGRATE_DISKS names are the domain's ("disk target %s not found"). */
static gboolean
check_disks(const SvDomainObj *obj, const SvMigrationParams *p, guint flags, GError **error)
{
    if (!(flags & (SV_MIGRATE_NON_SHARED_DISK | SV_MIGRATE_NON_SHARED_INC)))
        return TRUE;
    for (guint i = 0; p->migrate_disks && p->migrate_disks[i]; i++) {
        gboolean found = FALSE;

        for (guint k = 0; k < obj->def->disks->len && !found; k++) {
            const SvDomainDiskDef *d = g_ptr_array_index(obj->def->disks, k);

            found = g_strcmp0(d->target_dev, p->migrate_disks[i]) == 0;
        }
        if (!found) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "disk target %s not found",
                         p->migrate_disks[i]);
            return FALSE;
        }
    }
    return TRUE;
}

/* The definition begin sends: the client's (DEST_XML) once it is the same machine, or the
 * domain's own, as libvirt's live format with secrets (qemuDomainDefFormatLive). */
static char *
begin_xml(const SvDomainObj *obj, const char *xmlin, GError **error)
{
    g_autoptr(SvDomainDef) def = NULL;
    char a[SV_UUID_STRING_LEN + 1], b[SV_UUID_STRING_LEN + 1];
    gboolean active = sv_domain_obj_is_active(obj);

    if (!xmlin)
        return sv_domain_def_format(obj->def, active ? obj->id : -1,
                                    SV_DOMAIN_FORMAT_SECURE |
                                        (active ? 0 : SV_DOMAIN_FORMAT_INACTIVE));
    def = sv_domain_def_parse(xmlin, SV_DOMAIN_PARSE_INACTIVE, error);
    if (!def)
        return NULL;
    if (memcmp(def->uuid, obj->def->uuid, 16) != 0) {
        sv_uuid_format(def->uuid, a);
        sv_uuid_format(obj->def->uuid, b);
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "Target domain uuid %s does not match source %s", a, b);
        return NULL;
    }
    return sv_domain_def_format(def, -1, SV_DOMAIN_FORMAT_SECURE);
}

/* libvirt's qemuMigrationAnyCopyDisk: a disk MIGRATE_DISKS names, or without it every one
 * with a source that is neither shared nor read-only. */
static gboolean
copies_disk(const SvDomainDiskDef *d, const SvMigrationParams *p)
{
    if (p->migrate_disks && p->migrate_disks[0])
        return g_strv_contains((const char *const *)p->migrate_disks, d->target_dev);
    return d->source && !d->shareable && !d->readonly;
}

/* A storage copy's <nbd> in begin's cookie: the disks to copy with their capacity (the
 * virtual size a destination creates a missing image with, as libvirt's: a qcow2 image's
 * from its header, else the file's or device's size), no port yet. The destination starts
 * its NBD server only when the source's cookie has it. */
static void
begin_nbd(SvMigrationCookie *cookie, const SvDomainObj *obj, const SvMigrationParams *p)
{
    gboolean any = FALSE;

    for (guint k = 0; k < obj->def->disks->len; k++) {
        const SvDomainDiskDef *d = g_ptr_array_index(obj->def->disks, k);
        QemuBlockInfo info = {0};

        if (!copies_disk(d, p))
            continue;
        any = TRUE;
        if (!qemu_stats_image_info(d->source, d->format == SV_DOMAIN_DISK_FORMAT_QCOW2, &info,
                                   NULL))
            info.capacity = 0;
        sv_migration_cookie_add_nbd_disk(cookie, d->target_dev, info.capacity);
    }
    if (any)
        sv_migration_cookie_add_nbd(cookie, 0);
}

char *
mig_begin_phase(QemuProcessContext *ctx, SvDomainObj *obj, const SvMigrationParams *p,
                guint flags, SvMigrationCookie **ret_cookie, GError **error)
{
    g_autoptr(SvMigrationCookie) cookie = NULL;
    char *xml;

    if (!sv_migration_flags_check(SV_MIGRATION_CALL_BEGIN, flags, p,
                                  "qemuDomainMigrateBegin3Params", error) ||
        !check_disks(obj, p, flags, error))
        return NULL;
    xml = begin_xml(obj, p->dest_xml, error);
    if (!xml)
        return NULL;
    cookie = mig_cookie_new(ctx, obj->def->name, obj->def->uuid);
    /* libvirt's lock manager here is "nop": the feature, with no lease to send. */
    sv_migration_cookie_add_lockstate(cookie, "nop", NULL);
    /* The capability the source always turns on, for the destination's check of it
     * (qemu_migration_qmp.c turns it on). */
    if (!(flags & SV_MIGRATE_OFFLINE))
        sv_migration_cookie_add_cap(cookie, "pause-before-switchover", TRUE);
    if (flags & (SV_MIGRATE_NON_SHARED_DISK | SV_MIGRATE_NON_SHARED_INC))
        begin_nbd(cookie, obj, p);
    *ret_cookie = g_steal_pointer(&cookie);
    return xml;
}

static gboolean
migrate_begin3_params(SvCall *call, remote_domain_migrate_begin3_params_args *a,
                      remote_domain_migrate_begin3_params_ret *ret, GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of_call(call);
    g_autoptr(SvMigrationParams) p = NULL;
    g_autoptr(SvMigrationCookie) cookie = NULL;
    SvDomainObj *obj;
    guint flags = a->flags;

    if (!sv_check_flags(flags, SV_DOMAIN_MIGRATE_FLAGS_ALL, SV_FROM_QEMU,
                        "qemuDomainMigrateBegin3Params", error) ||
        !(p = sv_migrate_params_from_wire(a->params.params_val, a->params.params_len, error)) ||
        !(obj = sv_domain_driver_lookup(ctx->domains, &a->dom, error)))
        return FALSE;
    if (mig_job_find(ctx, obj)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "another migration job is already running for domain '%s'",
                     obj->def->name);
        return FALSE;
    }
    if (!(flags & SV_MIGRATE_OFFLINE) && !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ret->xml = mig_begin_phase(ctx, obj, p, flags, &cookie, error);
    if (!ret->xml)
        return FALSE;
    /* With change protection the job lasts until confirm, so nothing else moves the guest
     * meanwhile. */
    if ((flags & SV_MIGRATE_CHANGE_PROTECTION) &&
        !mig_job_begin(ctx, obj, FALSE, flags, MIG_PHASE_BEGIN3, error)) {
        g_clear_pointer(&ret->xml, g_free);
        return FALSE;
    }
    mig_cookie_to_wire(cookie, &ret->cookie_out.cookie_out_len, &ret->cookie_out.cookie_out_val);
    return TRUE;
}

/* ---------------------------------------------------------------- prepare */

/* The definition prepare receives, renamed to DEST_NAME (*ret_origname: the name it had). */
static SvDomainDef *
prepare_def(QemuProcessContext *ctx, const SvMigrationParams *p, char **ret_origname,
            GError **error)
{
    g_autoptr(SvDomainDef) def = NULL;

    if (!p->dest_xml) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "no domain XML passed");
        return NULL;
    }
    def = sv_domain_def_parse(p->dest_xml, SV_DOMAIN_PARSE_INACTIVE, error);
    if (!def || (ctx->domains->check_def && !ctx->domains->check_def(ctx->domains, def, error)))
        return NULL;
    if (p->dest_name) {
        *ret_origname = def->name;
        def->name = g_strdup(p->dest_name);
    }
    return g_steal_pointer(&def);
}

/* libvirt's virDomainObjListAdd with LIVE | CHECK_LIVE: the incoming definition becomes a
 * new transient domain, or the live one of a defined inactive domain. */
static SvDomainObj *
prepare_add(QemuProcessContext *ctx, SvDomainDef *def, gboolean *ret_added, GError **error)
{
    SvDomainList *list = ctx->domains->list;
    SvDomainObj *obj = sv_domain_list_find_by_uuid(list, def->uuid);
    char uuid[SV_UUID_STRING_LEN + 1];

    if (obj) {
        if (!g_str_equal(obj->def->name, def->name)) {
            sv_uuid_format(obj->def->uuid, uuid);
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                         "domain '%s' is already defined with uuid %s", obj->def->name, uuid);
            return NULL;
        }
        if (sv_domain_obj_is_active(obj)) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                         "domain '%s' is already active", obj->def->name);
            return NULL;
        }
        sv_domain_obj_run_on_live(obj, def);
        *ret_added = FALSE;
        return obj;
    }
    obj = sv_domain_list_find_by_name(list, def->name);
    if (obj) {
        sv_uuid_format(obj->def->uuid, uuid);
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                     "domain '%s' already exists with uuid %s", def->name, uuid);
        return NULL;
    }
    *ret_added = TRUE;
    return sv_domain_list_add(list, def, FALSE);
}

/* What prepare leaves when it fails or finish cancels: a domain it added goes, a defined one
 * keeps its own definition. */
static void
prepare_undo(QemuProcessContext *ctx, SvDomainObj *obj, gboolean added)
{
    if (sv_domain_obj_is_active(obj))
        return; /* QEMU's end removes it (qemu_migration.h) */
    if (added && !obj->persistent)
        sv_domain_list_remove(ctx->domains->list, obj);
    else
        sv_domain_obj_restore_def(obj);
}

/* libvirt's qemuMigrationDstPrepareDirect for an offline migration: the URI answered, with a
 * port of migration_port_min..max taken until finish (*ret_port), as libvirt takes one. */
static char *
prepare_uri(QemuProcessContext *ctx, const char *uri_in, guint *ret_port, GError **error)
{
    const char *host = g_get_host_name();
    guint port = 0;

    *ret_port = 0;
    if (uri_in)
        return NULL; /* the client's own: nothing to answer */
    if (g_str_has_prefix(host, "localhost")) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "hostname on destination resolved to localhost, but migration requires "
                     "an FQDN");
        return NULL;
    }
    if (!qemu_ports_acquire(ctx->migration_ports, &port, error))
        return NULL;
    *ret_port = port;
    return g_strdup_printf("tcp:%s:%u", host, port);
}

#define PREPARE_ACCEPT                                                                        \
    (SV_MIG_COOKIE_LOCKSTATE | SV_MIG_COOKIE_NBD | SV_MIG_COOKIE_MEMORY_HOTPLUG |             \
     SV_MIG_COOKIE_CPU_HOTPLUG | SV_MIG_COOKIE_CPU | SV_MIG_COOKIE_CAPS |                     \
     SV_MIG_COOKIE_BLOCK_DIRTY_BITMAPS)

/* The checks prepare makes before anything is added, and the definition. */
static SvDomainDef *
prepare_check(QemuProcessContext *ctx, const SvMigrationParams *p, guint flags,
              const char *fn, char **ret_origname, GError **error)
{
    if (!sv_migration_params_check_tuning(p, flags, error))
        return NULL;
    if (p->disks_uri && p->has_disks_port && p->disks_port) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "Both port and URI requested for disk migration while being mutually "
                     "exclusive");
        return NULL;
    }
    (void)fn;
    return prepare_def(ctx, p, ret_origname, error);
}

gboolean qemu_migrate_prepare_live(SvCall *call, SvDomainObj *obj, MigJob *job,
                                   const SvMigrationParams *p, SvMigrationCookie *in, int fd,
                                   GError **error);

/* What prepare and prepare_tunnel share: the checks, the domain added here, its job
 * (*ret_job). The domain, or NULL with error (nothing left behind). */
static SvDomainObj *
prepare_begin(QemuProcessContext *ctx, const SvMigrationParams *p, guint flags,
              const char *val, u_int len, const char *fn, SvMigrationCookie **ret_in,
              MigJob **ret_job, GError **error)
{
    g_autoptr(SvDomainDef) def = NULL;
    g_autofree char *origname = NULL;
    gboolean added = FALSE;
    SvDomainObj *obj;

    if (!(def = prepare_check(ctx, p, flags, fn, &origname, error)) ||
        !sv_migration_flags_check(SV_MIGRATION_CALL_PREPARE, flags, p, fn, error) ||
        !(*ret_in = mig_cookie_from_wire(ctx, val, len, PREPARE_ACCEPT,
                                         origname ? origname : def->name, def->uuid, NULL,
                                         error)) ||
        !(obj = prepare_add(ctx, g_steal_pointer(&def), &added, error)))
        return NULL;
    *ret_job = mig_job_begin(ctx, obj, TRUE, flags, MIG_PHASE_PREPARE, error);
    if (!*ret_job) {
        prepare_undo(ctx, obj, added);
        return NULL;
    }
    (*ret_job)->origname = g_strdup(origname ? origname : obj->def->name);
    (*ret_job)->added = added;
    return obj;
}

/* prepare (tunnel: prepare_tunnel) once the driver can read definitions: TRUE with *ret
 * filled (an offline prepare's answer), or with the call deferred (a live one's), or FALSE
 * with error. */
static gboolean
prepare_run(SvCall *call, QemuProcessContext *ctx, const SvMigrationParams *p, guint flags,
            const char *val, u_int len, gboolean tunnel,
            remote_domain_migrate_prepare3_params_ret *ret, GError **error)
{
    g_autoptr(SvMigrationCookie) in = NULL, out = NULL;
    g_autofree char *uri_out = NULL;
    const char *fn = tunnel ? "qemuDomainMigratePrepareTunnel3Params"
                            : "qemuDomainMigratePrepare3Params";
    guint port = 0;
    SvDomainObj *obj;
    MigJob *job = NULL;
    int fd;

    if ((flags & SV_MIGRATE_OFFLINE) && !(uri_out = prepare_uri(ctx, p->uri, &port, error)) &&
        !p->uri)
        return FALSE;
    obj = prepare_begin(ctx, p, flags, val, len, fn, &in, &job, error);
    if (!obj) {
        qemu_ports_release(ctx->migration_ports, port);
        return FALSE;
    }
    job->port = port;
    if (tunnel) {
        gboolean added = job->added;

        fd = mig_tunnel_in_new(call, error);
        if (fd < 0) {
            mig_job_end(ctx, job);
            prepare_undo(ctx, obj, added);
            return FALSE;
        }
        return qemu_migrate_prepare_live(call, obj, job, p, in, fd, error);
    }
    if (!(flags & SV_MIGRATE_OFFLINE))
        return qemu_migrate_prepare_live(call, obj, job, p, in, -1, error);
    out = mig_cookie_new(ctx, job->origname, obj->def->uuid);
    mig_cookie_to_wire(out, &ret->cookie_out.cookie_out_len, &ret->cookie_out.cookie_out_val);
    if (uri_out) {
        ret->uri_out = g_new0(char *, 1);
        *ret->uri_out = g_steal_pointer(&uri_out);
    }
    return TRUE;
}

/* A prepare that came while the driver could not read definitions yet (QEMU's probe, just
 * after a start), run once it can. */
typedef struct {
    SvCall *call;
    QemuProcessContext *ctx;
    SvMigrationParams *p;
    guint flags;
    GBytes *cookie;
    gboolean tunnel;
} PrepareLater;

static void
prepare_when_ready(const GError *failed, gpointer data)
{
    PrepareLater *w = data;
    remote_domain_migrate_prepare3_params_ret r = {0};
    GError *error = NULL;
    gsize len = 0;
    const char *val = g_bytes_get_data(w->cookie, &len);

    if (failed)
        sv_call_fail(w->call, g_error_copy(failed));
    else if (!prepare_run(w->call, w->ctx, w->p, w->flags, val, (u_int)len, w->tunnel, &r,
                          &error))
        sv_call_fail(w->call, error);
    else if (r.cookie_out.cookie_out_val)
        sv_call_reply(w->call, &r); /* offline: answered here; live: by the start's end */
    xdr_free((xdrproc_t)xdr_remote_domain_migrate_prepare3_params_ret, (char *)&r);
    sv_migration_params_free(w->p);
    g_bytes_unref(w->cookie);
    g_free(w);
}

/* Run prepare now, or once the driver can read definitions. */
static gboolean
prepare_now_or_later(SvCall *call, SvMigrationParams *p, guint flags, const char *val,
                     u_int len, gboolean tunnel, remote_domain_migrate_prepare3_params_ret *ret,
                     GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of_call(call);
    SvDomainDriver *drv = ctx->domains;
    PrepareLater *w;

    if (!drv->defs_ready || drv->defs_ready(drv))
        return prepare_run(call, ctx, p, flags, val, len, tunnel, ret, error);
    w = g_new0(PrepareLater, 1);
    w->call = sv_call_defer(call);
    w->ctx = ctx;
    w->p = g_memdup2(p, sizeof(*p));
    memset(p, 0, sizeof(*p)); /* its strings are the copy's now */
    w->flags = flags;
    w->cookie = g_bytes_new(val, len);
    w->tunnel = tunnel;
    drv->wait_defs_ready(drv, prepare_when_ready, w);
    return TRUE;
}

static gboolean
migrate_prepare3_params(SvCall *call, remote_domain_migrate_prepare3_params_args *a,
                        remote_domain_migrate_prepare3_params_ret *ret, GError **error)
{
    g_autoptr(SvMigrationParams) p = NULL;
    const char *fn = "qemuDomainMigratePrepare3Params";

    if (!sv_check_flags(a->flags, SV_DOMAIN_MIGRATE_FLAGS_ALL, SV_FROM_QEMU, fn, error) ||
        !(p = sv_migrate_params_from_wire(a->params.params_val, a->params.params_len, error)))
        return FALSE;
    if (a->flags & SV_MIGRATE_TUNNELLED) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "Tunnelled migration requested but invalid RPC method called");
        return FALSE;
    }
    return prepare_now_or_later(call, p, a->flags, a->cookie_in.cookie_in_val,
                                a->cookie_in.cookie_in_len, FALSE, ret, error);
}

/* PREPARE_TUNNEL3: as prepare, QEMU reading its incoming migration from a pipe the call's
 * stream fills; the answer has no URI. */
static gboolean
migrate_prepare_tunnel3_params(SvCall *call, remote_domain_migrate_prepare_tunnel3_params_args *a,
                               remote_domain_migrate_prepare_tunnel3_params_ret *ret,
                               GError **error)
{
    g_autoptr(SvMigrationParams) p = NULL;
    const char *fn = "qemuDomainMigratePrepareTunnel3Params";
    remote_domain_migrate_prepare3_params_ret unused = {0};

    (void)ret;
    if (!sv_check_flags(a->flags, SV_DOMAIN_MIGRATE_FLAGS_ALL, SV_FROM_QEMU, fn, error) ||
        !(p = sv_migrate_params_from_wire(a->params.params_val, a->params.params_len, error)))
        return FALSE;
    if (!(a->flags & SV_MIGRATE_TUNNELLED)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "PrepareTunnel called but no TUNNELLED flag set");
        return FALSE;
    }
    /* Always answered from the start's end (never offline: refused above). */
    return prepare_now_or_later(call, p, a->flags, a->cookie_in.cookie_in_val,
                                a->cookie_in.cookie_in_len, TRUE, &unused, error);
}

/* ---------------------------------------------------------------- finish */

/* A finish under way, until its domain is persistent (offline) or runs (live). */
typedef struct {
    SvCall *call;
    QemuProcessContext *ctx;
    char *key;
    SvMigrationCookie *cookie;
} FinishWait;

static void
finish_wait_free(FinishWait *w)
{
    g_free(w->key);
    sv_migration_cookie_free(w->cookie);
    g_free(w);
}

void
mig_finish_reply(SvCall *call, QemuProcessContext *ctx, SvDomainObj *obj)
{
    remote_domain_migrate_finish3_params_ret r = {0};
    g_autoptr(SvMigrationCookie) out = mig_cookie_new(ctx, obj->def->name, obj->def->uuid);

    sv_domain_obj_to_remote(obj, &r.dom);
    mig_cookie_to_wire(out, &r.cookie_out.cookie_out_len, &r.cookie_out.cookie_out_val);
    sv_call_reply(call, &r);
    g_free(r.dom.name);
    g_free(r.cookie_out.cookie_out_val);
}

static void
finish_offline_done(const GError *error, SvDomainObj *obj, gpointer data)
{
    FinishWait *w = data;
    MigJob *job = mig_job_by_key(w->ctx, w->key);

    if (job)
        mig_job_end(w->ctx, job);
    if (error)
        sv_call_fail(w->call, g_error_copy(error));
    else
        mig_finish_reply(w->call, w->ctx, obj);
    finish_wait_free(w);
}

/* Offline: the definition (the cookie's persistent one, else the one prepare received)
 * becomes this domain's persistent definition. */
static void
finish_offline(FinishWait *w, SvDomainObj *obj, MigJob *job)
{
    SvDomainDef *def = w->cookie->persistent;

    w->cookie->persistent = NULL;
    if (!def)
        def = sv_domain_def_copy(obj->def);
    if (job->live_def || !job->added)
        sv_domain_obj_restore_def(obj);
    sv_domain_driver_define_def(w->ctx->domains, def, finish_offline_done, w);
}

/* libvirt's answer to a finish told the migration was cancelled that went as asked:
 * MIGRATE_FINISH_OK, "migration successfully aborted". */
static void
finish_ok_error(GError **error)
{
    sv_error_set_literal(error, SV_FROM_QEMU, SV_ERR_MIGRATE_FINISH_OK,
                         "migration successfully aborted");
}

#define FINISH_ACCEPT                                                                         \
    (SV_MIG_COOKIE_NETWORK | SV_MIG_COOKIE_STATS | SV_MIG_COOKIE_NBD | SV_MIG_COOKIE_PERSISTENT)

gboolean qemu_migrate_finish_live(SvCall *call, SvDomainObj *obj, MigJob *job,
                                  SvMigrationCookie *in, gboolean cancelled, guint flags,
                                  GError **error);

static gboolean
migrate_finish3_params(SvCall *call, remote_domain_migrate_finish3_params_args *a,
                       remote_domain_migrate_finish3_params_ret *ret, GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of_call(call);
    g_autoptr(SvMigrationParams) p = NULL;
    g_autoptr(SvMigrationCookie) in = NULL;
    SvDomainObj *obj;
    MigJob *job;
    FinishWait *w;

    (void)ret;
    if (!sv_check_flags(a->flags, SV_DOMAIN_MIGRATE_FLAGS_ALL, SV_FROM_QEMU,
                        "qemuDomainMigrateFinish3Params", error) ||
        !(p = sv_migrate_params_from_wire(a->params.params_val, a->params.params_len, error)))
        return FALSE;
    if (!p->dest_name) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_NO_DOMAIN, "missing domain name");
        return FALSE;
    }
    obj = sv_domain_list_find_by_name(ctx->domains->list, p->dest_name);
    if (!obj) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_NO_DOMAIN, "no domain with matching name '%s'",
                     p->dest_name);
        return FALSE;
    }
    if (!(job = mig_job_get(ctx, obj, TRUE, error)) || !mig_job_phase(job, MIG_PHASE_FINISH3, error))
        return FALSE;
    qemu_ports_release(ctx->migration_ports, job->port);
    job->port = 0;
    if (!(a->flags & SV_MIGRATE_OFFLINE)) {
        /* libvirt reads the cookie first, also for a cancelled migration. */
        in = mig_cookie_from_wire(ctx, a->cookie_in.cookie_in_val, a->cookie_in.cookie_in_len,
                                  FINISH_ACCEPT, job->origname, obj->def->uuid, obj->def->name,
                                  NULL);
        return qemu_migrate_finish_live(call, obj, job, in, a->cancelled, a->flags, error);
    }
    if (a->cancelled) {
        prepare_undo(ctx, obj, job->added);
        mig_job_end(ctx, job);
        finish_ok_error(error);
        return FALSE;
    }
    in = mig_cookie_from_wire(ctx, a->cookie_in.cookie_in_val, a->cookie_in.cookie_in_len,
                              FINISH_ACCEPT, job->origname, obj->def->uuid, obj->def->name,
                              error);
    if (!in) {
        prepare_undo(ctx, obj, job->added);
        mig_job_end(ctx, job);
        return FALSE;
    }
    w = g_new0(FinishWait, 1);
    w->call = sv_call_defer(call);
    w->ctx = ctx;
    w->key = g_strdup(job->key);
    w->cookie = g_steal_pointer(&in);
    finish_offline(w, obj, job);
    return TRUE;
}

/* ---------------------------------------------------------------- confirm */

typedef struct {
    SvCall *call;
    QemuProcessContext *ctx;
    char *key;
    gboolean perform; /* the call is a peer-to-peer PERFORM3: its reply has a cookie */
} ConfirmWait;

static void
confirm_reply(SvCall *call, gboolean perform)
{
    remote_domain_migrate_perform3_params_ret r = {0};

    sv_call_reply(call, perform ? &r : NULL);
}

/* UNDEFINE_SOURCE's end: the definition is gone from disk; the domain is no longer
 * persistent, and an inactive one goes (libvirt sends no UNDEFINED event here). */
static void
forget_done(const GError *error, gpointer data)
{
    ConfirmWait *w = data;
    SvDomainObj *obj = mig_domain_find(w->ctx, w->key);

    if (error) {
        sv_call_fail(w->call, g_error_copy(error));
    } else {
        if (obj) {
            obj->persistent = FALSE;
            obj->autostart = FALSE;
            g_clear_pointer(&obj->new_def, sv_domain_def_free);
            if (!sv_domain_obj_is_active(obj))
                sv_domain_list_remove(w->ctx->domains->list, obj);
            else
                sv_domain_driver_save_status(w->ctx->domains, obj);
        }
        confirm_reply(w->call, w->perform);
    }
    g_free(w->key);
    g_free(w);
}

void
mig_confirm_end(SvCall *call, QemuProcessContext *ctx, SvDomainObj *obj, gboolean undefine,
                gboolean perform)
{
    ConfirmWait *w;

    if (undefine && obj->persistent) {
        w = g_new0(ConfirmWait, 1);
        w->call = sv_call_defer(call);
        w->ctx = ctx;
        w->key = key_of(obj);
        w->perform = perform;
        sv_domain_store_remove_async(ctx->domains->store, obj->def->name, forget_done, w);
        return;
    }
    if (!sv_domain_obj_is_active(obj) && !obj->persistent)
        sv_domain_list_remove(ctx->domains->list, obj);
    confirm_reply(sv_call_defer(call), perform);
}

static gboolean
migrate_confirm3_params(SvCall *call, remote_domain_migrate_confirm3_params_args *a,
                        GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of_call(call);
    g_autoptr(SvMigrationParams) p = NULL;
    g_autoptr(SvMigrationCookie) in = NULL;
    SvDomainObj *obj;
    MigJob *job;
    gboolean ok = !a->cancelled;

    if (!sv_check_flags(a->flags, SV_DOMAIN_MIGRATE_FLAGS_ALL, SV_FROM_QEMU,
                        "qemuDomainMigrateConfirm3Params", error) ||
        !(p = sv_migrate_params_from_wire(a->params.params_val, a->params.params_len, error)) ||
        !(obj = sv_domain_driver_lookup(ctx->domains, &a->dom, error)) ||
        !(job = mig_job_get(ctx, obj, FALSE, error)) ||
        !mig_job_phase(job, ok ? MIG_PHASE_CONFIRM3 : MIG_PHASE_CONFIRM3_CANCELLED, error))
        return FALSE;
    in = mig_cookie_from_wire(ctx, a->cookie_in.cookie_in_val, a->cookie_in.cookie_in_len,
                              SV_MIG_COOKIE_STATS, obj->def->name, obj->def->uuid, NULL, error);
    if (!in) {
        mig_job_end(ctx, job);
        return FALSE;
    }
    mig_job_end(ctx, job);
    if (!(a->flags & SV_MIGRATE_OFFLINE) && sv_domain_obj_is_active(obj)) {
        mig_confirm_qemu(call, ctx, obj, ok, a->flags, FALSE);
        return TRUE;
    }
    mig_confirm_end(call, ctx, obj, ok && (a->flags & SV_MIGRATE_UNDEFINE_SOURCE), FALSE);
    return TRUE;
}

/* A live migration's confirm on the source: QEMU ends (ok) or the guest goes on, and only
 * then is the call answered (libvirt's: a client sees the source shut off, or gone, when
 * the migration returns). */
typedef struct {
    SvCall *call;
    QemuProcessContext *ctx;
    char *key;
    gboolean undefine;
    gboolean perform;
} ConfirmQemu;

static void
confirm_qemu_done(GObject *source, GAsyncResult *res, gpointer data)
{
    ConfirmQemu *w = data;
    SvDomainObj *obj = mig_domain_find(w->ctx, w->key);

    (void)source;
    qemu_migration_outgoing_confirm_finish(res, NULL);
    if (obj) {
        mig_confirm_end(w->call, w->ctx, obj, w->undefine, w->perform);
    } else {
        remote_domain_migrate_perform3_params_ret r = {0};

        sv_call_reply(w->call, w->perform ? &r : NULL);
    }
    g_free(w->key);
    g_free(w);
}

void
mig_confirm_qemu(SvCall *call, QemuProcessContext *ctx, SvDomainObj *obj, gboolean ok,
                 guint flags, gboolean perform)
{
    ConfirmQemu *w = g_new0(ConfirmQemu, 1);

    w->call = sv_call_defer(call);
    w->ctx = ctx;
    w->key = key_of(obj);
    w->undefine = ok && (flags & SV_MIGRATE_UNDEFINE_SOURCE);
    w->perform = perform;
    qemu_migration_outgoing_confirm_async(obj, ok, flags, confirm_qemu_done, w);
}

/* ---------------------------------------------------------------- install */

void
qemu_migrate_install(QemuProcessContext *ctx, SvRemoteHandlers *h)
{
    (void)ctx;
    h->domain_migrate_begin3_params = migrate_begin3_params;
    h->domain_migrate_prepare3_params = migrate_prepare3_params;
    h->domain_migrate_prepare_tunnel3_params = migrate_prepare_tunnel3_params;
    h->domain_migrate_perform3_params = mig_perform3_params;
    h->domain_migrate_finish3_params = migrate_finish3_params;
    h->domain_migrate_confirm3_params = migrate_confirm3_params;
}
