/* qemu_command_cpu.h: the CPU, memory and vCPU part of a guest's QEMU command line, and the
 * define-time defaults and checks libvirt's QEMU driver applies to that part. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"
#include "qemu_caps.h"

/* The id of the guest RAM's backend object on x86 machines, as libvirt 9.0 names it: -machine's
 * memory-backend= points at it, and migration streams carry it as the RAM block's name. QEMU
 * refuses the object unless -machine names it. */
#define QEMU_RAM_BACKEND_ID "pc.ram"

/* libvirt's QEMU defaults at define (qemuDomainDefSetDefaultCPU, qemuDomainDefCPUPostParse):
 * a guest without a CPU model gets the machine's default (qemu64 on x86_64) with checks off,
 * check= and host-passthrough's migratable= get their defaults. Then libvirt's QEMU checks
 * of this part (vcpu 0 online, topology against the vcpu count, min_guarantee, memory
 * hotplug), and what splitvirt refuses here (numad placement). */
gboolean qemu_cpu_post_parse(SvDomainDef *def, QemuCaps *caps, GError **error);

/* At start, on the live copy of the definition: guest RAM aligned as QEMU gets it (1 MiB),
 * without a balloon the current memory is all of it, and a custom CPU model's fallback is
 * 'forbid', as libvirt's live XML shows. */
void qemu_cpu_prepare_live(SvDomainDef *live);

/* At start: what this QEMU and this domain type can run (CPU model in the probe, modes that
 * need KVM, feature names), with libvirt's errors. */
gboolean qemu_cpu_check_start(const SvDomainDef *def, QemuCaps *caps, GError **error);

/* -cpu, -m, the guest RAM's memory backend object "pc.ram", -overcommit, -smp and the
 * iothread objects, as libvirt 9.0 writes them for QEMU 7.2. Call after
 * qemu_cpu_check_start(): feature names are then safe in -cpu's value. */
void qemu_cpu_build(const SvDomainDef *def, GPtrArray *argv);
