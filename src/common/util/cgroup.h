/* cgroup.h: one guest's cgroup (virtlxcd's containers, virtqemud's QEMU processes), created,
 * limited, frozen, emptied and removed, on the
 * cgroup v1 controllers (a hierarchy each, MOUNT/<controller>) or on the unified v2 tree.
 *
 * Every operation is a handful of writes to cgroupfs and never waits. The mount root is a
 * parameter so that tests can point it at a fake tree in a temporary directory. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "util/conffile.h"

typedef enum {
    SV_CGROUP_V1,
    SV_CGROUP_V2,
    SV_CGROUP_VERSION_LAST
} SvCgroupVersion;

const char *sv_cgroup_version_to_string(int v);
int sv_cgroup_version_from_string(const char *s);

typedef struct SvCgroup SvCgroup;

/* The default parent of every container cgroup of a daemon: "splitvirt-" and the start of
 * the SHA-256 of its --root (so two daemons with different roots never share one). */
char *sv_cgroup_default_parent(const char *root);

/* Look at the hierarchy under mount_root ("/sys/fs/cgroup"): v2 when mount_root itself is a
 * cgroup2 tree (it has cgroup.controllers), else v1 with every controller this driver uses
 * that is mounted at mount_root/NAME. `path` is the container's cgroup relative to the root
 * of each hierarchy, e.g. "splitvirt-0123abcd/web.libvirt-lxc". Fails when no controller
 * can be used at all. Nothing is created yet. */
SvCgroup *sv_cgroup_new(const char *mount_root, const char *path, GError **error);
void sv_cgroup_free(SvCgroup *cg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvCgroup, sv_cgroup_free)

SvCgroupVersion sv_cgroup_get_version(SvCgroup *cg);
const char *sv_cgroup_get_path(SvCgroup *cg);

/* The container's directory for a controller ("memory", "freezer"...; for v2 any name gives
 * the one directory), or NULL when that controller is not available. (transfer none) */
const char *sv_cgroup_get_dir(SvCgroup *cg, const char *controller);

/* Create the cgroup (and its parents). On v2 the controllers are first enabled in the
 * subtree_control of every ancestor. An existing cgroup is reused. */
gboolean sv_cgroup_create(SvCgroup *cg, GError **error);

/* Where cgroup hierarchies are mounted unless the configuration says otherwise. */
#define SV_CGROUP_DEFAULT_MOUNT "/sys/fs/cgroup"

/* The keys cgroup_root (default SV_CGROUP_DEFAULT_MOUNT) and cgroup_parent (default
 * sv_cgroup_default_parent(root); relative, without ".."), checked. */
gboolean sv_cgroup_load_config(SvConfFile *conf, const char *root, char **out_mount_root,
                               char **out_parent, GError **error);

/* Hard memory limit: memory.limit_in_bytes (v1) or memory.max (v2). */
gboolean sv_cgroup_set_memory_limit(SvCgroup *cg, guint64 bytes, GError **error);

/* libvirt's domain tuning. CPU weight: cpu.shares (v1) or cpu.weight (v2, 1-10000). */
gboolean sv_cgroup_set_cpu_shares(SvCgroup *cg, guint64 shares, GError **error);
/* Soft memory limit: memory.soft_limit_in_bytes (v1) or memory.high (v2). */
gboolean sv_cgroup_set_memory_soft_limit(SvCgroup *cg, guint64 bytes, GError **error);
/* Memory plus swap: memory.memsw.limit_in_bytes (v1; needs swap accounting) or swap alone,
 * memory.swap.max (v2: pass the swap part). */
gboolean sv_cgroup_set_memory_swap_limit(SvCgroup *cg, guint64 bytes, GError **error);
/* issue 18, LXC tuning: the hard, soft and swap limits in bytes, read from the files above
 * (v2's swap.max is swap alone; v1's memsw memory and swap); G_MAXUINT64 for none. */
gboolean sv_cgroup_get_memory_limits(SvCgroup *cg, guint64 out_bytes[3], GError **error);
/* Block I/O weight: blkio.weight or blkio.bfq.weight (v1), io.weight "default N" or
 * io.bfq.weight (v2), whichever the kernel offers. */
gboolean sv_cgroup_set_blkio_weight(SvCgroup *cg, guint weight, GError **error);
/* The same for one block device `path` ("MAJ:MIN WEIGHT"); fails unless it is one. */
gboolean sv_cgroup_set_blkio_device_weight(SvCgroup *cg, const char *path, guint weight,
                                           GError **error);

/* Per-thread cgroups, as libvirt gives a guest's vCPU and emulator threads (v1 cpu hierarchy
 * only; v2 fails with OPERATION_UNSUPPORTED). Move thread `tid` into child cgroup `child`
 * ("vcpu0", "emulator"), made when missing; set a child's CFS period and quota (0: leave
 * as it is). sv_cgroup_remove() removes the children too. */
gboolean sv_cgroup_cpu_child_add_thread(SvCgroup *cg, const char *child, pid_t tid,
                                        GError **error);
gboolean sv_cgroup_cpu_child_set_bandwidth(SvCgroup *cg, const char *child, guint64 period,
                                           gint64 quota, GError **error);

/* v1 devices controller: deny everything but `allowed` (NULL-terminated devices.allow lines
 * such as "c 1:3 rwm"). A no-op on v2, where device access control needs a BPF program, and
 * without the controller. */
gboolean sv_cgroup_restrict_devices(SvCgroup *cg, const char *const *allowed, GError **error);

/* v1 devices controller: one rule ("b 7:0 rwm") allowed or denied; a no-op as
 * sv_cgroup_restrict_devices() is. */
gboolean sv_cgroup_change_device(SvCgroup *cg, gboolean allow, const char *rule,
                                 GError **error);

/* Move a process into the cgroup (every hierarchy). */
gboolean sv_cgroup_add_process(SvCgroup *cg, pid_t pid, GError **error);

/* Freeze or thaw every process: freezer.state (v1) or cgroup.freeze (v2). The kernel may
 * still be freezing when this returns. */
gboolean sv_cgroup_set_frozen(SvCgroup *cg, gboolean frozen, GError **error);
gboolean sv_cgroup_is_frozen(SvCgroup *cg);

/* The processes in the cgroup, from every hierarchy, sorted, without duplicates. */
GArray *sv_cgroup_get_pids(SvCgroup *cg);

/* Send `sig` to every process in the cgroup, so that none escapes: SIGKILL on v2 uses
 * cgroup.kill where the kernel has it; otherwise the cgroup is frozen while its
 * processes are listed and signalled (a frozen process cannot fork or exit, so no PID is
 * recycled meanwhile), then thawed so that the signal takes effect. Returns how many
 * processes were signalled. */
guint sv_cgroup_kill_all(SvCgroup *cg, int sig);

/* Remove the container's cgroup from every hierarchy, then its parent directories when
 * they have become empty. A missing cgroup is not an error; one that still holds
 * processes is (EBUSY). */
gboolean sv_cgroup_remove(SvCgroup *cg, GError **error);

/* Once the guest is gone: SIGKILL what is left in `cg` (a child QEMU or a container process
 * left behind), then remove it when every such process has exited, seen through pidfds (a
 * killed process lingers a moment, and rmdir of a busy cgroup fails). Takes `cg`; `name`
 * (the guest's) is for the warning if it stays. */
void sv_cgroup_remove_when_empty(SvCgroup *cg, const char *name);

/* Whether any of the container's directories exists. */
gboolean sv_cgroup_exists(SvCgroup *cg);

/* CPU time used by the cgroup, in ns: cpuacct.usage (v1) or cpu.stat usage_usec (v2); 0
 * when unknown. */
guint64 sv_cgroup_get_cpu_time(SvCgroup *cg);
/* The same with its user and system parts, in ns, as libvirt reports them (v2: cpu.stat's
 * usage_usec, user_usec, system_usec; v1: cpuacct.usage and cpuacct.stat's ticks). FALSE
 * when unknown. */
gboolean sv_cgroup_get_cpu_times(SvCgroup *cg, guint64 *out_total, guint64 *out_user,
                                 guint64 *out_sys);
/* issue 18, CPU stats: the cgroup's CPU time per host CPU, in ns, as cpuacct.usage_percpu
 * (v1) has it: the present CPUs' figures, space-separated (transfer full). v2 has no such
 * file: libvirt's OPERATION_UNSUPPORTED from its v2 backend, as on other errors FALSE. */
char *sv_cgroup_get_cpu_percpu(SvCgroup *cg, GError **error);

/* issue 18, scheduler parameters. The CFS bandwidth of the cgroup (`child` NULL) or of a
 * per-thread child ("vcpu0", "emulator", "iothread1"; v1 only): cpu.cfs_period_us and
 * cpu.cfs_quota_us (v1) or cpu.max (v2, "max" read as -1). A 0 period or quota is left as
 * it is; one outside libvirt's cgroup ranges below is refused (INVALID_ARG) before anything
 * is written. */
#define SV_CGROUP_CPU_PERIOD_MIN 1000
#define SV_CGROUP_CPU_PERIOD_MAX 1000000
#define SV_CGROUP_CPU_QUOTA_MIN 1000
#define SV_CGROUP_CPU_QUOTA_MAX G_GINT64_CONSTANT(17592186044415)
gboolean sv_cgroup_check_cpu_bandwidth(guint64 period, gint64 quota, GError **error);
gboolean sv_cgroup_set_cpu_bandwidth(SvCgroup *cg, const char *child, guint64 period,
                                     gint64 quota, GError **error);
gboolean sv_cgroup_get_cpu_bandwidth(SvCgroup *cg, const char *child, guint64 *out_period,
                                     gint64 *out_quota, GError **error);
/* Whether the per-thread child `child` exists (v1). */
gboolean sv_cgroup_has_cpu_child(SvCgroup *cg, const char *child);
/* The CPU weight: cpu.shares (v1) or cpu.weight (v2). */
gboolean sv_cgroup_get_cpu_shares(SvCgroup *cg, guint64 *out_shares, GError **error);

/* issue 18, blkio parameters: one per-device limit of block device `path`, 0 for none:
 * blkio.throttle.{read,write}_{iops,bps}_device (v1) or io.max's riops/wiops/rbps/wbps (v2). */
typedef enum {
    SV_BLKIO_THROTTLE_READ_IOPS,
    SV_BLKIO_THROTTLE_WRITE_IOPS,
    SV_BLKIO_THROTTLE_READ_BYTES,
    SV_BLKIO_THROTTLE_WRITE_BYTES,
    SV_BLKIO_THROTTLE_LAST
} SvBlkioThrottle;
gboolean sv_cgroup_set_blkio_device_throttle(SvCgroup *cg, const char *path, SvBlkioThrottle kind,
                                             guint64 value, GError **error);
/* Whether the block I/O controller offers a weight file (a weight-aware I/O scheduler): FALSE
 * with the error sv_cgroup_set_blkio_weight gives when not. */
gboolean sv_cgroup_has_blkio_weight(SvCgroup *cg, GError **error);
/* The block I/O weight: the weight file's number ("N" or "default N"). */
gboolean sv_cgroup_get_blkio_weight(SvCgroup *cg, guint *out_weight, GError **error);

/* issue 18, LXC tuning: the bytes and requests read and written by the cgroup's processes,
 * every device summed, as libvirt's virCgroupGetBlkioIoServiced: blkio.throttle.
 * io_service_bytes and io_serviced (v1) or io.stat (v2) (cgroup_usage.c). */
gboolean sv_cgroup_get_blkio_serviced(SvCgroup *cg, gint64 *rd_bytes, gint64 *wr_bytes,
                                      gint64 *rd_req, gint64 *wr_req, GError **error);
/* The memory, and the swap the cgroup's processes use, in bytes, as libvirt reads them:
 * memory.usage_in_bytes and memory.memsw.usage_in_bytes (v1: memory and swap),
 * memory.current and memory.swap.current (v2). */
gboolean sv_cgroup_get_memory_usage(SvCgroup *cg, guint64 *out_mem, guint64 *out_memsw,
                                    GError **error);
