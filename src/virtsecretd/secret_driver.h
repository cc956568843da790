/* secret_driver.h: virtsecretd's driver: secret:///system's remote program. */
#pragma once

#include "daemon/daemon.h"

extern const SvDaemonDriver secret_daemon_driver;
