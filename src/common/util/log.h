/* log.h: the daemons' log output: one line per message on stderr, with levels. */
#pragma once

#include <glib.h>

#include "conffile.h"

/* Install the log writer; debug messages only when verbose. */
void sv_log_init(const char *progname, gboolean verbose);

/* Apply `log_level` (1 debug, 2 info, 3 warning, 4 error) from the configuration;
 * --verbose wins. */
void sv_config_logging(SvConfFile *conf, gboolean verbose);
