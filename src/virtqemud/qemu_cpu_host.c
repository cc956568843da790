/* qemu_cpu_host.c: the host-model CPU of TCG and KVM, computed as libvirt 9.0's
 * virQEMUCapsInitCPUModelX86 does: the features, vendor and signature of QEMU's "max" (TCG)
 * or "host" (KVM) CPU as CPUID data, decoded through libvirt's CPU map among the models QEMU
 * has (each model's unavailable features disabled). */
#include "qemu_cpu_host.h"

#include <string.h>

#include "conf/cpu_x86.h"
#include "conf/domain_conf.h"
#include "util/error.h"

/* QEMU's canonical feature names that libvirt spells otherwise (virQEMUCapsCPUFeaturesX86). */
static const char *const feature_names[][2] = {
    {"cmp_legacy", "cmp-legacy"},       {"ds_cpl", "ds-cpl"},
    {"fxsr_opt", "fxsr-opt"},           {"kvm_pv_eoi", "kvm-pv-eoi"},
    {"kvm_pv_unhalt", "kvm-pv-unhalt"}, {"lahf_lm", "lahf-lm"},
    {"nodeid_msr", "nodeid-msr"},       {"pclmuldq", "pclmulqdq"},
    {"perfctr_core", "perfctr-core"},   {"perfctr_nb", "perfctr-nb"},
    {"tsc_adjust", "tsc-adjust"},
};

const char *
qemu_cpu_feature_from_qemu(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(feature_names); i++) {
        if (g_str_equal(name, feature_names[i][1]))
            return feature_names[i][0];
    }
    return name;
}

GArray *
qemu_cpu_hv_models(QemuCaps *caps, gboolean kvm, GPtrArray *strings)
{
    const GPtrArray *defs = qemu_caps_get_cpu_defs(caps, kvm);
    GArray *hv = g_array_new(FALSE, TRUE, sizeof(SvCpuHvModel));

    for (guint i = 0; i < defs->len; i++) {
        const QemuCpuDef *d = defs->pdata[i];
        guint n = d->blockers ? g_strv_length(d->blockers) : 0;
        const char **blockers = g_new0(const char *, n + 1);
        SvCpuHvModel m = {d->name, blockers};

        for (guint j = 0; j < n; j++)
            blockers[j] = qemu_cpu_feature_from_qemu(d->blockers[j]);
        g_ptr_array_add(strings, blockers);
        g_array_append_val(hv, m);
    }
    return hv;
}

/* The CPUID data of the "max" CPU: its features' bits, vendor string and signature. */
static GArray *
host_data(const SvCpuMap *map, const QemuHostCpu *cpu)
{
    GArray *data = sv_cpu_data_new();

    for (char **f = cpu->features; f && *f; f++) {
        const SvCpuFeature *mf = sv_cpu_map_feature(map, qemu_cpu_feature_from_qemu(*f));

        if (mf)
            sv_cpu_data_add(data, mf->data);
    }
    if (cpu->vendor && strlen(cpu->vendor) == 12) {
        SvCpuItem v;

        sv_cpu_vendor_item(cpu->vendor, &v);
        sv_cpu_data_add_item(data, &v);
    }
    sv_cpu_data_set_signature(data, cpu->family, cpu->model, cpu->stepping);
    return data;
}

SvCpuDef *
qemu_cpu_host_model(const SvCpuMap *map, QemuCaps *caps, gboolean kvm, GError **error)
{
    const QemuHostCpu *max = qemu_caps_get_host_cpu(caps, kvm);
    g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) hv = NULL;
    g_autoptr(GArray) data = NULL;
    g_autoptr(SvCpuDef) cpu = g_new0(SvCpuDef, 1);

    if (!max) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "QEMU '%s' does not support reporting CPU model for virttype '%s'",
                     qemu_caps_get_emulator(caps), kvm ? "kvm" : "qemu");
        return NULL;
    }
    hv = qemu_cpu_hv_models(caps, kvm, strings);
    data = host_data(map, max);
    cpu->mode = SV_DOMAIN_CPU_MODE_CUSTOM;
    cpu->match = SV_DOMAIN_CPU_MATCH_EXACT;
    cpu->fallback_forbid = TRUE;
    cpu->features = g_ptr_array_new_with_free_func(sv_domain_cpu_feature_free);
    if (!sv_cpu_x86_decode(map, data, hv, NULL, FALSE, cpu, NULL, error))
        return NULL;
    sv_cpu_x86_drop_qemu_filtered(cpu);
    return g_steal_pointer(&cpu);
}

GStrv
qemu_cpu_host_features(QemuCaps *caps, gboolean kvm, gboolean migratable)
{
    const QemuHostCpu *max = qemu_caps_get_host_cpu(caps, kvm);
    GPtrArray *out = g_ptr_array_new();

    for (char **f = max ? max->props : NULL; f && *f; f++) {
        if (!migratable || !g_strv_contains((const char *const *)max->nonmigratable, *f))
            g_ptr_array_add(out, g_strdup(qemu_cpu_feature_from_qemu(*f)));
    }
    g_ptr_array_add(out, NULL);
    return (GStrv)g_ptr_array_free(out, FALSE);
}

void
qemu_cpu_host_model_append(GString *s, QemuCaps *caps, gboolean kvm)
{
    g_autoptr(GError) error = NULL;
    const SvCpuMap *map = sv_cpu_map_get(&error);
    g_autoptr(SvCpuDef) cpu = map ? qemu_cpu_host_model(map, caps, kvm, &error) : NULL;

    if (!cpu) {
        g_debug("no host-model CPU: %s", error->message);
        g_string_append(s, "    <mode name='host-model' supported='no'/>\n");
        return;
    }
    g_string_append(s, "    <mode name='host-model' supported='yes'>\n");
    sv_cpu_x86_append_model(s, cpu, 6);
    g_string_append(s, "    </mode>\n");
}

/* libvirt's virCPUDefUpdateFeature on a domain definition's features. */
static void
def_update_feature(SvDomainDef *def, const char *name, SvDomainCpuFeaturePolicy policy)
{
    SvDomainCpuFeatureDef *f;

    for (guint i = 0; i < def->cpu_features->len; i++) {
        f = def->cpu_features->pdata[i];
        if (g_str_equal(f->name, name)) {
            f->policy = policy;
            return;
        }
    }
    f = g_new0(SvDomainCpuFeatureDef, 1);
    f->name = g_strdup(name);
    f->policy = policy;
    g_ptr_array_add(def->cpu_features, f);
}

void
qemu_cpu_update_host_model(SvDomainDef *def, QemuCaps *caps)
{
    g_autoptr(GError) error = NULL;
    const SvCpuMap *map;
    g_autoptr(SvCpuDef) cpu = NULL;
    g_autoptr(GPtrArray) own = NULL;

    if (def->cpu_mode != SV_DOMAIN_CPU_MODE_HOST_MODEL || !(map = sv_cpu_map_get(&error)) ||
        !(cpu = qemu_cpu_host_model(map, caps, def->type == SV_DOMAIN_VIRT_KVM, &error)))
        return;
    /* The host-model CPU's features, then the guest's own over them (x86UpdateHostModel). */
    own = g_steal_pointer(&def->cpu_features);
    def->cpu_features = g_steal_pointer(&cpu->features);
    for (guint i = 0; i < own->len; i++) {
        const SvDomainCpuFeatureDef *f = own->pdata[i];

        def_update_feature(def, f->name, f->policy);
    }
    def->cpu_mode = SV_DOMAIN_CPU_MODE_CUSTOM;
    def->cpu_match = SV_DOMAIN_CPU_MATCH_EXACT;
    def->cpu_check = SV_DOMAIN_CPU_CHECK_FULL;
    def->cpu_fallback = SV_DOMAIN_CPU_FALLBACK_FORBID;
    g_free(def->cpu_model);
    def->cpu_model = g_steal_pointer(&cpu->model);
    g_free(def->cpu_vendor);
    def->cpu_vendor = g_steal_pointer(&cpu->vendor);
}
