/* qemu_command_cpu.c: CPU model, vCPUs, guest RAM and iothreads on QEMU's command line
 * (qemu_command_cpu.h), with libvirt's QEMU defaults and checks for them. */
#include "qemu_command_cpu.h"

#include <string.h>
#include <sys/utsname.h>

#include "conf/domain_parse.h"
#include "qemu_argv.h"
#include "qemu_command_platform.h"
#include "util/error.h"

/* The default CPU model of QEMU's x86 machine types (query-machines' default-cpu-type). */
static const char *
default_cpu_model(const SvDomainDef *def)
{
    const char *arch = def->os.arch ? def->os.arch : "x86_64";

    if (g_str_equal(arch, "x86_64"))
        return "qemu64";
    if (g_str_equal(arch, "i686"))
        return "qemu32";
    return NULL;
}

/* Not checked against the probe, which a define may not have yet: every x86 QEMU has these
 * models, and a start checks the model against the probe anyway. */
static void
cpu_defaults(SvDomainDef *def)
{
    const char *model = default_cpu_model(def);

    if (def->cpu_mode == SV_DOMAIN_CPU_MODE_CUSTOM && !def->cpu_model && model) {
        /* The default model is checked against nothing: QEMU drops what the host lacks. */
        def->cpu_model = g_strdup(model);
        def->cpu_match = SV_DOMAIN_CPU_MATCH_EXACT;
        def->cpu_fallback = SV_DOMAIN_CPU_FALLBACK_FORBID;
        def->cpu_check = SV_DOMAIN_CPU_CHECK_NONE;
    }
    /* QEMU 7.2 has the host CPU's migratable property. */
    if (def->cpu_mode == SV_DOMAIN_CPU_MODE_HOST_PASSTHROUGH &&
        def->cpu_migratable == SV_DOMAIN_SWITCH_ABSENT)
        def->cpu_migratable = SV_DOMAIN_SWITCH_ON;
    if (def->cpu_check != SV_DOMAIN_CPU_CHECK_DEFAULT ||
        (def->cpu_mode == SV_DOMAIN_CPU_MODE_CUSTOM && !def->cpu_model))
        return;
    if (def->cpu_mode == SV_DOMAIN_CPU_MODE_HOST_MODEL)
        def->cpu_check = SV_DOMAIN_CPU_CHECK_PARTIAL;
    else if (def->cpu_mode == SV_DOMAIN_CPU_MODE_CUSTOM && def->type != SV_DOMAIN_VIRT_QEMU)
        def->cpu_check = SV_DOMAIN_CPU_CHECK_PARTIAL;
    else
        def->cpu_check = SV_DOMAIN_CPU_CHECK_NONE;
}

gboolean
qemu_cpu_post_parse(SvDomainDef *def, QemuCaps *caps, GError **error)
{
    guint64 topology = (guint64)def->cpu_sockets * def->cpu_dies * def->cpu_cores *
                       def->cpu_threads;

    (void)caps;
    cpu_defaults(def);
    /* libvirt accepts it and fails every start without numad; it also adds <numatune>. */
    if (def->placement == SV_DOMAIN_CPU_PLACEMENT_AUTO) {
        sv_domain_error_unsupported(error, "<vcpu placement='auto'> (numad)");
        return FALSE;
    }
    if (def->vcpus_current == 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED, "vcpu 0 can't be offline");
        return FALSE;
    }
    if (def->cpu_sockets && topology != def->vcpus) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "CPU topology doesn't match maximum vcpu count");
        return FALSE;
    }
    if (def->memtune.min_guarantee) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Parameter 'min_guarantee' not supported by QEMU.");
        return FALSE;
    }
    /* Memory hotplug needs NUMA cells, which splitvirt refuses: this is libvirt's answer
     * for a definition without them. */
    if (def->max_memory_kib) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "At least one numa node has to be configured when enabling memory hotplug");
        return FALSE;
    }
    return TRUE;
}

/* ---- start-time checks -------------------------------------------------------------------- */

/* libvirt's words for a CPU mode the hypervisor cannot run. */
static gboolean
refuse_mode(const SvDomainDef *def, GError **error)
{
    struct utsname u;

    if (uname(&u) < 0)
        g_strlcpy(u.machine, "x86_64", sizeof(u.machine));
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                 "CPU mode '%s' for %s %s domain on %s host is not supported by hypervisor",
                 sv_domain_cpu_mode_to_string(def->cpu_mode),
                 def->os.arch ? def->os.arch : "x86_64", sv_domain_virt_type_to_string(def->type),
                 u.machine);
    return FALSE;
}

/* QEMU's CPU feature names (the longest is 40 bytes); -cpu takes no escaping, so nothing
 * else may reach it. */
#define FEATURE_NAME_MAX 64

static gboolean
feature_name_ok(const char *name)
{
    if (!g_ascii_isalnum(name[0]) || strlen(name) > FEATURE_NAME_MAX)
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
            return FALSE;
    }
    return TRUE;
}

static gboolean
check_memory_backing(const SvDomainDef *def, GError **error)
{
    const SvDomainMemoryBackingDef *mb = &def->memory_backing;

    if (mb->source == SV_DOMAIN_MEMORY_SOURCE_FILE ||
        (mb->source != SV_DOMAIN_MEMORY_SOURCE_MEMFD &&
         mb->access != SV_DOMAIN_MEMORY_ACCESS_DEFAULT)) {
        sv_domain_error_unsupported(
            error, "file-backed guest memory (<memoryBacking> with <source type='file'>, or "
                   "<access> without <source type='memfd'>)");
        return FALSE;
    }
    return TRUE;
}

gboolean
qemu_cpu_check_start(const SvDomainDef *def, QemuCaps *caps, GError **error)
{
    gboolean kvm = def->type == SV_DOMAIN_VIRT_KVM;

    /* A host-model CPU is custom by now (qemu_cpu_update_host_model) where the probe gave
     * the hypervisor's; a KVM one left runs as -cpu host. */
    if ((def->cpu_mode == SV_DOMAIN_CPU_MODE_HOST_PASSTHROUGH ||
         def->cpu_mode == SV_DOMAIN_CPU_MODE_HOST_MODEL) && !kvm)
        return refuse_mode(def, error);
    if (def->cpu_mode == SV_DOMAIN_CPU_MODE_CUSTOM && def->cpu_model &&
        !qemu_caps_has_cpu_model(caps, def->cpu_model)) {
        sv_error_set(error, SV_FROM_CPU, SV_ERR_INTERNAL_ERROR, "Unknown CPU model %s",
                     def->cpu_model);
        return FALSE;
    }
    /* libvirt builds a minimum-match CPU from the host's; splitvirt cannot yet. */
    if (def->cpu_mode == SV_DOMAIN_CPU_MODE_CUSTOM && def->cpu_model &&
        def->cpu_match == SV_DOMAIN_CPU_MATCH_MINIMUM) {
        sv_domain_error_unsupported(error, "<cpu match='minimum'>");
        return FALSE;
    }
    for (guint i = 0; i < def->cpu_features->len; i++) {
        const SvDomainCpuFeatureDef *f = def->cpu_features->pdata[i];

        if (!feature_name_ok(f->name)) {
            sv_error_set(error, SV_FROM_CPU, SV_ERR_CONFIG_UNSUPPORTED,
                         "unknown CPU feature: %s", f->name);
            return FALSE;
        }
    }
    return check_memory_backing(def, error);
}

/* ---- the command line --------------------------------------------------------------------- */

/* libvirt aligns x86 guest RAM to 1 MiB at start. */
static guint64
aligned_kib(guint64 kib)
{
    return (kib + 1023) / 1024 * 1024;
}

void
qemu_cpu_prepare_live(SvDomainDef *live)
{
    /* The model runs as named, never another one in its place (libvirt's
     * qemuProcessUpdateGuestCPU). */
    if (live->cpu_mode == SV_DOMAIN_CPU_MODE_CUSTOM && live->cpu_model)
        live->cpu_fallback = SV_DOMAIN_CPU_FALLBACK_FORBID;
    live->memory_kib = aligned_kib(live->memory_kib);
    if (live->max_memory_kib)
        live->max_memory_kib = aligned_kib(live->max_memory_kib);
    if (!live->memballoon_model || g_str_equal(live->memballoon_model, "none") ||
        live->current_memory_kib > live->memory_kib)
        live->current_memory_kib = live->memory_kib;
}

static void
build_cpu(const SvDomainDef *def, GPtrArray *argv)
{
    g_autoptr(GString) cpu = g_string_new(NULL);
    g_autoptr(GString) flags = g_string_new(NULL);

    switch (def->cpu_mode) {
    case SV_DOMAIN_CPU_MODE_HOST_PASSTHROUGH:
        g_string_append(cpu, "host");
        break;
    case SV_DOMAIN_CPU_MODE_MAXIMUM:
        g_string_append(cpu, "max");
        break;
    case SV_DOMAIN_CPU_MODE_HOST_MODEL:
        /* Only without the probe's host-model CPU (qemu_cpu_update_host_model). */
        g_string_append(cpu, "host");
        break;
    case SV_DOMAIN_CPU_MODE_CUSTOM:
    default:
        if (def->cpu_model)
            g_string_append(cpu, def->cpu_model);
        break;
    }
    qemu_platform_cpu_flags(def, flags);
    /* Flags need a model: QEMU's default one for x86, as libvirt names it. */
    if (!cpu->len && flags->len)
        g_string_append(cpu, "qemu64");
    if (!cpu->len)
        return;
    if (def->cpu_migratable != SV_DOMAIN_SWITCH_ABSENT)
        g_string_append_printf(cpu, ",migratable=%s",
                               sv_domain_switch_to_string(def->cpu_migratable));
    for (guint i = 0; i < def->cpu_features->len; i++) {
        const SvDomainCpuFeatureDef *f = def->cpu_features->pdata[i];
        gboolean on = f->policy != SV_DOMAIN_CPU_FEATURE_DISABLE &&
                      f->policy != SV_DOMAIN_CPU_FEATURE_FORBID;

        g_string_append_printf(cpu, ",%s=%s", f->name, on ? "on" : "off");
    }
    g_string_append(cpu, flags->str);
    qemu_argv_add(argv, "-cpu");
    qemu_argv_add(argv, cpu->str);
}

static void
build_memory(const SvDomainDef *def, GPtrArray *argv)
{
    const SvDomainMemoryBackingDef *mb = &def->memory_backing;
    gboolean memfd = mb->source == SV_DOMAIN_MEMORY_SOURCE_MEMFD;
    guint64 kib = aligned_kib(def->memory_kib);
    JsonObject *ram;

    qemu_argv_add(argv, "-m");
    if (def->max_memory_kib)
        qemu_argv_addf(argv, "size=%" G_GUINT64_FORMAT "k,slots=%u,maxmem=%" G_GUINT64_FORMAT "k",
                       kib, def->max_memory_slots, aligned_kib(def->max_memory_kib));
    else
        qemu_argv_addf(argv, "%" G_GUINT64_FORMAT, kib / 1024);
    ram = qemu_props_new(NULL);
    qemu_props_str(ram, "qom-type", memfd ? "memory-backend-memfd" : "memory-backend-ram");
    qemu_props_str(ram, "id", QEMU_RAM_BACKEND_ID);
    if (memfd && mb->access != SV_DOMAIN_MEMORY_ACCESS_DEFAULT)
        qemu_props_bool(ram, "share", mb->access == SV_DOMAIN_MEMORY_ACCESS_SHARED);
    if (memfd)
        qemu_props_bool(ram, "x-use-canonical-path-for-ramblock-id", FALSE);
    if (mb->allocation == SV_DOMAIN_MEMORY_ALLOCATION_IMMEDIATE)
        qemu_props_bool(ram, "prealloc", TRUE);
    if (mb->allocation_threads)
        qemu_props_int(ram, "prealloc-threads", mb->allocation_threads);
    qemu_props_int(ram, "size", (gint64)(kib * 1024));
    qemu_argv_add_json(argv, "-object", ram);
    qemu_argv_add(argv, "-overcommit");
    qemu_argv_add(argv, mb->locked ? "mem-lock=on" : "mem-lock=off");
}

static void
build_smp(const SvDomainDef *def, GPtrArray *argv)
{
    g_autoptr(GString) smp = g_string_new(NULL);

    g_string_append_printf(smp, "%u", def->vcpus_current);
    if (def->vcpus_current != def->vcpus)
        g_string_append_printf(smp, ",maxcpus=%u", def->vcpus);
    if (def->cpu_sockets)
        g_string_append_printf(smp, ",sockets=%u,dies=%u,cores=%u,threads=%u", def->cpu_sockets,
                               def->cpu_dies, def->cpu_cores, def->cpu_threads);
    else
        g_string_append_printf(smp, ",sockets=%u,cores=1,threads=1", def->vcpus);
    qemu_argv_add(argv, "-smp");
    qemu_argv_add(argv, smp->str);
}

void
qemu_cpu_build(const SvDomainDef *def, GPtrArray *argv)
{
    build_cpu(def, argv);
    build_memory(def, argv);
    build_smp(def, argv);
    for (guint i = 1; i <= def->iothreads; i++) {
        JsonObject *o = qemu_props_new(NULL);
        g_autofree char *id = g_strdup_printf("iothread%u", i);

        qemu_props_str(o, "qom-type", "iothread");
        qemu_props_str(o, "id", id);
        qemu_argv_add_json(argv, "-object", o);
    }
}
