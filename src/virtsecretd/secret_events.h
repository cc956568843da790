/* secret_events.h: the secret events clients register for (CONNECT_SECRET_EVENT_*) and
 * their fan-out: SECRET_EVENT_LIFECYCLE and SECRET_EVENT_VALUE_CHANGED. */
#pragma once

#include "programs/remote.h"

/* Install the two registration calls in h. */
void secret_events_install(SvRemoteHandlers *h);

/* Send a lifecycle event (SV_SECRET_EVENT_DEFINED / UNDEFINED, detail 0) or, with event
 * -1, a value-changed one, for secret s to every registration of srv's clients that
 * matches. */
void secret_events_emit(SvServer *srv, const remote_nonnull_secret *s, int event);
