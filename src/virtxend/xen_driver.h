/* xen_driver.h: virtxend's driver: the remote program's handlers for Xen (libxl). */
#pragma once

#include "daemon/daemon.h"

extern const SvDaemonDriver xen_daemon_driver;
