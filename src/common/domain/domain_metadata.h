/* domain_metadata.h: DOMAIN_SET_METADATA and DOMAIN_GET_METADATA for every hypervisor
 * driver, with the METADATA_CHANGE event (issue 18, metadata and tuning). */
#pragma once

#include "domain/domain_driver.h"

gboolean sv_domain_metadata_set(SvCall *call, remote_domain_set_metadata_args *a,
                                GError **error);
gboolean sv_domain_metadata_get(SvCall *call, remote_domain_get_metadata_args *a,
                                remote_domain_get_metadata_ret *ret, GError **error);
