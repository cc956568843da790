/* qemu_cpu_host.h: the host-model CPU of TCG as libvirt 9.0 computes it: the CPU QEMU gives a
 * guest as "max" (the probe's query-cpu-model-expansion) decoded through libvirt's CPU map
 * among the models QEMU has. */
#pragma once

#include <glib.h>

#include "conf/cpu_def.h"
#include "conf/cpu_map.h"
#include "conf/domain_conf.h"
#include "qemu_caps.h"

/* The hypervisor's models (SvCpuHvModel) of caps under TCG, their blockers in libvirt's
 * names; `strings` keeps the names alive (free it after the array). (transfer full) */
GArray *qemu_cpu_hv_models(QemuCaps *caps, GPtrArray *strings);

/* libvirt's name of a QEMU CPU feature (virQEMUCapsCPUFeatureFromQEMU). (transfer none) */
const char *qemu_cpu_feature_from_qemu(const char *name);

/* The TCG host-model CPU (a guest CPU: model, vendor, require/disable features), NULL with
 * error set when the probe has no "max" expansion. (transfer full) */
SvCpuDef *qemu_cpu_host_model(const SvCpuMap *map, QemuCaps *caps, GError **error);

/* The features QEMU knows for "max" under TCG, on or off, libvirt's names, NULL-terminated
 * (libvirt's virQEMUCapsGetCPUFeatures, which lists every property of the expansion; with
 * `migratable` not those only a non-migratable "max" has). (transfer full) */
GStrv qemu_cpu_host_features(QemuCaps *caps, gboolean migratable);

/* Domain capabilities' host-model <mode> of TCG: supported with the CPU, or not. */
void qemu_cpu_host_model_append(GString *s, QemuCaps *caps);

/* At start, a TCG guest's host-model CPU becomes TCG's host-model CPU as libvirt makes it:
 * mode custom, match exact, check full, the model (fallback forbidden), vendor and
 * features, the guest's own features over them. Left alone without one (start then refuses
 * the mode, as for a hypervisor without it). */
void qemu_cpu_update_host_model(SvDomainDef *def, QemuCaps *caps);
