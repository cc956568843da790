/* qemu_cgroup.h: a QEMU guest's own cgroup, CGROUP_PARENT/NAME.libvirt-qemu in every
 * hierarchy (util/cgroup.h), holding its QEMU process with the guest's <cputune> shares,
 * <memtune> and <blkiotune> applied, as libvirt puts each guest in a cgroup of its own.
 * Internal to src/virtqemud. */
#pragma once

#include "conf/domain_conf.h"
#include "qemu_process.h"

/* Give `pid` (QEMU, still held before exec) the guest's <vcpu cpuset> as its CPU affinity,
 * create the cgroup of the guest `def` describes, apply its tuning and move `pid` into it. Fails with the cgroup layer's error (a controller the
 * host lacks, a value the kernel refuses); what was made is removed again. */
gboolean qemu_cgroup_setup(QemuProcessContext *ctx, const SvDomainDef *def, pid_t pid,
                           GError **error);

/* Remove the guest `name`'s cgroup once its QEMU is gone; nothing when there is none. */
void qemu_cgroup_remove(QemuProcessContext *ctx, const char *name);
