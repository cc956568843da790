/* qemu_program.h: libvirt's QEMU-specific program (libvirt-qemu, issue 18 item 4) in
 * virtqemud: monitor commands passed through, the guest agent's command, QEMU_DOMAIN_ATTACH
 * refused as libvirt 9.0 refuses it, and QMP events sent to the clients registered for them. */
#pragma once

#include "qemu_domain.h"
#include "rpc/server.h"

/* Serve the program on srv (the daemon's server, whose domain driver is virtqemud's). */
void qemu_program_serve(SvServer *srv);

/* A QMP event of obj's QEMU (name, data: may be NULL): sent as DOMAIN_MONITOR_EVENT to each
 * registration it matches. Called for every event, before virtqemud acts on it. */
void qemu_program_emit_event(SvDomainObj *obj, QemuMonitor *mon, const char *name,
                             JsonObject *data);
