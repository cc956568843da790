/* cpu_x86_host.c: the host CPU's CPUID leaves (and IA32_ARCH_CAPABILITIES) read as libvirt
 * 9.0 reads them for the capabilities' host CPU, and decoded through the CPU map. */
#include "conf/cpu_x86_host.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "conf/cpu_x86.h"
#include "conf/domain_conf.h"
#include "util/error.h"

#define MSR_ARCH_CAPABILITIES 0x10a
#define MAX_SUBLEAVES 64 /* a bound on the loops below, against a broken hypervisor */

void
sv_cpu_x86_cpuid_native(guint32 leaf, guint32 sub, guint32 out[4], gpointer opaque)
{
    (void)opaque;
#if defined(__x86_64__) || defined(__i386__)
    __cpuid_count(leaf, sub, out[0], out[1], out[2], out[3]);
#else
    (void)leaf;
    (void)sub;
    out[0] = out[1] = out[2] = out[3] = 0;
#endif
}

typedef struct {
    SvCpuidFn fn;
    gpointer opaque;
    GArray *data;
} Reader;

/* Call leaf/sub and keep the answer; its registers in out. */
static void
take(Reader *r, guint32 leaf, guint32 sub, guint32 out[4])
{
    SvCpuItem it = {.type = SV_CPU_ITEM_CPUID, .in = {leaf, sub}};

    r->fn(leaf, sub, it.reg, r->opaque);
    memcpy(out, it.reg, sizeof(it.reg));
    sv_cpu_data_add_item(r->data, &it);
}

/* The sub-leaves after 0 that libvirt reads for `leaf`, given sub-leaf 0's registers. */
static void
take_subleaves(Reader *r, guint32 leaf, const guint32 s0[4])
{
    guint32 o[4], s1[4];

    switch (leaf) {
    case 0x4: /* until eax[4:0] is 0 */
        memcpy(o, s0, sizeof(o));
        for (guint32 sub = 1; (o[0] & 0x1f) && sub < MAX_SUBLEAVES; sub++)
            take(r, leaf, sub, o);
        break;
    case 0x7:
    case 0x14: /* eax of sub-leaf 0: the last sub-leaf */
        for (guint32 sub = 1; sub <= s0[0] && sub < MAX_SUBLEAVES; sub++)
            take(r, leaf, sub, o);
        break;
    case 0xb: /* while ecx[15:8] is not 0 */
        for (guint32 sub = 1; (s0[2] & 0xff00) && sub < MAX_SUBLEAVES; sub++) {
            SvCpuItem it = {.type = SV_CPU_ITEM_CPUID, .in = {leaf, sub}};

            r->fn(leaf, sub, it.reg, r->opaque);
            if (!(it.reg[2] & 0xff00))
                break;
            sv_cpu_data_add_item(r->data, &it);
        }
        break;
    case 0xd: /* 1, then each state component sub-leaf 0 or 1 names */
        take(r, leaf, 1, s1);
        for (guint32 sub = 2; sub < 64; sub++) {
            guint32 bit = 1u << (sub % 32);
            gboolean on = sub < 32 ? ((s0[0] | s1[2]) & bit) : ((s0[3] | s1[3]) & bit);

            if (on)
                take(r, leaf, sub, o);
        }
        break;
    case 0xf:
    case 0x10: /* each resource id set in edx (0xf) or ebx (0x10) */
        for (guint32 sub = 1; sub < 32; sub++) {
            if ((leaf == 0xf ? s0[3] : s0[1]) & (1u << sub))
                take(r, leaf, sub, o);
        }
        break;
    default:
        break;
    }
}

/* Leaves base..max (max: eax of leaf base), as libvirt's cpuidSet. */
static void
take_range(Reader *r, guint32 base)
{
    guint32 o[4];
    guint32 max;

    r->fn(base, 0, o, r->opaque);
    max = o[0];
    for (guint32 leaf = base; leaf <= max && leaf - base < 0x100; leaf++) {
        SvCpuItem seven = {.type = SV_CPU_ITEM_CPUID, .in = {7, 0}};
        SvCpuItem *l7 = sv_cpu_data_get(r->data, &seven);

        if (leaf == 0x12 && !(l7 && (l7->reg[1] & (1u << 2))))
            continue; /* SGX leaves only with SGX (sub-leaves not read: no feature there) */
        r->fn(leaf, 0, o, r->opaque);
        if (leaf == 0x17 && o[0] < 3)
            continue;
        if (leaf != 0xb || (o[2] & 0xff00)) {
            SvCpuItem it = {.type = SV_CPU_ITEM_CPUID, .in = {leaf, 0}};

            memcpy(it.reg, o, sizeof(o));
            sv_cpu_data_add_item(r->data, &it);
        }
        take_subleaves(r, leaf, o);
    }
}

GArray *
sv_cpu_x86_read_cpuid(SvCpuidFn fn, gpointer opaque)
{
    Reader r = {fn, opaque, sv_cpu_data_new()};

    take_range(&r, 0);
    take_range(&r, 0x80000000u);
    return r.data;
}

/* IA32_ARCH_CAPABILITIES: /dev/cpu/0/msr, else KVM's feature MSR (libvirt's order). */
static gboolean
read_arch_capabilities(guint64 *out)
{
    /* kvm_msrs ends in a flexible array: room for one entry after it. */
    g_autofree struct kvm_msrs *msrs = g_malloc0(sizeof(*msrs) + sizeof(struct kvm_msr_entry));
    int fd = open("/dev/cpu/0/msr", O_RDONLY | O_CLOEXEC);
    gboolean ok = FALSE;

    msrs->nmsrs = 1;
    msrs->entries[0].index = MSR_ARCH_CAPABILITIES;
    if (fd >= 0) {
        ok = pread(fd, out, sizeof(*out), MSR_ARCH_CAPABILITIES) == sizeof(*out);
        close(fd);
    }
    if (!ok && (fd = open("/dev/kvm", O_RDONLY | O_CLOEXEC)) >= 0) {
        ok = ioctl(fd, KVM_GET_MSRS, msrs) == 1;
        *out = msrs->entries[0].data;
        close(fd);
    }
    return ok;
}

GArray *
sv_cpu_x86_host_data(const SvCpuMap *map)
{
    GArray *data = sv_cpu_x86_read_cpuid(sv_cpu_x86_cpuid_native, NULL);
    const SvCpuFeature *ac = sv_cpu_map_feature(map, "arch-capabilities");
    guint64 msr;

    if (ac && sv_cpu_data_is_subset(data, ac->data) && read_arch_capabilities(&msr)) {
        SvCpuItem it = {.type = SV_CPU_ITEM_MSR, .in = {MSR_ARCH_CAPABILITIES, 0}};

        it.reg[0] = (guint32)msr;
        it.reg[3] = (guint32)(msr >> 32);
        sv_cpu_data_add_item(data, &it);
    }
    return data;
}

SvCpuDef *
sv_cpu_x86_host(GError **error)
{
    static SvCpuDef *host;
    const SvCpuMap *map;
    g_autoptr(GArray) data = NULL;
    g_autoptr(SvCpuDef) cpu = NULL;

    if (host)
        return host;
    if (!(map = sv_cpu_map_get(error)))
        return NULL;
    data = sv_cpu_x86_host_data(map);
    cpu = g_new0(SvCpuDef, 1);
    cpu->host = TRUE;
    cpu->mode = -1;
    cpu->arch = g_strdup("x86_64");
    cpu->features = g_ptr_array_new_with_free_func(sv_domain_cpu_feature_free);
    if (!sv_cpu_x86_decode(map, data, NULL, NULL, FALSE, cpu, NULL, error))
        return NULL;
    host = g_steal_pointer(&cpu);
    return host;
}

void
sv_cpu_x86_host_model(SvHostCpuModel *out)
{
    static const char **names;
    g_autoptr(GError) error = NULL;
    const SvCpuDef *host = sv_cpu_x86_host(&error);

    memset(out, 0, sizeof(*out));
    if (!host) {
        g_debug("host CPU model unknown: %s", error->message);
        return;
    }
    if (!names) {
        names = g_new0(const char *, host->features->len + 1);
        for (guint i = 0; i < host->features->len; i++)
            names[i] = ((const SvDomainCpuFeatureDef *)host->features->pdata[i])->name;
    }
    out->model = host->model;
    out->vendor = host->vendor;
    out->features = names;
}
