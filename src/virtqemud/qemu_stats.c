/* qemu_stats.c: the per-guest statistics of a QEMU guest's devices (issue 18, item 1):
 * DOMAIN_BLOCK_STATS(_FLAGS) from query-blockstats, DOMAIN_GET_BLOCK_INFO from the image
 * files, DOMAIN_INTERFACE_STATS from the tap's counters, DOMAIN_MEMORY_STATS and
 * DOMAIN_SET_MEMORY_STATS_PERIOD from the balloon. Monitor commands are asynchronous: the
 * call is deferred and answered from the reply, after the guest is found again by its run
 * handle; file reads happen in a worker thread. */
#include "qemu_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/domain_ifstats.h"
#include "domain/domain_wire.h"
#include "qemu_domain.h"
#include "qemu_status.h"
#include "domain/domain_stats.h"
#include "util/error.h"
#include "util/fd.h"

/* ---------------------------------------------------------------- shared */

/* The running guest of a call, with its monitor; libvirt's "domain is not running"
 * otherwise (a guest still starting has no monitor to ask yet). */
static SvDomainObj *
running_guest(SvCall *call, const remote_nonnull_domain *dom, GError **error)
{
    SvDomainObj *obj = sv_domain_driver_lookup(sv_domain_driver_of(call), dom, error);
    QemuDomain *qd;

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return NULL;
    qd = qemu_domain_of(obj);
    if (!qd || !qd->mon || qemu_monitor_is_closed(qd->mon) || sv_domain_run_in_start(obj)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    return obj;
}

/* One deferred call waiting for the monitor: the call, the guest's run handle and what
 * the reply is for. */
typedef struct {
    SvCall *call;
    gpointer run;
    char *path;
    gint64 nparams;
    guint max;
} StatsWait;

static StatsWait *
stats_wait_new(SvCall *call, SvDomainObj *obj, const char *path)
{
    StatsWait *w = g_new0(StatsWait, 1);

    w->call = sv_call_defer(call);
    w->run = sv_domain_obj_run_key(obj);
    w->path = g_strdup(path);
    return w;
}

static void
stats_wait_free(StatsWait *w)
{
    g_free(w->path);
    g_free(w);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StatsWait, stats_wait_free)

/* The guest of a reply, or NULL after failing the call: the monitor's error, or the
 * guest gone meanwhile. */
static SvDomainObj *
reply_guest(StatsWait *w, const GError *error)
{
    SvDomainObj *obj = qemu_domain_find(w->run);

    if (error) {
        sv_call_fail(w->call, g_error_copy(error));
        return NULL;
    }
    if (!obj) {
        sv_call_fail(w->call, g_error_new(sv_error_quark(SV_FROM_DOMAIN),
                                          SV_ERR_OPERATION_INVALID, "domain is not running"));
        return NULL;
    }
    return obj;
}

/* A disk by target name or source path, as libvirt's virDomainDiskByName. */
static SvDomainDiskDef *
disk_by_name(const SvDomainDef *def, const char *name)
{
    for (guint i = 0; i < def->disks->len; i++) {
        SvDomainDiskDef *d = def->disks->pdata[i];

        if (g_str_equal(d->target_dev, name) || (d->source && g_str_equal(d->source, name)))
            return d;
    }
    return NULL;
}

/* Whether QEMU's "qdev" of a block backend names the disk: the device's id, or the QOM
 * path of a virtio-blk proxy's inner device. */
gboolean
qemu_stats_qdev_is_disk(const char *qdev, const SvDomainDiskDef *disk)
{
    g_autofree char *prefix = NULL;

    if (!qdev || !disk->info.alias)
        return FALSE;
    if (g_str_equal(qdev, disk->info.alias))
        return TRUE;
    prefix = g_strdup_printf("/machine/peripheral/%s/", disk->info.alias);
    return g_str_has_prefix(qdev, prefix);
}

/* ---------------------------------------------------------------- block stats */

static gint64
json_int(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : 0;
}

/* The counters of disk (NULL: every disk of def, summed) from query-blockstats' answer;
 * FALSE when QEMU lists none of them. */
gboolean
qemu_stats_block_sum(JsonNode *ret, const SvDomainDef *def, const SvDomainDiskDef *disk,
                     QemuBlockStats *out)
{
    JsonArray *a = ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    gboolean found = FALSE;

    memset(out, 0, sizeof(*out));
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *e = qemu_json_array_object(a, i);
        const char *qdev = qemu_json_string(e, "qdev");
        JsonNode *sn = e ? json_object_get_member(e, "stats") : NULL;
        JsonObject *s = sn && JSON_NODE_HOLDS_OBJECT(sn) ? json_node_get_object(sn) : NULL;
        gboolean mine = FALSE;

        for (guint d = 0; !mine && d < def->disks->len; d++) {
            const SvDomainDiskDef *dd = def->disks->pdata[d];
            mine = (!disk || dd == disk) && qemu_stats_qdev_is_disk(qdev, dd);
        }
        if (!mine || !s)
            continue;
        found = TRUE;
        out->rd_req += json_int(s, "rd_operations");
        out->rd_bytes += json_int(s, "rd_bytes");
        out->wr_req += json_int(s, "wr_operations");
        out->wr_bytes += json_int(s, "wr_bytes");
        out->flush_req += json_int(s, "flush_operations");
        out->rd_total_times += json_int(s, "rd_total_time_ns");
        out->wr_total_times += json_int(s, "wr_total_time_ns");
        out->flush_total_times += json_int(s, "flush_total_time_ns");
    }
    return found;
}

/* nparams: what the client asked for (0: the count); -1 for none there are (no disk). */
static void
block_stats_reply(SvCall *call, int proc, const QemuBlockStats *st, gint64 nparams)
{
    if (proc == REMOTE_PROC_DOMAIN_BLOCK_STATS) {
        remote_domain_block_stats_ret r = {st->rd_req, st->rd_bytes, st->wr_req, st->wr_bytes,
                                           -1};
        sv_call_reply(call, &r);
        return;
    }
    /* libvirt's order of the typed parameters; a client asking for none learns the count. */
    const struct {
        const char *field;
        gint64 v;
    } all[] = {
        {"wr_bytes", st->wr_bytes},           {"wr_operations", st->wr_req},
        {"rd_bytes", st->rd_bytes},           {"rd_operations", st->rd_req},
        {"flush_operations", st->flush_req},  {"wr_total_times", st->wr_total_times},
        {"rd_total_times", st->rd_total_times}, {"flush_total_times", st->flush_total_times},
    };
    remote_domain_block_stats_flags_ret r = {{0}, 0};
    guint n = nparams <= 0 ? 0 : MIN((guint)nparams, G_N_ELEMENTS(all));

    r.params.params_val = g_new0(remote_typed_param, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        sv_typed_param_set_llong(&r.params.params_val[i], all[i].field, all[i].v);
    r.params.params_len = n;
    r.nparams = nparams == 0 ? (int)G_N_ELEMENTS(all) : (int)n;
    if (nparams < 0)
        r.nparams = 0;
    sv_call_reply(call, &r);
    for (guint i = 0; i < n; i++)
        g_free(r.params.params_val[i].field);
    g_free(r.params.params_val);
}

static void
blockstats_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    g_autoptr(StatsWait) w = data;
    SvDomainObj *obj = reply_guest(w, error);
    const SvDomainDiskDef *disk;
    QemuBlockStats st;

    (void)mon;
    if (!obj)
        return;
    disk = *w->path ? disk_by_name(obj->def, w->path) : NULL;
    if (*w->path && !disk) {
        sv_call_fail(w->call, g_error_new(sv_error_quark(SV_FROM_QEMU), SV_ERR_INVALID_ARG,
                                          "invalid path: %s", w->path));
        return;
    }
    if (!qemu_stats_block_sum(ret, obj->def, disk, &st) && !disk) {
        /* No disk at all: zeros, and no typed parameter, as libvirt. */
        block_stats_reply(w->call, sv_call_get_header(w->call)->proc, &st, -1);
        return;
    }
    if (disk && !qemu_stats_block_sum(ret, obj->def, disk, &st)) {
        sv_call_fail(w->call, g_error_new(sv_error_quark(SV_FROM_QEMU), SV_ERR_INTERNAL_ERROR,
                                          "cannot find statistics for device '%s'",
                                          disk->info.alias));
        return;
    }
    block_stats_reply(w->call, sv_call_get_header(w->call)->proc, &st, w->nparams);
}

static gboolean
block_stats_begin(SvCall *call, const remote_nonnull_domain *dom, const char *path,
                  gint64 nparams, GError **error)
{
    SvDomainObj *obj = running_guest(call, dom, error);
    StatsWait *w;

    if (!obj)
        return FALSE;
    if (*path && !disk_by_name(obj->def, path)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "invalid path: %s", path);
        return FALSE;
    }
    w = stats_wait_new(call, obj, path);
    w->nparams = nparams;
    qemu_monitor_command(qemu_domain_of(obj)->mon, "query-blockstats", NULL, blockstats_done, w);
    return TRUE;
}

static gboolean
domain_block_stats(SvCall *call, remote_domain_block_stats_args *a,
                   remote_domain_block_stats_ret *ret, GError **error)
{
    (void)ret;
    return block_stats_begin(call, &a->dom, a->path, -1, error);
}

static gboolean
domain_block_stats_flags(SvCall *call, remote_domain_block_stats_flags_args *a,
                         remote_domain_block_stats_flags_ret *ret, GError **error)
{
    /* VIR_TYPED_PARAM_STRING_OKAY (4) is the client's, as libvirt accepts it. */
    if (!sv_domain_driver_check_flags(sv_domain_driver_of(call), a->flags, 4,
                                      "DomainBlockStatsFlags", error))
        return FALSE;
    (void)ret;
    if (a->nparams < 0 || a->nparams > REMOTE_DOMAIN_BLOCK_STATS_PARAMETERS_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "nparams too large");
        return FALSE;
    }
    return block_stats_begin(call, &a->dom, a->path, a->nparams, error);
}

/* ---------------------------------------------------------------- block info */

typedef struct {
    char *source;
    gboolean qcow2;
} BlockInfoJob;

static void
block_info_job_free(BlockInfoJob *j)
{
    g_free(j->source);
    g_free(j);
}

/* Capacity, allocation and physical size of an image file, as libvirt reports a local
 * file: the qcow2 header's virtual size (else the file's size), the blocks it uses, its
 * size (a block device's size for all but allocation). */
gboolean
qemu_stats_image_info(const char *path, gboolean qcow2, QemuBlockInfo *out, GError **error)
{
    g_auto(SvFd) fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    guint8 hdr[32];

    if (fd < 0 || fstat(fd, &st) < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "cannot stat file '%s'", path);
        return FALSE;
    }
    out->allocation = (guint64)st.st_blocks * 512;
    out->physical = (guint64)st.st_size;
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        out->physical = end > 0 ? (guint64)end : 0;
        out->allocation = 0;
    }
    out->capacity = out->physical;
    if (qcow2 && pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) &&
        memcmp(hdr, "QFI\xfb", 4) == 0) {
        guint64 size = 0;
        for (guint i = 24; i < 32; i++)
            size = (size << 8) | hdr[i];
        out->capacity = size;
    }
    return TRUE;
}

static void
block_info_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
    BlockInfoJob *j = data;
    QemuBlockInfo *info = g_new0(QemuBlockInfo, 1);
    GError *error = NULL;

    (void)src;
    (void)c;
    if (qemu_stats_image_info(j->source, j->qcow2, info, &error))
        g_task_return_pointer(task, info, g_free);
    else {
        g_free(info);
        g_task_return_error(task, error);
    }
}

static void
block_info_done(GObject *src, GAsyncResult *res, gpointer data)
{
    SvCall *call = data;
    GError *error = NULL;
    g_autofree QemuBlockInfo *info = g_task_propagate_pointer(G_TASK(res), &error);

    (void)src;
    if (!info) {
        sv_call_fail(call, error);
        return;
    }
    remote_domain_get_block_info_ret r = {info->allocation, info->capacity, info->physical};
    sv_call_reply(call, &r);
}

static gboolean
domain_get_block_info(SvCall *call, remote_domain_get_block_info_args *a,
                      remote_domain_get_block_info_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;
    const SvDomainDiskDef *disk;
    BlockInfoJob *j;
    g_autoptr(GTask) task = NULL;

    (void)ret;
    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainGetBlockInfo", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)))
        return FALSE;
    if (!(disk = disk_by_name(obj->def, a->path))) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "invalid path %s not assigned to domain", a->path);
        return FALSE;
    }
    if (!disk->source) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "disk '%s' does not currently have a source assigned", a->path);
        return FALSE;
    }
    j = g_new0(BlockInfoJob, 1);
    j->source = g_strdup(disk->source);
    j->qcow2 = disk->format == SV_DOMAIN_DISK_FORMAT_QCOW2;
    task = g_task_new(NULL, NULL, block_info_done, sv_call_defer(call));
    g_task_set_task_data(task, j, (GDestroyNotify)block_info_job_free);
    g_task_run_in_thread(task, block_info_thread);
    return TRUE;
}

/* ---------------------------------------------------------------- memory */

/* The guest-stats members libvirt reports, with their tags and scale (KiB from bytes). */
static const struct {
    const char *name;
    int tag;
    guint64 div;
} balloon_stats[] = {
    {"stat-swap-in", SV_DOMAIN_MEMORY_STAT_SWAP_IN, 1024},
    {"stat-swap-out", SV_DOMAIN_MEMORY_STAT_SWAP_OUT, 1024},
    {"stat-major-faults", SV_DOMAIN_MEMORY_STAT_MAJOR_FAULT, 1},
    {"stat-minor-faults", SV_DOMAIN_MEMORY_STAT_MINOR_FAULT, 1},
    {"stat-free-memory", SV_DOMAIN_MEMORY_STAT_UNUSED, 1024},
    {"stat-total-memory", SV_DOMAIN_MEMORY_STAT_AVAILABLE, 1024},
    {"stat-available-memory", SV_DOMAIN_MEMORY_STAT_USABLE, 1024},
    {"stat-disk-caches", SV_DOMAIN_MEMORY_STAT_DISK_CACHES, 1024},
    {"stat-htlb-pgalloc", SV_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC, 1},
    {"stat-htlb-pgfail", SV_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL, 1},
};

static void
add_stat(GArray *a, int tag, guint64 v)
{
    remote_domain_memory_stat s = {tag, v};

    g_array_append_val(a, s);
}

/* The stats of a qom-get guest-stats answer, appended as libvirt lists them: the time of
 * the last update, then every counter the guest filled in (QEMU gives -1 for the rest). */
void
qemu_stats_memory_parse(JsonNode *ret, GArray *out)
{
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    JsonNode *sn = o ? json_object_get_member(o, "stats") : NULL;
    JsonObject *s = sn && JSON_NODE_HOLDS_OBJECT(sn) ? json_node_get_object(sn) : NULL;

    if (!s)
        return;
    if (json_object_has_member(o, "last-update"))
        add_stat(out, SV_DOMAIN_MEMORY_STAT_LAST_UPDATE, (guint64)json_int(o, "last-update"));
    for (guint i = 0; i < G_N_ELEMENTS(balloon_stats); i++) {
        JsonNode *n = json_object_get_member(s, balloon_stats[i].name);
        gint64 v = n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : -1;
        if (v >= 0)
            add_stat(out, balloon_stats[i].tag, (guint64)v / balloon_stats[i].div);
    }
}

/* QEMU's resident memory in KiB (/proc/PID/statm's second field), or -1. */
gint64
qemu_stats_rss_kib(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/statm", (int)pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) f = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return -1;
    f = g_strsplit(text, " ", 3);
    if (!f[0] || !f[1])
        return -1;
    return g_ascii_strtoll(f[1], NULL, 10) * (sysconf(_SC_PAGESIZE) / 1024);
}

static void
memory_reply(StatsWait *w, SvDomainObj *obj, GArray *stats)
{
    QemuDomain *qd = qemu_domain_of(obj);
    gint64 rss = qd->proc ? qemu_stats_rss_kib(sv_process_get_pid(qd->proc)) : -1;
    remote_domain_memory_stats_ret r = {{0}};

    if (rss >= 0)
        add_stat(stats, SV_DOMAIN_MEMORY_STAT_RSS, (guint64)rss);
    r.stats.stats_len = MIN(stats->len, w->max);
    r.stats.stats_val = (remote_domain_memory_stat *)stats->data;
    sv_call_reply(w->call, &r);
}

static const SvDomainMemballoonDef *
virtio_balloon(const SvDomainDef *def)
{
    const SvDomainMemballoonDef *m = def->memballoon;

    return m && !g_str_equal(m->model, "none") && m->info.alias ? m : NULL;
}

static void
guest_stats_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    g_autoptr(StatsWait) w = data;
    SvDomainObj *obj = reply_guest(w, NULL);
    g_autoptr(GArray) stats = g_array_new(FALSE, TRUE, sizeof(remote_domain_memory_stat));

    (void)mon;
    if (!obj)
        return;
    if (w->nparams >= 0)
        add_stat(stats, SV_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, (guint64)w->nparams);
    if (!error)
        qemu_stats_memory_parse(ret, stats);
    memory_reply(w, obj, stats);
}

static void
balloon_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    StatsWait *w = data;
    SvDomainObj *obj = reply_guest(w, NULL);
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    JsonObject *args;

    if (!obj) {
        stats_wait_free(w);
        return;
    }
    /* The balloon's size in KiB; without an answer no ACTUAL_BALLOON, as libvirt. */
    w->nparams = !error && o ? json_int(o, "actual") / 1024 : -1;
    args = json_object_new();
    json_object_set_string_member(args, "path", w->path);
    json_object_set_string_member(args, "property", "guest-stats");
    qemu_monitor_command(mon, "qom-get", args, guest_stats_done, w);
}

static gboolean
domain_memory_stats(SvCall *call, remote_domain_memory_stats_args *a,
                    remote_domain_memory_stats_ret *ret, GError **error)
{
    SvDomainObj *obj;
    const SvDomainMemballoonDef *m;
    g_autofree char *path = NULL;
    StatsWait *w;

    if (!sv_domain_memory_stats_check_args(call, a, error))
        return FALSE;
    if (!(obj = running_guest(call, &a->dom, error)))
        return FALSE;
    if (!(m = virtio_balloon(obj->def))) {
        QemuDomain *qd = qemu_domain_of(obj);
        gint64 rss = qd->proc ? qemu_stats_rss_kib(sv_process_get_pid(qd->proc)) : -1;

        if (rss >= 0 && a->maxStats > 0) {
            ret->stats.stats_val = g_new0(remote_domain_memory_stat, 1);
            ret->stats.stats_val[0] = (remote_domain_memory_stat){SV_DOMAIN_MEMORY_STAT_RSS,
                                                                  (guint64)rss};
            ret->stats.stats_len = 1;
        }
        return TRUE;
    }
    path = g_strdup_printf("/machine/peripheral/%s", m->info.alias);
    w = stats_wait_new(call, obj, path);
    w->max = a->maxStats;
    qemu_monitor_command(qemu_domain_of(obj)->mon, "query-balloon", NULL, balloon_done, w);
    return TRUE;
}

/* The balloon of a definition, with libvirt's error when it has none to set a period on. */
static SvDomainMemballoonDef *
period_balloon(SvDomainDef *def, GError **error)
{
    SvDomainMemballoonDef *m = def->memballoon;

    if (!m || g_str_equal(m->model, "none")) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "No memory balloon device configured, can not set the collection period");
        return NULL;
    }
    return m;
}

static void
period_saved(const GError *error, gpointer data)
{
    SvCall *call = data;

    if (error)
        sv_call_fail(call, g_error_copy(error));
    else
        sv_call_reply(call, NULL);
}

/* The persistent definition gets the period (CONFIG): saved, then the call answered. */
static void
period_config(SvCall *call, SvDomainObj *obj, guint period)
{
    SvDomainDriver *drv = sv_domain_driver_of_obj(obj);
    SvDomainDef *def = obj->new_def ? obj->new_def : obj->def;
    g_autofree char *text = NULL;

    def->memballoon->has_period = TRUE;
    def->memballoon->stats_period = period;
    text = sv_domain_def_format(def, -1, SV_DOMAIN_FORMAT_INACTIVE | SV_DOMAIN_FORMAT_SECURE);
    sv_domain_store_save_async(drv->store, def->name, text, period_saved, call);
}

static void
period_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    g_autoptr(StatsWait) w = data;
    SvDomainObj *obj = reply_guest(w, error);
    g_autoptr(GError) local = NULL;

    (void)mon;
    (void)ret;
    if (!obj)
        return;
    obj->def->memballoon->has_period = TRUE;
    obj->def->memballoon->stats_period = (guint)w->nparams;
    qemu_status_save(obj);
    if (!w->max) {
        sv_call_reply(w->call, NULL);
        return;
    }
    /* LIVE and CONFIG: the persistent definition may have lost its balloon meanwhile. */
    if (!obj->persistent || !period_balloon(obj->new_def ? obj->new_def : obj->def, &local)) {
        sv_call_fail(w->call, local ? g_steal_pointer(&local)
                                    : g_error_new(sv_error_quark(SV_FROM_DOMAIN),
                                                  SV_ERR_OPERATION_INVALID,
                                                  "transient domains do not have any "
                                                  "persistent config"));
        return;
    }
    period_config(w->call, obj, (guint)w->nparams);
}

/* LIVE sets guest-stats-polling-interval on the running balloon (QEMU starts or stops
 * polling), CONFIG the persistent definition's <stats period=>; 0 means LIVE on a running
 * guest, CONFIG on a defined one, as libvirt's. */
static gboolean
domain_set_memory_stats_period(SvCall *call, remote_domain_set_memory_stats_period_args *a,
                               GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    guint flags = a->flags;
    g_autofree char *path = NULL;
    SvDomainObj *obj;
    JsonObject *args;
    StatsWait *w;

    if (!sv_domain_driver_check_flags(drv, flags, SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG,
                                      "DomainSetMemoryStatsPeriod", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)))
        return FALSE;
    if (!(flags & (SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG)))
        flags = sv_domain_obj_is_active(obj) ? SV_DOMAIN_AFFECT_LIVE : SV_DOMAIN_AFFECT_CONFIG;
    if ((flags & SV_DOMAIN_AFFECT_LIVE) && !running_guest(call, &a->dom, error))
        return FALSE;
    if ((flags & SV_DOMAIN_AFFECT_CONFIG) && !obj->persistent) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                     "transient domains do not have any persistent config");
        return FALSE;
    }
    if (((flags & SV_DOMAIN_AFFECT_LIVE) && !period_balloon(obj->def, error)) ||
        ((flags & SV_DOMAIN_AFFECT_CONFIG) &&
         !period_balloon(obj->new_def ? obj->new_def : obj->def, error)))
        return FALSE;
    if (!(flags & SV_DOMAIN_AFFECT_LIVE)) {
        period_config(sv_call_defer(call), obj, (guint)a->period);
        return TRUE;
    }
    path = g_strdup_printf("/machine/peripheral/%s", obj->def->memballoon->info.alias);
    args = json_object_new();
    json_object_set_string_member(args, "path", path);
    json_object_set_string_member(args, "property", "guest-stats-polling-interval");
    json_object_set_int_member(args, "value", a->period);
    w = stats_wait_new(call, obj, NULL);
    w->nparams = a->period;
    w->max = (flags & SV_DOMAIN_AFFECT_CONFIG) != 0; /* the persistent one after */
    qemu_monitor_command(qemu_domain_of(obj)->mon, "qom-set", args, period_done, w);
    return TRUE;
}

void
qemu_stats_install(SvDomainDriver *drv, SvRemoteHandlers *h)
{
    h->domain_block_stats = domain_block_stats;
    h->domain_block_stats_flags = domain_block_stats_flags;
    h->domain_get_block_info = domain_get_block_info;
    h->domain_interface_stats = sv_domain_interface_stats;
    h->domain_memory_stats = domain_memory_stats;
    h->domain_set_memory_stats_period = domain_set_memory_stats_period;
    qemu_stats_vcpu_install(drv, h);
}
