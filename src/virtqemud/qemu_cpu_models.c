/* qemu_cpu_models.c: CONNECT_GET_CPU_MODEL_NAMES (virConnectGetCPUModelNames).
 *
 * libvirt answers from its own CPU map, per CPU driver: x86 lists the map's models, ARM
 * and s390 list none ("all CPU models are accepted"), ppc64 lists its POWER models, any
 * other architecture libvirt knows is NO_SUPPORT from its CPU code, and a name it does not
 * know is INVALID_ARG. Here x86's list is what the probed QEMU can run
 * (query-cpu-definitions), the CPU models a guest can be given; ppc64 is NO_SUPPORT as no
 * ppc64 QEMU is probed. tests/e2e/test_host_facts.py names the differences from
 * libvirtd's x86 list. */
#include "qemu_cpu_models.h"

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

/* Fill ret with the x86 models of the probe (names only when need_results). */
static void
answer_x86(QemuCaps *caps, gboolean need_results, remote_connect_get_cpu_model_names_ret *ret)
{
    const GPtrArray *defs = qemu_caps_get_cpu_defs(caps, FALSE);

    ret->ret = (int)defs->len;
    if (!need_results)
        return;
    ret->models.models_val = g_new0(remote_nonnull_string, MAX(defs->len, 1));
    for (guint i = 0; i < defs->len; i++) {
        const QemuCpuDef *d = g_ptr_array_index(defs, i);

        ret->models.models_val[ret->models.models_len++] = g_strdup(d->name);
    }
}

typedef struct {
    SvCall *call;
    gboolean need_results;
} ModelsWait;

static void
models_ready(QemuCaps *caps, const GError *error, gpointer data)
{
    g_autofree ModelsWait *w = data;
    remote_connect_get_cpu_model_names_ret ret = {{0}, 0};

    if (error) {
        sv_call_fail(w->call, g_error_copy(error));
        return;
    }
    answer_x86(caps, w->need_results, &ret);
    sv_call_reply(w->call, &ret);
    xdr_free((xdrproc_t)xdr_remote_connect_get_cpu_model_names_ret, (char *)&ret);
}

static gboolean
connect_get_cpu_model_names(SvCall *call, remote_connect_get_cpu_model_names_args *args,
                            remote_connect_get_cpu_model_names_ret *ret, GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of_call(call);
    CpuArchKind kind;
    ModelsWait *w;

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
    if (qemu_caps_is_ready(ctx->caps)) {
        answer_x86(ctx->caps, args->need_results != 0, ret);
        return TRUE;
    }
    w = g_new0(ModelsWait, 1);
    w->call = sv_call_defer(call);
    w->need_results = args->need_results != 0;
    qemu_caps_probe_async(ctx->caps, models_ready, w);
    return TRUE;
}

void
qemu_cpu_models_install(SvRemoteHandlers *h)
{
    h->connect_get_cpu_model_names = connect_get_cpu_model_names;
}
