/* network_ports.h: the network port calls (NETWORK_PORT_CREATE_XML, _LOOKUP_BY_UUID,
 * _GET_XML_DESC, _DELETE, _GET/SET_PARAMETERS, NETWORK_LIST_ALL_PORTS). */
#pragma once

#include "programs/remote.h"

/* Install the port calls in h. */
void network_ports_install(SvRemoteHandlers *h);
