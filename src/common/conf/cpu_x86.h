/* cpu_x86.h: what libvirt 9.0's x86 CPU driver computes from its CPU map: a CPU model and
 * feature list from CPUID data (the capabilities' host CPU, a baseline), the comparison of a
 * CPU with the host's, the baseline of CPUs and the expansion of a model into its
 * features. */
#pragma once

#include <glib.h>

#include "conf/cpu_def.h"
#include "conf/cpu_map.h"

/* A CPU model the hypervisor has, with the features (libvirt's names) it cannot provide. */
typedef struct {
    const char *name;
    const char *const *blockers; /* NULL-terminated, or NULL */
} SvCpuHvModel;

/* Decode `data` (CPUID leaves, MSRs) into `out`'s model, vendor and features as libvirt's
 * x86Decode chooses them. With out->host the features carry policy -1 and a model that
 * would disable a feature is never chosen; otherwise they are require/disable. `preferred`
 * (or NULL) is taken when it fits; `migratable` drops features the map marks
 * migratable='no'. With `hv` (a GArray of SvCpuHvModel) only the hypervisor's models are
 * candidates, each with its blockers disabled. The signature of leaf 1 goes to ret_sig
 * (family, model, stepping) when not NULL. FALSE with error set when no model fits. */
gboolean sv_cpu_x86_decode(const SvCpuMap *map, const GArray *data, const GArray *hv,
                           const char *preferred, gboolean migratable, SvCpuDef *out,
                           guint ret_sig[3], GError **error);

/* libvirt's x86 comparison of `cpu` with `host` (both read by sv_cpu_def_parse, or decoded):
 * SV_CPU_COMPARE_*, or -1 with error set. With fail_incompatible an incompatible CPU is
 * CPU_INCOMPATIBLE saying why. */
int sv_cpu_x86_compare(const SvCpuMap *map, const SvCpuDef *host, const SvCpuDef *cpu,
                       gboolean fail_incompatible, GError **error);

/* The baseline (a guest CPU) of `cpus` (each with a model), as libvirt's virCPUx86Baseline
 * computes it; with `hv` and `features` (libvirt's names, NULL-terminated) for a
 * hypervisor's: its models only, its features only. (transfer full) */
SvCpuDef *sv_cpu_x86_baseline(const SvCpuMap *map, SvCpuDef *const *cpus, guint n,
                              const GArray *hv, const char *const *features,
                              gboolean migratable, GError **error);

/* Drop the features libvirt's QEMU driver never passes to QEMU (virQEMUCapsCPUFilterFeatures:
 * cmt, mbm_total, mbm_local, osxsave, ospke), as it does to a baseline before expanding it. */
void sv_cpu_x86_drop_qemu_filtered(SvCpuDef *cpu);

/* Replace cpu's features by every feature of its model plus its own, sorted by name
 * (VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES). */
gboolean sv_cpu_x86_expand(const SvCpuMap *map, SvCpuDef *cpu, GError **error);

/* A guest CPU's <model> (with its fallback), <vendor> and <feature> lines, indented. */
void sv_cpu_x86_append_model(GString *s, const SvCpuDef *cpu, guint indent);

/* A guest CPU as libvirt formats a baseline: <cpu mode='custom' match='exact'>, model with
 * its fallback (cpu->fallback_forbid), vendor, features. (transfer full) */
char *sv_cpu_x86_format_guest(const SvCpuDef *cpu);
