/* domain_host.c: host facts (issue 18 item 5) served alike by every hypervisor daemon:
 * NODE_GET_CPU_STATS, NODE_GET_MEMORY_STATS, NODE_GET_CELLS_FREE_MEMORY, NODE_GET_CPU_MAP,
 * NODE_GET_MEMORY_PARAMETERS, NODE_GET_FREE_PAGES and CONNECT_GET_SYSINFO.
 *
 * The checks are libvirt 9.0's, in its order: the daemon's dispatcher (remote.c: sizes),
 * then the driver (flags), then virhostcpu.c / virhostmem.c (counts, cells). A call with
 * nparams 0 asks how many values there are, and gets only that count. */
#include "domain/domain_host.h"

#include <gio/gio.h>
#include <string.h>

#include "protocol/sv_wire_constants.h"
#include "util/error.h"
#include "util/host_stats.h"
#include "util/sysinfo.h"

#define HOST_PROC "/proc"
#define HOST_SYSFS "/sys"

/* libvirtd's dispatcher: a count it cannot hold is refused before the driver runs. */
static gboolean
nparams_bad(int nparams, int max, GError **error)
{
    if (nparams < 0) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "nparams must be non-negative");
        return TRUE;
    }
    if (nparams > max) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "nparams too large");
        return TRUE;
    }
    return FALSE;
}

/* libvirt's public API checks (libvirt-host.c), which libvirtd runs again: stock clients
 * make them before sending, so only a raw client meets them here. */
static gboolean
api_check(gboolean ok, GError **error, const char *message)
{
    if (!ok)
        sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG, "%s", message);
    return ok;
}

static gboolean
node_get_cpu_stats(SvCall *call, remote_node_get_cpu_stats_args *args,
                   remote_node_get_cpu_stats_ret *ret, GError **error)
{
    SvHostStat stats[SV_HOST_CPU_STATS_N];

    (void)call;
    if (nparams_bad(args->nparams, REMOTE_NODE_CPU_STATS_MAX, error) ||
        !api_check(args->cpuNum >= -1, error,
                   "cpuNum in virNodeGetCPUStats only accepts -1 as a negative value") ||
        !sv_check_flags(args->flags, 0, SV_FROM_NONE, "virHostCPUGetStats", error))
        return FALSE;
    if (args->nparams == 0) {
        ret->nparams = SV_HOST_CPU_STATS_N;
        return TRUE;
    }
    if (args->nparams != SV_HOST_CPU_STATS_N) {
        sv_error_set_literal(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                             "nparams in virHostCPUGetStatsLinux must be equal to %d",
                             SV_HOST_CPU_STATS_N);
        return FALSE;
    }
    if (!sv_host_cpu_stats(HOST_PROC, args->cpuNum, stats, error))
        return FALSE;
    ret->params.params_val = g_new0(remote_node_get_cpu_stats, SV_HOST_CPU_STATS_N);
    ret->params.params_len = SV_HOST_CPU_STATS_N;
    for (int i = 0; i < SV_HOST_CPU_STATS_N; i++) {
        ret->params.params_val[i].field = g_strdup(stats[i].field);
        ret->params.params_val[i].value = stats[i].value;
    }
    return TRUE;
}

static gboolean
node_get_memory_stats(SvCall *call, remote_node_get_memory_stats_args *args,
                      remote_node_get_memory_stats_ret *ret, GError **error)
{
    SvHostStat stats[SV_HOST_MEM_STATS_ALL_N];
    int n;

    (void)call;
    if (nparams_bad(args->nparams, REMOTE_NODE_MEMORY_STATS_MAX, error) ||
        !api_check(args->cellNum >= -1, error,
                   "cellNum in virNodeGetMemoryStats only accepts -1 as a negative value") ||
        !sv_check_flags(args->flags, 0, SV_FROM_NONE, "virHostMemGetStats", error))
        return FALSE;
    /* The cell is checked (and its file read) before the count is answered. The count is
     * 4 for the host (and for cell 0 of a host without NUMA, which is the host), else 2. */
    n = sv_host_mem_stats(HOST_PROC, HOST_SYSFS, args->cellNum, stats, error);
    if (n < 0)
        return FALSE;
    if (args->nparams == 0) {
        ret->nparams = n;
        return TRUE;
    }
    if (args->nparams != n) {
        sv_error_set_literal(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                             "nparams in virHostMemGetStatsLinux must be %d", n);
        return FALSE;
    }
    ret->params.params_val = g_new0(remote_node_get_memory_stats, n);
    ret->params.params_len = (u_int)n;
    for (int i = 0; i < n; i++) {
        ret->params.params_val[i].field = g_strdup(stats[i].field);
        ret->params.params_val[i].value = stats[i].value;
    }
    return TRUE;
}

/* Cells start..start+max-1, cut at the last one; start past it is an error. */
static gboolean
cell_range(int start, gint64 count, int *out_last, GError **error)
{
    int max_node = sv_host_max_node(HOST_SYSFS);

    if (start > max_node) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "start cell %d out of range (0-%d)", start, max_node);
        return FALSE;
    }
    /* In 64 bits: a hostile start and count must not overflow. */
    *out_last = (int)MIN((gint64)max_node, (gint64)start + count - 1);
    return TRUE;
}

static gboolean
node_get_cells_free_memory(SvCall *call, remote_node_get_cells_free_memory_args *args,
                           remote_node_get_cells_free_memory_ret *ret, GError **error)
{
    int last;

    (void)call;
    if (args->maxcells < 0 || args->maxcells > REMOTE_NODE_MAX_CELLS) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "%s",
                     args->maxcells < 0 ? "maxcells must be non-negative"
                                        : "maxcells > REMOTE_NODE_MAX_CELLS");
        return FALSE;
    }
    if (!api_check(args->maxcells > 0, error,
                   "maxCells in virNodeGetCellsFreeMemory must be greater than zero") ||
        !api_check(args->startCell >= 0, error,
                   "startCell in virNodeGetCellsFreeMemory must be zero or greater") ||
        !cell_range(args->startCell, args->maxcells, &last, error))
        return FALSE;
    ret->cells.cells_val = g_new0(guint64, MAX(args->maxcells, 1));
    for (int cell = args->startCell; cell <= last; cell++) {
        guint64 bytes = 0;

        /* As libvirt (virNumaGetNodeMemory): an unreadable cell counts 0 free. */
        sv_host_cell_free(HOST_PROC, HOST_SYSFS, cell, &bytes);
        ret->cells.cells_val[ret->cells.cells_len++] = bytes;
    }
    return TRUE;
}

static gboolean
node_get_cpu_map(SvCall *call, remote_node_get_cpu_map_args *args,
                 remote_node_get_cpu_map_ret *ret, GError **error)
{
    g_autofree guint8 *map = NULL;
    gsize len = 0;
    guint online = 0;
    int n;

    (void)call;
    if (!sv_check_flags(args->flags, 0, SV_FROM_NONE, "virHostCPUGetMap", error))
        return FALSE;
    n = sv_host_cpu_map(HOST_SYSFS, &map, &len, &online, error);
    if (n < 0)
        return FALSE;
    if (args->need_map) {
        ret->cpumap.cpumap_len = (u_int)len;
        ret->cpumap.cpumap_val = (char *)g_steal_pointer(&map);
    }
    if (args->need_online)
        ret->online = online;
    ret->ret = n;
    return TRUE;
}

/* libvirt's order: the three tunables and the four counters, then merge_across_nodes. */
static const struct {
    const char *field;
    const char *file;
    int type;
} ksm_params[] = {
    {"shm_pages_to_scan", "pages_to_scan", SV_TYPED_PARAM_UINT},
    {"shm_sleep_millisecs", "sleep_millisecs", SV_TYPED_PARAM_UINT},
    {"shm_pages_shared", "pages_shared", SV_TYPED_PARAM_ULLONG},
    {"shm_pages_sharing", "pages_sharing", SV_TYPED_PARAM_ULLONG},
    {"shm_pages_unshared", "pages_unshared", SV_TYPED_PARAM_ULLONG},
    {"shm_pages_volatile", "pages_volatile", SV_TYPED_PARAM_ULLONG},
    {"shm_full_scans", "full_scans", SV_TYPED_PARAM_ULLONG},
    {"shm_merge_across_nodes", "merge_across_nodes", SV_TYPED_PARAM_UINT},
};

static gboolean
node_get_memory_parameters(SvCall *call, remote_node_get_memory_parameters_args *args,
                           remote_node_get_memory_parameters_ret *ret, GError **error)
{
    int want = MIN(args->nparams, (int)G_N_ELEMENTS(ksm_params));

    (void)call;
    if (nparams_bad(args->nparams, REMOTE_NODE_MEMORY_PARAMETERS_MAX, error) ||
        !sv_check_flags(args->flags, SV_TYPED_PARAM_STRING_OKAY, SV_FROM_NONE,
                        "virHostMemGetParameters", error))
        return FALSE;
    if (args->nparams == 0) {
        ret->nparams = G_N_ELEMENTS(ksm_params);
        return TRUE;
    }
    ret->params.params_val = g_new0(remote_typed_param, G_N_ELEMENTS(ksm_params));
    for (int i = 0; i < want; i++) {
        remote_typed_param *p = &ret->params.params_val[ret->params.params_len];
        guint64 v;

        /* A file this kernel lacks leaves its parameter out, as libvirt does. */
        if (!sv_host_ksm_value(HOST_SYSFS, ksm_params[i].file, &v))
            continue;
        p->field = g_strdup(ksm_params[i].field);
        p->value.type = ksm_params[i].type;
        if (ksm_params[i].type == SV_TYPED_PARAM_UINT)
            p->value.remote_typed_param_value_u.ui = (u_int)v;
        else
            p->value.remote_typed_param_value_u.ul = v;
        ret->params.params_len++;
    }
    return TRUE;
}

static gboolean
node_get_free_pages(SvCall *call, remote_node_get_free_pages_args *args,
                    remote_node_get_free_pages_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autofree char *func = g_strdup_printf("%sNodeGetFreePages", drv->prefix);
    guint64 total = (guint64)args->pages.pages_len * args->cellCount;
    int last;

    if (total > REMOTE_NODE_MAX_CELLS) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                     "the result won't fit into REMOTE_NODE_MAX_CELLS");
        return FALSE;
    }
    if (!api_check(args->pages.pages_len > 0, error,
                   "npages in virNodeGetFreePages must not be zero") ||
        !api_check(args->cellCount > 0, error,
                   "cellCount in virNodeGetFreePages must not be zero") ||
        !sv_check_flags(args->flags, 0, drv->from, func, error) ||
        !cell_range(args->startCell, args->cellCount, &last, error))
        return FALSE;
    if (args->startCell < -1) {
        /* libvirt fails here without saying why (a NUMA query of a negative node). */
        sv_error_set_literal(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "%s",
                             "An error occurred, but the cause is unknown");
        return FALSE;
    }
    ret->counts.counts_val = g_new0(guint64, MAX(total, 1));
    for (int cell = args->startCell; cell <= last; cell++) {
        for (u_int i = 0; i < args->pages.pages_len; i++) {
            guint64 *slot = &ret->counts.counts_val[ret->counts.counts_len];

            if (!sv_host_free_pages(HOST_PROC, HOST_SYSFS, cell, args->pages.pages_val[i], slot,
                                    error))
                return FALSE;
            ret->counts.counts_len++;
        }
    }
    if (ret->counts.counts_len == 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_FAILED, "no suitable info found");
        return FALSE;
    }
    return TRUE;
}

void
sv_domain_host_install_node(SvDomainDriver *drv, SvRemoteHandlers *h)
{
    (void)drv;
    h->node_get_cpu_stats = node_get_cpu_stats;
    h->node_get_memory_stats = node_get_memory_stats;
    h->node_get_cells_free_memory = node_get_cells_free_memory;
    h->node_get_cpu_map = node_get_cpu_map;
    h->node_get_memory_parameters = node_get_memory_parameters;
    h->node_get_free_pages = node_get_free_pages;
}

/* libvirt's "none" security driver, the first <secmodel> of a daemon that labels nothing:
 * model "none", doi "0" (virsh dominfo prints both). */
static gboolean
node_get_security_model_none(SvCall *call, remote_node_get_security_model_ret *ret,
                             GError **error)
{
    (void)call;
    (void)error;
    /* Each string goes out as libvirt sends it, its NUL counted. */
    ret->model.model_len = 5;
    ret->model.model_val = g_strdup("none");
    ret->doi.doi_len = 2;
    ret->doi.doi_val = g_strdup("0");
    return TRUE;
}

void
sv_domain_host_install_security_none(SvRemoteHandlers *h)
{
    h->node_get_security_model = node_get_security_model_none;
}

/* ---------------------------------------------------------------- sysinfo */

static void
set_no_smbios(GError **error, int from)
{
    sv_error_set(error, from, SV_ERR_CONFIG_UNSUPPORTED,
                 "Host SMBIOS information is not available");
}

typedef struct {
    SvCall *call; /* deferred */
    int from;
} SysinfoRequest;

static void
sysinfo_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree SysinfoRequest *req = data;
    g_autofree char *out = NULL;
    g_autoptr(GError) local = NULL;
    GSubprocess *proc = G_SUBPROCESS(source);
    remote_connect_get_sysinfo_ret ret = {0};

    /* As libvirt, any failure of dmidecode (no tables: it exits 1) means no SMBIOS. */
    if (!g_subprocess_communicate_utf8_finish(proc, res, &out, NULL, &local) ||
        !g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0) {
        GError *err = NULL;

        g_debug("dmidecode: %s", local ? local->message : "failed");
        g_object_unref(proc);
        set_no_smbios(&err, req->from);
        sv_call_fail(req->call, err);
        return;
    }
    g_object_unref(proc);
    ret.sysinfo = sv_sysinfo_format_dmidecode(out ? out : "");
    sv_call_reply(req->call, &ret);
    g_free(ret.sysinfo);
}

static gboolean
connect_get_sysinfo(SvCall *call, remote_connect_get_sysinfo_args *args,
                    remote_connect_get_sysinfo_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autofree char *func = g_strdup_printf("%sConnectGetSysinfo", drv->prefix);
    g_autofree char *path = g_find_program_in_path("dmidecode");
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GPtrArray) argv = NULL;
    GSubprocess *proc;
    SysinfoRequest *req;

    (void)ret;
    if (!sv_check_flags(args->flags, 0, drv->from, func, error))
        return FALSE;
    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                         G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    {
        const char *env[] = {"LC_ALL=C", NULL};

        g_subprocess_launcher_set_environ(launcher, (char **)env);
    }
    argv = g_ptr_array_new();
    g_ptr_array_add(argv, path);
    for (const char *const *a = sv_sysinfo_dmidecode_args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    proc = path ? g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, NULL)
                : NULL;
    if (!proc) {
        set_no_smbios(error, drv->from);
        return FALSE;
    }
    req = g_new0(SysinfoRequest, 1);
    req->call = sv_call_defer(call);
    req->from = drv->from;
    g_subprocess_communicate_utf8_async(proc, NULL, NULL, sysinfo_done, req);
    return TRUE;
}

void
sv_domain_host_install_sysinfo(SvDomainDriver *drv, SvRemoteHandlers *h)
{
    (void)drv;
    h->connect_get_sysinfo = connect_get_sysinfo;
}
