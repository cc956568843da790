/* storage_events.h: the storage pool events clients register for
 * (CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY, libvirt's callback-id style) and their fan-out:
 * STORAGE_POOL_EVENT_LIFECYCLE and STORAGE_POOL_EVENT_REFRESH. */
#pragma once

#include "programs/remote.h"

/* Install the two registration calls in h. */
void storage_events_install(SvRemoteHandlers *h);

/* Send a lifecycle event (SV_STORAGE_POOL_EVENT_DEFINED ... DELETED, detail 0) or, with
 * event -1, a refresh one, for pool p to every registration of srv's clients that matches. */
void storage_events_emit(SvServer *srv, const remote_nonnull_storage_pool *p, int event);
