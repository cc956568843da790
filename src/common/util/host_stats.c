/* host_stats.c: CPU and memory figures of the host, as libvirt's node calls give them. */
#include "host_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

static char *
read_text(const char *root, const char *rel)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

gboolean
sv_host_cpu_stats(const char *proc, int cpu, SvHostStat out[SV_HOST_CPU_STATS_N],
                  GError **error)
{
    g_autofree char *text = read_text(proc, "stat");
    g_autofree char *prefix = cpu < 0 ? g_strdup("cpu ") : g_strdup_printf("cpu%d ", cpu);
    guint64 ns_per_tick = G_GUINT64_CONSTANT(1000000000) / (guint64)sysconf(_SC_CLK_TCK);
    g_auto(GStrv) lines = NULL;

    if (!text) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_SYSTEM_ERROR, "cannot open %s/stat", proc);
        return FALSE;
    }
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        unsigned long long usr, ni, sys, idle, iowait = 0, irq = 0, softirq = 0;

        if (!g_str_has_prefix(*l, prefix))
            continue;
        if (sscanf(*l + strlen(prefix), "%llu %llu %llu %llu %llu %llu %llu", &usr, &ni, &sys,
                   &idle, &iowait, &irq, &softirq) < 4)
            continue;
        out[0] = (SvHostStat){"kernel", (sys + irq + softirq) * ns_per_tick};
        out[1] = (SvHostStat){"user", (usr + ni) * ns_per_tick};
        out[2] = (SvHostStat){"idle", idle * ns_per_tick};
        out[3] = (SvHostStat){"iowait", iowait * ns_per_tick};
        return TRUE;
    }
    sv_error_set_literal(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                         "Invalid cpuNum in virHostCPUGetStatsLinux");
    return FALSE;
}

int
sv_host_max_node(const char *sysfs)
{
    g_autofree char *path = g_build_filename(sysfs, "devices/system/node", NULL);
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;
    int max = 0;

    while (dir && (name = g_dir_read_name(dir))) {
        char *end;
        long n;

        if (!g_str_has_prefix(name, "node") || !g_ascii_isdigit(name[4]))
            continue;
        n = strtol(name + 4, &end, 10);
        if (*end == '\0' && n > max)
            max = (int)n;
    }
    return max;
}

static gboolean
has_numa(const char *sysfs)
{
    g_autofree char *path = g_build_filename(sysfs, "devices/system/node/node0", NULL);

    return g_file_test(path, G_FILE_TEST_IS_DIR);
}

/* The meminfo of a cell (its "Node N " prefixes dropped) or of the host (cell -1). */
static char *
meminfo_text(const char *proc, const char *sysfs, int cell)
{
    g_autofree char *rel = NULL;

    if (cell < 0 || !has_numa(sysfs))
        return read_text(proc, "meminfo");
    rel = g_strdup_printf("devices/system/node/node%d/meminfo", cell);
    return read_text(sysfs, rel);
}

/* The value in KiB of `key` ("MemFree:") in a meminfo text; FALSE when absent. */
static gboolean
meminfo_value(const char *text, const char *key, guint64 *out)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (char **l = lines; *l; l++) {
        char *p = *l;
        char hdr[64];
        unsigned long long v;

        if (g_str_has_prefix(p, "Node ")) {
            p = strchr(p + 5, ' ');
            if (!p)
                continue;
            p++;
        }
        if (sscanf(p, "%63s %llu kB", hdr, &v) == 2 && g_str_equal(hdr, key)) {
            *out = v;
            return TRUE;
        }
    }
    return FALSE;
}

int
sv_host_mem_stats(const char *proc, const char *sysfs, int cell,
                  SvHostStat out[SV_HOST_MEM_STATS_ALL_N], GError **error)
{
    static const char *const keys[] = {"MemTotal:", "MemFree:", "Buffers:", "Cached:"};
    static const char *const fields[] = {"total", "free", "buffers", "cached"};
    g_autofree char *text = NULL;
    int max = sv_host_max_node(sysfs);
    int want, n = 0;

    if (!has_numa(sysfs) && cell == 0)
        cell = -1; /* libvirt: a host without NUMA is one cell */
    if (cell > max) {
        sv_error_set_literal(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                             "cellNum in virHostMemGetStats must be less than or equal to %d",
                             max);
        return -1;
    }
    want = cell < 0 ? SV_HOST_MEM_STATS_ALL_N : SV_HOST_MEM_STATS_CELL_N;
    text = meminfo_text(proc, sysfs, cell);
    if (!text) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_SYSTEM_ERROR, "cannot open meminfo of cell %d",
                     cell);
        return -1;
    }
    for (int i = 0; i < want; i++) {
        guint64 v;

        if (meminfo_value(text, keys[i], &v))
            out[n++] = (SvHostStat){fields[i], v};
    }
    if (n == 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "no available memory line found");
        return -1;
    }
    return n;
}

gboolean
sv_host_cell_free(const char *proc, const char *sysfs, int cell, guint64 *out_bytes)
{
    g_autofree char *text = meminfo_text(proc, sysfs, cell);
    guint64 kib;

    if (!text || !meminfo_value(text, "MemFree:", &kib))
        return FALSE;
    *out_bytes = kib * 1024;
    return TRUE;
}

/* Parse a kernel CPU list ("0-3,5") into bits below n; FALSE when malformed. */
static gboolean
cpu_list_parse(const char *text, guint8 *map, int n)
{
    g_auto(GStrv) parts = g_strsplit(g_strstrip((char *)text), ",", -1);

    for (char **p = parts; *p && **p; p++) {
        char *end;
        long lo = strtol(*p, &end, 10), hi = lo;

        if (end == *p)
            return FALSE;
        if (*end == '-')
            hi = strtol(end + 1, &end, 10);
        if (*end != '\0' || lo < 0 || hi < lo)
            return FALSE;
        for (long i = lo; i <= hi && i < n; i++)
            map[i / 8] |= (guint8)(1u << (i % 8));
    }
    return TRUE;
}

int
sv_host_cpu_map(const char *sysfs, guint8 **out_map, gsize *out_len, guint *out_online,
                GError **error)
{
    g_autofree char *present = read_text(sysfs, "devices/system/cpu/present");
    g_autofree char *online = read_text(sysfs, "devices/system/cpu/online");
    g_autofree guint8 *map = NULL;
    const char *last;
    int n;
    guint count = 0;

    if (!present || !online) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_SYSTEM_ERROR,
                     "cannot read %s/devices/system/cpu", sysfs);
        return -1;
    }
    /* The number of CPUs is the last id in "present" + 1 (libvirt's virHostCPUGetCount). */
    g_strstrip(present);
    last = strrchr(present, '-');
    last = last ? last + 1 : present;
    if (strrchr(present, ',') && strrchr(present, ',') > last)
        last = strrchr(present, ',') + 1;
    n = atoi(last) + 1;
    map = g_new0(guint8, (n + 7) / 8);
    if (!cpu_list_parse(online, map, n)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "cannot parse online CPUs '%s'",
                     online);
        return -1;
    }
    for (int i = 0; i < n; i++)
        count += (map[i / 8] >> (i % 8)) & 1;
    *out_len = (gsize)(n + 7) / 8;
    *out_map = g_steal_pointer(&map);
    *out_online = count;
    return n;
}

gboolean
sv_host_free_pages(const char *proc, const char *sysfs, int cell, guint page_kib,
                   guint64 *out_count, GError **error)
{
    guint system_kib = (guint)(sysconf(_SC_PAGESIZE) / 1024);
    g_autofree char *rel = NULL;
    g_autofree char *text = NULL;

    if (page_kib == system_kib) {
        guint64 bytes = 0;

        if (!sv_host_cell_free(proc, sysfs, cell, &bytes)) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                         "cannot read free memory of node %d", cell);
            return FALSE;
        }
        *out_count = bytes / ((guint64)page_kib * 1024);
        return TRUE;
    }
    rel = cell < 0 || !has_numa(sysfs)
              ? g_strdup_printf("kernel/mm/hugepages/hugepages-%ukB/free_hugepages", page_kib)
              : g_strdup_printf("devices/system/node/node%d/hugepages/hugepages-%ukB/"
                                "free_hugepages", cell, page_kib);
    text = read_text(sysfs, rel);
    if (!text) {
        if (cell < 0)
            sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_FAILED,
                         "page size %u is not available", page_kib);
        else
            sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_FAILED,
                         "page size %u is not available on node %d", page_kib, cell);
        return FALSE;
    }
    *out_count = g_ascii_strtoull(text, NULL, 10);
    return TRUE;
}

gboolean
sv_host_ksm_value(const char *sysfs, const char *name, guint64 *out_value)
{
    g_autofree char *rel = g_strdup_printf("kernel/mm/ksm/%s", name);
    g_autofree char *text = read_text(sysfs, rel);
    char *end;

    if (!text)
        return FALSE;
    *out_value = g_ascii_strtoull(text, &end, 10);
    return end != text;
}
