/* domain_migrate_params.h: a migration call's typed parameters (remote_typed_param) read
 * into conf/migration_params.h's struct with libvirt's virTypedParamsValidate, and written
 * back for the calls a source daemon makes itself (peer-to-peer). */
#pragma once

#include "conf/migration_params.h"
#include "programs/remote.h"

/* The parameters of a call (n of them), checked as libvirt's QEMU driver checks them
 * against its list: by name in sorted order, "parameter '%s' not supported"
 * (ARGUMENT_UNSUPPORTED), "invalid type '%s' for parameter '%s', expected '%s'" and
 * "parameter '%s' occurs multiple times" (INVALID_ARG). (transfer full) */
SvMigrationParams *sv_migrate_params_from_wire(const remote_typed_param *params, guint n,
                                               GError **error);

/* p as an array of remote_typed_param (transfer full: free with sv_migrate_params_wire_free). */
GArray *sv_migrate_params_to_wire(const SvMigrationParams *p);
void sv_migrate_params_wire_free(GArray *wire);
