/* cpu_x86.c: libvirt 9.0's x86 CPU computations on its CPU map (cpu_map.c): decoding CPUID
 * data into a model and features, comparing a CPU with the host's, baselines and feature
 * expansion. The algorithms follow libvirt's src/cpu/cpu_x86.c as documented behaviour;
 * tests/unit/test-cpu-x86.c checks them on fixed CPUID data against libvirtd's answers. */
#include "conf/cpu_x86.h"

#include <string.h>

#include "conf/domain_conf.h"
#include "protocol/sv_wire_constants.h"
#include "util/error.h"

#define FEATURE_POLICY_HOST (-1)
#define SIGNATURE_MASK 0x0fff3fffu

/* ---------------------------------------------------------------- CPU definitions */

static void
def_add_feature(SvCpuDef *cpu, const char *name, int policy)
{
    SvDomainCpuFeatureDef *f = g_new0(SvDomainCpuFeatureDef, 1);

    f->name = g_strdup(name);
    f->policy = (SvDomainCpuFeaturePolicy)policy;
    g_ptr_array_add(cpu->features, f);
}

static SvDomainCpuFeatureDef *
def_find_feature(const SvCpuDef *cpu, const char *name)
{
    for (guint i = 0; i < cpu->features->len; i++) {
        SvDomainCpuFeatureDef *f = cpu->features->pdata[i];

        if (g_str_equal(f->name, name))
            return f;
    }
    return NULL;
}

/* libvirt's virCPUDefUpdateFeature: set the policy of a listed feature, else add it. */
static void
def_update_feature(SvCpuDef *cpu, const char *name, int policy)
{
    SvDomainCpuFeatureDef *f = def_find_feature(cpu, name);

    if (f)
        f->policy = (SvDomainCpuFeaturePolicy)policy;
    else
        def_add_feature(cpu, name, policy);
}

static SvCpuDef *
def_new(gboolean host)
{
    SvCpuDef *cpu = g_new0(SvCpuDef, 1);

    cpu->host = host;
    cpu->mode = host ? -1 : SV_DOMAIN_CPU_MODE_CUSTOM;
    cpu->match = SV_DOMAIN_CPU_MATCH_EXACT;
    cpu->features = g_ptr_array_new_with_free_func(sv_domain_cpu_feature_free);
    return cpu;
}

/* ---------------------------------------------------------------- data helpers */

/* Every feature of the map whose bits `data` has, in map order; each found is taken out of
 * data (libvirt's x86DataToCPUFeatures). */
static void
data_to_features(const SvCpuMap *map, GArray *data, int policy, SvCpuDef *cpu)
{
    for (guint i = 0; i < map->features->len; i++) {
        const SvCpuFeature *f = map->features->pdata[i];

        if (sv_cpu_data_is_subset(data, f->data)) {
            sv_cpu_data_subtract(data, f->data);
            def_add_feature(cpu, f->name, policy);
        }
    }
}

/* The vendor whose string leaf 0 holds; its bits are taken out of data. */
static const SvCpuVendor *
data_to_vendor(const SvCpuMap *map, GArray *data)
{
    for (guint i = 0; i < map->vendors->len; i++) {
        const SvCpuVendor *v = map->vendors->pdata[i];
        SvCpuItem *it = sv_cpu_data_get(data, &v->item);
        gboolean match = it != NULL;

        for (int r = 0; it && r < 4; r++)
            match = match && (it->reg[r] & v->item.reg[r]) == v->item.reg[r];
        if (match) {
            for (int r = 0; r < 4; r++)
                it->reg[r] &= ~v->item.reg[r];
            return v;
        }
    }
    return NULL;
}

static guint32
data_signature(const GArray *data)
{
    SvCpuItem leaf1 = {.type = SV_CPU_ITEM_CPUID, .in = {1, 0}};
    const SvCpuItem *it = sv_cpu_data_get(data, &leaf1);

    return it ? it->reg[0] & SIGNATURE_MASK : 0;
}

static void
signature_split(guint32 sig, guint out[3])
{
    out[0] = ((sig >> 20) & 0xff) + ((sig >> 8) & 0xf);
    out[1] = ((sig >> 12) & 0xf0) + ((sig >> 4) & 0xf);
    out[2] = sig & 0xf;
}

static gboolean
model_has_signature(const SvCpuModel *m, guint32 sig)
{
    guint s[3];

    signature_split(sig, s);
    for (guint i = 0; m && i < m->signatures->len; i++) {
        const SvCpuSignature *x = &g_array_index(m->signatures, SvCpuSignature, i);

        if (x->family == s[0] && x->model == s[1] && (x->steppings & (1u << s[2])))
            return TRUE;
    }
    return FALSE;
}

/* Intel's broken TSX (some Haswell and Broadwell steppings): hle and rtm dropped. */
static void
filter_tsx(const SvCpuMap *map, GArray *data, const SvCpuVendor *vendor)
{
    guint s[3];
    const char *names[] = {"hle", "rtm"};

    if (!vendor || !g_str_equal(vendor->name, "Intel"))
        return;
    signature_split(data_signature(data), s);
    if (s[0] != 6 || !((s[1] == 63 && s[2] < 4) || s[1] == 60 || s[1] == 69 || s[1] == 70))
        return;
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        const SvCpuFeature *f = sv_cpu_map_feature(map, names[i]);

        if (f)
            sv_cpu_data_subtract(data, f->data);
    }
}

/* ---------------------------------------------------------------- decoding */

static const SvCpuHvModel *
hv_find(const GArray *hv, const char *name)
{
    for (guint i = 0; hv && i < hv->len; i++) {
        const SvCpuHvModel *m = &g_array_index(hv, SvCpuHvModel, i);

        if (g_str_equal(m->name, name))
            return m;
    }
    return NULL;
}

/* `data` described as `model` plus required and disabled features (x86DataToCPU); the
 * hypervisor's blockers of the model the data lacks are disabled too. */
static SvCpuDef *
data_to_cpu(const SvCpuMap *map, const GArray *data, const SvCpuModel *model,
            const SvCpuHvModel *hvm, gboolean host)
{
    SvCpuDef *cpu = def_new(host);
    g_autoptr(GArray) extra = sv_cpu_data_copy(data);
    g_autoptr(GArray) missing = sv_cpu_data_copy(model->data);

    cpu->model = g_strdup(model->name);
    sv_cpu_data_subtract(extra, model->data);
    sv_cpu_data_subtract(missing, data);
    for (const char *const *b = hvm ? hvm->blockers : NULL; b && *b; b++) {
        const SvCpuFeature *f = sv_cpu_map_feature(map, *b);

        if (f && !sv_cpu_data_is_subset(extra, f->data))
            sv_cpu_data_add(missing, f->data);
    }
    data_to_features(map, extra, SV_DOMAIN_CPU_FEATURE_REQUIRE, cpu);
    data_to_features(map, missing, SV_DOMAIN_CPU_FEATURE_DISABLE, cpu);
    for (char **r = model->removed; !host && r && *r; r++) {
        if (!def_find_feature(cpu, *r))
            def_add_feature(cpu, *r, SV_DOMAIN_CPU_FEATURE_DISABLE);
    }
    return cpu;
}

/* A guest CPU's feature count for choosing among candidates: each disabled feature costs
 * more than the one before (2, 3, 4, ...); a host CPU's features all count 1. As in libvirt
 * 9.0, the walk stops at the count of enabled features as it shrinks: disabled features
 * come last, and the ones past that point are not weighed. ret_disabled: their share. */
static gsize
candidate_weight(const SvCpuDef *cpu, gsize *ret_disabled)
{
    gsize enabled = cpu->features->len, disabled = 0, penalty = 2;

    for (guint i = 0; !cpu->host && i < enabled; i++) {
        const SvDomainCpuFeatureDef *f = cpu->features->pdata[i];

        if ((int)f->policy == SV_DOMAIN_CPU_FEATURE_DISABLE) {
            enabled--;
            disabled += penalty++;
        }
    }
    *ret_disabled = disabled;
    return enabled + disabled;
}

/* 0: keep the current model; 1: the candidate is better; 2: the candidate is the one
 * (x86DecodeUseCandidate of libvirt 9.0). */
static int
use_candidate(const SvCpuModel *cur, const SvCpuDef *cpu_cur, const SvCpuModel *cand,
              SvCpuDef *cpu_cand, guint32 sig, const char *preferred)
{
    gsize w_cur, w_cand, d_cur, d_cand;

    if (cpu_cand->host ? !cand->decode_host : !cand->decode_guest)
        return 0;
    for (guint i = 0; cpu_cand->host && i < cpu_cand->features->len; i++) {
        SvDomainCpuFeatureDef *f = cpu_cand->features->pdata[i];

        if ((int)f->policy == SV_DOMAIN_CPU_FEATURE_DISABLE)
            return 0;
        f->policy = (SvDomainCpuFeaturePolicy)FEATURE_POLICY_HOST;
    }
    if (preferred && g_str_equal(cpu_cand->model, preferred))
        return 2;
    if (!cpu_cur)
        return 1;
    if (sig && model_has_signature(cur, sig) && !model_has_signature(cand, sig))
        return 0;
    if (sig && !model_has_signature(cur, sig) && model_has_signature(cand, sig))
        return 1;
    w_cur = candidate_weight(cpu_cur, &d_cur);
    w_cand = candidate_weight(cpu_cand, &d_cand);
    return w_cand < w_cur || (w_cand == w_cur && d_cand < d_cur);
}

/* Walk the models newest first, keeping the best candidate (NULL when none fits). */
static SvCpuDef *
best_candidate(const SvCpuMap *map, const GArray *data, const GArray *hv,
               const SvCpuVendor *vendor, gboolean host, const char *preferred)
{
    g_autoptr(SvCpuDef) best = NULL;
    const SvCpuModel *best_model = NULL;
    guint32 sig = data_signature(data);

    for (guint i = map->models->len; i-- > 0;) {
        const SvCpuModel *cand = map->models->pdata[i];
        const SvCpuHvModel *hvm = hv_find(hv, cand->name);
        g_autoptr(SvCpuDef) cpu = NULL;
        int rc;

        if ((hv && !hvm) || (vendor && cand->vendor && vendor != cand->vendor))
            continue;
        cpu = data_to_cpu(map, data, cand, hvm, host);
        rc = use_candidate(best_model, best, cand, cpu, sig, preferred);
        if (rc == 0)
            continue;
        g_clear_pointer(&best, sv_cpu_def_free);
        best = g_steal_pointer(&cpu);
        best_model = cand;
        if (rc == 2)
            break;
    }
    return g_steal_pointer(&best);
}

gboolean
sv_cpu_x86_decode(const SvCpuMap *map, const GArray *data_in, const GArray *hv,
                  const char *preferred, gboolean migratable, SvCpuDef *out, guint ret_sig[3],
                  GError **error)
{
    g_autoptr(GArray) data = sv_cpu_data_copy(data_in);
    const SvCpuVendor *vendor = data_to_vendor(map, data);
    g_autoptr(SvCpuDef) best = NULL;

    filter_tsx(map, data, vendor);
    if (!(best = best_candidate(map, data, hv, vendor, out->host, preferred))) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_INTERNAL_ERROR,
                     "Cannot find suitable CPU model for given data");
        return FALSE;
    }
    for (guint i = 0; migratable && i < best->features->len;) {
        const SvDomainCpuFeatureDef *f = best->features->pdata[i];
        const SvCpuFeature *mf = sv_cpu_map_feature(map, f->name);

        if (mf && !mf->migratable)
            g_ptr_array_remove_index(best->features, i);
        else
            i++;
    }
    g_free(out->model);
    out->model = g_steal_pointer(&best->model);
    g_free(out->vendor);
    out->vendor = g_strdup(vendor ? vendor->name : NULL);
    g_ptr_array_unref(out->features);
    out->features = g_steal_pointer(&best->features);
    if (ret_sig)
        signature_split(data_signature(data_in), ret_sig);
    return TRUE;
}


/* ---------------------------------------------------------------- a CPU's bits */

/* The bits of `cpu` for `policy` (x86ModelFromCPU): with -1 its model's plus required and
 * forced features minus disabled and forbidden ones; otherwise those of the features of
 * that policy (and the model's for REQUIRE). ret_vendor: the model's vendor. */
static GArray *
cpu_bits(const SvCpuMap *map, const SvCpuDef *cpu, int policy,
         const SvCpuVendor **ret_vendor, GError **error)
{
    g_autoptr(GArray) data = sv_cpu_data_new();
    const SvCpuModel *model = NULL;

    if (cpu->host && policy != SV_DOMAIN_CPU_FEATURE_REQUIRE && policy != -1)
        return g_steal_pointer(&data);
    if (cpu->model && (policy == SV_DOMAIN_CPU_FEATURE_REQUIRE || policy == -1)) {
        if (!(model = sv_cpu_map_model(map, cpu->model))) {
            sv_error_set(error, SV_FROM_CPU, SV_ERR_INTERNAL_ERROR, "Unknown CPU model %s",
                         cpu->model);
            return NULL;
        }
        sv_cpu_data_add(data, model->data);
    }
    if (ret_vendor)
        *ret_vendor = model ? model->vendor : NULL;
    for (guint i = 0; i < cpu->features->len; i++) {
        const SvDomainCpuFeatureDef *f = cpu->features->pdata[i];
        int fpol = (int)f->policy == -1 ? SV_DOMAIN_CPU_FEATURE_REQUIRE : (int)f->policy;
        const SvCpuFeature *mf;

        if ((policy == -1 && fpol == SV_DOMAIN_CPU_FEATURE_OPTIONAL) ||
            (policy != -1 && fpol != policy))
            continue;
        if (!(mf = sv_cpu_map_feature(map, f->name))) {
            sv_error_set(error, SV_FROM_CPU, SV_ERR_INTERNAL_ERROR, "Unknown CPU feature %s",
                         f->name);
            return NULL;
        }
        if (policy == -1 && (fpol == SV_DOMAIN_CPU_FEATURE_DISABLE ||
                             fpol == SV_DOMAIN_CPU_FEATURE_FORBID))
            sv_cpu_data_subtract(data, mf->data);
        else
            sv_cpu_data_add(data, mf->data);
    }
    return g_steal_pointer(&data);
}

/* ---------------------------------------------------------------- comparison */

typedef enum { CMP_SUBSET, CMP_EQUAL, CMP_SUPERSET, CMP_UNRELATED } DataCmp;

static gboolean
item_contains(const SvCpuItem *a, const SvCpuItem *b)
{
    for (int r = 0; r < 4; r++) {
        if ((a->reg[r] & b->reg[r]) != b->reg[r])
            return FALSE;
    }
    return TRUE;
}

/* One direction of x86ModelCompare: items of `a` against `b`. */
static gboolean
compare_items(const GArray *a, const GArray *b, DataCmp if_missing, DataCmp if_not_in,
              DataCmp *result)
{
    for (guint i = 0; i < a->len; i++) {
        const SvCpuItem *x = &g_array_index(a, SvCpuItem, i);
        const SvCpuItem *y = sv_cpu_data_get(b, x);
        DataCmp match = if_missing;

        if (!(x->reg[0] | x->reg[1] | x->reg[2] | x->reg[3]))
            continue;
        if (y) {
            if (!memcmp(x->reg, y->reg, sizeof(x->reg)))
                continue;
            if (!item_contains(x, y))
                match = if_not_in;
        }
        if (*result == CMP_EQUAL)
            *result = match;
        else if (*result != match)
            return FALSE;
    }
    return TRUE;
}

static DataCmp
data_compare(const GArray *a, const GArray *b)
{
    DataCmp result = CMP_EQUAL;

    if (!compare_items(a, b, CMP_SUPERSET, CMP_SUBSET, &result) ||
        !compare_items(b, a, CMP_SUBSET, CMP_SUPERSET, &result))
        return CMP_UNRELATED;
    return result;
}

/* The names of the features whose bits `data` has, ", "-separated, in map order. */
static char *
feature_names(const SvCpuMap *map, const GArray *data)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < map->features->len; i++) {
        const SvCpuFeature *f = map->features->pdata[i];

        if (sv_cpu_data_is_subset(data, f->data))
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", f->name);
    }
    return g_string_free(s, FALSE);
}

static int
incompatible(gboolean fail, GError **error, char *why)
{
    g_autofree char *owned = why;

    if (!fail)
        return SV_CPU_COMPARE_INCOMPATIBLE;
    sv_error_set(error, SV_FROM_CPU, SV_ERR_CPU_INCOMPATIBLE, "%s", owned);
    return -1;
}

/* incompatible(), saying `what` and the features of `data`. */
static int
incompatible_names(const SvCpuMap *map, gboolean fail, GError **error, const char *what,
                   const GArray *data)
{
    g_autofree char *names = feature_names(map, data);

    return incompatible(fail, error, g_strdup_printf("%s: %s", what, names));
}

/* The feature check of x86Compute once arch and vendor agree. */
static int
compare_bits(const SvCpuMap *map, const SvCpuDef *host, const SvCpuDef *cpu, gboolean fail,
             GError **error)
{
    int policies[] = {SV_DOMAIN_CPU_FEATURE_FORCE, SV_DOMAIN_CPU_FEATURE_REQUIRE,
                      SV_DOMAIN_CPU_FEATURE_OPTIONAL, SV_DOMAIN_CPU_FEATURE_DISABLE,
                      SV_DOMAIN_CPU_FEATURE_FORBID};
    g_autoptr(GArray) hostd = cpu_bits(map, host, -1, NULL, error);
    GArray *d[G_N_ELEMENTS(policies)] = {0};
    int ret = -1;
    gsize n = 0;

    for (; hostd && n < G_N_ELEMENTS(policies); n++) {
        if (!(d[n] = cpu_bits(map, cpu, policies[n], NULL, error)))
            break;
    }
    if (n == G_N_ELEMENTS(policies)) {
        GArray *force = d[0], *require = d[1], *optional = d[2], *disable = d[3], *forbid = d[4];
        DataCmp r;

        sv_cpu_data_intersect(forbid, hostd);
        sv_cpu_data_subtract(require, force);
        sv_cpu_data_subtract(require, optional);
        sv_cpu_data_subtract(require, disable);
        r = data_compare(hostd, require);
        if (!sv_cpu_data_is_empty(forbid)) {
            ret = incompatible_names(map, fail, error, "Host CPU provides forbidden features",
                                     forbid);
        } else if (r == CMP_SUBSET || r == CMP_UNRELATED) {
            sv_cpu_data_subtract(require, hostd);
            ret = incompatible_names(map, fail, error,
                                     "Host CPU does not provide required features", require);
        } else {
            for (gsize i = 0; i < 4; i++)
                sv_cpu_data_subtract(hostd, d[i]);
            ret = sv_cpu_data_is_empty(hostd) ? SV_CPU_COMPARE_IDENTICAL : SV_CPU_COMPARE_SUPERSET;
            if (ret == SV_CPU_COMPARE_SUPERSET && !cpu->host &&
                cpu->match == SV_DOMAIN_CPU_MATCH_STRICT)
                ret = incompatible_names(
                    map, fail, error,
                    "Host CPU does not strictly match guest CPU: Extra features", hostd);
        }
    }
    for (gsize i = 0; i < n && i < G_N_ELEMENTS(policies); i++)
        g_array_unref(d[i]);
    return ret;
}

int
sv_cpu_x86_compare(const SvCpuMap *map, const SvCpuDef *host, const SvCpuDef *cpu,
                   gboolean fail, GError **error)
{
    if (!host || !host->model)
        return incompatible(fail, error, g_strdup("unknown host CPU"));
    if (cpu->arch && !g_str_equal(cpu->arch, "x86_64") && !g_str_equal(cpu->arch, "i686"))
        return incompatible(fail, error,
                            g_strdup_printf("CPU arch %s does not match host arch", cpu->arch));
    if (cpu->vendor && (!host->vendor || !g_str_equal(cpu->vendor, host->vendor)))
        return incompatible(fail, error, g_strdup_printf(
            "host CPU vendor does not match required CPU vendor %s", cpu->vendor));
    return compare_bits(map, host, cpu, fail, error);
}

/* ---------------------------------------------------------------- baseline */

/* The vendor of cpus[i] > 0 taken into `vendor` (libvirt's checks, in its order);
 * ret_output: whether the baseline still names it. */
static gboolean
baseline_vendor(const SvCpuMap *map, const SvCpuDef *cpu, const SvCpuVendor *model_vendor,
                const SvCpuVendor **vendor, gboolean *ret_output, GError **error)
{
    const char *vn = cpu->vendor;

    if (cpu->vendor && model_vendor && !g_str_equal(cpu->vendor, model_vendor->name)) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_OPERATION_FAILED,
                     "CPU vendor %s of model %s differs from vendor %s", model_vendor->name,
                     cpu->model, cpu->vendor);
        return FALSE;
    }
    if (!vn) {
        *ret_output = FALSE;
        vn = model_vendor ? model_vendor->name : NULL;
    }
    if (!vn)
        return TRUE;
    if (!*vendor && !(*vendor = sv_cpu_map_vendor(map, vn))) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_OPERATION_FAILED, "Unknown CPU vendor %s", vn);
        return FALSE;
    }
    if (!g_str_equal((*vendor)->name, vn)) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_OPERATION_FAILED, "CPU vendors do not match");
        return FALSE;
    }
    return TRUE;
}

/* Only the bits of `features` kept in data. */
static void
intersect_features(const SvCpuMap *map, GArray *data, const char *const *features)
{
    g_autoptr(GArray) allowed = sv_cpu_data_new();

    for (const char *const *f = features; *f; f++) {
        const SvCpuFeature *mf = sv_cpu_map_feature(map, *f);

        if (mf)
            sv_cpu_data_add(allowed, mf->data);
    }
    sv_cpu_data_intersect(data, allowed);
}

SvCpuDef *
sv_cpu_x86_baseline(const SvCpuMap *map, SvCpuDef *const *cpus, guint n, const GArray *hv,
                    const char *const *features, gboolean migratable, GError **error)
{
    g_autoptr(GArray) base = cpu_bits(map, cpus[0], -1, NULL, error);
    g_autoptr(SvCpuDef) cpu = def_new(FALSE);
    const SvCpuVendor *vendor = NULL;
    gboolean output_vendor = cpus[0]->vendor != NULL;
    const char *model_name = cpus[0]->model;

    if (!base)
        return NULL;
    if (cpus[0]->vendor && !(vendor = sv_cpu_map_vendor(map, cpus[0]->vendor))) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_OPERATION_FAILED, "Unknown CPU vendor %s",
                     cpus[0]->vendor);
        return NULL;
    }
    for (guint i = 1; i < n; i++) {
        const SvCpuVendor *mv = NULL;
        g_autoptr(GArray) bits = cpu_bits(map, cpus[i], -1, &mv, error);

        if (model_name && g_strcmp0(model_name, cpus[i]->model) != 0)
            model_name = NULL;
        if (!bits || !baseline_vendor(map, cpus[i], mv, &vendor, &output_vendor, error))
            return NULL;
        sv_cpu_data_intersect(base, bits);
    }
    if (features)
        intersect_features(map, base, features);
    if (sv_cpu_data_is_empty(base)) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_OPERATION_FAILED, "CPUs are incompatible");
        return NULL;
    }
    if (vendor)
        sv_cpu_data_add_item(base, &vendor->item);
    if (!sv_cpu_x86_decode(map, base, hv, model_name, migratable, cpu, NULL, error))
        return NULL;
    cpu->fallback_forbid = model_name && g_str_equal(cpu->model, model_name);
    if (!output_vendor)
        g_clear_pointer(&cpu->vendor, g_free);
    return g_steal_pointer(&cpu);
}

/* ---------------------------------------------------------------- expansion, format */

void
sv_cpu_x86_drop_qemu_filtered(SvCpuDef *cpu)
{
    static const char *const dropped[] = {"cmt", "mbm_total", "mbm_local", "osxsave", "ospke",
                                          NULL};

    for (guint i = 0; i < cpu->features->len;) {
        const SvDomainCpuFeatureDef *f = cpu->features->pdata[i];

        if (g_strv_contains(dropped, f->name))
            g_ptr_array_remove_index(cpu->features, i);
        else
            i++;
    }
}

static gint
feature_cmp(gconstpointer a, gconstpointer b)
{
    const SvDomainCpuFeatureDef *x = *(SvDomainCpuFeatureDef *const *)a;
    const SvDomainCpuFeatureDef *y = *(SvDomainCpuFeatureDef *const *)b;

    return strcmp(x->name, y->name);
}

gboolean
sv_cpu_x86_expand(const SvCpuMap *map, SvCpuDef *cpu, GError **error)
{
    const SvCpuModel *model = sv_cpu_map_model(map, cpu->model);
    g_autoptr(SvCpuDef) expanded = def_new(cpu->host);
    g_autoptr(GArray) bits = NULL;

    if (!model) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_INTERNAL_ERROR, "unknown CPU model %s",
                     cpu->model);
        return FALSE;
    }
    bits = sv_cpu_data_copy(model->data);
    data_to_features(map, bits, cpu->host ? -1 : SV_DOMAIN_CPU_FEATURE_REQUIRE, expanded);
    for (guint i = 0; i < cpu->features->len; i++) {
        const SvDomainCpuFeatureDef *f = cpu->features->pdata[i];

        if (cpu->host || f->policy == SV_DOMAIN_CPU_FEATURE_REQUIRE ||
            f->policy == SV_DOMAIN_CPU_FEATURE_DISABLE)
            def_update_feature(expanded, f->name, f->policy);
    }
    for (char **r = model->removed; !cpu->host && r && *r; r++) {
        if (!def_find_feature(expanded, *r))
            def_add_feature(expanded, *r, SV_DOMAIN_CPU_FEATURE_DISABLE);
    }
    g_ptr_array_sort(expanded->features, feature_cmp);
    g_ptr_array_unref(cpu->features);
    cpu->features = g_steal_pointer(&expanded->features);
    return TRUE;
}

void
sv_cpu_x86_append_model(GString *s, const SvCpuDef *cpu, guint indent)
{
    g_string_append_printf(s, "%*s<model fallback='%s'>%s</model>\n", (int)indent, "",
                           cpu->fallback_forbid ? "forbid" : "allow", cpu->model);
    if (cpu->vendor)
        g_string_append_printf(s, "%*s<vendor>%s</vendor>\n", (int)indent, "", cpu->vendor);
    for (guint i = 0; i < cpu->features->len; i++) {
        const SvDomainCpuFeatureDef *f = cpu->features->pdata[i];

        g_string_append_printf(s, "%*s<feature policy='%s' name='%s'/>\n", (int)indent, "",
                               sv_domain_cpu_feature_policy_to_string(f->policy), f->name);
    }
}

char *
sv_cpu_x86_format_guest(const SvCpuDef *cpu)
{
    GString *s = g_string_new("<cpu mode='custom' match='exact'>\n");

    sv_cpu_x86_append_model(s, cpu, 2);
    g_string_append(s, "</cpu>\n");
    return g_string_free(s, FALSE);
}
