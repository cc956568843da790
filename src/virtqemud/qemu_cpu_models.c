/* qemu_cpu_models.c: CONNECT_GET_CPU_MODEL_NAMES (virConnectGetCPUModelNames).
 *
 * libvirt answers from its own CPU map, per CPU driver: x86 lists the map's models, ARM
 * and s390 list none ("all CPU models are accepted"), ppc64 lists its POWER models, any
 * other architecture libvirt knows is NO_SUPPORT from its CPU code, and a name it does not
 * know is INVALID_ARG. x86's list is the map's models in its order, read from libvirt's
 * CPU map as libvirt0 installs it (conf/cpu_map.c); ppc64 is NO_SUPPORT as its map is not
 * read. tests/e2e/test_host_facts.py names the differences from libvirtd. */
#include "qemu_cpu_models.h"

#include "conf/cpu_map.h"
#include "qemu_domain.h"
#include "util/error.h"

/* libvirt's architecture names (virArch) and the CPU driver each belongs to. */
typedef enum {
    CPU_ARCH_NONE, /* known to libvirt, no CPU driver */
    CPU_ARCH_X86,
    CPU_ARCH_ANY_MODEL, /* ARM and s390: every model accepted, none listed */
    CPU_ARCH_PPC64,
} CpuArchKind;

static const struct {
    const char *name;
    CpuArchKind kind;
} arches[] = {
    {"i686", CPU_ARCH_X86},        {"x86_64", CPU_ARCH_X86},
    {"armv6l", CPU_ARCH_ANY_MODEL}, {"armv7l", CPU_ARCH_ANY_MODEL},
    {"armv7b", CPU_ARCH_ANY_MODEL}, {"aarch64", CPU_ARCH_ANY_MODEL},
    {"s390", CPU_ARCH_ANY_MODEL},   {"s390x", CPU_ARCH_ANY_MODEL},
    {"ppc64", CPU_ARCH_PPC64},      {"ppc64le", CPU_ARCH_PPC64},
    {"alpha", CPU_ARCH_NONE},       {"cris", CPU_ARCH_NONE},
    {"ia64", CPU_ARCH_NONE},        {"lm32", CPU_ARCH_NONE},
    {"loongarch64", CPU_ARCH_NONE}, {"m68k", CPU_ARCH_NONE},
    {"microblaze", CPU_ARCH_NONE},  {"microblazeel", CPU_ARCH_NONE},
    {"mips", CPU_ARCH_NONE},        {"mipsel", CPU_ARCH_NONE},
    {"mips64", CPU_ARCH_NONE},      {"mips64el", CPU_ARCH_NONE},
    {"openrisc", CPU_ARCH_NONE},    {"parisc", CPU_ARCH_NONE},
    {"parisc64", CPU_ARCH_NONE},    {"ppc", CPU_ARCH_NONE},
    {"ppcle", CPU_ARCH_NONE},       {"ppcemb", CPU_ARCH_NONE},
    {"riscv32", CPU_ARCH_NONE},     {"riscv64", CPU_ARCH_NONE},
    {"sh4", CPU_ARCH_NONE},         {"sh4eb", CPU_ARCH_NONE},
    {"sparc", CPU_ARCH_NONE},       {"sparc64", CPU_ARCH_NONE},
    {"unicore32", CPU_ARCH_NONE},   {"xtensa", CPU_ARCH_NONE},
    {"xtensaeb", CPU_ARCH_NONE},
};

/* The kind of arch, or FALSE (INVALID_ARG, as libvirt) for a name libvirt does not know. */
static gboolean
arch_kind(const char *arch, CpuArchKind *out, GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(arches); i++) {
        if (g_str_equal(arches[i].name, arch)) {
            *out = arches[i].kind;
            return TRUE;
        }
    }
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "cannot find architecture %s", arch);
    return FALSE;
}

/* Fill ret with the x86 models of libvirt's map (names only when need_results). */
static gboolean
answer_x86(gboolean need_results, remote_connect_get_cpu_model_names_ret *ret, GError **error)
{
    const SvCpuMap *map = sv_cpu_map_get(error);

    if (!map)
        return FALSE;
    ret->ret = (int)map->models->len;
    if (!need_results)
        return TRUE;
    ret->models.models_val = g_new0(remote_nonnull_string, MAX(map->models->len, 1));
    for (guint i = 0; i < map->models->len; i++) {
        const SvCpuModel *m = map->models->pdata[i];

        ret->models.models_val[ret->models.models_len++] = g_strdup(m->name);
    }
    return TRUE;
}

static gboolean
connect_get_cpu_model_names(SvCall *call, remote_connect_get_cpu_model_names_args *args,
                            remote_connect_get_cpu_model_names_ret *ret, GError **error)
{
    CpuArchKind kind;

    (void)call;
    if (!sv_check_flags(args->flags, 0, SV_FROM_QEMU, "qemuConnectGetCPUModelNames", error) ||
        !arch_kind(args->arch, &kind, error))
        return FALSE;
    switch (kind) {
    case CPU_ARCH_ANY_MODEL:
        ret->ret = 0;
        return TRUE;
    case CPU_ARCH_NONE:
    case CPU_ARCH_PPC64:
        sv_error_set(error, SV_FROM_CPU, SV_ERR_NO_SUPPORT,
                     "'%s' architecture is not supported by CPU driver", args->arch);
        return FALSE;
    case CPU_ARCH_X86:
        break;
    }
    return answer_x86(args->need_results != 0, ret, error);
}

void
qemu_cpu_models_install(SvRemoteHandlers *h)
{
    h->connect_get_cpu_model_names = connect_get_cpu_model_names;
}
