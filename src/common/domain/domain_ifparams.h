/* domain_ifparams.h: DOMAIN_GET/SET_INTERFACE_PARAMETERS (virsh domiftune; issue 18,
 * interface parameters): an interface's <bandwidth> read from, and changed in, the live or
 * persistent definition as libvirt 9.0's qemuDomainGet/SetInterfaceParameters do; a running
 * tap's rates set with tc (util/netdev_bandwidth.c). */
#pragma once

#include "programs/remote.h"

void sv_domain_ifparams_install_get(SvRemoteHandlers *h);

/* The set, for a driver whose running interfaces are taps (ethernet, bridge) the daemon's
 * host side holds. */
void sv_domain_ifparams_install_set(SvRemoteHandlers *h);
