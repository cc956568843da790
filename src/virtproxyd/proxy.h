/* proxy.h: virtproxyd: the legacy sockets, each client relayed to its per-driver daemon. */
#pragma once

#include "daemon/daemon.h"

extern const SvDaemonDriver proxy_daemon_driver;
