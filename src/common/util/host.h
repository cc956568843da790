/* host.h: facts about the host every driver reports: CPU and memory, hostname, UUID. */
#pragma once

#include <glib.h>

typedef struct {
    char model[32];     /* "x86_64" */
    guint64 memory_kib; /* total memory */
    int cpus;
    int mhz;
    int nodes;
    int sockets;
    int cores;
    int threads;
} SvHostInfo;

/* Read /proc and sysfs; never fails (unknown fields stay plausible). */
void sv_host_info_get(SvHostInfo *info);

/* Free memory in bytes (MemFree + reclaimable caches, as libvirt reports MemFree only: MemFree). */
guint64 sv_host_free_memory(void);

/* A stable host UUID in 8-4-4-4-12 form (DMI product UUID, else /etc/machine-id). (transfer full) */
char *sv_host_uuid(void);

/* The host UUID as libvirt's daemons decide it from their configuration: `host_uuid` when
 * set (any form libvirt parses: 32 hex digits, dashes between pairs), else by
 * `host_uuid_source`: "smbios" (or NULL) as sv_host_uuid(), "machine-id" from
 * /etc/machine-id. libvirt's errors for a bad source or UUID. (transfer full) */
char *sv_host_uuid_configured(const char *host_uuid, const char *source, GError **error);

/* The host's architecture name as libvirt spells it ("x86_64"). */
const char *sv_host_arch(void);

/* The host CPU's model and features as libvirt's CPU map decodes them (conf/cpu_x86_host.h);
 * all NULL where the map could not be read. */
typedef struct {
    const char *model;
    const char *vendor;
    const char *const *features; /* NULL-terminated, in map order */
} SvHostCpuModel;

/* The start of a capabilities document's <host>, as libvirt prints it where it is read
 * from /proc and /sys (host_caps.c): its uuid, cpu (model, vendor and feature list from
 * `cpu`, which may be NULL), power management and iommu, then extra (the driver's own
 * elements, or ""), then the NUMA cells and the L3 caches. The caller adds <secmodel>
 * and closes the element. sysfs, proc and dev: "/sys", "/proc" and "/dev" (the TSC as KVM
 * gives it to a guest, read once), or a copy's (tests). */
void sv_host_capabilities_begin(GString *s, const char *host_uuid, const SvHostCpuModel *cpu,
                                const char *extra);
void sv_host_capabilities_begin_at(GString *s, const char *host_uuid,
                                   const SvHostCpuModel *cpu, const char *extra,
                                   const char *sysfs, const char *proc, const char *dev);

/* The host CPU's vendor as libvirt names it ("Intel", "AMD", "Hygon") from proc's cpuinfo
 * ("/proc", or a copy's), or NULL when it is none of them. (transfer full) */
char *sv_host_cpu_vendor(const char *proc);
