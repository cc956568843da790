/* cgroup_usage.c: what a cgroup's processes used (cgroup.h): CPU time (total, user and
 * system, per host CPU), block I/O totals (sv_cgroup_get_blkio_serviced) and memory
 * (sv_cgroup_get_memory_usage). */
#include "util/cgroup.h"

#include <string.h>
#include <unistd.h>

#include "util/error.h"

/* A cgroupfs file's text, or NULL (with an error when error is not NULL). Not inlined:
 * gcc 12 at -O3 takes a pointer into the text read (through the local whose address
 * g_file_get_contents fills) for one dangling (-Wdangling-pointer). */
static G_GNUC_NO_INLINE char *
read_in(const char *dir, const char *file, GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INTERNAL_ERROR, "Unable to read '%s'", path);
    return text;
}

/* The directory CPU time is read from: v1's cpuacct hierarchy, v2's one. */
static const char *
cpu_dir(SvCgroup *cg)
{
    return sv_cgroup_get_dir(cg, sv_cgroup_get_version(cg) == SV_CGROUP_V2 ? "cpu" : "cpuacct");
}


/* v1: "MAJ:MIN Read N" and "MAJ:MIN Write N" lines of every device (the "Total" line and
 * other operations left out), summed into out[0] (read) and out[1] (write). */
static gboolean
sum_v1(const char *dir, const char *file, gint64 out[2], GError **error)
{
    g_autofree char *text = read_in(dir, file, error);
    g_auto(GStrv) lines = text ? g_strsplit(text, "\n", -1) : NULL;

    for (guint i = 0; lines && lines[i]; i++) {
        g_auto(GStrv) w = g_strsplit(lines[i], " ", -1);

        if (g_strv_length(w) != 3 || !strchr(w[0], ':'))
            continue;
        if (g_str_equal(w[1], "Read"))
            out[0] += g_ascii_strtoll(w[2], NULL, 10);
        else if (g_str_equal(w[1], "Write"))
            out[1] += g_ascii_strtoll(w[2], NULL, 10);
    }
    return text != NULL;
}

/* v2: io.stat's "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ..." lines, summed. */
static gboolean
sum_v2(const char *dir, gint64 out[4], GError **error)
{
    static const char *const keys[] = {"rbytes=", "wbytes=", "rios=", "wios="};
    g_autofree char *text = read_in(dir, "io.stat", error);
    g_auto(GStrv) words = text ? g_strsplit_set(text, " \n", -1) : NULL;

    for (guint i = 0; words && words[i]; i++) {
        for (guint k = 0; k < G_N_ELEMENTS(keys); k++) {
            if (g_str_has_prefix(words[i], keys[k]))
                out[k] += g_ascii_strtoll(words[i] + strlen(keys[k]), NULL, 10);
        }
    }
    return text != NULL;
}

gboolean
sv_cgroup_get_blkio_serviced(SvCgroup *cg, gint64 *rd_bytes, gint64 *wr_bytes, gint64 *rd_req,
                             gint64 *wr_req, GError **error)
{
    gboolean v2 = sv_cgroup_get_version(cg) == SV_CGROUP_V2;
    const char *dir = sv_cgroup_get_dir(cg, v2 ? "io" : "blkio");
    gint64 bytes[2] = {0, 0}, reqs[2] = {0, 0}, all[4] = {0, 0, 0, 0};

    if (!dir) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_OPERATION_INVALID,
                     "blkio cgroup isn't mounted");
        return FALSE;
    }
    if (v2) {
        if (!sum_v2(dir, all, error))
            return FALSE;
    } else if (!sum_v1(dir, "blkio.throttle.io_service_bytes", bytes, error) ||
               !sum_v1(dir, "blkio.throttle.io_serviced", reqs, error)) {
        return FALSE;
    } else {
        all[0] = bytes[0], all[1] = bytes[1], all[2] = reqs[0], all[3] = reqs[1];
    }
    *rd_bytes = all[0];
    *wr_bytes = all[1];
    *rd_req = all[2];
    *wr_req = all[3];
    return TRUE;
}

gboolean
sv_cgroup_get_memory_usage(SvCgroup *cg, guint64 *out_mem, guint64 *out_memsw, GError **error)
{
    gboolean v2 = sv_cgroup_get_version(cg) == SV_CGROUP_V2;
    const char *dir = sv_cgroup_get_dir(cg, "memory");
    const char *files[2] = {v2 ? "memory.current" : "memory.usage_in_bytes",
                            v2 ? "memory.swap.current" : "memory.memsw.usage_in_bytes"};
    guint64 *out[2] = {out_mem, out_memsw};

    if (!dir) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_OPERATION_INVALID,
                     "cgroup memory controller is not mounted");
        return FALSE;
    }
    for (int i = 0; i < 2; i++) {
        g_autofree char *text = read_in(dir, files[i], error);

        if (!text)
            return FALSE;
        *out[i] = g_ascii_strtoull(text, NULL, 10);
    }
    return TRUE;
}

guint64
sv_cgroup_get_cpu_time(SvCgroup *cg)
{
    const char *dir = cpu_dir(cg);
    g_autofree char *text = NULL;
    const char *p;

    if (!dir)
        return 0;
    if (sv_cgroup_get_version(cg) == SV_CGROUP_V1) {
        text = read_in(dir, "cpuacct.usage", NULL);
        return text ? g_ascii_strtoull(text, NULL, 10) : 0;
    }
    text = read_in(dir, "cpu.stat", NULL);
    if (!text || !(p = strstr(text, "usage_usec ")))
        return 0;
    return g_ascii_strtoull(p + strlen("usage_usec "), NULL, 10) * 1000;
}

/* A "KEY VALUE" line's value in a flat keyed file (cpu.stat, cpuacct.stat), or -1. */
static gint64
keyed_value(const char *text, const char *key)
{
    g_autofree char *needle = g_strconcat(key, " ", NULL);
    const char *p = text;

    while ((p = strstr(p, needle))) {
        if (p == text || p[-1] == '\n')
            return (gint64)g_ascii_strtoull(p + strlen(needle), NULL, 10);
        p += strlen(needle);
    }
    return -1;
}

/* issue 18 (per-guest statistics): the cgroup's CPU time, user and system parts. */
gboolean
sv_cgroup_get_cpu_times(SvCgroup *cg, guint64 *out_total, guint64 *out_user, guint64 *out_sys)
{
    const char *dir = cpu_dir(cg);
    g_autofree char *text = NULL;
    g_autofree char *usage = NULL;
    gint64 total, user, sys;
    long hz = sysconf(_SC_CLK_TCK);

    if (!dir)
        return FALSE;
    if (sv_cgroup_get_version(cg) == SV_CGROUP_V2) {
        if (!(text = read_in(dir, "cpu.stat", NULL)))
            return FALSE;
        total = keyed_value(text, "usage_usec");
        user = keyed_value(text, "user_usec");
        sys = keyed_value(text, "system_usec");
        if (total < 0 || user < 0 || sys < 0)
            return FALSE;
        *out_total = (guint64)total * 1000;
        *out_user = (guint64)user * 1000;
        *out_sys = (guint64)sys * 1000;
        return TRUE;
    }
    if (!(usage = read_in(dir, "cpuacct.usage", NULL)) ||
        !(text = read_in(dir, "cpuacct.stat", NULL)) || hz <= 0)
        return FALSE;
    user = keyed_value(text, "user");
    sys = keyed_value(text, "system");
    if (user < 0 || sys < 0)
        return FALSE;
    *out_total = g_ascii_strtoull(usage, NULL, 10);
    *out_user = (guint64)user * (G_GUINT64_CONSTANT(1000000000) / (guint64)hz);
    *out_sys = (guint64)sys * (G_GUINT64_CONSTANT(1000000000) / (guint64)hz);
    return TRUE;
}

char *
sv_cgroup_get_cpu_percpu(SvCgroup *cg, GError **error)
{
    const char *dir;
    char *text;

    if (sv_cgroup_get_version(cg) == SV_CGROUP_V2) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_OPERATION_UNSUPPORTED,
                     "operation '%s' not supported for backend '%s'", "getCpuacctPercpuUsage",
                     "cgroup V2");
        return NULL;
    }
    if (!(dir = sv_cgroup_get_dir(cg, "cpuacct")) ||
        !(text = read_in(dir, "cpuacct.usage_percpu", NULL))) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INTERNAL_ERROR,
                     "Unable to read cpuacct.usage_percpu of the cgroup");
        return NULL;
    }
    return text;
}
