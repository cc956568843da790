/* domain_netport.h: guest interfaces of type network plugged through the network daemon's
 * port API (virtnetworkd), for virtqemud and virtlxcd, as libvirt 9.0's domain side does it
 * (virDomainNetAllocateActualDevice, virDomainNetReleaseActualDevice,
 * virDomainNetNotifyActualDevice): the network looked up by name (NETWORK_LOOKUP_BY_NAME),
 * a port made for the interface with libvirt's <networkport> XML (NETWORK_PORT_CREATE_XML:
 * owner, MAC, port group, bandwidth) and its XML read back (NETWORK_PORT_GET_XML_DESC) for
 * the plug: the bridge the guest's tap or veth joins. The port is deleted when the guest
 * stops or the interface is unplugged (NETWORK_PORT_DELETE); a restarted hypervisor daemon
 * checks that each port of a running guest still exists (NETWORK_PORT_LOOKUP_BY_UUID) and
 * makes it again under its old id when not (the RECLAIM flag), as libvirt's reconnect does.
 * Errors are the network daemon's (a missing network, a network not active), relayed as
 * they come. The calls go over connections of their own (programs/family_client.h) to
 * ROOT/run/libvirt/virtnetworkd-sock. */
#pragma once

#include "conf/domain_conf.h"
#include "programs/backend.h"
#include "protocol/remote_dispatch.h"

typedef struct SvNetportWork SvNetportWork;

/* A work's outcome: error NULL when every port was made (or found), which
 * sv_netport_apply() then writes into a definition; else the first error, after the ports
 * made so far were deleted again. The callback owns `work` (sv_netport_work_free). */
typedef void (*SvNetportDone)(SvNetportWork *work, const GError *error, gpointer data);

/* Whether def has an interface of type network without a port (no plug yet). */
gboolean sv_netport_pending(const SvDomainDef *def);

/* Ports for def's interfaces of type network without one (every such one, or only the one
 * at `index` when index >= 0), owned by the guest (def's name and UUID), for identity id,
 * with the network daemon's socket under run_dir (ROOT/run/libvirt). Every interface given
 * must have its MAC. NULL when there is nothing to do; else `done` is called later on the
 * loop, never from inside this call. def is copied: it may go meanwhile. */
SvNetportWork *sv_netport_allocate(const SvDomainDef *def, int index, const char *run_dir,
                                   const SvBackendIdentity *id, SvNetportDone done, gpointer data);

/* A restarted daemon's check of a running guest's ports: each port its interfaces of type
 * network name is looked up, and made again under the same id and plug when the network
 * no longer has it. NULL when def has no such port. */
SvNetportWork *sv_netport_reconnect(const SvDomainDef *def, const char *run_dir,
                                    const SvBackendIdentity *id, SvNetportDone done, gpointer data);

/* After a reconnect's check of the ports (sv_netport_reconnect's done callback, whose
 * error `checked` is logged): the host device of each interface of type network with a
 * port (a tap, a veth) made a port of its bridge again when it is not (the network was
 * restarted meanwhile), as libvirt's reconnect reattaches it. Failures are logged. */
void sv_netport_reconnected(const SvDomainDef *def, const GError *checked);

/* Write the ports made into def's interfaces of type network with the same MACs and
 * networks: their ids and plugs (SvDomainNetDef.portid, actual_type, actual_bridge). */
void sv_netport_apply(const SvNetportWork *work, SvDomainDef *def);

/* Delete again the ports an allocation made (its guest went meanwhile), with the daemon's
 * own identity; nothing waits for it. */
void sv_netport_work_undo(SvNetportWork *work);

/* Stop the work (its callback is never called; ports it made stay) or free a finished one.
 * NULL is fine. */
void sv_netport_work_free(SvNetportWork *work);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvNetportWork, sv_netport_work_free)

/* Delete the ports of def's interfaces of type network that have one (all, or the one at
 * index when index >= 0), with the daemon's own identity. Nothing waits for it: failures
 * (the network gone, the daemon unreachable) are logged, as libvirt logs them. */
void sv_netport_release(const SvDomainDef *def, int index, const char *run_dir);

/* What sv_netport_leases() gives: an array of remote_domain_interface (the caller takes it,
 * as sv_domain_ifaddr_set() does) and the first hostname a lease gave (transfer none; NULL
 * when none did), or error. */
typedef void (*SvNetportLeasesFunc)(GArray *ifaces, const char *hostname, const GError *error,
                                    gpointer data);

/* DOMAIN_INTERFACE_ADDRESSES with the lease source, as libvirt answers it: for each
 * interface of type network of def, its network's NETWORK_GET_DHCP_LEASES by its MAC; an
 * interface with leases is one entry, named after its host device, with their addresses.
 * With hostname_only, DOMAIN_GET_HOSTNAME's lease lookup: it stops at the first interface
 * whose lease has a hostname. The first error (a network gone) fails it, as libvirt's.
 * `done` later on the loop. */
void sv_netport_leases(const SvDomainDef *def, const char *run_dir, const SvBackendIdentity *id,
                       gboolean hostname_only, SvNetportLeasesFunc done, gpointer data);
