/* qemu_stats.h: a QEMU guest's statistics for clients (issue 18, item 1, per guest):
 * qemu_stats.c (block devices, interfaces, memory) and qemu_stats_vcpu.c (vCPUs, CPU time,
 * jobs, the guest's clock). Internal to src/virtqemud; the pure parts are for the unit
 * tests. */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/domain_conf.h"
#include "conf/domain_obj.h"
#include "domain/domain_driver.h"
#include "programs/remote.h"

/* Install the procedures into h (their handlers find the driver from their call), and drv's
 * facts for the shared ones (the control state of a guest's monitor). */
void qemu_stats_install(SvDomainDriver *drv, SvRemoteHandlers *h);
void qemu_stats_vcpu_install(SvDomainDriver *drv, SvRemoteHandlers *h);
/* CONNECT_GET_ALL_DOMAIN_STATS (qemu_bulkstats.c). */
void qemu_bulkstats_install(SvRemoteHandlers *h);

typedef struct {
    gint64 rd_req, rd_bytes, wr_req, wr_bytes, flush_req;
    gint64 rd_total_times, wr_total_times, flush_total_times;
} QemuBlockStats;

typedef struct {
    guint64 capacity, allocation, physical;
} QemuBlockInfo;

/* Whether query-blockstats' "qdev" names disk (its id, or a path under its QOM node). */
gboolean qemu_stats_qdev_is_disk(const char *qdev, const SvDomainDiskDef *disk);
/* The counters of disk, or of every disk of def summed when disk is NULL, from
 * query-blockstats' answer; FALSE when QEMU lists none of them. */
gboolean qemu_stats_block_sum(JsonNode *ret, const SvDomainDef *def, const SvDomainDiskDef *disk,
                              QemuBlockStats *out);
/* An image's capacity (a qcow2 header's virtual size), allocation and physical size. Blocks:
 * run it in a worker thread. */
gboolean qemu_stats_image_info(const char *path, gboolean qcow2, QemuBlockInfo *out,
                               GError **error);
/* Append the memory stats of a qom-get guest-stats answer to out (of
 * remote_domain_memory_stat), as libvirt lists them. */
void qemu_stats_memory_parse(JsonNode *ret, GArray *out);

/* Host CPUs as libvirt counts them, and a canonical CPU list ("0-2,5"; NULL: all of them)
 * as a cpumap of maplen bytes. */
guint qemu_stats_host_cpus(void);
void qemu_stats_cpulist_to_map(const char *list, guint host_cpus, guint8 *map, gsize maplen);

/* A process's resident memory in KiB, or -1. */
gint64 qemu_stats_rss_kib(pid_t pid);
/* A thread's CPU time in ns and the CPU it last ran on (0 and 0 when unreadable). */
void qemu_stats_thread_stat(pid_t pid, pid_t tid, guint64 *out_ns, int *out_cpu);
/* A process's user and system time in ns (0 when unreadable). */
void qemu_stats_process_times(pid_t pid, guint64 *out_user, guint64 *out_sys);
