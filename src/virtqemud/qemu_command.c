/* qemu_command.c: domain definition -> QEMU argv. */
#include "qemu_command.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/uuid.h"
#include "qemu_argv.h"
#include "qemu_command_controller.h"
#include "qemu_command_disk.h"
#include "util/error.h"

char *
qemu_domain_dir_name(int id, const char *name)
{
    const char *end = name;

    /* 20 bytes, as libvirt cuts it, but never in the middle of a character. */
    while (*end && end - name < 20) {
        const char *next = g_utf8_next_char(end);
        if (next - name > 20)
            break;
        end = next;
    }
    return g_strdup_printf("domain-%d-%.*s", id, (int)(end - name), name);
}

const char *
qemu_command_emulator(const SvDomainDef *def, const char *default_emulator)
{
    return def->emulator ? def->emulator : default_emulator;
}

gboolean
qemu_command_check_emulator(const char *emulator, const char *default_emulator,
                            const char *const *allowed, gboolean must_exist, GError **error)
{
    struct stat st;

    if (must_exist && stat(emulator, &st) < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "Cannot check QEMU binary %s", emulator);
        return FALSE;
    }
    /* By its name as written: what runs is what the administrator listed. */
    if (g_str_equal(emulator, default_emulator) ||
        (allowed && g_strv_contains(allowed, emulator)))
        return TRUE;
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                 "emulator '%s' is neither the capabilities' emulator '%s' nor listed in "
                 "allowed_emulators",
                 emulator, default_emulator);
    return FALSE;
}

gboolean
qemu_command_check_def(const SvDomainDef *def, GError **error)
{
    if (def->cpu_mode == SV_DOMAIN_CPU_MODE_HOST_PASSTHROUGH && def->type != SV_DOMAIN_VIRT_KVM) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "CPU mode 'host-passthrough' needs domain type 'kvm', not '%s'",
                     sv_domain_virt_type_to_string(def->type));
        return FALSE;
    }
    for (guint i = 0; i < def->filesystems->len; i++) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "filesystem passthrough is not supported for QEMU guests");
        return FALSE;
    }
    if (!qemu_disk_check(def, error))
        return FALSE;
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];
        if (n->type == SV_DOMAIN_NET_TYPE_ETHERNET && !n->target_dev) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "interface type 'ethernet' needs <target dev='TAP'/> for QEMU");
            return FALSE;
        }
    }
    return TRUE;
}

static const char *
cpu_arg(const SvDomainDef *def)
{
    switch (def->cpu_mode) {
    case SV_DOMAIN_CPU_MODE_HOST_PASSTHROUGH:
        return "host";
    case SV_DOMAIN_CPU_MODE_HOST_MODEL:
        return def->type == SV_DOMAIN_VIRT_KVM ? "host" : "max";
    case SV_DOMAIN_CPU_MODE_MAXIMUM:
        return "max";
    case SV_DOMAIN_CPU_MODE_CUSTOM:
    default:
        return def->cpu_model;
    }
}

/* The NIC device QEMU gets for a <model type=>: libvirt's "virtio" is QEMU's
 * virtio-net-pci; without a model, e1000 as libvirt picks on x86. */
static const char *
nic_device(const SvDomainNetDef *n)
{
    const char *model = n->model ? n->model : "e1000";

    return g_str_equal(model, "virtio") ? "virtio-net-pci" : model;
}

/* What only the probed QEMU can tell: its machine types, CPU models and NICs. */
static gboolean
check_caps(const SvDomainDef *def, const QemuCommandOptions *opts, GError **error)
{
    const char *machine = def->os.machine ? def->os.machine : "pc";
    const char *cpu = cpu_arg(def);

    if (!qemu_caps_has_machine(opts->caps, machine)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Emulator '%s' does not support machine type '%s'",
                     qemu_command_emulator(def, opts->emulator), machine);
        return FALSE;
    }
    if (def->cpu_mode == SV_DOMAIN_CPU_MODE_CUSTOM && cpu &&
        !qemu_caps_has_cpu_model(opts->caps, cpu)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "CPU model %s is not supported by hypervisor", cpu);
        return FALSE;
    }
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];
        if (!qemu_caps_has_nic_model(opts->caps, nic_device(n))) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "Emulator '%s' does not support NIC model '%s'",
                         qemu_command_emulator(def, opts->emulator),
                         n->model ? n->model : nic_device(n));
            return FALSE;
        }
    }
    return TRUE;
}

/* The boot order, or a kernel: its path, initrd and command line are whole arguments,
 * which QEMU takes as they are whatever they contain. */
static void
build_boot(const SvDomainDef *def, GPtrArray *argv)
{
    if (def->os.n_boot_devs > 0 && !def->os.kernel) {
        char order[SV_DOMAIN_BOOT_LAST + 1] = {0};
        static const char letters[SV_DOMAIN_BOOT_LAST] = {'a', 'c', 'd', 'n'};
        for (guint i = 0; i < def->os.n_boot_devs; i++)
            order[i] = letters[def->os.boot_devs[i]];
        qemu_argv_add(argv, "-boot");
        qemu_argv_addf(argv, "order=%s,strict=on", order);
    }
    if (def->os.kernel) {
        qemu_argv_add(argv, "-kernel");
        qemu_argv_add(argv, def->os.kernel);
    }
    if (def->os.initrd) {
        qemu_argv_add(argv, "-initrd");
        qemu_argv_add(argv, def->os.initrd);
    }
    if (def->os.cmdline) {
        qemu_argv_add(argv, "-append");
        qemu_argv_add(argv, def->os.cmdline);
    }
}

static void
build_nets(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];
        const char *model = nic_device(n);

        qemu_argv_add(argv, "-netdev");
        if (n->type == SV_DOMAIN_NET_TYPE_USER) {
            qemu_argv_addf(argv, "user,id=hostnet%u", i);
        } else {
            g_autofree char *tap = qemu_argv_escape(n->target_dev);
            qemu_argv_addf(argv, "tap,id=hostnet%u,ifname=%s,script=no,downscript=no", i, tap);
        }
        qemu_argv_add(argv, "-device");
        if (n->mac)
            qemu_argv_addf(argv, "%s,netdev=hostnet%u,id=net%u,mac=%s", model, i, i, n->mac);
        else
            qemu_argv_addf(argv, "%s,netdev=hostnet%u,id=net%u", model, i, i);
    }
}

static void
build_chardev(GPtrArray *argv, const SvDomainChrDef *c, const char *alias)
{
    qemu_argv_add(argv, "-chardev");
    if (c->type == SV_DOMAIN_CHR_TYPE_FILE) {
        g_autofree char *p = qemu_argv_escape(c->source_path);
        qemu_argv_addf(argv, "file,id=char%s,path=%s,append=on", alias, p);
    } else {
        qemu_argv_addf(argv, "pty,id=char%s", alias);
    }
}

static void
build_serials(const SvDomainDef *def, GPtrArray *argv)
{
    GPtrArray *serials = def->serials;

    /* A <console> with no <serial> is the first serial port, as in libvirt. */
    if (serials->len == 0 && def->consoles->len > 0)
        serials = def->consoles;
    for (guint i = 0; i < serials->len && i < 4; i++) {
        const SvDomainChrDef *c = serials->pdata[i];
        g_autofree char *alias = g_strdup_printf("serial%u", i);

        build_chardev(argv, c, alias);
        qemu_argv_add(argv, "-device");
        qemu_argv_addf(argv, "isa-serial,chardev=char%s,id=%s", alias, alias);
    }
}

GStrv
qemu_command_build(const SvDomainDef *def, const QemuCommandOptions *opts, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *name = qemu_argv_escape(def->name);
    g_autofree char *machine = qemu_argv_escape(def->os.machine ? def->os.machine : "pc");
    char uuid[37];
    const char *cpu;

    if (!qemu_command_check_def(def, error) || !check_caps(def, opts, error) ||
        !qemu_disk_check_start(def, error))
        return NULL;
    sv_uuid_format(def->uuid, uuid);
    qemu_argv_add(argv, qemu_command_emulator(def, opts->emulator));
    qemu_argv_add(argv, "-name");
    qemu_argv_addf(argv, "guest=%s,debug-threads=on", name);
    qemu_argv_add(argv, "-S");
    qemu_argv_add(argv, "-machine");
    qemu_argv_addf(argv, "%s,usb=off,dump-guest-core=off", machine);
    /* The accelerator follows the domain type, never the mere presence of /dev/kvm. */
    qemu_argv_add(argv, "-accel");
    qemu_argv_add(argv, def->type == SV_DOMAIN_VIRT_KVM ? "kvm" : "tcg");
    cpu = cpu_arg(def);
    if (cpu) {
        qemu_argv_add(argv, "-cpu");
        qemu_argv_add(argv, cpu);
    }
    qemu_argv_add(argv, "-m");
    qemu_argv_addf(argv, "size=%" G_GUINT64_FORMAT "k", def->memory_kib);
    qemu_argv_add(argv, "-smp");
    qemu_argv_addf(argv, "%u", def->vcpus);
    qemu_argv_add(argv, "-uuid");
    qemu_argv_add(argv, uuid);
    qemu_argv_add(argv, "-display");
    qemu_argv_add(argv, "none");
    qemu_argv_add(argv, "-no-user-config");
    qemu_argv_add(argv, "-nodefaults");
    qemu_argv_add(argv, "-chardev");
    qemu_argv_addf(argv, "socket,id=charmonitor,fd=%d,server=on,wait=off", opts->monitor_fd);
    qemu_argv_add(argv, "-mon");
    qemu_argv_add(argv, "chardev=charmonitor,id=monitor,mode=control");
    qemu_argv_add(argv, "-rtc");
    qemu_argv_add(argv, def->clock_offset == SV_DOMAIN_CLOCK_OFFSET_LOCALTIME ? "base=localtime"
                                                                    : "base=utc");
    qemu_argv_add(argv, "-no-shutdown");
    if (!(def->features & SV_DOMAIN_FEATURE_ACPI))
        qemu_argv_add(argv, "-no-acpi");
    build_boot(def, argv);

    /* ---- platform ---- */

    /* ---- cpu, vcpus, memory and tuning ---- */

    /* ---- disks and controllers ---- */
    qemu_command_build_controllers(def, argv);
    qemu_command_build_disks(def, argv);

    /* ---- interfaces ---- */
    build_nets(def, argv);

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */
    build_serials(def, argv);

    /* ---- graphics, video, input, sound, audio, redirdev ---- */

    if (def->panic) {
        qemu_argv_add(argv, "-device");
        qemu_argv_add(argv, "pvpanic");
    }
    if (def->memballoon_model && g_str_equal(def->memballoon_model, "virtio")) {
        qemu_argv_add(argv, "-device");
        qemu_argv_add(argv, "virtio-balloon-pci,id=balloon0");
    }
    qemu_argv_add(argv, "-sandbox");
    qemu_argv_add(argv, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    qemu_argv_add(argv, "-msg");
    qemu_argv_add(argv, "timestamp=on");
    g_ptr_array_add(argv, NULL);
    return (GStrv)g_ptr_array_steal(argv, NULL);
}
