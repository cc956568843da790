/* qemu_bulkstats.c: CONNECT_GET_ALL_DOMAIN_STATS (virConnectGetAllDomainStats and
 * virDomainListGetStats) for QEMU guests, as libvirt 9.0 answers it (issue 18, item 1).
 *
 * The call is deferred. Every running guest's monitor gets the queries its groups need at
 * once (guests in parallel, nothing waits on the loop); the images of shut-off guests are
 * read in one worker thread. As a guest's last answer comes in, it is found again (by its
 * UUID; its run handle tells whether the answers are still its run's) and its record is
 * made, in libvirt's order of groups and fields, as the guest is then: one that stopped
 * meanwhile without the monitor's fields, one undefined meanwhile left out. The reply goes
 * when every record is made. */
#include "qemu_stats.h"

#include <rpc/xdr.h>
#include <string.h>
#include <unistd.h>

#include "domain/domain_ifstats.h"
#include "domain/domain_typed.h"
#include "qemu_cgroup.h"
#include "qemu_domain.h"
#include "util/error.h"

#define GROUPS_ALL SV_DOMAIN_STATS_TYPES_ALL
#define LIST_FILTERS                                                                           \
    (SV_CONNECT_LIST_DOMAINS_ACTIVE | SV_CONNECT_LIST_DOMAINS_INACTIVE |                      \
     SV_CONNECT_LIST_DOMAINS_PERSISTENT | SV_CONNECT_LIST_DOMAINS_TRANSIENT |                 \
     SV_CONNECT_LIST_DOMAINS_RUNNING | SV_CONNECT_LIST_DOMAINS_PAUSED |                       \
     SV_CONNECT_LIST_DOMAINS_SHUTOFF | SV_CONNECT_LIST_DOMAINS_OTHER)

/* The monitor's answers for one guest (NULL: not asked, or QEMU failed it). */
enum {
    Q_BLOCKSTATS,
    Q_BLOCKNODES,
    Q_GUEST_STATS,
    Q_CPUS,
    Q_HALTPOLL,
    Q_DIRTYRATE,
    Q_IOTHREADS,
    Q_LAST
};

typedef struct {
    guint8 uuid[16];
    gpointer run;           /* the run asked, NULL for a guest that was not running */
    JsonNode *answer[Q_LAST];
    GHashTable *images;     /* path -> QemuBlockInfo of a shut-off guest's images */
    gboolean backing;       /* BACKING: the block group lists whole chains */
    guint pending;          /* its answers still out (queries, and the images) */
    gboolean images_wait;   /* shut off: waits for the worker reading its images */
    gboolean done;          /* its record is made (or it is left out: params NULL) */
    remote_nonnull_domain dom;
    GArray *params;         /* of remote_typed_param, its record once done */
} BulkGuest;

typedef struct {
    SvCall *call;
    guint groups;
    guint flags;
    GPtrArray *guests;      /* of BulkGuest, in the reply's order */
    guint pending;          /* answers still out */
} BulkCall;

static void bulk_one_done(BulkCall *bc);
static void guest_one_done(BulkCall *bc, BulkGuest *g);

/* What the answers took, once the record is made. */
static void
bulk_guest_clear(BulkGuest *g)
{
    for (guint i = 0; i < Q_LAST; i++)
        g_clear_pointer(&g->answer[i], json_node_unref);
    g_clear_pointer(&g->images, g_hash_table_unref);
}

static void
bulk_guest_free(BulkGuest *g)
{
    bulk_guest_clear(g);
    xdr_free((xdrproc_t)xdr_remote_nonnull_domain, (char *)&g->dom);
    if (g->params) {
        for (guint i = 0; i < g->params->len; i++) {
            remote_typed_param *t = &g_array_index(g->params, remote_typed_param, i);
            xdr_free((xdrproc_t)xdr_remote_typed_param, (char *)t);
        }
        g_array_unref(g->params);
    }
    g_free(g);
}

static void
bulk_call_free(BulkCall *bc)
{
    g_ptr_array_unref(bc->guests);
    g_free(bc);
}

/* ---------------------------------------------------------------- typed parameters */

static gint64
member_int(JsonObject *o, const char *name, gint64 dflt)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : dflt;
}

static JsonObject *
member_object(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static pid_t
guest_pid(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);

    return qd && qd->proc ? sv_process_get_pid(qd->proc) : 0;
}

/* ---------------------------------------------------------------- groups */

static void
group_state(SvDomainObj *obj, BulkGuest *g, GArray *p)
{
    (void)g;
    sv_typed_params_add_int(p, obj->state, "state.state");
    sv_typed_params_add_int(p, obj->reason, "state.reason");
}

/* Sum of a vCPU statistic over query-stats' answer (KVM's counters; none under TCG). */
static guint64
haltpoll_sum(JsonNode *ret, const char *name)
{
    JsonArray *a = ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    guint64 sum = 0;

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *e = qemu_json_array_object(a, i);
        JsonNode *sn = e ? json_object_get_member(e, "stats") : NULL;
        JsonArray *s = sn && JSON_NODE_HOLDS_ARRAY(sn) ? json_node_get_array(sn) : NULL;

        for (guint j = 0; s && j < json_array_get_length(s); j++) {
            JsonObject *st = qemu_json_array_object(s, j);
            const char *n = qemu_json_string(st, "name");
            if (n && g_str_equal(n, name))
                sum += (guint64)member_int(st, "value", 0);
        }
    }
    return sum;
}

static void
group_cpu(SvDomainObj *obj, BulkGuest *g, GArray *p)
{
    guint64 total, user, sys;
    gboolean active = sv_domain_obj_is_active(obj) && guest_pid(obj) > 0;

    /* A shut-off guest has no process: libvirt 9.0 then reads the times of pid 0, which
     * are its own daemon's. Kept: clients see the same three fields. */
    if (!active || !qemu_cgroup_cpu_times(qemu_ctx_of(obj), obj->def->name, &total, &user,
                                          &sys)) {
        qemu_stats_process_times(active ? guest_pid(obj) : getpid(), &user, &sys);
        total = user + sys;
    }
    sv_typed_params_add_ullong(p, total, "cpu.time");
    sv_typed_params_add_ullong(p, user, "cpu.user");
    sv_typed_params_add_ullong(p, sys, "cpu.system");
    if (!active)
        return;
    /* No <cachetune> monitors are served: none to count. */
    sv_typed_params_add_uint(p, 0, "cpu.cache.monitor.count");
    if (g->answer[Q_HALTPOLL]) {
        sv_typed_params_add_ullong(p, haltpoll_sum(g->answer[Q_HALTPOLL], "halt_poll_success_ns"),
                   "cpu.haltpoll.success.time");
        sv_typed_params_add_ullong(p, haltpoll_sum(g->answer[Q_HALTPOLL], "halt_poll_fail_ns"),
                   "cpu.haltpoll.fail.time");
    }
}

static const char *
memory_stat_name(int tag)
{
    switch (tag) {
    case SV_DOMAIN_MEMORY_STAT_SWAP_IN: return "swap_in";
    case SV_DOMAIN_MEMORY_STAT_SWAP_OUT: return "swap_out";
    case SV_DOMAIN_MEMORY_STAT_MAJOR_FAULT: return "major_fault";
    case SV_DOMAIN_MEMORY_STAT_MINOR_FAULT: return "minor_fault";
    case SV_DOMAIN_MEMORY_STAT_UNUSED: return "unused";
    case SV_DOMAIN_MEMORY_STAT_AVAILABLE: return "available";
    case SV_DOMAIN_MEMORY_STAT_RSS: return "rss";
    case SV_DOMAIN_MEMORY_STAT_LAST_UPDATE: return "last-update";
    case SV_DOMAIN_MEMORY_STAT_USABLE: return "usable";
    case SV_DOMAIN_MEMORY_STAT_DISK_CACHES: return "disk_caches";
    case SV_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC: return "hugetlb_pgalloc";
    case SV_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL: return "hugetlb_pgfail";
    default: return NULL;
    }
}

static gboolean
has_balloon(const SvDomainDef *def)
{
    return def->memballoon && !g_str_equal(def->memballoon->model, "none");
}

static void
group_balloon(SvDomainObj *obj, BulkGuest *g, GArray *p)
{
    const SvDomainDef *def = obj->def;
    g_autoptr(GArray) stats = NULL;
    gint64 rss;

    sv_typed_params_add_ullong(p, has_balloon(def) ? def->current_memory_kib : def->memory_kib,
               "balloon.current");
    sv_typed_params_add_ullong(p, def->memory_kib, "balloon.maximum");
    if (!sv_domain_obj_is_active(obj) || guest_pid(obj) <= 0)
        return;
    /* What DOMAIN_MEMORY_STATS gives: the guest's counters, then QEMU's RSS. */
    stats = g_array_new(FALSE, TRUE, sizeof(remote_domain_memory_stat));
    if (g->answer[Q_GUEST_STATS])
        qemu_stats_memory_parse(g->answer[Q_GUEST_STATS], stats);
    if ((rss = qemu_stats_rss_kib(guest_pid(obj))) >= 0) {
        remote_domain_memory_stat s = {SV_DOMAIN_MEMORY_STAT_RSS, (guint64)rss};
        g_array_append_val(stats, s);
    }
    for (guint i = 0; i < stats->len; i++) {
        const remote_domain_memory_stat *s = &g_array_index(stats, remote_domain_memory_stat, i);
        const char *name = memory_stat_name(s->tag);
        if (name)
            sv_typed_params_add_ullong(p, s->val, "balloon.%s", name);
    }
}

/* A thread's time waiting for a CPU (schedstat's second field, ns), or 0. */
static guint64
thread_delay(pid_t pid, pid_t tid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
    g_autofree char *text = NULL;
    g_auto(GStrv) f = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    f = g_strsplit(text, " ", 3);
    return f[0] && f[1] ? g_ascii_strtoull(f[1], NULL, 10) : 0;
}

/* A thread's wait time (its sched file's wait_sum, ms with a fraction, as ns); 0 when the
 * kernel keeps no schedstats. */
static guint64
thread_wait(pid_t pid, pid_t tid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/sched", (int)pid, (int)tid);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *colon = strchr(*l, ':');
        const char *key = strstr(*l, "wait_sum");

        if (colon && key && key < colon)
            return (guint64)(g_ascii_strtod(colon + 1, NULL) * 1e6);
    }
    return 0;
}

static void
group_vcpu(SvDomainObj *obj, BulkGuest *g, GArray *p)
{
    const SvDomainDef *def = obj->def;
    JsonNode *cpus = g->answer[Q_CPUS];
    JsonArray *a = cpus && JSON_NODE_HOLDS_ARRAY(cpus) ? json_node_get_array(cpus) : NULL;
    pid_t pid;

    sv_typed_params_add_uint(p, def->vcpus_current, "vcpu.current");
    sv_typed_params_add_uint(p, def->vcpus, "vcpu.maximum");
    if (!g->run || !a)
        return;
    pid = guest_pid(obj);
    for (guint i = 0; i < json_array_get_length(a) && i < def->vcpus; i++) {
        JsonObject *t = qemu_json_array_object(a, i);
        pid_t tid = (pid_t)member_int(t, "thread-id", 0);
        guint idx = (guint)member_int(t, "cpu-index", i);
        guint64 ns;
        int cpu;

        qemu_stats_thread_stat(pid, tid, &ns, &cpu);
        sv_typed_params_add_int(p, SV_VCPU_RUNNING, "vcpu.%u.state", idx);
        sv_typed_params_add_ullong(p, ns, "vcpu.%u.time", idx);
        sv_typed_params_add_ullong(p, thread_wait(pid, tid), "vcpu.%u.wait", idx);
        sv_typed_params_add_ullong(p, thread_delay(pid, tid), "vcpu.%u.delay", idx);
    }
}

static void
group_interface(SvDomainObj *obj, BulkGuest *g, GArray *p)
{
    static const char *const names[] = {"bytes", "packets", "errors", "dropped"};
    static const char *const fields[] = {"bytes", "pkts", "errs", "drop"};
    const GPtrArray *nets = obj->def->interfaces;

    (void)g;
    if (!sv_domain_obj_is_active(obj))
        return;
    sv_typed_params_add_uint(p, nets->len, "net.count");
    for (guint i = 0; i < nets->len; i++) {
        const SvDomainNetDef *n = nets->pdata[i];
        /* A tap's host side counts the other way round; a macvtap shares the guest's. */
        gboolean swapped = n->type != SV_DOMAIN_NET_TYPE_DIRECT;

        if (!n->target_dev || n->type == SV_DOMAIN_NET_TYPE_USER)
            continue;
        sv_typed_params_add_string(p, n->target_dev, "net.%u.name", i);
        for (guint d = 0; d < 2; d++) {
            const char *dir = d == 0 ? "rx" : "tx";
            const char *host = (d == 0) == swapped ? "tx" : "rx";
            for (guint c = 0; c < G_N_ELEMENTS(names); c++) {
                g_autofree char *file = g_strdup_printf("%s_%s", host, names[c]);
                gint64 v = sv_domain_net_counter(n->target_dev, file);
                sv_typed_params_add_ullong(p, v < 0 ? 0 : (guint64)v, "net.%u.%s.%s", i, dir,
                                           fields[c]);
            }
        }
    }
}

/* ---------------------------------------------------------------- block */

/* One image of a disk's chain as the block group lists it. */
typedef struct {
    const SvDomainDiskDef *disk;
    const char *path; /* NULL: no source */
    gboolean qcow2;
    guint index;      /* libvirt's backingIndex, 0 = none */
    guint depth;      /* 0: the disk's own image */
} BlockEntry;

/* The images the block group lists for def: each disk's own, and with BACKING the images
 * of its chain. */
static GArray *
block_entries(const SvDomainDef *def, gboolean backing)
{
    GArray *e = g_array_new(FALSE, TRUE, sizeof(BlockEntry));

    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];
        BlockEntry top = {d, d->source, d->format == SV_DOMAIN_DISK_FORMAT_QCOW2,
                          d->source_index, 0};

        g_array_append_val(e, top);
        for (guint b = 0; backing && d->source && b < d->backing->len; b++) {
            const SvDomainDiskBackingDef *bd = d->backing->pdata[b];
            BlockEntry img = {d, bd->path, bd->format == SV_DOMAIN_DISK_FORMAT_QCOW2, bd->index,
                              b + 1};
            g_array_append_val(e, img);
        }
    }
    return e;
}

/* The format node QEMU opened path with, from query-named-block-nodes. */
static JsonObject *
image_node(JsonNode *nodes, const char *path)
{
    JsonArray *a = nodes && JSON_NODE_HOLDS_ARRAY(nodes) ? json_node_get_array(nodes) : NULL;

    for (guint i = 0; path && a && i < json_array_get_length(a); i++) {
        JsonObject *n = qemu_json_array_object(a, i);
        const char *file = qemu_json_string(n, "file");
        const char *drv = qemu_json_string(n, "drv");
        if (file && drv && g_str_equal(file, path) && !g_str_equal(drv, "file"))
            return member_object(n, "image");
    }
    return NULL;
}

/* The highest offset written to the file under a disk's image `depth` levels down its
 * chain (query-blockstats' parent node), which libvirt reports as allocation. */
static guint64
written_extent(JsonNode *stats, const SvDomainDiskDef *disk, guint depth)
{
    JsonArray *a = stats && JSON_NODE_HOLDS_ARRAY(stats) ? json_node_get_array(stats) : NULL;

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *e = qemu_json_array_object(a, i);
        if (!qemu_stats_qdev_is_disk(qemu_json_string(e, "qdev"), disk))
            continue;
        for (guint k = 0; e && k < depth; k++)
            e = member_object(e, "backing");
        return (guint64)member_int(member_object(member_object(e, "parent"), "stats"),
                                   "wr_highest_offset", 0);
    }
    return 0;
}

static void
block_running(const SvDomainDef *def, BulkGuest *g, const BlockEntry *b, guint n, GArray *p)
{
    JsonObject *img = image_node(g->answer[Q_BLOCKNODES], b->path);
    QemuBlockStats st;

    if (b->depth == 0 && qemu_stats_block_sum(g->answer[Q_BLOCKSTATS], def, b->disk, &st)) {
        const struct {
            const char *name;
            gint64 v;
        } c[] = {{"rd.reqs", st.rd_req},       {"rd.bytes", st.rd_bytes},
                 {"rd.times", st.rd_total_times}, {"wr.reqs", st.wr_req},
                 {"wr.bytes", st.wr_bytes},     {"wr.times", st.wr_total_times},
                 {"fl.reqs", st.flush_req},     {"fl.times", st.flush_total_times}};
        for (guint k = 0; k < G_N_ELEMENTS(c); k++)
            sv_typed_params_add_ullong(p, (guint64)c[k].v, "block.%u.%s", n, c[k].name);
    }
    if (!img)
        return;
    sv_typed_params_add_ullong(p, written_extent(g->answer[Q_BLOCKSTATS], b->disk, b->depth),
               "block.%u.allocation", n);
    sv_typed_params_add_ullong(p, (guint64)member_int(img, "virtual-size", 0), "block.%u.capacity",
                               n);
    sv_typed_params_add_ullong(p, (guint64)member_int(img, "actual-size", 0), "block.%u.physical",
                               n);
}

/* A shut-off guest's image, from its file (read by the worker): libvirt leaves out an
 * allocation of 0. */
static void
block_inactive(BulkGuest *g, const BlockEntry *b, guint n, GArray *p)
{
    const QemuBlockInfo *info = b->path && g->images ? g_hash_table_lookup(g->images, b->path)
                                                     : NULL;

    if (!info)
        return;
    if (info->allocation)
        sv_typed_params_add_ullong(p, info->allocation, "block.%u.allocation", n);
    sv_typed_params_add_ullong(p, info->capacity, "block.%u.capacity", n);
    sv_typed_params_add_ullong(p, info->physical, "block.%u.physical", n);
}

static void
group_block(SvDomainObj *obj, BulkGuest *g, GArray *p)
{
    g_autoptr(GArray) e = block_entries(obj->def, g->backing);

    sv_typed_params_add_uint(p, e->len, "block.count");
    for (guint n = 0; n < e->len; n++) {
        const BlockEntry *b = &g_array_index(e, BlockEntry, n);

        sv_typed_params_add_string(p, b->disk->target_dev, "block.%u.name", n);
        if (b->path)
            sv_typed_params_add_string(p, b->path, "block.%u.path", n);
        if (g->run && b->index)
            sv_typed_params_add_uint(p, b->index, "block.%u.backingIndex", n);
        if (g->run)
            block_running(obj->def, g, b, n, p);
        else
            block_inactive(g, b, n, p);
    }
}

/* The images of the shut-off guests, read in a worker thread: path -> QemuBlockInfo. */
typedef struct {
    char *path;
    gboolean qcow2;
} ImagePath;

typedef struct {
    BulkCall *bc;
    GArray *paths; /* of ImagePath */
} ImagesJob;

static void
image_path_clear(ImagePath *ip)
{
    g_free(ip->path);
}

static void
images_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
    ImagesJob *j = data;
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    (void)src;
    (void)c;
    for (guint i = 0; i < j->paths->len; i++) {
        const ImagePath *ip = &g_array_index(j->paths, ImagePath, i);
        QemuBlockInfo info;

        if (!g_hash_table_contains(h, ip->path) &&
            qemu_stats_image_info(ip->path, ip->qcow2, &info, NULL))
            g_hash_table_insert(h, g_strdup(ip->path), g_memdup2(&info, sizeof(info)));
    }
    g_task_return_pointer(task, h, (GDestroyNotify)g_hash_table_unref);
}

static void
images_done(GObject *src, GAsyncResult *res, gpointer data)
{
    ImagesJob *j = data;
    GHashTable *h = g_task_propagate_pointer(G_TASK(res), NULL);

    (void)src;
    for (guint i = 0; i < j->bc->guests->len; i++) {
        BulkGuest *g = j->bc->guests->pdata[i];
        if (g->images_wait) {
            g->images = h ? g_hash_table_ref(h) : NULL;
            guest_one_done(j->bc, g);
        }
    }
    if (h)
        g_hash_table_unref(h);
    bulk_one_done(j->bc);
}

static void
images_job_free(ImagesJob *j)
{
    g_array_unref(j->paths);
    g_free(j);
}

static void
read_images(BulkCall *bc)
{
    SvDomainDriver *drv = sv_domain_driver_of(bc->call);
    ImagesJob *j;
    g_autoptr(GTask) task = NULL;
    g_autoptr(GArray) paths = g_array_new(FALSE, TRUE, sizeof(ImagePath));

    if (!(bc->groups & SV_DOMAIN_STATS_BLOCK))
        return;
    g_array_set_clear_func(paths, (GDestroyNotify)image_path_clear);
    for (guint i = 0; i < bc->guests->len; i++) {
        BulkGuest *g = bc->guests->pdata[i];
        SvDomainObj *obj = g->run ? NULL : sv_domain_list_find_by_uuid(drv->list, g->uuid);
        g_autoptr(GArray) e = obj ? block_entries(obj->def, g->backing) : NULL;

        for (guint n = 0; e && n < e->len; n++) {
            const BlockEntry *b = &g_array_index(e, BlockEntry, n);
            ImagePath ip = {g_strdup(b->path), b->qcow2};

            if (!b->path)
                continue;
            g_array_append_val(paths, ip);
            g->images_wait = TRUE;
        }
        g->pending += g->images_wait;
    }
    if (!paths->len)
        return;
    j = g_new0(ImagesJob, 1);
    j->bc = bc;
    j->paths = g_steal_pointer(&paths);
    bc->pending++;
    task = g_task_new(NULL, NULL, images_done, j);
    g_task_set_task_data(task, j, (GDestroyNotify)images_job_free);
    g_task_run_in_thread(task, images_thread);
}

static void
group_dirtyrate(SvDomainObj *obj, BulkGuest *g, GArray *p)
{
    JsonNode *n = g->answer[Q_DIRTYRATE];
    JsonObject *o = n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
    const char *status, *mode;
    int st = 0;

    (void)obj;
    if (!g->run || !o)
        return;
    status = qemu_json_string(o, "status");
    if (status && g_str_equal(status, "measuring"))
        st = 1;
    else if (status && g_str_equal(status, "measured"))
        st = 2;
    sv_typed_params_add_int(p, st, "dirtyrate.calc_status");
    sv_typed_params_add_llong(p, member_int(o, "start-time", 0), "dirtyrate.calc_start_time");
    sv_typed_params_add_int(p, (int)member_int(o, "calc-time", 0), "dirtyrate.calc_period");
    mode = qemu_json_string(o, "mode");
    sv_typed_params_add_string(p, mode ? mode : "page-sampling", "dirtyrate.calc_mode");
    if (st == 2)
        sv_typed_params_add_llong(p, member_int(o, "dirty-rate", 0),
                                  "dirtyrate.megabytes_per_second");
}

/* The IOThreads QEMU runs (query-iothreads, in its order) with their polling parameters. */
static void
group_iothread(SvDomainObj *obj, BulkGuest *g, GArray *p)
{
    JsonNode *n = g->answer[Q_IOTHREADS];
    JsonArray *a = n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;

    (void)obj;
    if (!g->run || !a || json_array_get_length(a) == 0)
        return;
    sv_typed_params_add_uint(p, json_array_get_length(a), "iothread.count");
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *t = qemu_json_array_object(a, i);
        const char *id = qemu_json_string(t, "id");
        guint num;

        if (!id || !g_str_has_prefix(id, "iothread"))
            continue;
        num = (guint)g_ascii_strtoull(id + strlen("iothread"), NULL, 10);
        sv_typed_params_add_ullong(p, (guint64)member_int(t, "poll-max-ns", 0),
                                   "iothread.%u.poll-max-ns", num);
        sv_typed_params_add_uint(p, (guint)member_int(t, "poll-grow", 0), "iothread.%u.poll-grow",
                                 num);
        sv_typed_params_add_uint(p, (guint)member_int(t, "poll-shrink", 0),
                                 "iothread.%u.poll-shrink", num);
    }
}

/* libvirt's groups in its order. perf, memory and vm give nothing for the guests served
 * here: no <perf> events are enabled, no resctrl monitors, and QEMU's query-stats has no
 * "vm" provider under TCG. */
static const struct {
    guint group;
    void (*add)(SvDomainObj *obj, BulkGuest *g, GArray *p);
} groups[] = {
    {SV_DOMAIN_STATS_STATE, group_state},         {SV_DOMAIN_STATS_CPU_TOTAL, group_cpu},
    {SV_DOMAIN_STATS_BALLOON, group_balloon},     {SV_DOMAIN_STATS_VCPU, group_vcpu},
    {SV_DOMAIN_STATS_INTERFACE, group_interface}, {SV_DOMAIN_STATS_BLOCK, group_block},
    {SV_DOMAIN_STATS_IOTHREAD, group_iothread},   {SV_DOMAIN_STATS_DIRTYRATE, group_dirtyrate},
};

/* ---------------------------------------------------------------- the reply */

/* Make g's record from its answers, as the guest is now: one found again by its UUID (one
 * undefined meanwhile is left out); one that stopped, or runs again in another run, is
 * answered without the monitor's answers of the run that ended. */
static void
guest_record(BulkCall *bc, BulkGuest *g)
{
    SvDomainDriver *drv = sv_domain_driver_of(bc->call);
    SvDomainObj *obj = sv_domain_list_find_by_uuid(drv->list, g->uuid);

    g->done = TRUE;
    if (obj) {
        if (g->run && qemu_domain_find(g->run) != obj)
            g->run = NULL;
        g->params = g_array_new(FALSE, TRUE, sizeof(remote_typed_param));
        for (guint k = 0; k < G_N_ELEMENTS(groups); k++)
            if (bc->groups & groups[k].group)
                groups[k].add(obj, g, g->params);
        sv_domain_obj_to_remote(obj, &g->dom);
    }
    bulk_guest_clear(g);
}

/* One of g's answers is in: its record is made as soon as the last one is. */
static void
guest_one_done(BulkCall *bc, BulkGuest *g)
{
    g_assert(g->pending > 0);
    if (--g->pending == 0)
        guest_record(bc, g);
}

/* Every record is made: the reply (its records borrowed from the guests). */
static void
bulk_reply(BulkCall *bc)
{
    remote_connect_get_all_domain_stats_ret r = {{0}};
    g_autofree remote_domain_stats_record *recs =
        g_new0(remote_domain_stats_record, MAX(bc->guests->len, 1));
    guint n = 0;

    for (guint i = 0; i < bc->guests->len; i++) {
        BulkGuest *g = bc->guests->pdata[i];

        if (!g->params)
            continue;
        recs[n].dom = g->dom;
        recs[n].params.params_len = g->params->len;
        recs[n].params.params_val = (remote_typed_param *)(void *)g->params->data;
        n++;
    }
    r.retStats.retStats_len = n;
    r.retStats.retStats_val = recs;
    sv_call_reply(bc->call, &r);
}

static void
bulk_one_done(BulkCall *bc)
{
    g_assert(bc->pending > 0);
    if (--bc->pending > 0)
        return;
    bulk_reply(bc);
    bulk_call_free(bc);
}

/* One query's answer, kept for the reply; a failed query leaves its fields out. */
typedef struct {
    BulkCall *bc;
    BulkGuest *g;
    guint slot;
} BulkWait;

static void
query_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    g_autofree BulkWait *w = data;

    (void)mon;
    if (!error && ret)
        w->g->answer[w->slot] = json_node_copy(ret);
    guest_one_done(w->bc, w->g);
    bulk_one_done(w->bc);
}

static void
query(BulkCall *bc, BulkGuest *g, QemuMonitor *mon, guint slot, const char *cmd,
      JsonObject *args)
{
    BulkWait *w = g_new0(BulkWait, 1);

    w->bc = bc;
    w->g = g;
    w->slot = slot;
    bc->pending++;
    g->pending++;
    qemu_monitor_command(mon, cmd, args, query_done, w);
}

static JsonObject *
haltpoll_args(void)
{
    JsonObject *args = json_object_new();
    JsonObject *prov = json_object_new();
    JsonArray *names = json_array_new();
    JsonArray *provs = json_array_new();

    json_array_add_string_element(names, "halt_poll_success_ns");
    json_array_add_string_element(names, "halt_poll_fail_ns");
    json_object_set_string_member(prov, "provider", "kvm");
    json_object_set_array_member(prov, "names", names);
    json_array_add_object_element(provs, prov);
    json_object_set_string_member(args, "target", "vcpu");
    json_object_set_array_member(args, "providers", provs);
    return args;
}

/* Send a running guest's queries for the groups asked. */
static void
ask_monitor(BulkCall *bc, BulkGuest *g, SvDomainObj *obj)
{
    QemuMonitor *mon = qemu_domain_of(obj)->mon;
    const SvDomainMemballoonDef *m = obj->def->memballoon;

    /* Held while sending: a query failed at once (the monitor closing under a write) must
     * not make the record before the other queries are out. */
    g->pending++;

    if (bc->groups & SV_DOMAIN_STATS_CPU_TOTAL)
        query(bc, g, mon, Q_HALTPOLL, "query-stats", haltpoll_args());
    if ((bc->groups & SV_DOMAIN_STATS_BALLOON) && has_balloon(obj->def) && m->info.alias) {
        JsonObject *args = json_object_new();
        g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", m->info.alias);

        json_object_set_string_member(args, "path", path);
        json_object_set_string_member(args, "property", "guest-stats");
        query(bc, g, mon, Q_GUEST_STATS, "qom-get", args);
    }
    if (bc->groups & SV_DOMAIN_STATS_VCPU)
        query(bc, g, mon, Q_CPUS, "query-cpus-fast", NULL);
    /* A guest without disks: its block group is block.count 0 alone, whatever QEMU says
     * (two queries fewer per guest: with 200 guests the call's time is mostly QEMU's). */
    if ((bc->groups & SV_DOMAIN_STATS_BLOCK) && obj->def->disks->len) {
        JsonObject *args = json_object_new();

        json_object_set_boolean_member(args, "flat", TRUE);
        query(bc, g, mon, Q_BLOCKSTATS, "query-blockstats", NULL);
        query(bc, g, mon, Q_BLOCKNODES, "query-named-block-nodes", args);
    }
    if ((bc->groups & SV_DOMAIN_STATS_IOTHREAD) && obj->def->iothreads)
        query(bc, g, mon, Q_IOTHREADS, "query-iothreads", NULL);
    if (bc->groups & SV_DOMAIN_STATS_DIRTYRATE)
        query(bc, g, mon, Q_DIRTYRATE, "query-dirty-rate", NULL);
    guest_one_done(bc, g);
}

/* The guests of the call: those named (in their order; unknown ones skipped, as libvirt),
 * or all, kept when they pass the list filters of flags. */
static GPtrArray *
bulk_objects(SvDomainDriver *drv, remote_connect_get_all_domain_stats_args *a)
{
    g_autoptr(GPtrArray) match = sv_domain_list_filter(drv->list, a->flags & LIST_FILTERS);
    g_autoptr(GHashTable) set = NULL;
    GPtrArray *out;

    if (!a->doms.doms_len)
        return g_steal_pointer(&match);
    set = g_hash_table_new(NULL, NULL);
    for (guint i = 0; i < match->len; i++)
        g_hash_table_add(set, match->pdata[i]);
    out = g_ptr_array_new();
    for (guint i = 0; i < a->doms.doms_len; i++) {
        const guint8 *uuid = (const guint8 *)a->doms.doms_val[i].uuid;
        SvDomainObj *obj = sv_domain_list_find_by_uuid(drv->list, uuid);

        if (obj && g_hash_table_contains(set, obj))
            g_ptr_array_add(out, obj);
    }
    return out;
}

static gboolean
get_all_domain_stats(SvCall *call, remote_connect_get_all_domain_stats_args *a,
                     remote_connect_get_all_domain_stats_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(GPtrArray) objs = NULL;
    BulkCall *bc;

    (void)ret;
    if (!sv_domain_driver_check_flags(drv, a->flags, LIST_FILTERS |
                                          SV_CONNECT_GET_ALL_DOMAIN_STATS_FLAGS_ALL,
                                      "ConnectGetAllDomainStats", error))
        return FALSE;
    if ((a->flags & SV_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS) && (a->stats & ~GROUPS_ALL)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_ARGUMENT_UNSUPPORTED,
                     "Stats types bits 0x%x are not supported by this daemon or QEMU",
                     a->stats & ~GROUPS_ALL);
        return FALSE;
    }
    objs = bulk_objects(drv, a);
    bc = g_new0(BulkCall, 1);
    bc->groups = a->stats ? a->stats & GROUPS_ALL : GROUPS_ALL;
    /* NOWAIT changes nothing here: no call holds a guest's monitor for itself, so a bulk
     * call never waits behind one (its queries queue like any other). */
    bc->flags = a->flags;
    bc->guests = g_ptr_array_new_with_free_func((GDestroyNotify)bulk_guest_free);
    bc->call = sv_call_defer(call);
    bc->pending = 1; /* this function's own, dropped at its end */
    for (guint i = 0; i < objs->len; i++) {
        SvDomainObj *obj = objs->pdata[i];
        QemuDomain *qd = qemu_domain_of(obj);
        BulkGuest *g = g_new0(BulkGuest, 1);

        memcpy(g->uuid, obj->def->uuid, sizeof(g->uuid));
        g->backing = (a->flags & SV_CONNECT_GET_ALL_DOMAINS_STATS_BACKING) != 0;
        g_ptr_array_add(bc->guests, g);
        if (sv_domain_obj_is_active(obj) && qd && qd->mon && !qemu_monitor_is_closed(qd->mon) &&
            !sv_domain_run_in_start(obj)) {
            g->run = sv_domain_obj_run_key(obj);
            ask_monitor(bc, g, obj);
        }
    }
    read_images(bc);
    /* The guests that wait for nothing (shut off, and no block group) */
    for (guint i = 0; i < bc->guests->len; i++) {
        BulkGuest *g = bc->guests->pdata[i];
        if (!g->pending && !g->done)
            guest_record(bc, g);
    }
    bulk_one_done(bc);
    return TRUE;
}

void
qemu_bulkstats_install(SvRemoteHandlers *h)
{
    h->connect_get_all_domain_stats = get_all_domain_stats;
}
