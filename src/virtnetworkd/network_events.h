/* network_events.h: the network events clients register for (CONNECT_NETWORK_EVENT_*) and
 * their fan-out: NETWORK_EVENT_LIFECYCLE. */
#pragma once

#include "programs/remote.h"

/* Install the two registration calls in h. */
void network_events_install(SvRemoteHandlers *h);

/* Send a lifecycle event (SV_NETWORK_EVENT_DEFINED / UNDEFINED / STARTED / STOPPED, detail
 * 0) for network n to every registration of srv's clients that matches. */
void network_events_emit(SvServer *srv, const remote_nonnull_network *n, int event);
