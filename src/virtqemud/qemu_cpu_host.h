/* qemu_cpu_host.h: the host-model CPU as libvirt 9.0 computes it: the CPU QEMU gives a guest
 * as "max" under TCG or "host" under KVM (the probe's query-cpu-model-expansion) decoded
 * through libvirt's CPU map among the models QEMU has. */
#pragma once

#include <glib.h>

#include "conf/cpu_def.h"
#include "conf/cpu_map.h"
#include "conf/domain_conf.h"
#include "qemu_caps.h"

/* The hypervisor's models (SvCpuHvModel) of caps under TCG or KVM, their blockers in
 * libvirt's names; `strings` keeps the names alive (free it after the array).
 * (transfer full) */
GArray *qemu_cpu_hv_models(QemuCaps *caps, gboolean kvm, GPtrArray *strings);

/* libvirt's name of a QEMU CPU feature (virQEMUCapsCPUFeatureFromQEMU). (transfer none) */
const char *qemu_cpu_feature_from_qemu(const char *name);

/* The host-model CPU of TCG ("max") or KVM ("host"): a guest CPU, model, vendor,
 * require/disable features; NULL with error set when the probe has no expansion.
 * (transfer full) */
SvCpuDef *qemu_cpu_host_model(const SvCpuMap *map, QemuCaps *caps, gboolean kvm,
                              GError **error);

/* The features QEMU knows for "max" under TCG or "host" under KVM, on or off, libvirt's
 * names, NULL-terminated (libvirt's virQEMUCapsGetCPUFeatures, which lists every property
 * of the expansion; with `migratable` not those only a non-migratable CPU has).
 * (transfer full) */
GStrv qemu_cpu_host_features(QemuCaps *caps, gboolean kvm, gboolean migratable);

/* Domain capabilities' host-model <mode> (TCG's or KVM's): supported with the CPU, or not. */
void qemu_cpu_host_model_append(GString *s, QemuCaps *caps, gboolean kvm);

/* At start, a guest's host-model CPU becomes its hypervisor's host-model CPU as libvirt makes it:
 * mode custom, match exact, check full, the model (fallback forbidden), vendor and
 * features, the guest's own features over them. Left alone without one (start then refuses
 * the mode, as for a hypervisor without it). */
void qemu_cpu_update_host_model(SvDomainDef *def, QemuCaps *caps);
