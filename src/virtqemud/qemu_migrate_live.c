/* qemu_migrate_live.c: the destination's phases of a live migration (PREPARE3's QEMU
 * started incoming, FINISH3's end of it), on qemu_migration.h. */
#include "qemu_migrate_priv.h"

#include <string.h>

#include "domain/domain_driver.h"
#include "qemu_domain.h"
#include "qemu_migration.h"
#include "qemu_status.h"
#include "domain/domain_run.h"
#include "util/error.h"

gboolean qemu_migrate_prepare_live(SvCall *call, SvDomainObj *obj, MigJob *job,
                                   const SvMigrationParams *p, SvMigrationCookie *in, int fd,
                                   GError **error);
gboolean qemu_migrate_finish_live(SvCall *call, SvDomainObj *obj, MigJob *job,
                                  SvMigrationCookie *in, gboolean cancelled, guint flags,
                                  GError **error);

/* ---------------------------------------------------------------- prepare */

typedef struct {
    SvCall *call;
    QemuProcessContext *ctx;
    char *key;
    char *uri_in;       /* the client's URI, or NULL */
    gboolean well_formed;
    gboolean port_given; /* the client's URI names the port */
    gboolean nbd;       /* the source asked for the disks to be copied */
    gboolean tunnel;    /* PREPARE_TUNNEL3: no URI in the answer */
} PrepareWait;

static void
prepare_wait_free(PrepareWait *w)
{
    g_free(w->key);
    g_free(w->uri_in);
    g_free(w);
}

/* The URI prepare answers (libvirt's qemuMigrationDstPrepareDirect): ours with the port QEMU
 * listens on when the client gave none, the client's with that port when it gave none,
 * nothing when it gave both. */
static char *
answer_uri(const PrepareWait *w, guint port, gboolean port_given)
{
    if (!w->uri_in)
        return g_strdup_printf("tcp:%s:%u", g_get_host_name(), port);
    if (port_given)
        return NULL;
    return g_strdup_printf("%s:%u", w->uri_in, port);
}

static void
prepare_started(GObject *source, GAsyncResult *res, gpointer data)
{
    PrepareWait *w = data;
    SvDomainObj *obj = mig_domain_find(w->ctx, w->key);
    MigJob *job = mig_job_by_key(w->ctx, w->key);
    QemuIncoming in = {0};
    GError *error = NULL;
    remote_domain_migrate_prepare3_params_ret r = {0};
    g_autoptr(SvMigrationCookie) out = NULL;
    char *uri;

    (void)source;
    /* The start's own cause, also when it took the guest with it. */
    if (!qemu_migration_incoming_start_finish(obj, res, &in, &error) || !obj) {
        if (!error)
            sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "domain is not running");
        if (job)
            mig_job_end(w->ctx, job);
        if (obj && !sv_domain_obj_is_active(obj))
            sv_domain_obj_restore_def(obj);
        qemu_incoming_clear(&in);
        sv_call_fail(w->call, error);
        prepare_wait_free(w);
        return;
    }
    /* Until finish, the incoming guest goes with the connection that prepared it (libvirt's
     * AUTODESTROY of it): a source or client gone mid-way leaves nothing here. */
    sv_domain_run_of(obj)->autodestroy_client = sv_client_get_id(sv_call_get_client(w->call));
    qemu_status_save(obj);
    out = mig_cookie_new(w->ctx, job->origname, obj->def->uuid);
    if (w->nbd && in.nbd_port) {
        sv_migration_cookie_add_nbd(out, (int)in.nbd_port);
    }
    sv_migration_cookie_add_cap(out, "late-block-activate", TRUE);
    mig_cookie_to_wire(out, &r.cookie_out.cookie_out_len, &r.cookie_out.cookie_out_val);
    if (w->tunnel) {
        remote_domain_migrate_prepare_tunnel3_params_ret t = {{r.cookie_out.cookie_out_len,
                                                               r.cookie_out.cookie_out_val}};
        sv_call_reply(w->call, &t);
        g_free(r.cookie_out.cookie_out_val);
        qemu_incoming_clear(&in);
        prepare_wait_free(w);
        return;
    }
    uri = answer_uri(w, in.port, w->port_given);
    if (uri) {
        r.uri_out = g_new0(char *, 1);
        *r.uri_out = uri;
    }
    sv_call_reply(w->call, &r);
    g_free(r.cookie_out.cookie_out_val);
    if (r.uri_out)
        g_free(*r.uri_out);
    g_free(r.uri_out);
    qemu_incoming_clear(&in);
    prepare_wait_free(w);
}

/* The port in a client's URI ("tcp:HOST:PORT", "tcp://HOST:PORT"), 0 for none; FALSE with
 * libvirt's error for a URI it refuses. */
static gboolean
uri_port(const char *uri, guint *ret_port, gboolean *ret_well_formed, GError **error)
{
    g_autofree char *fixed = NULL;
    g_autoptr(GUri) parsed = NULL;
    const char *scheme;

    *ret_port = 0;
    *ret_well_formed = TRUE;
    if (g_str_has_prefix(uri, "tcp:") && !g_str_has_prefix(uri, "tcp://")) {
        fixed = g_strdup_printf("tcp://%s", uri + 4);
        *ret_well_formed = FALSE;
    }
    parsed = g_uri_parse(fixed ? fixed : uri, G_URI_FLAGS_NON_DNS, NULL);
    scheme = parsed ? g_uri_get_scheme(parsed) : NULL;
    if (!scheme) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "missing scheme in migration URI: %s",
                     uri);
        return FALSE;
    }
    if (!g_str_equal(scheme, "tcp") && !g_str_equal(scheme, "rdma") &&
        !g_str_equal(scheme, "unix")) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_ARGUMENT_UNSUPPORTED,
                     "unsupported scheme %s in migration URI %s", scheme, uri);
        return FALSE;
    }
    if (!g_uri_get_host(parsed) || !*g_uri_get_host(parsed)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "missing host in migration URI: %s",
                     uri);
        return FALSE;
    }
    if (g_uri_get_port(parsed) > 0)
        *ret_port = (guint)g_uri_get_port(parsed);
    return TRUE;
}

gboolean
qemu_migrate_prepare_live(SvCall *call, SvDomainObj *obj, MigJob *job,
                          const SvMigrationParams *p, SvMigrationCookie *in, int fd,
                          GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    QemuMigrationSpec spec = {.flags = job->flags, .tuning = &p->tuning, .fd = fd};
    PrepareWait *w = g_new0(PrepareWait, 1);
    gboolean well_formed = TRUE;
    guint port = 0;

    if (fd < 0 && p->uri && !uri_port(p->uri, &port, &well_formed, error)) {
        g_free(w);
        mig_job_end(ctx, job);
        sv_domain_obj_restore_def(obj);
        return FALSE;
    }
    if (fd < 0 && !p->uri && g_str_has_prefix(g_get_host_name(), "localhost")) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "hostname on destination resolved to localhost, but migration requires "
                     "an FQDN");
        g_free(w);
        mig_job_end(ctx, job);
        return FALSE;
    }
    w->call = sv_call_defer(call);
    w->ctx = ctx;
    w->key = g_strdup(job->key);
    w->uri_in = g_strdup(p->uri);
    w->well_formed = well_formed;
    w->port_given = port != 0;
    w->tunnel = fd >= 0;
    w->nbd = (in->flags & SV_MIG_COOKIE_NBD) &&
             (job->flags & (SV_MIGRATE_NON_SHARED_DISK | SV_MIGRATE_NON_SHARED_INC));
    spec.listen_address = p->listen_address;
    spec.port = port;
    spec.nbd_port = p->has_disks_port ? (guint)p->disks_port : 0;
    spec.disks = (const char *const *)p->migrate_disks;
    qemu_migration_incoming_start(obj, &spec, prepare_started, w);
    return TRUE;
}

/* ---------------------------------------------------------------- finish */

typedef struct {
    SvCall *call;
    QemuProcessContext *ctx;
    char *key;
    gboolean cancelled;
    guint flags;
    SvDomainDef *persist; /* PERSIST_DEST's definition, written once QEMU runs */
} FinishLive;

static void
finish_live_free(FinishLive *w)
{
    g_free(w->key);
    sv_domain_def_free(w->persist);
    g_free(w);
}

static void
finish_done(GObject *source, GAsyncResult *res, gpointer data)
{
    FinishLive *w = data;
    SvDomainObj *obj = mig_domain_find(w->ctx, w->key);
    MigJob *job = mig_job_by_key(w->ctx, w->key);
    GError *error = NULL;
    gboolean ok;

    (void)source;
    ok = obj && qemu_migration_incoming_finish_finish(obj, res, &error);
    if (job)
        mig_job_end(w->ctx, job);
    obj = mig_domain_find(w->ctx, w->key);
    if (!ok || w->cancelled || !obj) {
        if (!error && w->cancelled)
            sv_error_set_literal(&error, SV_FROM_QEMU, SV_ERR_MIGRATE_FINISH_OK,
                                 "migration successfully aborted");
        else if (!error)
            sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "guest unexpectedly quit");
        sv_call_fail(w->call, error);
    } else {
        mig_finish_reply(w->call, w->ctx, obj);
    }
    finish_live_free(w);
}

/* PERSIST_DEST's definition is on disk (DEFINED), as libvirt's finish writes it before the
 * guest resumes; then QEMU's end of the migration. */
static void
finish_persisted(const GError *error, SvDomainObj *obj, gpointer data)
{
    FinishLive *w = data;

    /* libvirt goes on when the definition could not be kept, reporting the guest as
     * migrated (the v3 protocol's source would otherwise run it too): only logged. */
    if (error)
        g_warning("migration of %s: its definition could not be saved: %s", w->key,
                  error->message);
    obj = mig_domain_find(w->ctx, w->key);
    if (!obj) {
        sv_call_fail(w->call, g_error_new_literal(sv_error_quark(SV_FROM_QEMU),
                                                  SV_ERR_INTERNAL_ERROR, "guest unexpectedly quit"));
        finish_live_free(w);
        return;
    }
    qemu_migration_incoming_finish(obj, TRUE, w->flags, finish_done, w);
}

gboolean
qemu_migrate_finish_live(SvCall *call, SvDomainObj *obj, MigJob *job, SvMigrationCookie *in,
                         gboolean cancelled, guint flags, GError **error)
{
    FinishLive *w = g_new0(FinishLive, 1);

    /* The guest is finish's now: no longer its preparing connection's. */
    if (obj->priv && !cancelled)
        sv_domain_run_of(obj)->autodestroy_client = 0;
    (void)error;
    w->call = sv_call_defer(call);
    w->ctx = qemu_ctx_of(obj);
    w->key = g_strdup(job->key);
    w->cancelled = cancelled;
    w->flags = flags;
    if (in && !cancelled)
        qemu_migration_incoming_source_stats(obj, in->stats);
    if ((flags & SV_MIGRATE_PERSIST_DEST) && !cancelled) {
        SvDomainDef *def = in && in->persistent
                               ? g_steal_pointer(&in->persistent)
                               : sv_domain_def_copy(obj->new_def ? obj->new_def : obj->def);

        sv_domain_driver_define_def(w->ctx->domains, def, finish_persisted, w);
        return TRUE;
    }
    qemu_migration_incoming_finish(obj, !cancelled, flags, finish_done, w);
    return TRUE;
}
