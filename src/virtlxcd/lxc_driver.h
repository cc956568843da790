/* lxc_driver.h: virtlxcd's driver: the remote program's handlers for Linux containers. */
#pragma once

#include "daemon/daemon.h"

extern const SvDaemonDriver lxc_daemon_driver;
