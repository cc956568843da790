/* xen_config.h: the libxl_domain_config libxl creates a domain from. */
#pragma once

#include <libxl.h>

#include "conf/domain_conf.h"

/* Fill d_config (initialized with libxl_domain_config_init by the caller, who disposes of
 * it) from def, which passed xen_def_check(). Everything is allocated with malloc, as
 * libxl_domain_config_dispose() frees it, and nothing needs a libxl context, so the
 * configuration can be built and checked without a hypervisor. */
void xen_config_build(const SvDomainDef *def, libxl_domain_config *d_config);
