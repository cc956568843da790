/* qemu_migration_qmp.c: the capabilities, parameters, URIs and figures of a migration as
 * QEMU reads and writes them (qemu_migration_qmp.h). */
#include "qemu_migration_qmp.h"

#include <string.h>

#include "domain/domain_typed.h"
#include "protocol/sv_remote.h"
#include "qemu_monitor.h"

/* Who turns a capability on. */
typedef enum {
    CAP_NEVER,    /* off on both sides (libvirt's ones we never ask for) */
    CAP_FLAG,     /* the flag is given */
    CAP_NOT_FLAG, /* the flag is not given */
    CAP_ALWAYS,   /* always, on the sides named */
    CAP_METHOD,   /* the compression method is asked for */
} CapRule;

#define SIDE_SOURCE 1
#define SIDE_DEST   2

typedef struct {
    const char *name;
    CapRule rule;
    guint flag;         /* CAP_FLAG, CAP_NOT_FLAG */
    const char *method; /* CAP_METHOD */
    int sides;          /* where the rule may turn it on */
} CapInfo;

/* libvirt 9.0's capabilities in its order. libvirt turns "events" on once at every start
 * and never sends it again; our start does not, so a migration asks for it first (QEMU's
 * MIGRATION events are what both sides follow): a difference on QMP only. */
static const CapInfo caps[] = {
    {"events", CAP_ALWAYS, 0, NULL, SIDE_SOURCE | SIDE_DEST},
    {"xbzrle", CAP_METHOD, 0, "xbzrle", SIDE_SOURCE | SIDE_DEST},
    {"auto-converge", CAP_FLAG, SV_MIGRATE_AUTO_CONVERGE, NULL, SIDE_SOURCE},
    {"rdma-pin-all", CAP_FLAG, SV_MIGRATE_RDMA_PIN_ALL, NULL, SIDE_SOURCE | SIDE_DEST},
    {"postcopy-ram", CAP_FLAG, SV_MIGRATE_POSTCOPY, NULL, SIDE_SOURCE | SIDE_DEST},
    {"compress", CAP_METHOD, 0, "mt", SIDE_SOURCE | SIDE_DEST},
    {"pause-before-switchover", CAP_ALWAYS, 0, NULL, SIDE_SOURCE},
    {"late-block-activate", CAP_ALWAYS, 0, NULL, SIDE_DEST},
    {"multifd", CAP_FLAG, SV_MIGRATE_PARALLEL, NULL, SIDE_SOURCE | SIDE_DEST},
    {"dirty-bitmaps", CAP_NEVER, 0, NULL, 0},
    {"return-path", CAP_NOT_FLAG, SV_MIGRATE_TUNNELLED, NULL, SIDE_SOURCE | SIDE_DEST},
    {"zero-copy-send", CAP_FLAG, SV_MIGRATE_ZEROCOPY, NULL, SIDE_SOURCE},
};

static gboolean
supported_has(JsonArray *supported, const char *name)
{
    if (!supported)
        return TRUE;
    for (guint i = 0; i < json_array_get_length(supported); i++) {
        const char *c = qemu_json_string(qemu_json_array_object(supported, i), "capability");

        if (c && g_str_equal(c, name))
            return TRUE;
    }
    return FALSE;
}

/* Whether method is asked for: named in the compression parameter, or xbzrle by default
 * when COMPRESSED comes without one. */
static gboolean
method_asked(guint flags, const SvMigrationTuning *t, const char *method)
{
    if (!(flags & SV_MIGRATE_COMPRESSED))
        return FALSE;
    if (!t || !t->compression)
        return g_str_equal(method, "xbzrle");
    return g_strv_contains((const char *const *)t->compression, method);
}

static gboolean
cap_state(const CapInfo *c, guint flags, gboolean source, const SvMigrationTuning *t)
{
    if (!(c->sides & (source ? SIDE_SOURCE : SIDE_DEST)))
        return FALSE;
    switch (c->rule) {
    case CAP_FLAG:
        return (flags & c->flag) != 0;
    case CAP_NOT_FLAG:
        return (flags & c->flag) == 0;
    case CAP_ALWAYS:
        return TRUE;
    case CAP_METHOD:
        return method_asked(flags, t, c->method);
    case CAP_NEVER:
        break;
    }
    return FALSE;
}

JsonObject *
qemu_migration_caps_args(JsonArray *supported, guint flags, gboolean source,
                         const SvMigrationTuning *tuning)
{
    JsonObject *args = json_object_new();
    JsonArray *list = json_array_new();

    for (guint i = 0; i < G_N_ELEMENTS(caps); i++) {
        JsonObject *one;

        if (!supported_has(supported, caps[i].name))
            continue;
        one = json_object_new();
        json_object_set_string_member(one, "capability", caps[i].name);
        json_object_set_boolean_member(one, "state", cap_state(&caps[i], flags, source, tuning));
        json_array_add_object_element(list, one);
    }
    json_object_set_array_member(args, "capabilities", list);
    return args;
}

JsonObject *
qemu_migration_caps_reset_args(void)
{
    JsonObject *args = qemu_migration_caps_args(NULL, 0, FALSE, NULL);
    JsonArray *list = json_object_get_array_member(args, "capabilities");

    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *c = json_array_get_object_element(list, i);

        json_object_set_boolean_member(
            c, "state", g_str_equal(json_object_get_string_member(c, "capability"), "events"));
    }
    return args;
}

JsonObject *
qemu_migration_params_args(guint flags, gboolean source, const SvMigrationTuning *t,
                           guint64 bandwidth_mib, const char *tls_hostname)
{
    JsonObject *args = json_object_new();
    gboolean tls = (flags & SV_MIGRATE_TLS) != 0;

    if (t && t->has_compression_mt_level)
        json_object_set_int_member(args, "compress-level", t->compression_mt_level);
    if (t && t->has_compression_mt_threads)
        json_object_set_int_member(args, "compress-threads", t->compression_mt_threads);
    if (t && t->has_compression_mt_dthreads)
        json_object_set_int_member(args, "decompress-threads", t->compression_mt_dthreads);
    if (source && t && t->has_auto_converge_initial)
        json_object_set_int_member(args, "cpu-throttle-initial", t->auto_converge_initial);
    if (source && t && t->has_auto_converge_increment)
        json_object_set_int_member(args, "cpu-throttle-increment", t->auto_converge_increment);
    json_object_set_string_member(args, "tls-creds", tls ? QEMU_MIGRATION_TLS_ALIAS : "");
    json_object_set_string_member(args, "tls-hostname",
                                  tls && source && tls_hostname ? tls_hostname : "");
    if (source)
        json_object_set_int_member(
            args, "max-bandwidth",
            (gint64)(MIN(bandwidth_mib, QEMU_MIGRATION_BANDWIDTH_MAX) * 1024 * 1024));
    if (t && t->has_compression_xbzrle_cache)
        json_object_set_int_member(args, "xbzrle-cache-size", (gint64)t->compression_xbzrle_cache);
    if (t && t->has_bandwidth_postcopy)
        json_object_set_int_member(args, "max-postcopy-bandwidth",
                                   (gint64)(t->bandwidth_postcopy * 1024 * 1024));
    if (t && t->has_parallel_connections)
        json_object_set_int_member(args, "multifd-channels", t->parallel_connections);
    return args;
}

char *
qemu_migration_listen_uri(const char *address, guint port)
{
    if (strchr(address, ':') && address[0] != '[')
        return g_strdup_printf("tcp:[%s]:%u", address, port);
    return g_strdup_printf("tcp:%s:%u", address, port);
}

char *
qemu_migration_uri_host(const char *uri)
{
    const char *host, *end;

    if (!g_str_has_prefix(uri, "tcp:"))
        return NULL;
    host = uri + 4;
    if (*host == '[') {
        end = strchr(host, ']');
        return end ? g_strndup(host + 1, end - host - 1) : NULL;
    }
    end = strrchr(host, ':');
    return end && end > host ? g_strndup(host, end - host) : NULL;
}

/* ---------------------------------------------------------------- figures */

static JsonObject *
member_object(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static gboolean
member_uint(JsonObject *o, const char *name, guint64 *out)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
        return FALSE;
    *out = (guint64)json_node_get_int(n);
    return TRUE;
}

static guint64
uint_or_0(JsonObject *o, const char *name)
{
    guint64 v = 0;

    member_uint(o, name, &v);
    return v;
}

/* A rate QEMU gives in Mbit/s (a double) in bytes/s, as libvirt converts it. */
static guint64
mbps_bytes(JsonObject *o)
{
    JsonNode *n = o ? json_object_get_member(o, "mbps") : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n))
        return 0;
    return (guint64)(json_node_get_double(n) * (1000 * 1000 / 8));
}

void
qemu_migration_stats_read(JsonObject *o, QemuMigrationStats *s)
{
    JsonObject *ram = member_object(o, "ram");
    JsonObject *disk = member_object(o, "disk");
    JsonObject *xbzrle = member_object(o, "xbzrle-cache");
    const char *status = qemu_json_string(o, "status");
    const char *desc = qemu_json_string(o, "error-desc");
    guint64 v;

    g_free(s->status);
    s->status = g_strdup(status);
    if (desc) {
        g_free(s->error_desc);
        s->error_desc = g_strdup(desc);
    }
    s->has_downtime = member_uint(o, "downtime", &s->downtime);
    s->has_setup_time = member_uint(o, "setup-time", &s->setup_time);
    s->ram_total = uint_or_0(ram, "total");
    s->ram_transferred = uint_or_0(ram, "transferred");
    s->ram_remaining = uint_or_0(ram, "remaining");
    s->has_ram_duplicate = member_uint(ram, "duplicate", &s->ram_duplicate);
    s->ram_normal = uint_or_0(ram, "normal");
    s->ram_normal_bytes = uint_or_0(ram, "normal-bytes");
    s->ram_bps = mbps_bytes(ram);
    s->ram_dirty_rate = uint_or_0(ram, "dirty-pages-rate");
    s->ram_iteration = uint_or_0(ram, "dirty-sync-count");
    s->ram_postcopy_requests = uint_or_0(ram, "postcopy-requests");
    s->ram_page_size = uint_or_0(ram, "page-size");
    s->disk_total = uint_or_0(disk, "total");
    s->disk_transferred = uint_or_0(disk, "transferred");
    s->disk_remaining = uint_or_0(disk, "remaining");
    s->disk_bps = mbps_bytes(disk);
    s->has_xbzrle = xbzrle != NULL;
    s->xbzrle_cache_size = uint_or_0(xbzrle, "cache-size");
    s->xbzrle_bytes = uint_or_0(xbzrle, "bytes");
    s->xbzrle_pages = uint_or_0(xbzrle, "pages");
    s->xbzrle_cache_miss = uint_or_0(xbzrle, "cache-miss");
    s->xbzrle_overflow = uint_or_0(xbzrle, "overflow");
    s->cpu_throttle_percentage = member_uint(o, "cpu-throttle-percentage", &v) ? (int)v : 0;
}

static void
add_data(GArray *p, const QemuMigrationStats *s)
{
    guint64 mirror_remaining = s->mirror_total - s->mirror_transferred;

    sv_typed_params_add_ullong(p, s->ram_total + s->disk_total + s->mirror_total, "data_total");
    sv_typed_params_add_ullong(p, s->ram_transferred + s->disk_transferred + s->mirror_transferred,
                               "data_processed");
    sv_typed_params_add_ullong(p, s->ram_remaining + s->disk_remaining + mirror_remaining,
                               "data_remaining");
    sv_typed_params_add_ullong(p, s->ram_total, "memory_total");
    sv_typed_params_add_ullong(p, s->ram_transferred, "memory_processed");
    sv_typed_params_add_ullong(p, s->ram_remaining, "memory_remaining");
    if (s->ram_bps)
        sv_typed_params_add_ullong(p, s->ram_bps, "memory_bps");
    if (s->has_ram_duplicate) {
        sv_typed_params_add_ullong(p, s->ram_duplicate, "memory_constant");
        sv_typed_params_add_ullong(p, s->ram_normal, "memory_normal");
        sv_typed_params_add_ullong(p, s->ram_normal_bytes, "memory_normal_bytes");
    }
    sv_typed_params_add_ullong(p, s->ram_dirty_rate, "memory_dirty_rate");
    sv_typed_params_add_ullong(p, s->ram_iteration, "memory_iteration");
    sv_typed_params_add_ullong(p, s->ram_postcopy_requests, "memory_postcopy_requests");
    if (s->ram_page_size)
        sv_typed_params_add_ullong(p, s->ram_page_size, "memory_page_size");
    if (s->savedump)
        return;
    sv_typed_params_add_ullong(p, s->disk_total + s->mirror_total, "disk_total");
    sv_typed_params_add_ullong(p, s->disk_transferred + s->mirror_transferred, "disk_processed");
    sv_typed_params_add_ullong(p, s->disk_remaining + mirror_remaining, "disk_remaining");
    if (s->disk_bps)
        sv_typed_params_add_ullong(p, s->disk_bps, "disk_bps");
}

void
qemu_migration_stats_to_cookie(const QemuMigrationStats *st, SvMigCookieStats *s)
{
    s->started = (guint64)st->started_ms;
    s->stopped = (guint64)st->stopped_ms;
    s->sent = (guint64)(g_get_real_time() / 1000);
    s->time_elapsed = st->time_elapsed;
    s->has_downtime = st->has_downtime;
    s->downtime = st->downtime;
    s->has_setup_time = st->has_setup_time;
    s->setup_time = st->setup_time;
    s->memory_total = st->ram_total;
    s->memory_processed = st->ram_transferred;
    s->memory_remaining = st->ram_remaining;
    s->memory_bps = st->ram_bps;
    s->has_memory_constant = st->has_ram_duplicate;
    s->memory_constant = st->ram_duplicate;
    s->memory_normal = st->ram_normal;
    s->memory_normal_bytes = st->ram_normal_bytes;
    s->memory_dirty_rate = st->ram_dirty_rate;
    s->memory_iteration = st->ram_iteration;
    s->memory_postcopy_requests = st->ram_postcopy_requests;
    s->memory_page_size = st->ram_page_size;
    s->disk_total = st->disk_total;
    s->disk_processed = st->disk_transferred;
    s->disk_remaining = st->disk_remaining;
    s->disk_bps = st->disk_bps;
    s->has_compression = st->has_xbzrle;
    s->compression_cache = st->xbzrle_cache_size;
    s->compression_bytes = st->xbzrle_bytes;
    s->compression_pages = st->xbzrle_pages;
    s->compression_cache_misses = st->xbzrle_cache_miss;
    s->compression_overflow = st->xbzrle_overflow;
    s->auto_converge_throttle = st->cpu_throttle_percentage;
}

void
qemu_migration_stats_from_cookie(const SvMigCookieStats *s, QemuMigrationStats *st)
{
    st->started_ms = (gint64)s->started;
    st->stopped_ms = (gint64)s->stopped;
    st->time_elapsed = s->time_elapsed;
    st->has_downtime = s->has_downtime;
    st->downtime = s->downtime;
    st->has_setup_time = s->has_setup_time;
    st->setup_time = s->setup_time;
    st->ram_total = s->memory_total;
    st->ram_transferred = s->memory_processed;
    st->ram_remaining = s->memory_remaining;
    st->ram_bps = s->memory_bps;
    st->has_ram_duplicate = s->has_memory_constant;
    st->ram_duplicate = s->memory_constant;
    st->ram_normal = s->memory_normal;
    st->ram_normal_bytes = s->memory_normal_bytes;
    st->ram_dirty_rate = s->memory_dirty_rate;
    st->ram_iteration = s->memory_iteration;
    st->ram_postcopy_requests = s->memory_postcopy_requests;
    st->ram_page_size = s->memory_page_size;
    st->disk_total = s->disk_total;
    st->disk_transferred = s->disk_processed;
    st->disk_remaining = s->disk_remaining;
    st->disk_bps = s->disk_bps;
    st->mirror_total = st->mirror_transferred = 0; /* in the disk figures already */
    st->has_xbzrle = s->has_compression;
    st->xbzrle_cache_size = s->compression_cache;
    st->xbzrle_bytes = s->compression_bytes;
    st->xbzrle_pages = s->compression_pages;
    st->xbzrle_cache_miss = s->compression_cache_misses;
    st->xbzrle_overflow = s->compression_overflow;
    st->cpu_throttle_percentage = s->auto_converge_throttle;
}

GArray *
qemu_migration_stats_params(const QemuMigrationStats *s)
{
    GArray *p = g_array_new(FALSE, TRUE, sizeof(remote_typed_param));

    sv_typed_params_add_int(p, s->operation, "operation");
    sv_typed_params_add_ullong(p, s->time_elapsed, "time_elapsed");
    /* What the network took out, where the figures crossed it (the destination's). */
    if (s->has_delta && (gint64)s->time_elapsed > s->delta)
        sv_typed_params_add_ullong(p, s->time_elapsed - (guint64)s->delta, "time_elapsed_net");
    if (s->has_downtime)
        sv_typed_params_add_ullong(p, s->downtime, "downtime");
    if (s->has_downtime && s->has_delta && (gint64)s->downtime > s->delta)
        sv_typed_params_add_ullong(p, s->downtime - (guint64)s->delta, "downtime_net");
    if (s->has_setup_time)
        sv_typed_params_add_ullong(p, s->setup_time, "setup_time");
    add_data(p, s);
    if (s->savedump)
        return p;
    if (s->has_xbzrle) {
        sv_typed_params_add_ullong(p, s->xbzrle_cache_size, "compression_cache");
        sv_typed_params_add_ullong(p, s->xbzrle_bytes, "compression_bytes");
        sv_typed_params_add_ullong(p, s->xbzrle_pages, "compression_pages");
        sv_typed_params_add_ullong(p, s->xbzrle_cache_miss, "compression_cache_misses");
        sv_typed_params_add_ullong(p, s->xbzrle_overflow, "compression_overflow");
    }
    if (s->cpu_throttle_percentage)
        sv_typed_params_add_int(p, s->cpu_throttle_percentage, "auto_converge_throttle");
    return p;
}

void
qemu_migration_params_free(GArray *p)
{
    for (guint i = 0; i < p->len; i++)
        xdr_free((xdrproc_t)xdr_remote_typed_param,
                 (char *)&g_array_index(p, remote_typed_param, i));
    g_array_free(p, TRUE);
}

int
qemu_migration_status_job_type(const char *status)
{
    static const char *const running[] = {
        "setup",           "active",           "pre-switchover", "device",      "postcopy-active",
        "postcopy-paused", "postcopy-recover", "cancelling",     "wait-unplug", NULL};

    if (!status)
        return SV_DOMAIN_JOB_NONE;
    if (g_strv_contains(running, status))
        return SV_DOMAIN_JOB_UNBOUNDED;
    if (g_str_equal(status, "completed"))
        return SV_DOMAIN_JOB_COMPLETED;
    if (g_str_equal(status, "failed"))
        return SV_DOMAIN_JOB_FAILED;
    if (g_str_equal(status, "cancelled"))
        return SV_DOMAIN_JOB_CANCELLED;
    return SV_DOMAIN_JOB_NONE;
}
