/* host_caps.c: the <host> part of a capabilities document, read from /proc and /sys as
 * libvirt 9.0 reads it: the CPU's vendor, microcode, signature, physical address bits and
 * page sizes; one cell per NUMA node with its memory, pages, distances and CPUs; the L3
 * cache banks. The host CPU model, vendor and feature list libvirt derives from its CPU map
 * come from the caller (conf/cpu_x86_host.c). */
#include "util/host.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A sysfs/proc file's text, stripped; NULL when unreadable. */
static char *
read_text(const char *root, const char *rel)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return g_strstrip(text);
}

static long
read_long(const char *root, const char *rel, long otherwise)
{
    g_autofree char *text = read_text(root, rel);

    return text && *text ? strtol(text, NULL, 10) : otherwise;
}

/* The value of "key : value" in the first processor block of /proc/cpuinfo. */
static char *
cpuinfo_value(const char *cpuinfo, const char *key)
{
    g_auto(GStrv) lines = g_strsplit(cpuinfo, "\n", -1);

    for (char **l = lines; *l && **l; l++) {
        char *colon = strchr(*l, ':');
        g_autofree char *name = NULL;

        if (!colon)
            continue;
        name = g_strstrip(g_strndup(*l, colon - *l));
        if (g_str_equal(name, key))
            return g_strstrip(g_strdup(colon + 1));
    }
    return NULL;
}

static const char *
vendor_name(const char *vendor_id)
{
    static const char *const map[][2] = {
        {"GenuineIntel", "Intel"}, {"AuthenticAMD", "AMD"}, {"HygonGenuine", "Hygon"}};

    for (gsize i = 0; vendor_id && i < G_N_ELEMENTS(map); i++) {
        if (g_str_equal(vendor_id, map[i][0]))
            return map[i][1];
    }
    return NULL;
}

static gint
compare_int(gconstpointer a, gconstpointer b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return x < y ? -1 : x > y;
}

static gint
compare_ulong(gconstpointer a, gconstpointer b)
{
    gulong x = *(const gulong *)a, y = *(const gulong *)b;

    return x < y ? -1 : x > y;
}

/* Huge page sizes in KiB, ascending, from a hugepages directory ("hugepages-2048kB"). */
static GArray *
huge_page_sizes(const char *dir)
{
    GArray *sizes = g_array_new(FALSE, FALSE, sizeof(gulong));
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        gulong kib;
        if (sscanf(name, "hugepages-%lukB", &kib) == 1)
            g_array_append_val(sizes, kib);
    }
    g_array_sort(sizes, compare_ulong);
    return sizes;
}

static gulong
base_page_kib(void)
{
    long size = sysconf(_SC_PAGESIZE);

    return size > 0 ? (gulong)size / 1024 : 4;
}

/* The TSC's frequency as KVM gives it to a vCPU, and whether KVM can scale it: libvirt's
 * <counter name='tsc'>. Read once from the host's /dev (a throwaway VM), as the host's TSC
 * does not change. */
static gboolean
read_tsc(const char *dev, guint64 *ret_hz, gboolean *ret_scaling)
{
    static gboolean done, found, scaling;
    static guint64 hz;
    g_autofree char *path = g_build_filename(dev, "kvm", NULL);
    int fd, vm = -1, vcpu = -1;
    long khz = -1;

    if (!g_str_equal(dev, "/dev") || !done) {
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd >= 0 && (vm = ioctl(fd, KVM_CREATE_VM, 0)) >= 0 &&
            (vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) >= 0)
            khz = ioctl(vcpu, KVM_GET_TSC_KHZ, 0);
        found = khz > 0;
        hz = found ? (guint64)khz * 1000 : 0;
        scaling = vm >= 0 && ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) > 0;
        if (vcpu >= 0)
            close(vcpu);
        if (vm >= 0)
            close(vm);
        if (fd >= 0)
            close(fd);
        done = g_str_equal(dev, "/dev");
    }
    *ret_hz = hz;
    *ret_scaling = scaling;
    return found;
}

static void
append_cpu(GString *s, const SvHostInfo *info, const SvHostCpuModel *cpu, const char *sysfs,
           const char *proc, const char *dev)
{
    guint64 tsc_hz;
    gboolean tsc_scaling;
    g_autofree char *cpuinfo = read_text(proc, "cpuinfo");
    g_autofree char *vendor = NULL, *family = NULL, *model = NULL, *stepping = NULL;
    g_autofree char *microcode = NULL, *addr = NULL, *huge_dir = NULL;
    g_autoptr(GArray) sizes = NULL;
    unsigned bits;

    if (cpuinfo) {
        vendor = cpuinfo_value(cpuinfo, "vendor_id");
        family = cpuinfo_value(cpuinfo, "cpu family");
        model = cpuinfo_value(cpuinfo, "model");
        stepping = cpuinfo_value(cpuinfo, "stepping");
        microcode = cpuinfo_value(cpuinfo, "microcode");
        addr = cpuinfo_value(cpuinfo, "address sizes");
    }
    g_string_append_printf(s, "    <cpu>\n      <arch>%s</arch>\n", sv_host_arch());
    if (cpu && cpu->model)
        g_string_append_printf(s, "      <model>%s</model>\n", cpu->model);
    if (cpu && cpu->model ? cpu->vendor != NULL : vendor_name(vendor) != NULL)
        g_string_append_printf(s, "      <vendor>%s</vendor>\n",
                               cpu && cpu->model ? cpu->vendor : vendor_name(vendor));
    if (microcode)
        g_string_append_printf(s, "      <microcode version='%" G_GUINT64_FORMAT "'/>\n",
                               g_ascii_strtoull(microcode, NULL, 0));
    if (family && model && stepping)
        g_string_append_printf(s, "      <signature family='%d' model='%d' stepping='%d'/>\n",
                               atoi(family), atoi(model), atoi(stepping));
    if (read_tsc(dev, &tsc_hz, &tsc_scaling))
        g_string_append_printf(s,
                               "      <counter name='tsc' frequency='%" G_GUINT64_FORMAT
                               "' scaling='%s'/>\n",
                               tsc_hz, tsc_scaling ? "yes" : "no");
    g_string_append_printf(s, "      <topology sockets='%d' dies='1' cores='%d' threads='%d'/>\n",
                           info->sockets, info->cores, info->threads);
    if (addr && sscanf(addr, "%u bits physical", &bits) == 1)
        g_string_append_printf(s, "      <maxphysaddr mode='emulate' bits='%u'/>\n", bits);
    for (const char *const *f = cpu && cpu->features ? cpu->features : NULL; f && *f; f++)
        g_string_append_printf(s, "      <feature name='%s'/>\n", *f);
    g_string_append_printf(s, "      <pages unit='KiB' size='%lu'/>\n", base_page_kib());
    huge_dir = g_build_filename(sysfs, "kernel/mm/hugepages", NULL);
    sizes = huge_page_sizes(huge_dir);
    for (guint i = 0; i < sizes->len; i++)
        g_string_append_printf(s, "      <pages unit='KiB' size='%lu'/>\n",
                               g_array_index(sizes, gulong, i));
    g_string_append(s, "    </cpu>\n");
}

/* The numbers of a sysfs list ("0-3,8"). */
static GArray *
parse_list(const char *text)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(int));
    g_auto(GStrv) parts = g_strsplit(text ? text : "", ",", -1);

    for (char **p = parts; *p; p++) {
        int lo, hi;
        int n = sscanf(*p, "%d-%d", &lo, &hi);
        if (n < 1)
            continue;
        if (n == 1)
            hi = lo;
        for (int i = lo; i <= hi && i - lo < 65536; i++)
            g_array_append_val(out, i);
    }
    return out;
}

static void
append_cell_cpus(GString *s, const char *sysfs, const char *node_rel)
{
    g_autofree char *rel = g_build_filename(node_rel, "cpulist", NULL);
    g_autofree char *list = read_text(sysfs, rel);
    g_autoptr(GArray) cpus = parse_list(list);

    g_string_append_printf(s, "          <cpus num='%u'>\n", cpus->len);
    for (guint i = 0; i < cpus->len; i++) {
        int id = g_array_index(cpus, int, i);
        g_autofree char *topo = g_strdup_printf("devices/system/cpu/cpu%d/topology", id);
        g_autofree char *pkg = g_build_filename(topo, "physical_package_id", NULL);
        g_autofree char *die = g_build_filename(topo, "die_id", NULL);
        g_autofree char *core = g_build_filename(topo, "core_id", NULL);
        g_autofree char *sib = g_build_filename(topo, "thread_siblings_list", NULL);
        g_autofree char *siblings = read_text(sysfs, sib);

        g_string_append_printf(s,
                               "            <cpu id='%d' socket_id='%ld' die_id='%ld' "
                               "core_id='%ld' siblings='%s'/>\n",
                               id, read_long(sysfs, pkg, 0), read_long(sysfs, die, 0),
                               read_long(sysfs, core, id), siblings ? siblings : "");
    }
    g_string_append(s, "          </cpus>\n");
}

static void
append_cell(GString *s, const char *sysfs, int node)
{
    g_autofree char *rel = g_strdup_printf("devices/system/node/node%d", node);
    g_autofree char *meminfo_rel = g_build_filename(rel, "meminfo", NULL);
    g_autofree char *meminfo = read_text(sysfs, meminfo_rel);
    g_autofree char *dist_rel = g_build_filename(rel, "distance", NULL);
    g_autofree char *distance = read_text(sysfs, dist_rel);
    g_autofree char *huge_dir = g_strdup_printf("%s/%s/hugepages", sysfs, rel);
    g_autoptr(GArray) sizes = huge_page_sizes(huge_dir);
    g_auto(GStrv) dists = g_strsplit_set(distance ? distance : "", " \t", -1);
    const char *total = meminfo ? strstr(meminfo, "MemTotal:") : NULL;
    guint64 kib = total ? g_ascii_strtoull(total + strlen("MemTotal:"), NULL, 10) : 0;
    guint64 huge_kib = 0;
    GString *huge = g_string_new(NULL);
    int sibling = 0;

    for (guint i = 0; i < sizes->len; i++) {
        gulong size = g_array_index(sizes, gulong, i);
        g_autofree char *nr =
            g_strdup_printf("%s/hugepages/hugepages-%lukB/nr_hugepages", rel, size);
        long count = read_long(sysfs, nr, 0);
        huge_kib += (guint64)count * size;
        g_string_append_printf(huge, "          <pages unit='KiB' size='%lu'>%ld</pages>\n", size,
                               count);
    }
    g_string_append_printf(
        s, "        <cell id='%d'>\n          <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
        node, kib);
    g_string_append_printf(s,
                           "          <pages unit='KiB' size='%lu'>%" G_GUINT64_FORMAT "</pages>\n",
                           base_page_kib(), (kib - MIN(kib, huge_kib)) / base_page_kib());
    g_string_append(s, huge->str);
    g_string_free(huge, TRUE);
    g_string_append(s, "          <distances>\n");
    for (char **d = dists; *d; d++) {
        if (**d)
            g_string_append_printf(s, "            <sibling id='%d' value='%s'/>\n", sibling++, *d);
    }
    g_string_append(s, "          </distances>\n");
    append_cell_cpus(s, sysfs, rel);
    g_string_append(s, "        </cell>\n");
}

/* The NUMA nodes sysfs lists ("node0" ...), ascending; empty without NUMA support. */
static GArray *
numa_nodes(const char *sysfs)
{
    g_autofree char *dir = g_build_filename(sysfs, "devices/system/node", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GArray *nodes = g_array_new(FALSE, FALSE, sizeof(int));
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        int n;
        char end;
        if (sscanf(name, "node%d%c", &n, &end) == 1)
            g_array_append_val(nodes, n);
    }
    g_array_sort(nodes, compare_int);
    return nodes;
}

/* Without NUMA in sysfs: the host as one cell, its CPUs numbered flat. */
static void
append_flat_cell(GString *s, const SvHostInfo *info)
{
    g_string_append_printf(s,
                           "        <cell id='0'>\n"
                           "          <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n"
                           "          <cpus num='%d'>\n",
                           info->memory_kib, info->cpus);
    for (int i = 0; i < info->cpus; i++)
        g_string_append_printf(s,
                               "            <cpu id='%d' socket_id='0' die_id='0' core_id='%d' "
                               "siblings='%d'/>\n",
                               i, i, i);
    g_string_append(s, "          </cpus>\n        </cell>\n");
}

/* "32768K" as libvirt writes a cache size: the largest unit that divides it. */
static void
append_cache_size(GString *s, const char *size)
{
    guint64 kib = g_ascii_strtoull(size, NULL, 10);

    if (kib >= 1024 * 1024 && kib % (1024 * 1024) == 0)
        g_string_append_printf(s, "size='%" G_GUINT64_FORMAT "' unit='GiB'", kib >> 20);
    else if (kib >= 1024 && kib % 1024 == 0)
        g_string_append_printf(s, "size='%" G_GUINT64_FORMAT "' unit='MiB'", kib >> 10);
    else
        g_string_append_printf(s, "size='%" G_GUINT64_FORMAT "' unit='KiB'", kib);
}

/* One bank per L3 (and above) cache, as libvirt lists them. */
static void
append_caches(GString *s, const char *sysfs, int ncpus)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GString *banks = g_string_new(NULL);

    for (int cpu = 0; cpu < ncpus; cpu++) {
        for (int idx = 0; idx < 16; idx++) {
            g_autofree char *rel =
                g_strdup_printf("devices/system/cpu/cpu%d/cache/index%d", cpu, idx);
            g_autofree char *level_rel = g_build_filename(rel, "level", NULL);
            g_autofree char *type_rel = g_build_filename(rel, "type", NULL);
            g_autofree char *size_rel = g_build_filename(rel, "size", NULL);
            g_autofree char *list_rel = g_build_filename(rel, "shared_cpu_list", NULL);
            g_autofree char *id_rel = g_build_filename(rel, "id", NULL);
            g_autofree char *type = read_text(sysfs, type_rel);
            g_autofree char *size = read_text(sysfs, size_rel);
            g_autofree char *list = read_text(sysfs, list_rel);
            long level = read_long(sysfs, level_rel, -1), id = read_long(sysfs, id_rel, 0);
            const char *kind;
            char *key;

            if (level < 0)
                break;
            if (level < 3 || !type || !size || !list)
                continue;
            kind = g_str_equal(type, "Data")          ? "data"
                   : g_str_equal(type, "Instruction") ? "code"
                                                      : "both";
            key = g_strdup_printf("%ld/%ld/%s", level, id, kind);
            if (!g_hash_table_add(seen, key))
                continue;
            g_string_append_printf(banks, "      <bank id='%ld' level='%ld' type='%s' ", id, level,
                                   kind);
            append_cache_size(banks, size);
            g_string_append_printf(banks, " cpus='%s'/>\n", list);
        }
    }
    if (banks->len)
        g_string_append_printf(s, "    <cache>\n%s    </cache>\n", banks->str);
    g_string_free(banks, TRUE);
}

/* IOMMU groups exist (libvirt's test). */
static gboolean
has_iommu(const char *sysfs)
{
    g_autofree char *dir = g_build_filename(sysfs, "kernel/iommu_groups", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);

    return d && g_dir_read_name(d);
}

void
sv_host_capabilities_begin_at(GString *s, const char *host_uuid, const SvHostCpuModel *cpu,
                              const char *extra, const char *sysfs, const char *proc,
                              const char *dev)
{
    g_autoptr(GArray) nodes = numa_nodes(sysfs);
    SvHostInfo info;

    sv_host_info_get(&info);
    g_string_append_printf(s, "  <host>\n    <uuid>%s</uuid>\n", host_uuid);
    append_cpu(s, &info, cpu, sysfs, proc, dev);
    g_string_append_printf(s, "    <power_management/>\n    <iommu support='%s'/>\n",
                           has_iommu(sysfs) ? "yes" : "no");
    g_string_append(s, extra);
    g_string_append_printf(s, "    <topology>\n      <cells num='%u'>\n", MAX(nodes->len, 1u));
    for (guint i = 0; i < nodes->len; i++)
        append_cell(s, sysfs, g_array_index(nodes, int, i));
    if (nodes->len == 0)
        append_flat_cell(s, &info);
    g_string_append(s, "      </cells>\n    </topology>\n");
    append_caches(s, sysfs, info.cpus);
}

void
sv_host_capabilities_begin(GString *s, const char *host_uuid, const SvHostCpuModel *cpu,
                           const char *extra)
{
    sv_host_capabilities_begin_at(s, host_uuid, cpu, extra, "/sys", "/proc", "/dev");
}

char *
sv_host_cpu_vendor(const char *proc)
{
    g_autofree char *cpuinfo = read_text(proc, "cpuinfo");
    g_autofree char *vendor = cpuinfo ? cpuinfo_value(cpuinfo, "vendor_id") : NULL;

    return g_strdup(vendor_name(vendor));
}
