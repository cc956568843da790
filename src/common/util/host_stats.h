/* host_stats.h: the host's CPU and memory figures as libvirt's node calls report them,
 * read from /proc and /sys (roots given, so tests can use a copy). Errors carry libvirt's
 * code, domain (VIR_FROM_NONE: libvirt's virhostcpu.c and virhostmem.c) and message (invalid
 * arguments without the "invalid argument: " prefix, as virReportInvalidArg gives them). */
#pragma once

#include <glib.h>

typedef struct {
    const char *field; /* libvirt's VIR_NODE_*_STATS_* name (static) */
    guint64 value;
} SvHostStat;

#define SV_HOST_CPU_STATS_N 4
#define SV_HOST_MEM_STATS_ALL_N 4
#define SV_HOST_MEM_STATS_CELL_N 2

/* kernel, user, idle and iowait of one CPU (cpu >= 0) or of all (-1), in nanoseconds,
 * from PROC/stat. Fails INVALID_ARG "Invalid cpuNum in ..." for a CPU not listed. */
gboolean sv_host_cpu_stats(const char *proc, int cpu, SvHostStat out[SV_HOST_CPU_STATS_N],
                           GError **error);

/* total, free, buffers and cached (KiB) of the host (cell -1, from PROC/meminfo), or total
 * and free of one NUMA cell (from SYSFS/devices/system/node/nodeN/meminfo; a host without
 * NUMA in sysfs answers cell 0 for the whole host, as libvirt does). Returns how many were
 * filled, -1 on error (a cell past the last: INVALID_ARG). */
int sv_host_mem_stats(const char *proc, const char *sysfs, int cell,
                      SvHostStat out[SV_HOST_MEM_STATS_ALL_N], GError **error);

/* The highest NUMA node in SYSFS/devices/system/node, 0 when there is none. */
int sv_host_max_node(const char *sysfs);

/* Free memory in bytes of a NUMA cell (the host's when sysfs has no NUMA nodes); FALSE
 * when unreadable. */
gboolean sv_host_cell_free(const char *proc, const char *sysfs, int cell, guint64 *out_bytes);

/* The CPUs present (the highest present id + 1, the return value), a bitmap of those
 * online (bit i of byte i/8, (n+7)/8 bytes) and their count; -1 on error. */
int sv_host_cpu_map(const char *sysfs, guint8 **out_map, gsize *out_len, guint *out_online,
                    GError **error);

/* Free pages of `page_kib` KiB on NUMA cell `cell` (-1: the whole host): the page size of
 * the system from MemFree, huge pages from sysfs. An unknown size fails OPERATION_FAILED
 * "page size N is not available on node C". */
gboolean sv_host_free_pages(const char *proc, const char *sysfs, int cell, guint page_kib,
                            guint64 *out_count, GError **error);

/* One value of SYSFS/kernel/mm/ksm (the KSM tunables and counters); FALSE when the kernel
 * has no such file or it does not hold a number. */
gboolean sv_host_ksm_value(const char *sysfs, const char *name, guint64 *out_value);
