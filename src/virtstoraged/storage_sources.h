/* storage_sources.h: CONNECT_FIND_STORAGE_POOL_SOURCES for the pool types that discover
 * sources (logical: pvs), run on a worker and answered when it is done. */
#pragma once

#include "storage_priv.h"

/* libvirt's virStorageBackendLogicalFindPoolSources: flags must be 0; call (deferred here)
 * gets the <sources> document. FALSE with error when refused before any work. */
gboolean storage_sources_find_logical(StorageDriver *drv, SvCall *call, unsigned int flags,
                                      GError **error);
