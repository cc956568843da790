/* qemu_agent_calls.h: the guest agent's procedures (issue 18 items 1-3): SET_TIME,
 * FSFREEZE, FSTHAW, GET_FSINFO, SET_USER_PASSWORD, INTERFACE_ADDRESSES, GET_GUEST_VCPUS and
 * SET_GUEST_VCPUS. */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/domain_obj.h"
#include "programs/remote.h"

void qemu_agent_calls_install(SvRemoteHandlers *h);

/* DOMAIN_GET_VCPUS_FLAGS with VCPU_GUEST on the running guest obj (libvirt's
 * qemuDomainGetVcpusFlags): guest-get-vcpus counts the vcpus the guest has online, or all
 * it knows with `maximum`; the call is answered later. FALSE with libvirt's error when the
 * guest's agent is not there. */
gboolean qemu_agent_guest_vcpu_count(SvCall *call, SvDomainObj *obj, gboolean maximum,
                                     GError **error);

/* The guest's disk an agent's disk address names (guest-get-fsinfo's and guest-get-disks'
 * "address"), as libvirt's virDomainDiskByAddress: the disk at its PCI address (a virtio
 * disk's own function), or the SCSI disk at its bus, target and unit on the controller at
 * that address; NULL when none is. */
const SvDomainDiskDef *qemu_agent_disk_at(const SvDomainDef *def, JsonObject *disk);

/* guest-network-get-interfaces' reply into ifaces (remote_domain_interface, an alias
 * "eth0:1" merged into eth0 as libvirt does), or FALSE with libvirt's error. */
gboolean qemu_agent_interfaces_parse(JsonNode *ret, GArray *ifaces, GError **error);
