/* domain_ifparams.h: DOMAIN_GET/SET_INTERFACE_PARAMETERS (virsh domiftune; issue 18,
 * interface parameters): an interface's <bandwidth> read from, and changed in, the live or
 * persistent definition as libvirt 9.0's qemuDomainGet/SetInterfaceParameters do; a running
 * tap's rates set with tc (util/netdev_bandwidth.c). */
#pragma once

#include "conf/domain_conf.h"
#include "programs/remote.h"

void sv_domain_ifparams_install_get(SvRemoteHandlers *h);

/* The set, for a driver whose running interfaces have host devices the daemon set up (taps,
 * macvtaps, veths): their rates through sv_domain_ifparams_apply. */
void sv_domain_ifparams_install_set(SvRemoteHandlers *h);

/* New rates `bw` (NULL: none) on running interface `live`, as libvirt sets them when they
 * change (domiftune, update-device): on its host device with tc (a tap or veth is the
 * host's end of the guest's link, so inbound shapes what the host sends; a macvtap shares
 * the guest's view), cleared when none is left, the noqueue root qdisc back where nothing
 * shapes; an interface without a host device (user) gets libvirt's error for a new rate.
 * Then live->bandwidth is a copy of bw (NULL when it has no direction). */
gboolean sv_domain_ifparams_apply(SvDomainNetDef *live, const SvDomainBandwidth *bw,
                                  GError **error);
