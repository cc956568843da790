/* domain_cgroup.h: a guest's <memtune> and <blkiotune> in the cgroup of its own
 * (util/cgroup.h), as libvirt's virDomainCgroup* helpers keep them; what virtqemud's QEMU
 * guests and virtlxcd's containers share (issue 18, LXC tuning). */
#pragma once

#include "conf/domain_conf.h"
#include "domain/domain_driver.h"
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

/* Every <blkiotune> value of def (weight, per-device weight and limits), at its start. */
gboolean sv_domain_cgroup_apply_blkio(SvCgroup *cg, const SvDomainDef *def, GError **error);

/* The blkio facts (domain_blkio.h) of a driver whose guests have a cgroup of their own,
 * reached through its cgroup_open; errors from the driver's domain (drv->from). */
extern const SvBlkioFacts sv_domain_cgroup_blkio_facts;
