/* nodedev_driver.h: virtnodedevd, the read-only node-device daemon. */
#pragma once

#include "daemon/daemon.h"

extern const SvDaemonDriver nodedev_daemon_driver;
