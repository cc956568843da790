/* storage_driver.h: virtstoraged's driver: storage:///system's remote program. */
#pragma once

#include "daemon/daemon.h"

extern const SvDaemonDriver storage_daemon_driver;
