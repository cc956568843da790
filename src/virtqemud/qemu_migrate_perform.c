/* qemu_migrate_perform.c: PERFORM3 on the source: QEMU sends the guest to the URI the
 * destination's prepare answered (a migration managed by the client), or, peer-to-peer,
 * this daemon opens the destination's daemon itself (programs/remote_uri.h) and drives its
 * PREPARE3 and FINISH3 around its own perform, then confirms here (libvirt's
 * qemuMigrationSrcPerformPeer2Peer3). */
#include "qemu_migrate_priv.h"

#include <errno.h>
#include <string.h>

#include "domain/domain_driver.h"
#include "domain/domain_migrate_params.h"
#include "programs/remote_uri.h"
#include "qemu_domain.h"
#include "qemu_migration.h"
#include "qemu_migration_qmp.h"
#include "qemu_monitor.h"
#include "util/error.h"

/* The migration URI for QEMU ("tcp:HOST:PORT", an IPv6 host in brackets) from the one the
 * destination answered ("tcp:HOST:PORT" or "tcp://HOST:PORT"); *ret_host its host. */
static char *
qemu_uri(const char *uri, char **ret_host, GError **error)
{
    g_autofree char *fixed = NULL;
    g_autoptr(GUri) parsed = NULL;
    const char *host;

    if (g_str_has_prefix(uri, "tcp:") && !g_str_has_prefix(uri, "tcp://"))
        fixed = g_strdup_printf("tcp://%s", uri + 4);
    parsed = g_uri_parse(fixed ? fixed : uri, G_URI_FLAGS_NON_DNS, NULL);
    if (!parsed || !g_uri_get_scheme(parsed)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "missing scheme in migration URI: %s",
                     uri);
        return NULL;
    }
    if (!g_str_equal(g_uri_get_scheme(parsed), "tcp")) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_ARGUMENT_UNSUPPORTED,
                     "unsupported scheme %s in migration URI %s", g_uri_get_scheme(parsed), uri);
        return NULL;
    }
    host = g_uri_get_host(parsed);
    if (!host || !*host || g_uri_get_port(parsed) <= 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "missing host in migration URI: %s",
                     uri);
        return NULL;
    }
    *ret_host = g_strdup(host);
    return g_strdup_printf(strchr(host, ':') ? "tcp:[%s]:%d" : "tcp:%s:%d", host,
                           g_uri_get_port(parsed));
}

/* The cookie perform sends on: the persistent definition (PERSIST_DEST: PERSIST_XML's, the
 * one defined meanwhile, or the running one) and the job's figures. */
static SvMigrationCookie *
perform_cookie(QemuProcessContext *ctx, SvDomainObj *obj, const char *persist_xml, guint flags,
               const QemuMigrationStats *st, GError **error)
{
    g_autoptr(SvMigrationCookie) c = mig_cookie_new(ctx, obj->def->name, obj->def->uuid);
    SvMigCookieStats s = {0};

    if (flags & SV_MIGRATE_PERSIST_DEST) {
        SvDomainDef *def = persist_xml
                               ? sv_domain_def_parse(persist_xml, SV_DOMAIN_PARSE_INACTIVE, error)
                               : sv_domain_def_copy(obj->new_def ? obj->new_def : obj->def);
        if (!def)
            return NULL;
        sv_migration_cookie_add_persistent(c, def);
    }
    if (st) {
        qemu_migration_stats_to_cookie(st, &s);
        sv_migration_cookie_add_stats(c, &s);
    }
    return g_steal_pointer(&c);
}

/* ---------------------------------------------------------------- native perform */

/* A perform under way: the client's call (managed) or the peer-to-peer driver's step. */
typedef struct Perform Perform;
typedef void (*PerformDone)(Perform *pf, SvDomainObj *obj, SvMigrationCookie *out,
                            GError *error);

struct Perform {
    QemuProcessContext *ctx;
    char *key;
    guint flags;
    SvMigrationParams *p;
    SvCall *call;           /* managed: the PERFORM3 to answer */
    PerformDone done;
    gpointer data;
};

static void
perform_free(Perform *pf)
{
    g_free(pf->key);
    sv_migration_params_free(pf->p);
    g_free(pf);
}

static void
perform_ran(GObject *source, GAsyncResult *res, gpointer data)
{
    Perform *pf = data;
    SvDomainObj *obj = mig_domain_find(pf->ctx, pf->key);
    QemuMigrationStats st = {0};
    GError *error = NULL;
    SvMigrationCookie *out = NULL;

    (void)source;
    if (!obj) {
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "domain is not running");
    } else if (qemu_migration_outgoing_run_finish(obj, res, &st, &error)) {
        out = perform_cookie(pf->ctx, obj, pf->p->persist_xml, pf->flags, &st, &error);
    }
    qemu_migration_stats_clear(&st);
    pf->done(pf, obj, out, error);
}

/* QEMU sends obj to uri; pf->done runs with the cookie to send on, or the error. */
static gboolean
perform_native(Perform *pf, SvDomainObj *obj, const char *uri, const SvMigrationCookie *in,
               int fd, GError **error)
{
    QemuMigrationSpec spec = {.flags = pf->flags, .tuning = &pf->p->tuning, .fd = fd};
    g_autofree char *host = NULL;
    g_autofree char *quri = NULL;

    if (fd >= 0) {
        /* Tunnelled: QEMU writes into the pipe the stream carries. */
        spec.disks = (const char *const *)pf->p->migrate_disks;
        qemu_migration_outgoing_run(obj, &spec, perform_ran, pf);
        return TRUE;
    }
    if (!uri) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "domainMigratePrepare3 did not set uri");
        return FALSE;
    }
    quri = qemu_uri(uri, &host, error);
    if (!quri)
        return FALSE;
    spec.uri = quri;
    if ((pf->flags & (SV_MIGRATE_NON_SHARED_DISK | SV_MIGRATE_NON_SHARED_INC)) &&
        (in->flags & SV_MIG_COOKIE_NBD)) {
        spec.nbd_host = host;
        spec.nbd_server_port = (guint)in->nbd_port;
    }
    spec.tls_hostname = pf->p->tls_destination;
    spec.disks = (const char *const *)pf->p->migrate_disks;
    qemu_migration_outgoing_run(obj, &spec, perform_ran, pf);
    return TRUE;
}

/* ---------------------------------------------------------------- managed */

#define PERFORM_ACCEPT                                                                        \
    (SV_MIG_COOKIE_GRAPHICS | SV_MIG_COOKIE_NBD | SV_MIG_COOKIE_CAPS |                        \
     SV_MIG_COOKIE_BLOCK_DIRTY_BITMAPS)

static void
managed_done(Perform *pf, SvDomainObj *obj, SvMigrationCookie *out, GError *error)
{
    MigJob *job = mig_job_by_key(pf->ctx, pf->key);
    remote_domain_migrate_perform3_params_ret r = {0};

    if (!error && job)
        mig_job_phase(job, MIG_PHASE_PERFORM3_DONE, &error);
    if (error) {
        /* libvirt's perform puts a guest that was running back to running; the client
         * does not confirm a perform that failed. */
        if (obj && sv_domain_obj_is_active(obj))
            qemu_migration_outgoing_confirm(obj, FALSE, pf->flags);
        if (job)
            mig_job_end(pf->ctx, job);
        sv_call_fail(pf->call, error);
    } else {
        mig_cookie_to_wire(out, &r.cookie_out.cookie_out_len, &r.cookie_out.cookie_out_val);
        sv_call_reply(pf->call, &r);
        g_free(r.cookie_out.cookie_out_val);
    }
    sv_migration_cookie_free(out);
    perform_free(pf);
}

static gboolean
perform_managed(SvCall *call, SvDomainObj *obj, SvMigrationParams *p,
                remote_domain_migrate_perform3_params_args *a, GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    g_autoptr(SvMigrationCookie) in = NULL;
    MigJob *job;
    Perform *pf;

    if (a->dconnuri && *a->dconnuri) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "Unexpected dconnuri parameter with non-peer2peer migration");
        return FALSE;
    }
    job = (a->flags & SV_MIGRATE_CHANGE_PROTECTION)
              ? mig_job_get(ctx, obj, FALSE, error)
              : mig_job_begin(ctx, obj, FALSE, a->flags, MIG_PHASE_PERFORM3, error);
    if (!job || !mig_job_phase(job, MIG_PHASE_PERFORM3, error))
        return FALSE;
    if (!sv_domain_driver_check_active(obj, error) ||
        !(in = mig_cookie_from_wire(ctx, a->cookie_in.cookie_in_val, a->cookie_in.cookie_in_len,
                                    PERFORM_ACCEPT, obj->def->name, obj->def->uuid, NULL,
                                    error))) {
        mig_job_end(ctx, job);
        return FALSE;
    }
    pf = g_new0(Perform, 1);
    pf->ctx = ctx;
    pf->key = g_strdup(job->key);
    pf->flags = a->flags;
    pf->p = p;
    pf->done = managed_done;
    if (!perform_native(pf, obj, p->uri, in, -1, error)) {
        pf->p = NULL;
        perform_free(pf);
        mig_job_end(ctx, job);
        return FALSE;
    }
    pf->call = sv_call_defer(call);
    return TRUE;
}

/* ---------------------------------------------------------------- entry */

gboolean mig_perform_p2p(SvCall *call, SvDomainObj *obj, SvMigrationParams *p,
                         const char *dconnuri, guint flags, GError **error);

gboolean
mig_perform3_params(SvCall *call, remote_domain_migrate_perform3_params_args *a,
                    remote_domain_migrate_perform3_params_ret *ret, GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of_call(call);
    const char *fn = "qemuDomainMigratePerform3Params";
    g_autoptr(SvMigrationParams) p = NULL;
    SvDomainObj *obj;

    (void)ret;
    if (!sv_check_flags(a->flags, SV_DOMAIN_MIGRATE_FLAGS_ALL, SV_FROM_QEMU, fn, error) ||
        !(p = sv_migrate_params_from_wire(a->params.params_val, a->params.params_len, error)) ||
        !(obj = sv_domain_driver_lookup(ctx->domains, &a->dom, error)) ||
        !sv_migration_params_check_tuning(p, a->flags, error))
        return FALSE;
    if (p->disks_uri && p->has_disks_port && p->disks_port) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "Both port and URI requested for disk migration while being mutually "
                     "exclusive");
        return FALSE;
    }
    if (a->flags & (SV_MIGRATE_PEER2PEER | SV_MIGRATE_TUNNELLED)) {
        if (a->cookie_in.cookie_in_len) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                         "received unexpected cookie with P2P migration");
            return FALSE;
        }
        return mig_perform_p2p(call, obj, g_steal_pointer(&p),
                               a->dconnuri ? *a->dconnuri : NULL, a->flags, error);
    }
    if (!perform_managed(call, obj, p, a, error))
        return FALSE;
    p = NULL; /* the perform's now */
    return TRUE;
}

/* ---------------------------------------------------------------- peer-to-peer */

typedef struct {
    Perform pf;             /* first: the perform's completion finds the whole */
    SvCall *call;
    SvRpcConn *conn;
    SvDomainObj *obj;       /* valid only until the next asynchronous step */
    int feature;            /* the feature asked last */
    guint flags;            /* the source's, PAUSED added for a paused guest */
    guint destflags;        /* the destination's */
    SvMigrationParams *dest; /* what prepare and finish are given */
    SvMigrationCookie *cookie; /* the last cookie received */
    char *cookie_out;       /* the next one to send (wire form) */
    u_int cookie_out_len;
    gboolean cancelled;
    GError *error;          /* the first error, reported in the end */
    MigTunnelOut *tunnel;   /* TUNNELLED: the stream of the destination's prepare */
    gboolean closed;        /* the connection to the destination is gone */
    gboolean performing;    /* QEMU is sending */
} P2P;

static void
p2p_free(P2P *x)
{
    mig_tunnel_out_free(x->tunnel);
    if (x->conn)
        sv_rpc_conn_free(x->conn);
    sv_migration_params_free(x->dest);
    sv_migration_cookie_free(x->cookie);
    g_free(x->cookie_out);
    g_clear_error(&x->error);
    g_free(x->pf.key);
    sv_migration_params_free(x->pf.p);
    g_free(x);
}

static void p2p_finish(P2P *x);

/* The end: the job ends, the call is answered (after UNDEFINE_SOURCE's removal). */
static void
p2p_end(P2P *x)
{
    QemuProcessContext *ctx = x->pf.ctx;
    SvDomainObj *obj = mig_domain_find(ctx, x->pf.key);
    MigJob *job = mig_job_by_key(ctx, x->pf.key);

    if (job)
        mig_job_end(ctx, job);
    if (x->error || !obj) {
        sv_call_fail(x->call, x->error ? g_steal_pointer(&x->error)
                                       : g_error_new_literal(sv_error_quark(SV_FROM_QEMU),
                                                             SV_ERR_OPERATION_FAILED,
                                                             "domain is not running"));
    } else {
        mig_confirm_end(x->call, ctx, obj, (x->flags & SV_MIGRATE_UNDEFINE_SOURCE) != 0, TRUE);
    }
    p2p_free(x);
}

/* Keep the first error. */
static void
p2p_error(P2P *x, const GError *error)
{
    if (!x->error && error)
        x->error = g_error_copy(error);
}

/* libvirt's confirm step, run by the source itself: the guest's QEMU ends (the destination
 * runs it) or runs on here. */
static void
p2p_confirm(P2P *x)
{
    QemuProcessContext *ctx = x->pf.ctx;
    SvDomainObj *obj = mig_domain_find(ctx, x->pf.key);
    MigJob *job = mig_job_by_key(ctx, x->pf.key);

    if (job) {
        mig_job_phase(job, x->cancelled ? MIG_PHASE_CONFIRM3_CANCELLED : MIG_PHASE_CONFIRM3,
                      NULL);
    }
    if (!obj || (x->flags & SV_MIGRATE_OFFLINE) || !sv_domain_obj_is_active(obj) || x->error) {
        if (obj && x->error && sv_domain_obj_is_active(obj))
            qemu_migration_outgoing_confirm(obj, FALSE, x->flags);
        p2p_end(x);
        return;
    }
    /* The guest's QEMU ends (the destination runs it) or runs on here; the perform is
     * answered once that is done. */
    if (job)
        mig_job_end(ctx, job);
    mig_confirm_qemu(x->call, ctx, obj, !x->cancelled, x->flags, TRUE);
    x->call = NULL;
    p2p_free(x);
}

/* libvirt's error when the destination's connection goes during a migration. */
/* The move failed for the connection's loss (the error reported), and QEMU's sending
 * to the destination is cancelled: the guest runs on here. */
static void
lost_connection(P2P *x)
{
    GError *e = NULL;
    SvDomainObj *obj;

    sv_error_set(&e, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "Lost connection to destination host");
    p2p_error(x, e);
    obj = mig_domain_find(x->pf.ctx, x->pf.key);
    if (obj && sv_domain_obj_is_active(obj))
        qemu_migration_outgoing_cancel(obj, e);
    g_error_free(e);
}

static void
p2p_call(P2P *x, int proc, xdrproc_t filter, void *args, SvRpcReplyFunc cb)
{
    SvHeader h = {0};

    if (x->closed) {
        GError *e = NULL;

        sv_error_set_errno(&e, SV_FROM_RPC, EIO, "End of file while reading data");
        cb(x->conn, &h, NULL, 0, e, x);
        g_error_free(e);
        return;
    }
    sv_rpc_conn_call(x->conn, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, proc, filter, args, cb, x);
}

/* The destination's connection broke (its daemon gone, the network cut and keepalive given
 * up): calls waiting fail by themselves; QEMU sending to it is cancelled, as libvirt's
 * source does, so the guest runs on here. */
static void
p2p_closed(SvRpcConn *conn, gpointer user)
{
    P2P *x = user;

    (void)conn;
    x->closed = TRUE;
    if (x->performing)
        lost_connection(x);
}

static void
finish_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
             const GError *error, gpointer data)
{
    P2P *x = data;
    remote_domain_migrate_finish3_params_ret r = {0};
    GError *local = NULL;

    (void)conn;
    (void)h;
    if (error || !sv_xdr_decode(payload, len, (xdrproc_t)xdr_remote_domain_migrate_finish3_params_ret,
                                &r, &local)) {
        /* The destination could not run the guest: it runs on here. An error of the perform
         * before stays the one reported. */
        p2p_error(x, error ? error : local);
        g_clear_error(&local);
        x->cancelled = TRUE;
    } else {
        xdr_free((xdrproc_t)xdr_remote_domain_migrate_finish3_params_ret, (char *)&r);
        x->cancelled = FALSE;
    }
    p2p_confirm(x);
}

static void
p2p_finish(P2P *x)
{
    g_autoptr(GArray) wire = NULL;
    remote_domain_migrate_finish3_params_args a = {0};

    if (x->closed) {
        lost_connection(x);
        x->cancelled = TRUE;
        p2p_confirm(x);
        return;
    }
    if (!x->dest->dest_name)
        x->dest->dest_name = g_strdup(x->pf.p->dest_name ? x->pf.p->dest_name : x->obj->def->name);
    wire = sv_migrate_params_to_wire(x->dest);
    a.params.params_len = wire->len;
    a.params.params_val = (remote_typed_param *)wire->data;
    a.cookie_in.cookie_in_len = x->cookie_out_len;
    a.cookie_in.cookie_in_val = x->cookie_out;
    a.flags = x->destflags;
    a.cancelled = x->cancelled;
    p2p_call(x, REMOTE_PROC_DOMAIN_MIGRATE_FINISH3_PARAMS,
             (xdrproc_t)xdr_remote_domain_migrate_finish3_params_args, &a, finish_reply);
    sv_migrate_params_wire_free(g_steal_pointer(&wire));
}

static gboolean
tunnel_sent(gpointer data)
{
    P2P *x = data;

    x->obj = mig_domain_find(x->pf.ctx, x->pf.key);
    if (!x->obj)
        p2p_end(x);
    else
        p2p_finish(x);
    return G_SOURCE_REMOVE;
}

static void
p2p_performed(Perform *pf, SvDomainObj *obj, SvMigrationCookie *out, GError *error)
{
    P2P *x = (P2P *)pf;
    MigJob *job = mig_job_by_key(pf->ctx, pf->key);

    x->performing = FALSE;
    g_clear_pointer(&x->cookie_out, g_free);
    x->cookie_out_len = 0;
    if (error) {
        p2p_error(x, error);
        g_error_free(error);
        x->cancelled = TRUE;
    } else {
        if (job)
            mig_job_phase(job, MIG_PHASE_PERFORM3_DONE, NULL);
        mig_cookie_to_wire(out, &x->cookie_out_len, &x->cookie_out);
        x->cancelled = FALSE;
    }
    sv_migration_cookie_free(out);
    if (!obj) {
        p2p_end(x);
        return;
    }
    x->obj = obj;
    if (x->tunnel && x->cancelled)
        g_clear_pointer(&x->tunnel, mig_tunnel_out_free);
    /* Everything QEMU wrote goes out on the stream before finish is asked. */
    if (x->tunnel && mig_tunnel_out_when_sent(x->tunnel, tunnel_sent, x))
        return;
    p2p_finish(x);
}

/* The destination's prepare answered (error: it failed; nothing was started there, the
 * guest simply stays): offline, finish at once; live, QEMU sends (tunnelled: into the
 * stream the answer opened on the call's serial). */
static void
p2p_prepared(P2P *x, SvRpcConn *conn, guint32 serial, const char *cookie, u_int len,
             const char *uri_out, const GError *error)
{
    QemuProcessContext *ctx = x->pf.ctx;
    SvDomainObj *obj = mig_domain_find(ctx, x->pf.key);
    MigJob *job = mig_job_by_key(ctx, x->pf.key);
    GError *local = NULL;
    int qemu_fd = -1;

    if (error || !obj || !job) {
        p2p_error(x, error);
        p2p_end(x);
        return;
    }
    x->obj = obj;
    if (uri_out) {
        g_free(x->dest->uri);
        x->dest->uri = g_strdup(uri_out);
    }
    if (x->flags & SV_MIGRATE_OFFLINE) {
        /* No perform: finish gets no cookie, as libvirt's. */
        g_clear_pointer(&x->cookie_out, g_free);
        x->cookie_out_len = 0;
        x->cancelled = FALSE;
        p2p_finish(x);
        return;
    }
    x->cookie = mig_cookie_from_wire(ctx, cookie, len, PERFORM_ACCEPT, obj->def->name,
                                     obj->def->uuid, NULL, &local);
    if (!x->cookie || !mig_job_phase(job, MIG_PHASE_PERFORM3, &local) ||
        ((x->flags & SV_MIGRATE_TUNNELLED) &&
         !(x->tunnel = mig_tunnel_out_new(conn, serial, &qemu_fd, &local))) ||
        !(x->performing = perform_native(&x->pf, obj, x->dest->uri, x->cookie, qemu_fd,
                                         &local))) {
        p2p_error(x, local);
        g_clear_error(&local);
        x->cancelled = TRUE;
        p2p_finish(x);
    }
}

static void
prepare_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
              const GError *error, gpointer data)
{
    remote_domain_migrate_prepare3_params_ret r = {0};
    GError *local = NULL;

    if (!error && sv_xdr_decode(payload, len,
                                (xdrproc_t)xdr_remote_domain_migrate_prepare3_params_ret, &r,
                                &local))
        p2p_prepared(data, conn, h->serial, r.cookie_out.cookie_out_val,
                     r.cookie_out.cookie_out_len, r.uri_out ? *r.uri_out : NULL, NULL);
    else
        p2p_prepared(data, conn, h->serial, NULL, 0, NULL, error ? error : local);
    g_clear_error(&local);
    xdr_free((xdrproc_t)xdr_remote_domain_migrate_prepare3_params_ret, (char *)&r);
}

static void
prepare_tunnel_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
                     const GError *error, gpointer data)
{
    remote_domain_migrate_prepare_tunnel3_params_ret r = {0};
    GError *local = NULL;

    if (!error && sv_xdr_decode(payload, len,
                                (xdrproc_t)xdr_remote_domain_migrate_prepare_tunnel3_params_ret,
                                &r, &local))
        p2p_prepared(data, conn, h->serial, r.cookie_out.cookie_out_val,
                     r.cookie_out.cookie_out_len, NULL, NULL);
    else
        p2p_prepared(data, conn, h->serial, NULL, 0, NULL, error ? error : local);
    g_clear_error(&local);
    xdr_free((xdrproc_t)xdr_remote_domain_migrate_prepare_tunnel3_params_ret, (char *)&r);
}

/* libvirt's begin on the source, then the destination's prepare. */
static void
p2p_prepare(P2P *x)
{
    QemuProcessContext *ctx = x->pf.ctx;
    SvDomainObj *obj = mig_domain_find(ctx, x->pf.key);
    MigJob *job = mig_job_by_key(ctx, x->pf.key);
    g_autoptr(SvMigrationCookie) cookie = NULL;
    remote_domain_migrate_prepare3_params_args a = {0};
    GError *error = NULL;
    GArray *wire;
    char *xml;

    if (!obj || !job || !mig_job_phase(job, MIG_PHASE_BEGIN3, &error) ||
        !(xml = mig_begin_phase(ctx, obj, x->pf.p, x->flags, &cookie, &error))) {
        p2p_error(x, error);
        g_clear_error(&error);
        p2p_end(x);
        return;
    }
    g_free(x->dest->dest_xml);
    x->dest->dest_xml = xml;
    if (obj->state == SV_DOMAIN_PAUSED)
        x->flags |= SV_MIGRATE_PAUSED;
    x->destflags = x->flags & ~(SV_MIGRATE_ABORT_ON_ERROR | SV_MIGRATE_AUTO_CONVERGE);
    mig_cookie_to_wire(cookie, &x->cookie_out_len, &x->cookie_out);
    wire = sv_migrate_params_to_wire(x->dest);
    a.params.params_len = wire->len;
    a.params.params_val = (remote_typed_param *)wire->data;
    a.cookie_in.cookie_in_len = x->cookie_out_len;
    a.cookie_in.cookie_in_val = x->cookie_out;
    a.flags = x->destflags;
    /* Both calls' arguments have the same layout. */
    G_STATIC_ASSERT(sizeof(remote_domain_migrate_prepare3_params_args) ==
                    sizeof(remote_domain_migrate_prepare_tunnel3_params_args));
    if (x->flags & SV_MIGRATE_TUNNELLED)
        p2p_call(x, REMOTE_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS,
                 (xdrproc_t)xdr_remote_domain_migrate_prepare_tunnel3_params_args, &a,
                 prepare_tunnel_reply);
    else
        p2p_call(x, REMOTE_PROC_DOMAIN_MIGRATE_PREPARE3_PARAMS,
                 (xdrproc_t)xdr_remote_domain_migrate_prepare3_params_args, &a, prepare_reply);
    sv_migrate_params_wire_free(wire);
}

static void p2p_features(P2P *x);

static void
feature_reply(SvRpcConn *conn, const SvHeader *h, const guint8 *payload, gsize len,
              const GError *error, gpointer data)
{
    P2P *x = data;
    remote_connect_supports_feature_ret r = {0};
    GError *local = NULL;

    (void)conn;
    (void)h;
    if (error || !sv_xdr_decode(payload, len, (xdrproc_t)xdr_remote_connect_supports_feature_ret,
                                &r, &local)) {
        p2p_error(x, error ? error : local);
        g_clear_error(&local);
        p2p_end(x);
        return;
    }
    if (!r.supported && x->feature == SV_DRV_FEATURE_MIGRATION_P2P) {
        sv_error_set(&local, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "Destination libvirt does not support peer-to-peer migration protocol");
    } else if (!r.supported && x->feature == SV_DRV_FEATURE_MIGRATION_OFFLINE) {
        sv_error_set(&local, SV_FROM_QEMU, SV_ERR_ARGUMENT_UNSUPPORTED,
                     "offline migration is not supported by the destination host");
    } else if (!r.supported) {
        sv_error_set(&local, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "the destination does not support migration with parameters");
    }
    if (local) {
        p2p_error(x, local);
        g_error_free(local);
        p2p_end(x);
        return;
    }
    p2p_features(x);
}

/* What libvirt asks the destination first, in its order: P2P, V3, PARAMS (and OFFLINE for
 * an offline migration); then the begin. */
static void
p2p_features(P2P *x)
{
    static const int order[] = {SV_DRV_FEATURE_MIGRATION_P2P, SV_DRV_FEATURE_MIGRATION_V3,
                                SV_DRV_FEATURE_MIGRATION_PARAMS,
                                SV_DRV_FEATURE_MIGRATION_OFFLINE, 0};
    remote_connect_supports_feature_args a = {0};
    guint i = 0;

    while (x->feature && order[i] && order[i] != x->feature)
        i++;
    if (x->feature)
        i++;
    if (order[i] == SV_DRV_FEATURE_MIGRATION_OFFLINE && !(x->flags & SV_MIGRATE_OFFLINE))
        i++;
    x->feature = order[i];
    if (!x->feature) {
        p2p_prepare(x);
        return;
    }
    a.feature = x->feature;
    p2p_call(x, REMOTE_PROC_CONNECT_SUPPORTS_FEATURE,
             (xdrproc_t)xdr_remote_connect_supports_feature_args, &a, feature_reply);
}

static void
p2p_opened(GObject *source, GAsyncResult *res, gpointer data)
{
    P2P *x = data;
    GError *error = NULL;

    (void)source;
    static const SvRpcConnCallbacks cbs = {.closed = p2p_closed};

    x->conn = sv_remote_uri_open_finish(res, &error);
    if (!x->conn) {
        p2p_error(x, error);
        g_error_free(error);
        p2p_end(x);
        return;
    }
    sv_rpc_conn_set_callbacks(x->conn, &cbs, x);
    p2p_features(x);
}

/* What the destination's prepare and finish are given (libvirt's list for them): the
 * client's parameters but those only the source uses. */
static SvMigrationParams *
dest_params(const SvMigrationParams *p)
{
    SvMigrationParams *d = sv_migration_params_new();

    d->dest_name = g_strdup(p->dest_name);
    d->uri = g_strdup(p->uri);
    d->graphics_uri = g_strdup(p->graphics_uri);
    d->listen_address = g_strdup(p->listen_address);
    d->disks_uri = g_strdup(p->disks_uri);
    d->migrate_disks = g_strdupv(p->migrate_disks);
    d->has_disks_port = p->has_disks_port && p->disks_port;
    d->disks_port = p->disks_port;
    d->tuning.has_bandwidth = p->tuning.has_bandwidth && p->tuning.bandwidth;
    d->tuning.bandwidth = p->tuning.bandwidth;
    d->tuning.compression = g_strdupv(p->tuning.compression);
    d->tuning.has_compression_mt_dthreads = p->tuning.has_compression_mt_dthreads;
    d->tuning.compression_mt_dthreads = p->tuning.compression_mt_dthreads;
    d->tuning.has_compression_xbzrle_cache = p->tuning.has_compression_xbzrle_cache;
    d->tuning.compression_xbzrle_cache = p->tuning.compression_xbzrle_cache;
    d->tuning.has_parallel_connections = p->tuning.has_parallel_connections;
    d->tuning.parallel_connections = p->tuning.parallel_connections;
    return d;
}

gboolean
mig_perform_p2p(SvCall *call, SvDomainObj *obj, SvMigrationParams *p, const char *dconnuri,
                guint flags, GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    g_autoptr(SvMigrationParams) owned = p;
    MigJob *job;
    P2P *x;

    if (!sv_migration_flags_check(SV_MIGRATION_CALL_PERFORM, flags, p,
                                  "qemuDomainMigratePerform3Params", error))
        return FALSE;
    if (!dconnuri) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                     "dconnuri in %s must not be NULL", "virDomainMigratePerform3Params");
        return FALSE;
    }
    if (!(job = mig_job_begin(ctx, obj, FALSE, flags, MIG_PHASE_NONE, error)))
        return FALSE;
    if (!(flags & SV_MIGRATE_OFFLINE) && !sv_domain_driver_check_active(obj, error)) {
        mig_job_end(ctx, job);
        return FALSE;
    }
    x = g_new0(P2P, 1);
    x->call = sv_call_defer(call);
    x->pf.ctx = ctx;
    x->pf.key = g_strdup(job->key);
    /* Change protection is the source's alone, and one job spans the whole here. */
    x->flags = flags & ~SV_MIGRATE_CHANGE_PROTECTION;
    x->pf.flags = x->flags;
    x->pf.p = g_steal_pointer(&owned);
    x->pf.done = p2p_performed;
    x->dest = dest_params(x->pf.p);
    sv_remote_uri_open(dconnuri, sv_daemon_get_root(ctx->daemon), p2p_opened, x);
    return TRUE;
}
