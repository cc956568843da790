/* domain_cgroup.h: a guest's <memtune> in the cgroup of its own (util/cgroup.h), as
 * libvirt's virDomainCgroupSetupMemtune and memory-parameter calls keep it; what virtqemud's
 * QEMU guests and virtlxcd's containers share (issue 18, LXC tuning). */
#pragma once

#include "conf/domain_conf.h"
#include "util/cgroup.h"

/* Limit `which` (SvMemtuneParam, domain_memtune.h) of the guest `def` describes to kib
 * (SV_DOMAIN_MEMORY_UNLIMITED: none). v2's swap.max is swap alone: def's hard limit is
 * taken off it. */
gboolean sv_domain_cgroup_set_memtune(SvCgroup *cg, const SvDomainDef *def, int which,
                                      guint64 kib, GError **error);

/* Every limit def's <memtune> sets, at the guest's start; nothing else. */
gboolean sv_domain_cgroup_apply_memtune(SvCgroup *cg, const SvDomainDef *def, GError **error);

/* The three limits as the cgroup has them, in KiB (SV_DOMAIN_MEMORY_UNLIMITED: none), in
 * SvMemtuneParam order; v2's swap limit is given back as memory and swap, as it is set. */
gboolean sv_domain_cgroup_get_memtune(SvCgroup *cg, guint64 out_kib[3], GError **error);
