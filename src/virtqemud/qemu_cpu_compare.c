/* qemu_cpu_compare.c: virConnectCompareCPU, virConnectBaselineCPU,
 * virConnectCompareHypervisorCPU and virConnectBaselineHypervisorCPU, as libvirt 9.0's x86
 * CPU driver answers them.
 *
 * compareCPU and baselineCPU work on libvirt's CPU map (conf/cpu_map.c, conf/cpu_x86.c) and
 * the capabilities' host CPU decoded through it (conf/cpu_x86_host.c); the hypervisor forms
 * on the hypervisor's host-model CPU (qemu_cpu_host.c: QEMU's "max" or "host" CPU decoded
 * through the map among QEMU's models). A probe without that CPU (an older QEMU) leaves the
 * hypervisor forms QEMU's verdict on a plain model (query-cpu-definitions' usable), else
 * OPERATION_UNSUPPORTED. tests/e2e/test_cpu_compare.py compares them with libvirtd. */
#include "qemu_cpu_compare.h"

#include <string.h>

#include "conf/cpu_def.h"
#include "conf/cpu_map.h"
#include "conf/cpu_x86.h"
#include "conf/cpu_x86_host.h"
#include "qemu_cpu_host.h"
#include "conf/domain_conf.h"
#include "domain/domain_cpu_compare.h"
#include "protocol/sv_wire_constants.h"
#include "qemu_domain.h"
#include "qemu_domcaps.h"
#include "util/error.h"
#include "util/host.h"

/* Where libvirt's answer needs the host-model CPU the probe does not have. */
static void
error_needs_map(GError **error, const char *model)
{
    sv_error_set(error, SV_FROM_CPU, SV_ERR_OPERATION_UNSUPPORTED,
                 "CPU model '%s': comparing with or combining into the hypervisor's CPU needs "
                 "its host-model CPU, which this QEMU's probe did not give", model);
}

static gboolean
arch_is_x86(const char *arch)
{
    return g_str_equal(arch, "x86_64") || g_str_equal(arch, "i686");
}

/* An incompatible answer: INCOMPATIBLE, or with fail_incompatible CPU_INCOMPATIBLE saying
 * why (-1). */
static int
incompatible(gboolean fail_incompatible, GError **error, const char *why)
{
    if (!fail_incompatible)
        return SV_CPU_COMPARE_INCOMPATIBLE;
    sv_error_set(error, SV_FROM_CPU, SV_ERR_CPU_INCOMPATIBLE, "%s", why);
    return -1;
}

/* Whether libvirt's CPU map has `model`: FALSE with libvirt's error when not (or without a
 * map). */
static gboolean
map_has_model(const char *model, GError **error)
{
    const SvCpuMap *map = sv_cpu_map_get(error);

    if (!map)
        return FALSE;
    if (sv_cpu_map_model(map, model))
        return TRUE;
    sv_error_set(error, SV_FROM_CPU, SV_ERR_INTERNAL_ERROR, "Unknown CPU model %s", model);
    return FALSE;
}

/* The part of libvirt's x86 comparison that needs no host-model CPU, in its order: the CPU's
 * architecture, a missing model (a superset), the vendor, a model the map lacks. -1 with
 * error set; -2 when the model's features decide (the caller's). */
static int
compare_without_map(const SvCpuDef *cpu, gboolean fail_incompatible, GError **error)
{
    g_autofree char *host_vendor = NULL;
    g_autofree char *why = NULL;

    if (cpu->arch && !arch_is_x86(cpu->arch)) {
        why = g_strdup_printf("CPU arch %s does not match host arch", cpu->arch);
        return incompatible(fail_incompatible, error, why);
    }
    if (!cpu->model)
        return SV_CPU_COMPARE_SUPERSET;
    host_vendor = sv_host_cpu_vendor("/proc");
    if (cpu->vendor && g_strcmp0(cpu->vendor, host_vendor) != 0) {
        why = g_strdup_printf("host CPU vendor does not match required CPU vendor %s",
                              cpu->vendor);
        return incompatible(fail_incompatible, error, why);
    }
    return map_has_model(cpu->model, error) ? -2 : -1;
}

static gboolean
connect_compare_cpu(SvCall *call, remote_connect_compare_cpu_args *args,
                    remote_connect_compare_cpu_ret *ret, GError **error)
{
    g_autoptr(SvCpuDef) cpu = NULL;
    const SvCpuMap *map;
    const SvCpuDef *host;
    int r;

    (void)call;
    /* VALIDATE_XML: libvirt checks the document against its cpu.rng; not done here (a
     * document the schema refuses is read as without the flag). */
    if (!sv_check_flags(args->flags, SV_CONNECT_COMPARE_CPU_FLAGS_ALL, SV_FROM_QEMU,
                        "qemuConnectCompareCPU", error) ||
        !(cpu = sv_cpu_def_parse(args->xml, FALSE, error)) || !(map = sv_cpu_map_get(error)) ||
        !(host = sv_cpu_x86_host(error)))
        return FALSE;
    r = sv_cpu_x86_compare(map, host, cpu, args->flags & SV_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE,
                           error);
    if (r < 0)
        return FALSE;
    ret->result = r;
    return TRUE;
}

static gboolean
check_some_cpus(guint n, const char *api, GError **error)
{
    return n > 0 || sv_domain_error_no_cpus(api, error);
}

/* Each document read as baselineCPU reads it (a host CPU each, with a model), combined on the
 * x86 map, filtered, expanded with EXPAND_FEATURES. */
static gboolean
connect_baseline_cpu(SvCall *call, remote_connect_baseline_cpu_args *args,
                     remote_connect_baseline_cpu_ret *ret, GError **error)
{
    g_autoptr(GPtrArray) cpus = g_ptr_array_new_with_free_func((GDestroyNotify)sv_cpu_def_free);
    g_autoptr(SvCpuDef) baseline = NULL;
    const SvCpuMap *map;

    (void)call;
    if (!check_some_cpus(args->xmlCPUs.xmlCPUs_len, "virConnectBaselineCPU", error) ||
        !sv_check_flags(args->flags, SV_CONNECT_BASELINE_CPU_FLAGS_ALL, SV_FROM_QEMU,
                        "qemuConnectBaselineCPU", error))
        return FALSE;
    for (guint i = 0; i < args->xmlCPUs.xmlCPUs_len; i++) {
        SvCpuDef *cpu = sv_cpu_def_parse(args->xmlCPUs.xmlCPUs_val[i], TRUE, error);

        if (!cpu)
            return FALSE;
        g_ptr_array_add(cpus, cpu);
    }
    if (!(map = sv_cpu_map_get(error)) ||
        !(baseline = sv_cpu_x86_baseline(map, (SvCpuDef *const *)cpus->pdata, cpus->len, NULL,
                                         NULL, args->flags & SV_CONNECT_BASELINE_CPU_MIGRATABLE,
                                         error)))
        return FALSE;
    sv_cpu_x86_drop_qemu_filtered(baseline);
    if ((args->flags & SV_CONNECT_BASELINE_CPU_EXPAND_FEATURES) &&
        !sv_cpu_x86_expand(map, baseline, error))
        return FALSE;
    ret->cpu = sv_cpu_x86_format_guest(baseline);
    return TRUE;
}

/* ---------------------------------------------------------------- hypervisor forms */

/* A hypervisor call, with copies of its arguments while the probe runs. */
typedef struct {
    SvCall *call;
    gboolean baseline;
    char *emulator, *arch, *machine, *virttype;
    GStrv xmls;
    unsigned int flags;
} HvCall;

static void
hv_call_free(HvCall *c)
{
    g_free(c->emulator);
    g_free(c->arch);
    g_free(c->machine);
    g_free(c->virttype);
    g_strfreev(c->xmls);
    g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HvCall, hv_call_free)

static HvCall *
hv_call_new(gboolean baseline, remote_string emulator, remote_string arch,
            remote_string machine, remote_string virttype, unsigned int flags)
{
    HvCall *c = g_new0(HvCall, 1);

    c->baseline = baseline;
    c->emulator = g_strdup(emulator ? *emulator : NULL);
    c->arch = g_strdup(arch ? *arch : NULL);
    c->machine = g_strdup(machine ? *machine : NULL);
    c->virttype = g_strdup(virttype ? *virttype : NULL);
    c->flags = flags;
    return c;
}

/* The hypervisor's answer for a plain model QEMU lists: whether QEMU can run it. */
static int
compare_by_qemu(QemuCaps *caps, gboolean kvm, const SvCpuDef *cpu, gboolean fail_incompatible,
                GError **error)
{
    const GPtrArray *defs = qemu_caps_get_cpu_defs(caps, kvm);
    g_autofree char *why = NULL;

    if (cpu->features->len == 0 && cpu->match != SV_DOMAIN_CPU_MATCH_STRICT) {
        for (guint i = 0; i < defs->len; i++) {
            const QemuCpuDef *d = defs->pdata[i];

            if (!g_str_equal(d->name, cpu->model) || d->usable == QEMU_CPU_USABLE_UNKNOWN)
                continue;
            if (d->usable == QEMU_CPU_USABLE_YES)
                return SV_CPU_COMPARE_SUPERSET;
            why = g_strdup_printf("QEMU cannot provide CPU model %s here", cpu->model);
            return incompatible(fail_incompatible, error, why);
        }
    }
    error_needs_map(error, cpu->model);
    return -1;
}

typedef union {
    remote_connect_compare_hypervisor_cpu_ret compare;
    remote_connect_baseline_hypervisor_cpu_ret baseline;
} HvRet;

/* The comparison with the hypervisor's host-model CPU, as libvirt's. Without one (a probe
 * without the expansion) a plain model answers from QEMU's verdict, else
 * OPERATION_UNSUPPORTED. */
static int
hv_compare(QemuCaps *caps, gboolean kvm, const HvCall *c, GError **error)
{
    gboolean fail_incompatible = c->flags & SV_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE;
    g_autoptr(SvCpuDef) cpu = sv_cpu_def_parse(c->xmls[0], FALSE, error);
    g_autoptr(SvCpuDef) host = NULL;
    const SvCpuMap *map;
    int r;

    if (!cpu)
        return -1;
    if (qemu_caps_get_host_cpu(caps, kvm)) {
        if (!(map = sv_cpu_map_get(error)) ||
            !(host = qemu_cpu_host_model(map, caps, kvm, error)))
            return -1;
        return sv_cpu_x86_compare(map, host, cpu, fail_incompatible, error);
    }
    r = compare_without_map(cpu, fail_incompatible, error);
    return r == -2 ? compare_by_qemu(caps, kvm, cpu, fail_incompatible, error) : r;
}

/* The baseline among the hypervisor's models and features (libvirt's, fallback
 * forbidden). */
static gboolean
hv_baseline_of(QemuCaps *caps, gboolean kvm, const HvCall *c, GPtrArray *cpus, HvRet *ret,
               GError **error)
{
    g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) hv = qemu_cpu_hv_models(caps, kvm, strings);
    gboolean migratable = c->flags & SV_CONNECT_BASELINE_CPU_MIGRATABLE;
    g_auto(GStrv) features = qemu_cpu_host_features(caps, kvm, migratable);
    const SvCpuMap *map = sv_cpu_map_get(error);
    g_autoptr(SvCpuDef) cpu = NULL;

    if (!map)
        return FALSE;
    /* The features already are the migratable ones: no further filtering (libvirt's). */
    cpu = sv_cpu_x86_baseline(map, (SvCpuDef *const *)cpus->pdata, cpus->len, hv,
                              (const char *const *)features, FALSE, error);
    if (!cpu)
        return FALSE;
    cpu->fallback_forbid = TRUE;
    if ((c->flags & SV_CONNECT_BASELINE_CPU_EXPAND_FEATURES) &&
        !sv_cpu_x86_expand(map, cpu, error))
        return FALSE;
    ret->baseline.cpu = sv_cpu_x86_format_guest(cpu);
    return TRUE;
}

/* Every document read (libvirt's virCPUDefListParse: each needs a model), then the map; a
 * probe without the hypervisor's CPU leaves OPERATION_UNSUPPORTED. */
static gboolean
hv_baseline(QemuCaps *caps, gboolean kvm, const HvCall *c, HvRet *ret, GError **error)
{
    g_autoptr(GPtrArray) cpus = g_ptr_array_new_with_free_func((GDestroyNotify)sv_cpu_def_free);

    for (guint i = 0; c->xmls[i]; i++) {
        SvCpuDef *cpu = sv_cpu_def_parse(c->xmls[i], FALSE, error);

        if (!cpu)
            return FALSE;
        g_ptr_array_add(cpus, cpu);
        if (!cpu->model) {
            sv_error_set(error, SV_FROM_CPU, SV_ERR_INVALID_ARG,
                         "no CPU model specified at index %u", i);
            return FALSE;
        }
    }
    if (qemu_caps_get_host_cpu(caps, kvm))
        return hv_baseline_of(caps, kvm, c, cpus, ret, error);
    for (guint i = 0; i < cpus->len; i++) {
        const SvCpuDef *cpu = cpus->pdata[i];

        if (!map_has_model(cpu->model, error))
            return FALSE;
    }
    error_needs_map(error, ((SvCpuDef *)cpus->pdata[0])->model);
    return FALSE;
}

/* The answer of c once caps is ready: FALSE with error set, or the reply filled. */
static gboolean
hv_answer(QemuCaps *caps, const HvCall *c, HvRet *ret, GError **error)
{
    QemuDomcapsRequest req = {
        .emulatorbin = c->emulator,
        .arch = c->arch,
        .machine = c->machine,
        .virttype = c->virttype,
        .kvm_usable = qemu_caps_kvm_usable(),
    };
    const QemuMachine *machine;
    const char *arch;
    gboolean kvm;
    int r;

    if (!qemu_domcaps_resolve(caps, &req, FALSE, &arch, &machine, &kvm, error))
        return FALSE;
    if (c->baseline)
        return hv_baseline(caps, kvm, c, ret, error);
    if ((r = hv_compare(caps, kvm, c, error)) < 0)
        return FALSE;
    ret->compare.result = r;
    return TRUE;
}

static void
hv_ready(QemuCaps *caps, const GError *error, gpointer data)
{
    g_autoptr(HvCall) c = data;
    HvRet ret;
    GError *local = NULL;

    memset(&ret, 0, sizeof(ret));
    if (error)
        sv_call_fail(c->call, g_error_copy(error));
    else if (!hv_answer(caps, c, &ret, &local))
        sv_call_fail(c->call, local);
    else
        sv_call_reply(c->call, &ret);
    if (c->baseline)
        g_free(ret.baseline.cpu);
}

/* Answer now when the probe is done, else once it is. */
static gboolean
hv_run(SvCall *call, HvCall *c_in, gpointer ret, GError **error)
{
    g_autoptr(HvCall) c = c_in;
    QemuProcessContext *ctx = qemu_ctx_of_call(call);

    if (qemu_caps_is_ready(ctx->caps))
        return hv_answer(ctx->caps, c, ret, error);
    c->call = sv_call_defer(call);
    qemu_caps_probe_async(ctx->caps, hv_ready, g_steal_pointer(&c));
    return TRUE;
}

static gboolean
connect_compare_hypervisor_cpu(SvCall *call, remote_connect_compare_hypervisor_cpu_args *args,
                               remote_connect_compare_hypervisor_cpu_ret *ret, GError **error)
{
    HvCall *c;

    if (!sv_check_flags(args->flags, SV_CONNECT_COMPARE_CPU_FLAGS_ALL, SV_FROM_QEMU,
                        "qemuConnectCompareHypervisorCPU", error))
        return FALSE;
    c = hv_call_new(FALSE, args->emulator, args->arch, args->machine, args->virttype,
                    args->flags);
    c->xmls = g_new0(char *, 2);
    c->xmls[0] = g_strdup(args->xmlCPU);
    return hv_run(call, c, ret, error);
}

static gboolean
connect_baseline_hypervisor_cpu(SvCall *call,
                                remote_connect_baseline_hypervisor_cpu_args *args,
                                remote_connect_baseline_hypervisor_cpu_ret *ret,
                                GError **error)
{
    HvCall *c;

    if (!check_some_cpus(args->xmlCPUs.xmlCPUs_len, "virConnectBaselineHypervisorCPU", error) ||
        !sv_check_flags(args->flags, SV_CONNECT_BASELINE_CPU_FLAGS_ALL, SV_FROM_QEMU,
                        "qemuConnectBaselineHypervisorCPU", error))
        return FALSE;
    c = hv_call_new(TRUE, args->emulator, args->arch, args->machine, args->virttype,
                    args->flags);
    c->xmls = g_new0(char *, args->xmlCPUs.xmlCPUs_len + 1);
    for (guint i = 0; i < args->xmlCPUs.xmlCPUs_len; i++)
        c->xmls[i] = g_strdup(args->xmlCPUs.xmlCPUs_val[i]);
    return hv_run(call, c, ret, error);
}

void
qemu_cpu_compare_install(SvRemoteHandlers *h)
{
    h->connect_compare_cpu = connect_compare_cpu;
    h->connect_baseline_cpu = connect_baseline_cpu;
    h->connect_compare_hypervisor_cpu = connect_compare_hypervisor_cpu;
    h->connect_baseline_hypervisor_cpu = connect_baseline_hypervisor_cpu;
}
