/* domain_memtune.h: DOMAIN_GET/SET_MEMORY_PARAMETERS (virsh memtune; issue 18, metadata and
 * tuning). */
#pragma once

#include "domain/domain_driver.h"

/* The memory parameters, in the order libvirt returns them. */
typedef enum {
    SV_MEMTUNE_HARD,
    SV_MEMTUNE_SOFT,
    SV_MEMTUNE_SWAP,
    SV_MEMTUNE_LAST
} SvMemtuneParam;

gboolean sv_domain_memtune_set(SvCall *call, remote_domain_set_memory_parameters_args *a,
                               GError **error);
gboolean sv_domain_memtune_get(SvCall *call, remote_domain_get_memory_parameters_args *a,
                               remote_domain_get_memory_parameters_ret *ret, GError **error);
