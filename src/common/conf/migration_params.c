/* migration_params.c: see migration_params.h. */
#include "conf/migration_params.h"

#include "util/error.h"

/* Indexes into `known`, which is libvirt 9.0's QEMU_MIGRATION_PARAMETERS in its order. */
enum {
    P_URI,
    P_DEST_NAME,
    P_DEST_XML,
    P_BANDWIDTH,
    P_GRAPHICS_URI,
    P_LISTEN_ADDRESS,
    P_MIGRATE_DISKS,
    P_DISKS_PORT,
    P_COMPRESSION,
    P_COMPRESSION_MT_LEVEL,
    P_COMPRESSION_MT_THREADS,
    P_COMPRESSION_MT_DTHREADS,
    P_COMPRESSION_XBZRLE_CACHE,
    P_PERSIST_XML,
    P_AUTO_CONVERGE_INITIAL,
    P_AUTO_CONVERGE_INCREMENT,
    P_BANDWIDTH_POSTCOPY,
    P_PARALLEL_CONNECTIONS,
    P_TLS_DESTINATION,
    P_DISKS_URI,
    P_LAST,
};

static const SvMigrationParamInfo known[P_LAST] = {
    [P_URI] = {"migrate_uri", SV_TYPED_PARAM_STRING, FALSE},
    [P_DEST_NAME] = {"destination_name", SV_TYPED_PARAM_STRING, FALSE},
    [P_DEST_XML] = {"destination_xml", SV_TYPED_PARAM_STRING, FALSE},
    [P_BANDWIDTH] = {"bandwidth", SV_TYPED_PARAM_ULLONG, FALSE},
    [P_GRAPHICS_URI] = {"graphics_uri", SV_TYPED_PARAM_STRING, FALSE},
    [P_LISTEN_ADDRESS] = {"listen_address", SV_TYPED_PARAM_STRING, FALSE},
    [P_MIGRATE_DISKS] = {"migrate_disks", SV_TYPED_PARAM_STRING, TRUE},
    [P_DISKS_PORT] = {"disks_port", SV_TYPED_PARAM_INT, FALSE},
    [P_COMPRESSION] = {"compression", SV_TYPED_PARAM_STRING, TRUE},
    [P_COMPRESSION_MT_LEVEL] = {"compression.mt.level", SV_TYPED_PARAM_INT, FALSE},
    [P_COMPRESSION_MT_THREADS] = {"compression.mt.threads", SV_TYPED_PARAM_INT, FALSE},
    [P_COMPRESSION_MT_DTHREADS] = {"compression.mt.dthreads", SV_TYPED_PARAM_INT, FALSE},
    [P_COMPRESSION_XBZRLE_CACHE] = {"compression.xbzrle.cache", SV_TYPED_PARAM_ULLONG, FALSE},
    [P_PERSIST_XML] = {"persistent_xml", SV_TYPED_PARAM_STRING, FALSE},
    [P_AUTO_CONVERGE_INITIAL] = {"auto_converge.initial", SV_TYPED_PARAM_INT, FALSE},
    [P_AUTO_CONVERGE_INCREMENT] = {"auto_converge.increment", SV_TYPED_PARAM_INT, FALSE},
    [P_BANDWIDTH_POSTCOPY] = {"bandwidth.postcopy", SV_TYPED_PARAM_ULLONG, FALSE},
    [P_PARALLEL_CONNECTIONS] = {"parallel.connections", SV_TYPED_PARAM_INT, FALSE},
    [P_TLS_DESTINATION] = {"tls.destination", SV_TYPED_PARAM_STRING, FALSE},
    [P_DISKS_URI] = {"disks_uri", SV_TYPED_PARAM_STRING, FALSE},
};

const SvMigrationParamInfo *
sv_migration_params_known(guint *ret_n)
{
    *ret_n = P_LAST;
    return known;
}

SvMigrationParams *
sv_migration_params_new(void)
{
    return g_new0(SvMigrationParams, 1);
}

void
sv_migration_params_free(SvMigrationParams *p)
{
    if (!p)
        return;
    g_free(p->uri);
    g_free(p->dest_name);
    g_free(p->dest_xml);
    g_free(p->persist_xml);
    g_free(p->graphics_uri);
    g_free(p->listen_address);
    g_free(p->disks_uri);
    g_free(p->tls_destination);
    g_strfreev(p->migrate_disks);
    g_strfreev(p->tuning.compression);
    g_free(p);
}

static void
strv_add(GStrv *v, const char *s)
{
    guint n = *v ? g_strv_length(*v) : 0;

    *v = g_renew(char *, *v, n + 2);
    (*v)[n] = g_strdup(s);
    (*v)[n + 1] = NULL;
}

static void
set_string(char **dst, const SvMigrationValue *value)
{
    g_free(*dst);
    *dst = g_strdup(value->v.s);
}

static void
set_int(gboolean *has, int *dst, const SvMigrationValue *value)
{
    *has = TRUE;
    *dst = value->v.i;
}

static void
set_ullong(gboolean *has, guint64 *dst, const SvMigrationValue *value)
{
    *has = TRUE;
    *dst = value->v.ul;
}

void
sv_migration_params_set(SvMigrationParams *p, guint which, const SvMigrationValue *value)
{
    SvMigrationTuning *t = &p->tuning;

    g_return_if_fail(which < P_LAST && value->type == known[which].type);
    switch (which) {
    case P_URI: set_string(&p->uri, value); break;
    case P_DEST_NAME: set_string(&p->dest_name, value); break;
    case P_DEST_XML: set_string(&p->dest_xml, value); break;
    case P_BANDWIDTH: set_ullong(&t->has_bandwidth, &t->bandwidth, value); break;
    case P_GRAPHICS_URI: set_string(&p->graphics_uri, value); break;
    case P_LISTEN_ADDRESS: set_string(&p->listen_address, value); break;
    case P_MIGRATE_DISKS: strv_add(&p->migrate_disks, value->v.s); break;
    case P_DISKS_PORT: set_int(&p->has_disks_port, &p->disks_port, value); break;
    case P_COMPRESSION: strv_add(&t->compression, value->v.s); break;
    case P_COMPRESSION_MT_LEVEL:
        set_int(&t->has_compression_mt_level, &t->compression_mt_level, value);
        break;
    case P_COMPRESSION_MT_THREADS:
        set_int(&t->has_compression_mt_threads, &t->compression_mt_threads, value);
        break;
    case P_COMPRESSION_MT_DTHREADS:
        set_int(&t->has_compression_mt_dthreads, &t->compression_mt_dthreads, value);
        break;
    case P_COMPRESSION_XBZRLE_CACHE:
        set_ullong(&t->has_compression_xbzrle_cache, &t->compression_xbzrle_cache, value);
        break;
    case P_PERSIST_XML: set_string(&p->persist_xml, value); break;
    case P_AUTO_CONVERGE_INITIAL:
        set_int(&t->has_auto_converge_initial, &t->auto_converge_initial, value);
        break;
    case P_AUTO_CONVERGE_INCREMENT:
        set_int(&t->has_auto_converge_increment, &t->auto_converge_increment, value);
        break;
    case P_BANDWIDTH_POSTCOPY:
        set_ullong(&t->has_bandwidth_postcopy, &t->bandwidth_postcopy, value);
        break;
    case P_PARALLEL_CONNECTIONS:
        set_int(&t->has_parallel_connections, &t->parallel_connections, value);
        break;
    case P_TLS_DESTINATION: set_string(&p->tls_destination, value); break;
    case P_DISKS_URI: set_string(&p->disks_uri, value); break;
    default: break;
    }
}

/* ---------------------------------------------------------------- walking */

typedef void (*EachFunc)(const char *name, const SvMigrationValue *value, gpointer data);

static void
each_string(guint which, const char *s, EachFunc fn, gpointer data)
{
    SvMigrationValue v = {.type = SV_TYPED_PARAM_STRING, .v.s = s};

    if (s)
        fn(known[which].name, &v, data);
}

static void
each_strv(guint which, GStrv v, EachFunc fn, gpointer data)
{
    for (guint i = 0; v && v[i]; i++)
        each_string(which, v[i], fn, data);
}

static void
each_int(guint which, gboolean has, int i, EachFunc fn, gpointer data)
{
    SvMigrationValue v = {.type = SV_TYPED_PARAM_INT, .v.i = i};

    if (has)
        fn(known[which].name, &v, data);
}

static void
each_ullong(guint which, gboolean has, guint64 ul, EachFunc fn, gpointer data)
{
    SvMigrationValue v = {.type = SV_TYPED_PARAM_ULLONG, .v.ul = ul};

    if (has)
        fn(known[which].name, &v, data);
}

void
sv_migration_params_foreach(const SvMigrationParams *p, EachFunc fn, gpointer data)
{
    const SvMigrationTuning *t = &p->tuning;

    each_string(P_URI, p->uri, fn, data);
    each_string(P_DEST_NAME, p->dest_name, fn, data);
    each_string(P_DEST_XML, p->dest_xml, fn, data);
    each_ullong(P_BANDWIDTH, t->has_bandwidth, t->bandwidth, fn, data);
    each_string(P_GRAPHICS_URI, p->graphics_uri, fn, data);
    each_string(P_LISTEN_ADDRESS, p->listen_address, fn, data);
    each_strv(P_MIGRATE_DISKS, p->migrate_disks, fn, data);
    each_int(P_DISKS_PORT, p->has_disks_port, p->disks_port, fn, data);
    each_strv(P_COMPRESSION, t->compression, fn, data);
    each_int(P_COMPRESSION_MT_LEVEL, t->has_compression_mt_level, t->compression_mt_level, fn,
             data);
    each_int(P_COMPRESSION_MT_THREADS, t->has_compression_mt_threads,
             t->compression_mt_threads, fn, data);
    each_int(P_COMPRESSION_MT_DTHREADS, t->has_compression_mt_dthreads,
             t->compression_mt_dthreads, fn, data);
    each_ullong(P_COMPRESSION_XBZRLE_CACHE, t->has_compression_xbzrle_cache,
                t->compression_xbzrle_cache, fn, data);
    each_string(P_PERSIST_XML, p->persist_xml, fn, data);
    each_int(P_AUTO_CONVERGE_INITIAL, t->has_auto_converge_initial, t->auto_converge_initial,
             fn, data);
    each_int(P_AUTO_CONVERGE_INCREMENT, t->has_auto_converge_increment,
             t->auto_converge_increment, fn, data);
    each_ullong(P_BANDWIDTH_POSTCOPY, t->has_bandwidth_postcopy, t->bandwidth_postcopy, fn,
                data);
    each_int(P_PARALLEL_CONNECTIONS, t->has_parallel_connections, t->parallel_connections, fn,
             data);
    each_string(P_TLS_DESTINATION, p->tls_destination, fn, data);
    each_string(P_DISKS_URI, p->disks_uri, fn, data);
}

/* ---------------------------------------------------------------- libvirt's checks */

#define NON_SHARED (SV_MIGRATE_NON_SHARED_DISK | SV_MIGRATE_NON_SHARED_INC)

static gboolean
fail(GError **error, int code, const char *msg)
{
    sv_error_set(error, SV_FROM_QEMU, code, "%s", msg);
    return FALSE;
}

/* qemuMigrationSrcBeginPhase's and qemuMigrationDstPrepareAny's refusals. */
static gboolean
check_postcopy(guint flags, GError **error)
{
    if ((flags & SV_MIGRATE_POSTCOPY) &&
        (!(flags & SV_MIGRATE_LIVE) || (flags & SV_MIGRATE_PAUSED)))
        return fail(error, SV_ERR_ARGUMENT_UNSUPPORTED,
                    "post-copy migration is not supported with non-live or paused migration");
    if ((flags & SV_MIGRATE_POSTCOPY) && (flags & SV_MIGRATE_TUNNELLED))
        return fail(error, SV_ERR_ARGUMENT_UNSUPPORTED,
                    "post-copy is not supported with tunnelled migration");
    return TRUE;
}

static gboolean
check_offline(guint flags, GError **error)
{
    if (!(flags & SV_MIGRATE_OFFLINE))
        return TRUE;
    if (flags & NON_SHARED)
        return fail(error, SV_ERR_OPERATION_INVALID,
                    "offline migration cannot handle non-shared storage");
    if (!(flags & SV_MIGRATE_PERSIST_DEST))
        return fail(error, SV_ERR_OPERATION_INVALID,
                    "offline migration must be specified with the persistent flag set");
    if (flags & SV_MIGRATE_TUNNELLED)
        return fail(error, SV_ERR_OPERATION_INVALID,
                    "tunnelled offline migration does not make sense");
    return TRUE;
}

static gboolean
check_begin(guint flags, const SvMigrationParams *p, GError **error)
{
    if (!check_postcopy(flags, error) || !check_offline(flags, error))
        return FALSE;
    if ((flags & SV_MIGRATE_ZEROCOPY) && !(flags & SV_MIGRATE_PARALLEL))
        return fail(error, SV_ERR_OPERATION_INVALID,
                    "zero-copy is only available for parallel migration");
    if ((flags & NON_SHARED) && (flags & SV_MIGRATE_TUNNELLED))
        return fail(error, SV_ERR_OPERATION_UNSUPPORTED,
                    "migration of non-shared storage is not supported with tunnelled "
                    "migration and this QEMU");
    if (!(flags & NON_SHARED) && p && p->migrate_disks && p->migrate_disks[0])
        return fail(error, SV_ERR_OPERATION_UNSUPPORTED,
                    "use of 'VIR_MIGRATE_PARAM_MIGRATE_DISKS' requires use of "
                    "'VIR_MIGRATE_NON_SHARED_DISK' or 'VIR_MIGRATE_NON_SHARED_INC' flag");
    return TRUE;
}

/* qemuMigrationSrcPerformPeer2Peer's, before it connects to the destination. */
static gboolean
check_perform(guint flags, const SvMigrationParams *p, GError **error)
{
    if (!(flags & SV_MIGRATE_TUNNELLED) || !p)
        return TRUE;
    if (p->uri)
        return fail(error, SV_ERR_ARGUMENT_UNSUPPORTED,
                    "migration URI is not supported by tunnelled migration");
    if (p->listen_address)
        return fail(error, SV_ERR_ARGUMENT_UNSUPPORTED,
                    "listen address is not supported by tunnelled migration");
    if (p->has_disks_port && p->disks_port)
        return fail(error, SV_ERR_ARGUMENT_UNSUPPORTED,
                    "disk port address is not supported by tunnelled migration");
    return TRUE;
}

gboolean
sv_migration_flags_check(SvMigrationCall call, guint flags, const SvMigrationParams *p,
                         const char *fn, GError **error)
{
    if (!sv_check_flags(flags, SV_DOMAIN_MIGRATE_FLAGS_ALL, SV_FROM_QEMU, fn, error))
        return FALSE;
    switch (call) {
    case SV_MIGRATION_CALL_BEGIN:
        return check_begin(flags, p, error);
    case SV_MIGRATION_CALL_PREPARE:
        return check_offline(flags, error) && check_postcopy(flags, error);
    case SV_MIGRATION_CALL_PERFORM:
        return check_perform(flags, p, error);
    default:
        return TRUE;
    }
}

/* The compression methods libvirt 9.0 knows, in its order. */
static const char *const compress_methods[] = {"xbzrle", "mt", NULL};

static gboolean
check_compression(const SvMigrationTuning *t, GError **error)
{
    gboolean seen[G_N_ELEMENTS(compress_methods)] = {FALSE};

    for (guint i = 0; t->compression && t->compression[i]; i++) {
        const char *m = t->compression[i];
        guint k = 0;

        while (compress_methods[k] && !g_str_equal(compress_methods[k], m))
            k++;
        if (!compress_methods[k]) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                         "Unsupported compression method '%s'", m);
            return FALSE;
        }
        if (seen[k]) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                         "Compression method '%s' is specified twice", m);
            return FALSE;
        }
        seen[k] = TRUE;
    }
    if ((t->has_compression_mt_level || t->has_compression_mt_threads ||
         t->has_compression_mt_dthreads) && !seen[1])
        return fail(error, SV_ERR_INVALID_ARG, "Turn multithread compression on to tune it");
    if (t->has_compression_xbzrle_cache && !seen[0])
        return fail(error, SV_ERR_INVALID_ARG, "Turn xbzrle compression on to tune it");
    return TRUE;
}

gboolean
sv_migration_params_check_tuning(const SvMigrationParams *p, guint flags, GError **error)
{
    const SvMigrationTuning *t = &p->tuning;

    if ((t->has_auto_converge_initial || t->has_auto_converge_increment) &&
        !(flags & SV_MIGRATE_AUTO_CONVERGE))
        return fail(error, SV_ERR_INVALID_ARG, "Turn auto convergence on to tune it");
    if (t->has_parallel_connections && !(flags & SV_MIGRATE_PARALLEL))
        return fail(error, SV_ERR_INVALID_ARG, "Turn parallel migration on to tune it");
    return check_compression(t, error);
}
