/* qemu_driver.h: virtqemud's driver: the remote program's handlers for QEMU. */
#pragma once

#include "daemon/daemon.h"

extern const SvDaemonDriver qemu_daemon_driver;
