/* private.h: splitvirt's own program between its daemons: a per-driver daemon adopts
 * client connections virtproxyd hands it. */
#pragma once

#include "rpc/server.h"

/* Serve ADOPT_CLIENT on srv (the daemon's main server). */
void sv_private_serve(SvServer *srv);
