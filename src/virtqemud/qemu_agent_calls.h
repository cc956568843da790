/* qemu_agent_calls.h: the guest agent's procedures (issue 18 items 1-3): SET_TIME,
 * FSFREEZE, FSTHAW, GET_FSINFO, SET_USER_PASSWORD and INTERFACE_ADDRESSES. */
#pragma once

#include "conf/domain_obj.h"
#include "programs/remote.h"

void qemu_agent_calls_install(SvRemoteHandlers *h);

/* DOMAIN_GET_VCPUS_FLAGS with VCPU_GUEST on the running guest obj (libvirt's
 * qemuDomainGetVcpusFlags): guest-get-vcpus counts the vcpus the guest has online, or all
 * it knows with `maximum`; the call is answered later. FALSE with libvirt's error when the
 * guest's agent is not there. */
gboolean qemu_agent_guest_vcpu_count(SvCall *call, SvDomainObj *obj, gboolean maximum,
                                     GError **error);
