/* qemu_command.c: domain definition -> QEMU argv. */
#include "qemu_command.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/uuid.h"
#include "qemu_argv.h"
#include "qemu_command_cpu.h"
#include "qemu_command_platform.h"
#include "qemu_command_controller.h"
#include "qemu_command_disk.h"
#include "qemu_command_net.h"
#include "qemu_command_chr.h"
#include "qemu_virtiofs.h"
#include "qemu_display.h"
#include "qemu_usb.h"
#include "qemu_hostdev.h"
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
    if (!qemu_chr_check_def(def, error) || !qemu_disk_check(def, error))
        return FALSE;
    return qemu_net_check_def(def, error);
}

/* What only the probed QEMU can tell: its machine types, CPU models and NICs; and what
 * this QEMU can run for the domain type. */
static gboolean
check_caps(const SvDomainDef *def, const QemuCommandOptions *opts, GError **error)
{
    const char *machine = def->os.machine ? def->os.machine : "pc";

    if (!qemu_caps_has_machine(opts->caps, machine)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Emulator '%s' does not support machine type '%s'",
                     qemu_command_emulator(def, opts->emulator), machine);
        return FALSE;
    }
    if (!qemu_cpu_check_start(def, opts->caps, error))
        return FALSE;
    return qemu_net_check_start(def, opts->caps, qemu_command_emulator(def, opts->emulator),
                                error);
}

/* libvirt's master key object: the key the guest's secrets are encrypted with. */
static void
add_master_key(GPtrArray *argv, const char *path)
{
    JsonObject *key = json_object_new();

    qemu_props_str(key, "qom-type", "secret");
    qemu_props_str(key, "id", "masterKey0");
    qemu_props_str(key, "format", "raw");
    qemu_props_str(key, "file", path);
    qemu_argv_add_json(argv, "-object", key);
}

GStrv
qemu_command_build(const SvDomainDef *def, const QemuCommandOptions *opts, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *name = qemu_argv_escape(def->name);
    char uuid[37];

    if (!qemu_command_check_def(def, error) || !check_caps(def, opts, error) ||
        !qemu_disk_check_start(def, error) || !qemu_hostdev_check_argv(def, error))
        return NULL;
    sv_uuid_format(def->uuid, uuid);
    qemu_argv_add(argv, qemu_command_emulator(def, opts->emulator));
    qemu_argv_add(argv, "-name");
    qemu_argv_addf(argv, "guest=%s,debug-threads=on", name);
    qemu_argv_add(argv, "-S");
    if (opts->master_key_path)
        add_master_key(argv, opts->master_key_path);
    qemu_platform_build_machine(def, argv);
    /* The accelerator follows the domain type, never the mere presence of /dev/kvm. */
    qemu_argv_add(argv, "-accel");
    qemu_argv_add(argv, def->type == SV_DOMAIN_VIRT_KVM ? "kvm" : "tcg");
    /* cpu, vcpus, memory and tuning: -cpu, -m, -object pc.ram, -overcommit, -smp, iothreads */
    qemu_cpu_build(def, argv);
    qemu_platform_build_loader(def, argv);
    qemu_argv_add(argv, "-uuid");
    qemu_argv_add(argv, uuid);
    if (!qemu_platform_build_smbios_genid(def, argv, error))
        return NULL;
    /* As libvirt: no display at all unless the guest has one. */
    if (!sv_domain_def_find_graphics(def, SV_DOMAIN_GRAPHICS_VNC) &&
        !sv_domain_def_find_graphics(def, SV_DOMAIN_GRAPHICS_SPICE)) {
        qemu_argv_add(argv, "-display");
        qemu_argv_add(argv, "none");
    }
    qemu_argv_add(argv, "-no-user-config");
    qemu_argv_add(argv, "-nodefaults");
    qemu_argv_add(argv, "-chardev");
    qemu_argv_addf(argv, "socket,id=charmonitor,fd=%d,server=on,wait=off", opts->monitor_fd);
    qemu_argv_add(argv, "-mon");
    qemu_argv_add(argv, "chardev=charmonitor,id=monitor,mode=control");
    qemu_platform_build_clock_pm_boot(def, argv);

    /* ---- disks and controllers ---- */
    qemu_command_build_controllers(def, argv);
    qemu_usb_build_hubs(def, argv); /* usb hubs: libvirt writes them after the controllers */
    qemu_command_build_disks(def, opts->disk_secrets, argv);
    qemu_command_build_filesystems(def, argv); /* libvirt's place: after the disks */

    /* ---- interfaces ---- */
    if (!qemu_net_build(def, opts->net_fds, argv, error))
        return NULL;

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */
    qemu_command_build_chrs(def, opts->chr_fds, argv);

    /* ---- graphics, video, input, sound, audio, redirdev ---- */
    if (!qemu_display_check_start(def, error) || !qemu_display_check_prepared(def, error))
        return NULL;
    qemu_display_build(def, argv);

    /* An incoming migration's, before the memballoon as in libvirt's. */
    if (opts->incoming) {
        qemu_argv_add(argv, "-incoming");
        qemu_argv_add(argv, opts->incoming);
    }
    /* The watchdog, memballoon and rngs come after the display devices in libvirt's. */
    qemu_command_build_chr_late(def, opts->chr_fds, argv);
    qemu_platform_build_vmcoreinfo(def, argv);
    qemu_argv_add(argv, "-sandbox");
    qemu_argv_add(argv, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    qemu_command_build_panics(def, argv);
    qemu_argv_add(argv, "-msg");
    qemu_argv_add(argv, "timestamp=on");
    g_ptr_array_add(argv, NULL);
    return (GStrv)g_ptr_array_steal(argv, NULL);
}
