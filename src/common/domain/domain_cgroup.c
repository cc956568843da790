/* domain_cgroup.c: a guest's <memtune> in its cgroup (domain_cgroup.h). */
#include "domain/domain_cgroup.h"

#include "domain/domain_memtune.h"

gboolean
sv_domain_cgroup_set_memtune(SvCgroup *cg, const SvDomainDef *def, int which, guint64 kib,
                             GError **error)
{
    guint64 hard = def->memtune.hard_limit;

    switch (which) {
    case SV_MEMTUNE_HARD:
        return sv_cgroup_set_memory_limit(cg, kib * 1024, error);
    case SV_MEMTUNE_SOFT:
        return sv_cgroup_set_memory_soft_limit(cg, kib * 1024, error);
    default:
        if (sv_cgroup_get_version(cg) == SV_CGROUP_V2 && kib < SV_DOMAIN_MEMORY_UNLIMITED &&
            hard < SV_DOMAIN_MEMORY_UNLIMITED)
            kib = kib > hard ? kib - hard : 0;
        return sv_cgroup_set_memory_swap_limit(cg, kib * 1024, error);
    }
}

gboolean
sv_domain_cgroup_apply_memtune(SvCgroup *cg, const SvDomainDef *def, GError **error)
{
    const SvDomainMemtuneDef *mt = &def->memtune;
    /* The hard limit goes first: v1 refuses a memory and swap limit below it. */
    const guint64 kib[SV_MEMTUNE_LAST] = {mt->hard_limit, mt->soft_limit, mt->swap_hard_limit};

    for (int k = 0; k < SV_MEMTUNE_LAST; k++) {
        if (kib[k] < SV_DOMAIN_MEMORY_UNLIMITED &&
            !sv_domain_cgroup_set_memtune(cg, def, k, kib[k], error))
            return FALSE;
    }
    return TRUE;
}

gboolean
sv_domain_cgroup_get_memtune(SvCgroup *cg, guint64 out_kib[3], GError **error)
{
    guint64 bytes[3];

    if (!sv_cgroup_get_memory_limits(cg, bytes, error))
        return FALSE;
    if (sv_cgroup_get_version(cg) == SV_CGROUP_V2 && bytes[SV_MEMTUNE_SWAP] != G_MAXUINT64 &&
        bytes[SV_MEMTUNE_HARD] != G_MAXUINT64)
        bytes[SV_MEMTUNE_SWAP] += bytes[SV_MEMTUNE_HARD];
    for (int k = 0; k < SV_MEMTUNE_LAST; k++) {
        out_kib[k] = bytes[k] == G_MAXUINT64 ? SV_DOMAIN_MEMORY_UNLIMITED
                                             : MIN(bytes[k] / 1024, SV_DOMAIN_MEMORY_UNLIMITED);
    }
    return TRUE;
}
