/* qemu_cgroup.h: a QEMU guest's own cgroup, CGROUP_PARENT/NAME.libvirt-qemu in every
 * hierarchy (util/cgroup.h), holding its QEMU process with the guest's <cputune> shares,
 * <memtune> and <blkiotune> applied, as libvirt puts each guest in a cgroup of its own.
 * Internal to src/virtqemud. */
#pragma once

#include "conf/domain_conf.h"
#include "qemu_process.h"

/* Give `pid` (QEMU, still held before exec) the guest's initial CPU affinity (<emulatorpin>,
 * else <vcpu cpuset>),
 * create the cgroup of the guest `def` describes, apply its tuning and move `pid` into it. Fails with the cgroup layer's error (a controller the
 * host lacks, a value the kernel refuses); what was made is removed again. */
gboolean qemu_cgroup_setup(QemuProcessContext *ctx, const SvDomainDef *def, pid_t pid,
                           GError **error);

/* Remove the guest `name`'s cgroup once its QEMU is gone; nothing when there is none. */
void qemu_cgroup_remove(QemuProcessContext *ctx, const char *name);

/* CPU affinity of QEMU's threads once QEMU names them (query-cpus-fast, query-iothreads), as
 * libvirt's qemuProcessSetupVcpus/IOThreads: whether the guest needs it (pins), then each
 * vCPU thread gets its <vcpupin>, else <vcpu cpuset>, else every host CPU; each I/O thread
 * <vcpu cpuset> or every host CPU. */
gboolean qemu_affinity_needed(const SvDomainDef *def);
gboolean qemu_affinity_pin_vcpu(const SvDomainDef *def, guint vcpu, pid_t tid, GError **error);
gboolean qemu_affinity_pin_iothread(const SvDomainDef *def, pid_t tid, GError **error);
