/* qemu_cgroup.h: a QEMU guest's own cgroup, CGROUP_PARENT/NAME.libvirt-qemu in every
 * hierarchy (util/cgroup.h), holding its QEMU process with the guest's <cputune> shares,
 * <memtune> and <blkiotune> applied, as libvirt puts each guest in a cgroup of its own.
 * Internal to src/virtqemud. */
#pragma once

#include "conf/domain_conf.h"
#include "qemu_process.h"
#include "util/cgroup.h"

/* Give `pid` (QEMU, still held before exec) the guest's initial CPU affinity (<emulatorpin>,
 * else <vcpu cpuset>), create the cgroup of the guest `def` describes, apply its tuning and
 * move `pid` into it. Fails with the cgroup layer's error (a controller the host lacks, a
 * value the kernel refuses); what was made is removed again. */
gboolean qemu_cgroup_setup(QemuProcessContext *ctx, const SvDomainDef *def, pid_t pid,
                           GError **error);

/* Once its QEMU is gone: what is left in the guest `name`'s cgroup (a process QEMU started)
 * is killed and the cgroup removed when empty; nothing when there is none. */
void qemu_cgroup_remove(QemuProcessContext *ctx, const char *name);

/* At reconnect, once no set-aside status file keeps them: the cgroups under the parent of
 * guests `owned` does not claim (no QEMU of theirs runs), emptied and removed. */
void qemu_cgroup_remove_unowned(QemuProcessContext *ctx,
                                gboolean (*owned)(const char *name, gpointer data),
                                gpointer data);

/* CPU affinity of QEMU's threads once QEMU names them (query-cpus-fast, query-iothreads), as
 * libvirt's qemuProcessSetupVcpus/IOThreads: whether the guest needs it (pins), then each
 * vCPU thread gets its <vcpupin>, else <vcpu cpuset>, else every host CPU; each I/O thread
 * <vcpu cpuset> or every host CPU. */
gboolean qemu_threads_need_setup(const SvDomainDef *def);
gboolean qemu_affinity_pin_vcpu(const SvDomainDef *def, guint vcpu, pid_t tid, GError **error);
gboolean qemu_affinity_pin_iothread(const SvDomainDef *def, pid_t tid, GError **error);

/* libvirt's per-thread cgroups for <cputune> period and quota (util/cgroup.h, v1): every
 * thread of QEMU `pid` into "emulator" (with emulator_period/quota), then, as QEMU names
 * them, each vCPU or I/O thread (`kind` "vcpu" or "iothread", `index` its number) gets its
 * affinity above and moves into KIND+INDEX (vCPUs with period/quota, I/O threads with
 * iothread_period/quota). Nothing but the affinity when the guest sets no bandwidth. */
gboolean qemu_threads_place_emulator(QemuProcessContext *ctx, const SvDomainDef *def, pid_t pid,
                                     GError **error);
gboolean qemu_threads_place(QemuProcessContext *ctx, const SvDomainDef *def, const char *kind,
                            guint index, pid_t tid, GError **error);

/* issue 18, metadata and tuning: the cgroup of the running guest `name`, or NULL when it has
 * none of its own (transfer full). */
SvCgroup *qemu_cgroup_open(QemuProcessContext *ctx, const char *name);
/* The CPU time of the guest `name`'s cgroup, with its user and system parts (ns); FALSE when
 * it has none (then its QEMU's /proc entry tells). */
gboolean qemu_cgroup_cpu_times(QemuProcessContext *ctx, const char *name, guint64 *out_total,
                               guint64 *out_user, guint64 *out_sys);
