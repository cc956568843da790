/* domain_cpu.c: the CPU and resource part of a domain definition: <memory>, <maxMemory>,
 * <currentMemory>, <blkiotune>, <memtune>, <memoryBacking>, <vcpu>, <iothreads>, <cputune>
 * and <cpu>; parsed, checked and formatted as libvirt 9.0 does, in libvirt's order. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_enum.h"
#include "conf/domain_parse.h"
#include "conf/domain_vcpus.h"
#include "conf/domain_xml.h"
#include "util/error.h"

/* libvirt's limit on memory in bytes, virMemoryMaxValue(false) = LLONG_MAX. */
#define MEMORY_MAX_BYTES ((guint64)G_MAXINT64)

/* libvirt's VIR_DOMAIN_CPUMASK_LEN: the host CPUs a cpuset may name. */
#define CPUMASK_LEN 16384

/* The cgroup limits libvirt checks <cputune> against (VIR_CGROUP_CPU_*). */
#define SHARES_MIN 2
#define SHARES_MAX 262144
#define PERIOD_MIN 1000
#define PERIOD_MAX 1000000
#define QUOTA_MIN 1000
#define QUOTA_MAX G_GINT64_CONSTANT(17592186044415)

/* ---- string tables ------------------------------------------------------------------------ */

SV_DOMAIN_ENUM_IMPL(cpu_feature_policy, SV_DOMAIN_CPU_FEATURE_LAST, "force", "require", "optional",
              "disable", "forbid")
SV_DOMAIN_ENUM_IMPL(memory_source, SV_DOMAIN_MEMORY_SOURCE_LAST, "none", "file", "anonymous", "memfd")
SV_DOMAIN_ENUM_IMPL(memory_access, SV_DOMAIN_MEMORY_ACCESS_LAST, "default", "shared", "private")
SV_DOMAIN_ENUM_IMPL(memory_allocation, SV_DOMAIN_MEMORY_ALLOCATION_LAST, "none", "immediate",
              "ondemand")

/* ---- new and free ------------------------------------------------------------------------- */

void
sv_domain_cpu_feature_free(gpointer p)
{
    SvDomainCpuFeatureDef *f = p;

    g_free(f->name);
    g_free(f);
}

static void
vcpupin_free(gpointer p)
{
    SvDomainVcpuPinDef *pin = p;

    g_free(pin->cpuset);
    g_free(pin);
}

static void
blkio_device_free(gpointer p)
{
    SvDomainBlkioDeviceDef *dev = p;

    g_free(dev->path);
    g_free(dev);
}

void
sv_domain_cpu_def_init(SvDomainDef *def)
{
    def->cpu_features = g_ptr_array_new_with_free_func(sv_domain_cpu_feature_free);
    def->cputune.vcpupins = g_ptr_array_new_with_free_func(vcpupin_free);
    def->blkio_devices = g_ptr_array_new_with_free_func(blkio_device_free);
    def->memtune.hard_limit = SV_DOMAIN_MEMORY_UNLIMITED;
    def->memtune.soft_limit = SV_DOMAIN_MEMORY_UNLIMITED;
    def->memtune.swap_hard_limit = SV_DOMAIN_MEMORY_UNLIMITED;
    def->vcpus_current = def->vcpus;
}

void
sv_domain_cpu_def_clear(SvDomainDef *def)
{
    g_free(def->cpu_vendor);
    g_free(def->vcpu_cpuset);
    g_free(def->resource_partition);
    g_free(def->cputune.emulatorpin);
    g_clear_pointer(&def->cpu_features, g_ptr_array_unref);
    g_clear_pointer(&def->cputune.vcpupins, g_ptr_array_unref);
    g_clear_pointer(&def->blkio_devices, g_ptr_array_unref);
}

/* ---- host CPU lists ----------------------------------------------------------------------- */

static gboolean
cpuset_number(const char **p, guint n, guint *out)
{
    guint64 v = 0;

    if (!g_ascii_isdigit(**p))
        return FALSE;
    while (g_ascii_isdigit(**p)) {
        v = v * 10 + (guint)(**p - '0');
        if (v >= n)
            return FALSE;
        (*p)++;
    }
    *out = (guint)v;
    return TRUE;
}

/* libvirt's virBitmapParse syntax: "0-3,^2,8": ranges, single CPUs and exclusions (one CPU
 * each), blanks around them and one trailing comma allowed. */
static gboolean
cpuset_parse(const char *s, guint8 *bits, guint n)
{
    const char *p = s;

    memset(bits, 0, n);
    while (*p) {
        gboolean neg = FALSE;
        guint lo, hi;

        while (g_ascii_isspace(*p))
            p++;
        if (*p == '^') {
            neg = TRUE;
            p++;
        }
        if (!cpuset_number(&p, n, &lo))
            return FALSE;
        hi = lo;
        if (!neg && *p == '-') {
            p++;
            if (!cpuset_number(&p, n, &hi) || hi < lo)
                return FALSE;
        }
        for (guint i = lo; i <= hi; i++)
            bits[i] = !neg;
        while (g_ascii_isspace(*p))
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            return FALSE;
    }
    return p != s;
}

static char *
cpuset_format(const guint8 *bits)
{
    return sv_domain_cpuset_format(bits, CPUMASK_LEN);
}

char *
sv_domain_cpuset_format(const guint8 *bits, guint n)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < n; i++) {
        guint j = i;

        if (!bits[i])
            continue;
        while (j + 1 < n && bits[j + 1])
            j++;
        if (out->len)
            g_string_append_c(out, ',');
        if (j == i)
            g_string_append_printf(out, "%u", i);
        else
            g_string_append_printf(out, "%u-%u", i, j);
        i = j;
    }
    return g_string_free(out, FALSE);
}

gboolean
sv_domain_cpuset_parse(const char *s, guint8 *bits, guint n, GError **error)
{
    if (!s || !cpuset_parse(s, bits, n)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG, "Failed to parse bitmap '%s'",
                     s ? s : "");
        return FALSE;
    }
    return TRUE;
}

char *
sv_domain_cpuset_canonical(const char *s, GError **error)
{
    g_autofree guint8 *bits = g_malloc(CPUMASK_LEN);

    if (!sv_domain_cpuset_parse(s, bits, CPUMASK_LEN, error))
        return NULL;
    return cpuset_format(bits);
}

/* ---- values ------------------------------------------------------------------------------- */

/* A cpuset= attribute: canonical, naming at least one CPU. */
static char *
parse_cpuset(const char *s, GError **error)
{
    g_autofree char *canonical = sv_domain_cpuset_canonical(s, error);

    if (canonical && !*canonical) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "Invalid value of 'cpuset': %s", s);
        return NULL;
    }
    return g_steal_pointer(&canonical);
}

gboolean
sv_domain_prop_uint(const xmlNode *node, const char *attr, gboolean required, gboolean nonzero,
          guint *out, GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);
    guint n;

    if (!v) {
        if (required)
            sv_xml_error_missing_attr(error, node, attr);
        return !required;
    }
    if (!sv_domain_parse_uint(v, &n)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element '%s': '%s'. Expected "
                     "non-negative integer value",
                     attr, (const char *)node->name, v);
        return FALSE;
    }
    if (nonzero && n == 0) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element '%s': Zero is not permitted",
                     attr, (const char *)node->name);
        return FALSE;
    }
    *out = n;
    return TRUE;
}

static gboolean
parse_i64(const char *s, gint64 *out)
{
    guint64 v;
    gboolean neg = s && s[0] == '-';

    if (!s || !sv_domain_parse_u64(neg ? s + 1 : s, &v) || v > (guint64)G_MAXINT64)
        return FALSE;
    *out = neg ? -(gint64)v : (gint64)v;
    return TRUE;
}

gboolean
sv_domain_parse_memory_value(const xmlNode *node, const char *xpath, guint64 *out_kib,
                             GError **error)
{
    g_autofree char *text = sv_xml_text(node);
    g_autofree char *unit = node ? sv_xml_prop(node, "unit") : NULL;
    guint64 value = 0;
    guint64 scale = 1024;

    *out_kib = 0;
    if (!text)
        return TRUE;
    if (!sv_domain_parse_u64(text, &value)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value '%s' for element or attribute '%s'", text, xpath);
        return FALSE;
    }
    if (unit && *unit) {
        static const char *const prefixes = "kmgtpe";
        const char *p = strchr(prefixes, g_ascii_tolower(unit[0]));
        guint64 base = 0;

        if (!g_ascii_strcasecmp(unit, "b") || !g_ascii_strcasecmp(unit, "byte") ||
            !g_ascii_strcasecmp(unit, "bytes"))
            base = 1;
        else if (p && (!unit[1] || !g_ascii_strcasecmp(unit + 1, "iB")))
            base = 1024;
        else if (p && g_ascii_tolower(unit[1]) == 'b' && !unit[2])
            base = 1000;
        if (!base) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG, "unknown suffix '%s'", unit);
            return FALSE;
        }
        scale = 1;
        if (base > 1) {
            for (const char *q = prefixes; q <= p; q++)
                scale *= base;
        }
    }
    if (value && value > MEMORY_MAX_BYTES / scale) {
        g_autofree char *detail =
            g_strdup_printf("value too large: %" G_GUINT64_FORMAT "%s", value, unit ? unit : "");

        sv_domain_error_templated(error, SV_FROM_NONE, SV_ERR_OVERFLOW, "numerical overflow: %s",
                                  "numerical overflow", detail);
        return FALSE;
    }
    *out_kib = (value * scale + 1023) / 1024;
    return TRUE;
}

/* ---- parsing: memory ---------------------------------------------------------------------- */

static gboolean
parse_max_memory(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(root, "maxMemory");
    g_autofree char *slots = node ? sv_xml_prop(node, "slots") : NULL;

    if (!node)
        return TRUE;
    if (!sv_domain_parse_memory_value(node, "./maxMemory[1]", &def->max_memory_kib, error))
        return FALSE;
    if (slots && !sv_domain_parse_uint(slots, &def->max_memory_slots)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "Failed to parse memory slot count");
        return FALSE;
    }
    if ((def->max_memory_kib > 0) != (def->max_memory_slots > 0)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "both maximum memory size and memory slot count must be specified");
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_memory_backing(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(root, "memoryBacking");
    SvDomainMemoryBackingDef *mb = &def->memory_backing;
    const struct {
        const char *child;
        const char *what;
        SvDomainFromString from_string;
        int *out;
    } enums[] = {
        {"source", "source/type", sv_domain_memory_source_from_string, (int *)&mb->source},
        {"access", "access/mode", sv_domain_memory_access_from_string, (int *)&mb->access},
        {"allocation", "allocation/mode", sv_domain_memory_allocation_from_string,
         (int *)&mb->allocation},
    };
    xmlNode *alloc;
    g_autofree char *threads = NULL;

    if (!node)
        return TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(enums); i++) {
        g_autofree char *v = sv_xml_child_prop(node, enums[i].child, i ? "mode" : "type");
        int e;

        if (!v)
            continue;
        /* Index 0 ("none", "default") is libvirt's absent value, which XML may not name. */
        e = enums[i].from_string(v);
        if (e <= 0) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "unknown memoryBacking/%s '%s'", enums[i].what, v);
            return FALSE;
        }
        *enums[i].out = e;
    }
    alloc = sv_xml_child(node, "allocation");
    threads = alloc ? sv_xml_prop(alloc, "threads") : NULL;
    if (threads && !sv_domain_parse_uint(threads, &mb->allocation_threads)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "Failed to parse memory allocation threads");
        return FALSE;
    }
    mb->locked = sv_xml_child(node, "locked") != NULL;
    return TRUE;
}

static gboolean
parse_memory(const xmlNode *root, SvDomainDef *def, GError **error)
{
    return sv_domain_parse_memory_value(sv_xml_child(root, "memory"), "./memory[1]",
                                        &def->memory_kib, error) &&
           parse_max_memory(root, def, error) &&
           sv_domain_parse_memory_value(sv_xml_child(root, "currentMemory"),
                                        "./currentMemory[1]", &def->current_memory_kib,
                                        error) &&
           parse_memory_backing(root, def, error);
}

/* ---- parsing: vcpus and iothreads --------------------------------------------------------- */

static gboolean
parse_vcpu(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(root, "vcpu");
    g_autofree char *text = NULL;
    g_autofree char *cpuset = NULL;
    int placement = SV_DOMAIN_CPU_PLACEMENT_STATIC;
    guint current;

    if (!node) {
        def->vcpus_current = def->vcpus;
        return TRUE;
    }
    text = sv_xml_text_raw(node);
    if (!sv_domain_parse_uint(text, &def->vcpus)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "maximum vcpus count must be an integer");
        return FALSE;
    }
    current = def->vcpus;
    if (!sv_domain_prop_uint(node, "current", FALSE, FALSE, &current, error))
        return FALSE;
    if (current > def->vcpus) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "maximum vCPU count must not be less than current vCPU count");
        return FALSE;
    }
    def->vcpus_current = current;
    if (!sv_domain_prop_enum(node, "placement", sv_domain_cpu_placement_from_string, 0, NULL,
                             FALSE, &placement, error))
        return FALSE;
    def->placement = placement;
    cpuset = sv_xml_prop(node, "cpuset");
    if (cpuset && !(def->vcpu_cpuset = parse_cpuset(cpuset, error)))
        return FALSE;
    return TRUE;
}

static gboolean
parse_iothreads(const xmlNode *root, SvDomainDef *def, GError **error)
{
    g_autofree char *text = sv_xml_child_text(root, "iothreads");

    if (text && !sv_domain_parse_uint(text, &def->iothreads)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "invalid iothreads count '%s'",
                     text);
        return FALSE;
    }
    return TRUE;
}

/* ---- parsing: tunables -------------------------------------------------------------------- */

/* One per-device throttle: an iops count (uint) or a byte rate (ullong). */
static gboolean
parse_blkio_throttle(const xmlNode *node, const char *name, const char *what, guint *out_uint,
                     guint64 *out_u64, GError **error)
{
    g_autofree char *text = sv_xml_child_text(node, name);
    gboolean ok;

    if (!text)
        return TRUE;
    ok = out_uint ? sv_domain_parse_uint(text, out_uint) : sv_domain_parse_u64(text, out_u64);
    if (!ok) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "could not parse %s %s",
                     what, text);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_blkio_device(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *weight = sv_xml_child_text(node, "weight");
    SvDomainBlkioDeviceDef *dev;

    dev = g_new0(SvDomainBlkioDeviceDef, 1);
    g_ptr_array_add(def->blkio_devices, dev);
    dev->path = sv_xml_child_text(node, "path");
    if (!dev->path) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "missing per-device path");
        return FALSE;
    }
    if (weight && !sv_domain_parse_uint(weight, &dev->weight)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "could not parse weight %s",
                     weight);
        return FALSE;
    }
    if (!parse_blkio_throttle(node, "read_iops_sec", "read iops sec", &dev->read_iops, NULL,
                              error) ||
        !parse_blkio_throttle(node, "write_iops_sec", "write iops sec", &dev->write_iops, NULL,
                              error) ||
        !parse_blkio_throttle(node, "read_bytes_sec", "read bytes sec", NULL, &dev->read_bytes,
                              error) ||
        !parse_blkio_throttle(node, "write_bytes_sec", "write bytes sec", NULL,
                              &dev->write_bytes, error))
        return FALSE;
    for (guint i = 0; i + 1 < def->blkio_devices->len; i++) {
        const SvDomainBlkioDeviceDef *other = def->blkio_devices->pdata[i];

        if (g_str_equal(other->path, dev->path)) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "duplicate blkio device path '%s'", dev->path);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
parse_blkiotune(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(root, "blkiotune");
    g_autofree char *weight = NULL;

    if (!node)
        return TRUE;
    /* libvirt ignores a weight that is no number. */
    weight = sv_xml_child_text(node, "weight");
    if (weight && !sv_domain_parse_uint(weight, &def->blkio_weight))
        def->blkio_weight = 0;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (sv_xml_is(c, "device") && !parse_blkio_device(c, def, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
parse_memtune(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(root, "memtune");
    SvDomainMemtuneDef *mt = &def->memtune;
    const struct {
        const char *name;
        guint64 *out;
    } limits[] = {
        {"hard_limit", &mt->hard_limit},
        {"soft_limit", &mt->soft_limit},
        {"min_guarantee", &mt->min_guarantee},
        {"swap_hard_limit", &mt->swap_hard_limit},
    };

    if (!node)
        return TRUE;
    for (guint i = 0; i < G_N_ELEMENTS(limits); i++) {
        xmlNode *c = sv_xml_child(node, limits[i].name);
        g_autofree char *xpath = g_strdup_printf("./memtune/%s[1]", limits[i].name);
        guint64 kib;

        if (!c)
            continue;
        if (!sv_domain_parse_memory_value(c, xpath, &kib, error))
            return FALSE;
        *limits[i].out = MIN(kib, SV_DOMAIN_MEMORY_UNLIMITED);
    }
    return TRUE;
}

/* One <cputune> number: `what` names it in libvirt's error. */
static gboolean
parse_cputune_number(const xmlNode *node, const char *name, const char *what, gboolean sign,
                     void *out, gboolean *specified, GError **error)
{
    g_autofree char *text = sv_xml_child_text(node, name);
    gboolean ok;

    if (!text)
        return TRUE;
    ok = sign ? parse_i64(text, out) : sv_domain_parse_u64(text, out);
    if (!ok) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "can't parse cputune %s value",
                     what);
        return FALSE;
    }
    if (specified)
        *specified = TRUE;
    return TRUE;
}

static gint
vcpupin_compare(gconstpointer a, gconstpointer b)
{
    const SvDomainVcpuPinDef *x = *(SvDomainVcpuPinDef *const *)a;
    const SvDomainVcpuPinDef *y = *(SvDomainVcpuPinDef *const *)b;

    return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

static gboolean
parse_vcpupin(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *cpuset = NULL;
    SvDomainVcpuPinDef *pin;
    guint vcpu = 0;

    if (!sv_domain_prop_uint(node, "vcpu", TRUE, FALSE, &vcpu, error))
        return FALSE;
    for (guint i = 0; i < def->cputune.vcpupins->len; i++) {
        if (((SvDomainVcpuPinDef *)def->cputune.vcpupins->pdata[i])->vcpu == vcpu) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                         "duplicate vcpupin for vcpu '%u'", vcpu);
            return FALSE;
        }
    }
    cpuset = sv_xml_prop(node, "cpuset");
    if (!cpuset) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "missing cpuset for vcpupin");
        return FALSE;
    }
    pin = g_new0(SvDomainVcpuPinDef, 1);
    pin->vcpu = vcpu;
    pin->cpuset = parse_cpuset(cpuset, error);
    if (!pin->cpuset) {
        vcpupin_free(pin);
        return FALSE;
    }
    /* libvirt drops, with a warning, pins of vcpus the domain does not have. */
    if (vcpu >= def->vcpus)
        vcpupin_free(pin);
    else
        g_ptr_array_add(def->cputune.vcpupins, pin);
    return TRUE;
}

static gboolean
parse_emulatorpin(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *cpuset = sv_xml_prop(node, "cpuset");

    if (def->cputune.emulatorpin) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "only one emulatorpin is supported");
        return FALSE;
    }
    if (!cpuset) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "missing cpuset for emulatorpin");
        return FALSE;
    }
    def->cputune.emulatorpin = parse_cpuset(cpuset, error);
    return def->cputune.emulatorpin != NULL;
}

static gboolean
parse_cputune(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *node = sv_xml_child(root, "cputune");
    SvDomainCputuneDef *ct = &def->cputune;

    if (!node)
        return TRUE;
    if (!parse_cputune_number(node, "shares", "shares", FALSE, &ct->shares,
                              &ct->shares_specified, error) ||
        !parse_cputune_number(node, "period", "period", FALSE, &ct->period, NULL, error) ||
        !parse_cputune_number(node, "quota", "quota", TRUE, &ct->quota, NULL, error) ||
        !parse_cputune_number(node, "emulator_period", "emulator period", FALSE,
                              &ct->emulator_period, NULL, error) ||
        !parse_cputune_number(node, "emulator_quota", "emulator quota", TRUE,
                              &ct->emulator_quota, NULL, error) ||
        !parse_cputune_number(node, "global_period", "global period", FALSE,
                              &ct->global_period, NULL, error) ||
        !parse_cputune_number(node, "global_quota", "global quota", TRUE, &ct->global_quota,
                              NULL, error) ||
        !parse_cputune_number(node, "iothread_period", "iothread period", FALSE,
                              &ct->iothread_period, NULL, error) ||
        !parse_cputune_number(node, "iothread_quota", "iothread quota", TRUE,
                              &ct->iothread_quota, NULL, error))
        return FALSE;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (sv_xml_is(c, "vcpupin") && !parse_vcpupin(c, def, error))
            return FALSE;
    }
    g_ptr_array_sort(ct->vcpupins, vcpupin_compare);
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (sv_xml_is(c, "emulatorpin") && !parse_emulatorpin(c, def, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
check_range(GError **error, const char *name, gint64 value, gint64 min, gint64 max)
{
    if (value <= 0 || (value >= min && value <= max))
        return TRUE;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                 "Value of cputune '%s' must be in range [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                 "]",
                 name, min, max);
    return FALSE;
}

gboolean
sv_domain_cpu_def_validate(const SvDomainDef *def, GError **error)
{
    const SvDomainCputuneDef *ct = &def->cputune;

    /* Values above G_MAXINT64 are out of range too. */
    return check_range(error, "period", (gint64)MIN(ct->period, (guint64)G_MAXINT64), PERIOD_MIN,
                       PERIOD_MAX) &&
           check_range(error, "emulator_period",
                       (gint64)MIN(ct->emulator_period, (guint64)G_MAXINT64), PERIOD_MIN,
                       PERIOD_MAX) &&
           check_range(error, "global_period",
                       (gint64)MIN(ct->global_period, (guint64)G_MAXINT64), PERIOD_MIN,
                       PERIOD_MAX) &&
           check_range(error, "iothread_period",
                       (gint64)MIN(ct->iothread_period, (guint64)G_MAXINT64), PERIOD_MIN,
                       PERIOD_MAX) &&
           check_range(error, "quota", ct->quota, QUOTA_MIN, QUOTA_MAX) &&
           check_range(error, "emulator_quota", ct->emulator_quota, QUOTA_MIN, QUOTA_MAX) &&
           check_range(error, "global_quota", ct->global_quota, QUOTA_MIN, QUOTA_MAX) &&
           check_range(error, "iothread_quota", ct->iothread_quota, QUOTA_MIN, QUOTA_MAX) &&
           check_range(error, "shares", (gint64)MIN(ct->shares, (guint64)G_MAXINT64), SHARES_MIN,
                       SHARES_MAX);
}

/* <resource><partition>: libvirt writes its default, /machine, in every running guest's
 * XML, so a guest migrated from libvirtd brings it; another partition is refused (the
 * guests' cgroups are where cgroup_parent says). */
static gboolean
parse_resource(const xmlNode *root, SvDomainDef *def, GError **error)
{
    xmlNode *resource = sv_xml_child(root, "resource");
    g_autofree char *partition = resource ? sv_xml_child_text(resource, "partition") : NULL;

    if (!partition)
        return TRUE;
    if (!g_str_equal(partition, "/machine")) {
        g_autofree char *what = g_strdup_printf("resource partition '%s'", partition);

        sv_domain_error_unsupported(error, what);
        return FALSE;
    }
    def->resource_partition = g_steal_pointer(&partition);
    return TRUE;
}

gboolean
sv_domain_parse_resources(const xmlNode *root, SvDomainDef *def, GError **error)
{
    return parse_memory(root, def, error) && parse_vcpu(root, def, error) &&
           sv_domain_parse_vcpus_list(root, def, error) && parse_iothreads(root, def, error) &&
           parse_blkiotune(root, def, error) && parse_memtune(root, def, error) &&
           parse_cputune(root, def, error) && parse_resource(root, def, error);
}

/* ---- formatting --------------------------------------------------------------------------- */

static void
format_memtune(GString *buf, const SvDomainMemtuneDef *mt)
{
    const struct {
        const char *name;
        guint64 value;
        gboolean set;
    } limits[] = {
        {"hard_limit", mt->hard_limit, mt->hard_limit < SV_DOMAIN_MEMORY_UNLIMITED},
        {"soft_limit", mt->soft_limit, mt->soft_limit < SV_DOMAIN_MEMORY_UNLIMITED},
        {"min_guarantee", mt->min_guarantee, mt->min_guarantee > 0},
        {"swap_hard_limit", mt->swap_hard_limit, mt->swap_hard_limit < SV_DOMAIN_MEMORY_UNLIMITED},
    };
    g_autoptr(GString) inner = g_string_new(NULL);

    for (guint i = 0; i < G_N_ELEMENTS(limits); i++) {
        if (limits[i].set)
            g_string_append_printf(inner, "    <%s unit='KiB'>%" G_GUINT64_FORMAT "</%s>\n",
                                   limits[i].name, limits[i].value, limits[i].name);
    }
    if (inner->len)
        g_string_append_printf(buf, "  <memtune>\n%s  </memtune>\n", inner->str);
}

static void
format_blkiotune(GString *buf, const SvDomainDef *def)
{
    g_autoptr(GString) inner = g_string_new(NULL);

    if (def->blkio_weight)
        g_string_append_printf(inner, "    <weight>%u</weight>\n", def->blkio_weight);
    /* libvirt writes only devices with a value. */
    for (guint i = 0; i < def->blkio_devices->len; i++) {
        const SvDomainBlkioDeviceDef *dev = def->blkio_devices->pdata[i];

        if (!dev->weight && !dev->read_iops && !dev->write_iops && !dev->read_bytes &&
            !dev->write_bytes)
            continue;
        g_string_append(inner, "    <device>\n");
        sv_xml_append_text_elem(inner, 6, "path", dev->path);
        if (dev->weight)
            g_string_append_printf(inner, "      <weight>%u</weight>\n", dev->weight);
        if (dev->read_iops)
            g_string_append_printf(inner, "      <read_iops_sec>%u</read_iops_sec>\n",
                                   dev->read_iops);
        if (dev->write_iops)
            g_string_append_printf(inner, "      <write_iops_sec>%u</write_iops_sec>\n",
                                   dev->write_iops);
        if (dev->read_bytes)
            g_string_append_printf(inner,
                                   "      <read_bytes_sec>%" G_GUINT64_FORMAT "</read_bytes_sec>\n",
                                   dev->read_bytes);
        if (dev->write_bytes)
            g_string_append_printf(inner,
                                   "      <write_bytes_sec>%" G_GUINT64_FORMAT
                                   "</write_bytes_sec>\n",
                                   dev->write_bytes);
        g_string_append(inner, "    </device>\n");
    }
    if (inner->len)
        g_string_append_printf(buf, "  <blkiotune>\n%s  </blkiotune>\n", inner->str);
}

static void
format_memory_backing(GString *buf, const SvDomainMemoryBackingDef *mb)
{
    g_autoptr(GString) inner = g_string_new(NULL);

    if (mb->locked)
        g_string_append(inner, "    <locked/>\n");
    if (mb->source != SV_DOMAIN_MEMORY_SOURCE_NONE)
        g_string_append_printf(inner, "    <source type='%s'/>\n",
                               sv_domain_memory_source_to_string(mb->source));
    if (mb->access != SV_DOMAIN_MEMORY_ACCESS_DEFAULT)
        g_string_append_printf(inner, "    <access mode='%s'/>\n",
                               sv_domain_memory_access_to_string(mb->access));
    if (mb->allocation != SV_DOMAIN_MEMORY_ALLOCATION_NONE || mb->allocation_threads) {
        g_string_append(inner, "    <allocation");
        if (mb->allocation != SV_DOMAIN_MEMORY_ALLOCATION_NONE)
            sv_xml_append_attr(inner, "mode",
                               sv_domain_memory_allocation_to_string(mb->allocation));
        if (mb->allocation_threads)
            g_string_append_printf(inner, " threads='%u'", mb->allocation_threads);
        g_string_append(inner, "/>\n");
    }
    if (inner->len)
        g_string_append_printf(buf, "  <memoryBacking>\n%s  </memoryBacking>\n", inner->str);
}

static void
format_cputune(GString *buf, const SvDomainCputuneDef *ct)
{
    g_autoptr(GString) inner = g_string_new(NULL);

    if (ct->shares_specified)
        g_string_append_printf(inner, "    <shares>%" G_GUINT64_FORMAT "</shares>\n", ct->shares);
    if (ct->period)
        g_string_append_printf(inner, "    <period>%" G_GUINT64_FORMAT "</period>\n", ct->period);
    if (ct->quota)
        g_string_append_printf(inner, "    <quota>%" G_GINT64_FORMAT "</quota>\n", ct->quota);
    if (ct->global_period)
        g_string_append_printf(inner, "    <global_period>%" G_GUINT64_FORMAT
                               "</global_period>\n", ct->global_period);
    if (ct->global_quota)
        g_string_append_printf(inner, "    <global_quota>%" G_GINT64_FORMAT
                               "</global_quota>\n", ct->global_quota);
    if (ct->emulator_period)
        g_string_append_printf(inner, "    <emulator_period>%" G_GUINT64_FORMAT
                               "</emulator_period>\n", ct->emulator_period);
    if (ct->emulator_quota)
        g_string_append_printf(inner, "    <emulator_quota>%" G_GINT64_FORMAT
                               "</emulator_quota>\n", ct->emulator_quota);
    if (ct->iothread_period)
        g_string_append_printf(inner, "    <iothread_period>%" G_GUINT64_FORMAT
                               "</iothread_period>\n", ct->iothread_period);
    if (ct->iothread_quota)
        g_string_append_printf(inner, "    <iothread_quota>%" G_GINT64_FORMAT
                               "</iothread_quota>\n", ct->iothread_quota);
    for (guint i = 0; i < ct->vcpupins->len; i++) {
        const SvDomainVcpuPinDef *pin = ct->vcpupins->pdata[i];

        g_string_append_printf(inner, "    <vcpupin vcpu='%u' cpuset='%s'/>\n", pin->vcpu,
                               pin->cpuset);
    }
    if (ct->emulatorpin)
        g_string_append_printf(inner, "    <emulatorpin cpuset='%s'/>\n", ct->emulatorpin);
    if (inner->len)
        g_string_append_printf(buf, "  <cputune>\n%s  </cputune>\n", inner->str);
}

void
sv_domain_format_resources(GString *buf, const SvDomainDef *def)
{
    if (def->max_memory_kib)
        g_string_append_printf(buf, "  <maxMemory slots='%u' unit='KiB'>%" G_GUINT64_FORMAT
                               "</maxMemory>\n", def->max_memory_slots, def->max_memory_kib);
    g_string_append_printf(buf, "  <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                           def->memory_kib);
    g_string_append_printf(buf,
                           "  <currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>\n",
                           def->current_memory_kib);
    format_blkiotune(buf, def);
    format_memtune(buf, &def->memtune);
    format_memory_backing(buf, &def->memory_backing);
    g_string_append_printf(buf, "  <vcpu placement='%s'",
                           sv_domain_cpu_placement_to_string(def->placement));
    /* Host CPU lists are canonical, so they need no escaping. */
    if (def->vcpu_cpuset)
        g_string_append_printf(buf, " cpuset='%s'", def->vcpu_cpuset);
    if (def->vcpus_current != def->vcpus)
        g_string_append_printf(buf, " current='%u'", def->vcpus_current);
    g_string_append_printf(buf, ">%u</vcpu>\n", def->vcpus);
    sv_domain_format_vcpus_list(buf, def);
    if (def->iothreads)
        g_string_append_printf(buf, "  <iothreads>%u</iothreads>\n", def->iothreads);
    format_cputune(buf, &def->cputune);
    if (def->resource_partition)
        g_string_append_printf(buf,
                               "  <resource>\n    <partition>%s</partition>\n  </resource>\n",
                               def->resource_partition);
}

/* ---- for drivers that apply none of it --------------------------------------------------- */

const char *
sv_domain_cpu_tuning_used(const SvDomainDef *def)
{
    const SvDomainCputuneDef *ct = &def->cputune;
    const SvDomainMemtuneDef *mt = &def->memtune;
    const SvDomainMemoryBackingDef *mb = &def->memory_backing;

    if (def->max_memory_kib)
        return "<maxMemory>";
    if (def->blkio_weight || def->blkio_devices->len)
        return "<blkiotune>";
    if (mt->hard_limit < SV_DOMAIN_MEMORY_UNLIMITED ||
        mt->soft_limit < SV_DOMAIN_MEMORY_UNLIMITED ||
        mt->swap_hard_limit < SV_DOMAIN_MEMORY_UNLIMITED || mt->min_guarantee)
        return "<memtune>";
    if (mb->source || mb->access || mb->allocation || mb->allocation_threads || mb->locked)
        return "<memoryBacking>";
    if (def->vcpu_cpuset)
        return "<vcpu cpuset=...>";
    if (def->vcpus_current != def->vcpus)
        return "<vcpu current=...>";
    if (def->iothreads)
        return "<iothreads>";
    if (ct->shares_specified || ct->period || ct->quota || ct->emulator_period ||
        ct->emulator_quota || ct->global_period || ct->global_quota || ct->iothread_period ||
        ct->iothread_quota || ct->vcpupins->len || ct->emulatorpin)
        return "<cputune>";
    if (def->cpu_mode != SV_DOMAIN_CPU_MODE_CUSTOM || def->cpu_model || def->cpu_sockets ||
        def->cpu_features->len)
        return "<cpu>";
    return NULL;
}
