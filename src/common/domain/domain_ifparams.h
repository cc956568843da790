/* domain_ifparams.h: DOMAIN_GET_INTERFACE_PARAMETERS (virsh domiftune; issue 18, interface
 * parameters): an interface's <bandwidth> from the live or persistent definition, as
 * libvirt 9.0's qemuDomainGetInterfaceParameters answers it. */
#pragma once

#include "programs/remote.h"

void sv_domain_ifparams_install_get(SvRemoteHandlers *h);
