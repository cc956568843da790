/* xen_check.c: the domain XML the Xen driver accepts (xen_def_check), refusing what libxl
 * cannot run instead of dropping it (CONFIG_UNSUPPORTED, LIBXL). The xl.cfg conversions are
 * xen_xl.c's. */
#include "xen_xl.h"

#include <string.h>

#include "util/error.h"

/* libvirt's CONFIG_UNSUPPORTED for what libxl cannot run. */
#define unsupported(error, ...) \
    sv_error_set((error), SV_FROM_LIBXL, SV_ERR_CONFIG_UNSUPPORTED, __VA_ARGS__)

gboolean
xen_def_is_hvm(const SvDomainDef *def)
{
    return g_str_equal(def->os.type, "hvm");
}

/* The bus libxl gives a disk of this name; -1 for names it does not take. */
static int
disk_bus_of(const char *dev)
{
    if (g_str_has_prefix(dev, "xvd"))
        return SV_DOMAIN_DISK_BUS_XEN;
    if (g_str_has_prefix(dev, "hd"))
        return SV_DOMAIN_DISK_BUS_IDE;
    if (g_str_has_prefix(dev, "sd"))
        return SV_DOMAIN_DISK_BUS_SCSI;
    return -1;
}

/* <driver name=> and xl's backendtype= for the same disk backend. */
static const struct {
    const char *driver;
    const char *backend;
} disk_backends[] = {{"phy", "phy"}, {"qemu", "qdisk"}, {"tap", "tap"}};

const char *
xen_disk_backend_of_driver(const char *driver)
{
    for (guint i = 0; driver && i < G_N_ELEMENTS(disk_backends); i++) {
        if (g_str_equal(driver, disk_backends[i].driver))
            return disk_backends[i].backend;
    }
    return NULL;
}

/* The first disk setting Xen's disk backends are not given, or NULL: what the domain XML
 * carries for QEMU's block layer (cache modes, throttling, backing chains, network
 * protocols...) is refused here rather than dropped. */
static const char *
disk_setting_xen_lacks(const SvDomainDiskDef *disk)
{
    gboolean iotune = FALSE;

    for (int i = 0; i < SV_DOMAIN_IOTUNE_LAST; i++)
        iotune = iotune || disk->iotune[i];
    return disk->type == SV_DOMAIN_DISK_TYPE_NETWORK  ? "<disk type='network'>"
           : disk->type == SV_DOMAIN_DISK_TYPE_VOLUME ? "<disk type='volume'>"
           : disk->device == SV_DOMAIN_DISK_DEVICE_LUN ? "<disk device='lun'>"
           : disk->device == SV_DOMAIN_DISK_DEVICE_FLOPPY ? "<disk device='floppy'>"
           : disk->model                            ? "disk model="
           : disk->format != SV_DOMAIN_DISK_FORMAT_NONE &&
                   disk->format != SV_DOMAIN_DISK_FORMAT_RAW &&
                   disk->format != SV_DOMAIN_DISK_FORMAT_QCOW2
               ? "a disk format other than raw or qcow2"
           : disk->cache || disk->io || disk->discard || disk->detect_zeroes ||
                   disk->iothread || disk->queues || disk->queue_size || disk->error_policy ||
                   disk->rerror_policy
               ? "a disk <driver> attribute other than name and type"
           : disk->startup_policy ? "disk startupPolicy"
           : disk->logical_block_size || disk->physical_block_size ? "disk <blockio>"
           : disk->removable || disk->rotation_rate ? "disk <target removable rotation_rate>"
           : disk->backing->len || disk->backing_end ? "disk <backingStore>"
           : iotune             ? "disk <iotune>"
           : disk->shareable    ? "disk <shareable>"
           : disk->serial       ? "disk <serial>"
           : disk->wwn          ? "disk <wwn>"
                                : NULL;
}

static gboolean
check_disk(const SvDomainDiskDef *disk, GError **error)
{
    int bus = disk_bus_of(disk->target_dev);
    const char *lacks = disk_setting_xen_lacks(disk);

    if (lacks) {
        unsupported(error, "%s is not supported by the Xen driver", lacks);
        return FALSE;
    }

    if (bus < 0) {
        unsupported(error, "disk target '%s': Xen takes xvdX, hdX and sdX names",
                    disk->target_dev);
        return FALSE;
    }
    if ((int)disk->bus != bus) {
        unsupported(error, "disk bus '%s' for target '%s': Xen derives the bus from the name",
                    sv_domain_disk_bus_to_string(disk->bus), disk->target_dev);
        return FALSE;
    }
    if (disk->driver_name && !xen_disk_backend_of_driver(disk->driver_name)) {
        unsupported(error, "disk driver name '%s'; use phy, qemu or tap", disk->driver_name);
        return FALSE;
    }
    if (g_strcmp0(disk->driver_name, "phy") == 0 &&
        disk->format == SV_DOMAIN_DISK_FORMAT_QCOW2) {
        unsupported(error, "qcow2 disk '%s' with driver 'phy'", disk->target_dev);
        return FALSE;
    }
    return TRUE;
}

/* HVM guests have serial ports, and at most a console that is the first of them (as
 * libvirt writes it); PV guests have Xen's console only. */
static gboolean
check_chr(const SvDomainDef *def, GError **error)
{
    const SvDomainChrDef *con = def->consoles->len ? def->consoles->pdata[0] : NULL;

    if (def->consoles->len > 1) {
        unsupported(error, "more than one <console>");
        return FALSE;
    }
    if (!xen_def_is_hvm(def)) {
        if (def->serials->len) {
            unsupported(error, "<serial> on PV domains; they have a Xen <console>");
            return FALSE;
        }
        if (con && (con->source.type != SV_DOMAIN_CHR_TYPE_PTY ||
                    (con->target_type && !g_str_equal(con->target_type, "xen")))) {
            unsupported(error, "<console> other than a pty with target type 'xen' on PV domains");
            return FALSE;
        }
        return TRUE;
    }
    for (guint i = 0; i < def->serials->len; i++) {
        const SvDomainChrDef *chr = def->serials->pdata[i];

        if (chr->source.type != SV_DOMAIN_CHR_TYPE_PTY &&
            chr->source.type != SV_DOMAIN_CHR_TYPE_FILE) {
            unsupported(error, "serial type '%s' on Xen (pty or file)",
                        sv_domain_chr_type_to_string(chr->source.type));
            return FALSE;
        }
        if (chr->target_type && !g_str_equal(chr->target_type, "isa-serial")) {
            unsupported(error, "serial target type '%s'", chr->target_type);
            return FALSE;
        }
        if (chr->target_port != i) {
            unsupported(error, "serial port %u out of order: Xen numbers ports as listed",
                        chr->target_port);
            return FALSE;
        }
    }
    if (con) {
        const SvDomainChrDef *first = def->serials->len ? def->serials->pdata[0] : NULL;

        if (!first || con->source.type != first->source.type ||
            (con->target_type && !g_str_equal(con->target_type, "serial"))) {
            unsupported(error, "<console> on HVM domains other than the first <serial>");
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
check_os(const SvDomainDef *def, GError **error)
{
    const SvDomainOsDef *o = &def->os;

    if (o->arch && !g_str_equal(o->arch, "x86_64") && !g_str_equal(o->arch, "i686")) {
        unsupported(error, "architecture '%s'", o->arch);
        return FALSE;
    }
    if (o->machine && !g_str_equal(o->machine, xen_def_is_hvm(def) ? "xenfv" : "xenpv")) {
        unsupported(error, "machine type '%s'", o->machine);
        return FALSE;
    }
    if (xen_def_is_hvm(def)) {
        if (o->kernel || o->initrd || o->cmdline) {
            unsupported(error, "direct kernel boot (<kernel>, <initrd>, <cmdline>) of HVM "
                               "domains");
            return FALSE;
        }
        if (o->loader_readonly != SV_DOMAIN_TRISTATE_ABSENT) {
            unsupported(error, "<loader readonly=...> is not supported by the Xen driver");
            return FALSE;
        }
        if (o->loader_type == SV_DOMAIN_LOADER_TYPE_ROM && !o->loader) {
            unsupported(error, "a <loader type='rom'> without a path");
            return FALSE;
        }
        return TRUE;
    }
    if (!o->kernel) {
        unsupported(error, "PV domains without a <kernel> (bootloaders such as pygrub)");
        return FALSE;
    }
    if (def->features) {
        unsupported(error, "<features> on PV domains");
        return FALSE;
    }
    if (def->emulator) {
        unsupported(error, "<emulator> on PV domains");
        return FALSE;
    }
    return TRUE;
}

/* The platform XML the common parser knows beyond acpi/apic/pae and a utc or localtime
 * clock: not translated to xl.cfg/libxl yet, so refused rather than lost. */
static gboolean
check_platform(const SvDomainDef *def, GError **error)
{
    const char *what = NULL;
    g_autofree char *clock = g_strdup_printf(
        "<clock offset='%s'>", sv_domain_clock_offset_to_string(def->clock_offset));

    if (def->hyperv)
        what = "<hyperv>";
    else if (def->kvm_features)
        what = "<kvm>";
    else if (def->vmport != SV_DOMAIN_SWITCH_ABSENT)
        what = "<vmport>";
    else if (def->smm != SV_DOMAIN_SWITCH_ABSENT)
        what = "<smm>";
    else if (def->apic_eoi != SV_DOMAIN_SWITCH_ABSENT)
        what = "<apic eoi>";
    else if (def->pvspinlock != SV_DOMAIN_SWITCH_ABSENT || def->pmu != SV_DOMAIN_SWITCH_ABSENT ||
             def->vmcoreinfo != SV_DOMAIN_SWITCH_ABSENT)
        what = "<pvspinlock>, <pmu> and <vmcoreinfo>";
    else if (def->ioapic != SV_DOMAIN_IOAPIC_NONE)
        what = "<ioapic>";
    else if (def->clock_offset != SV_DOMAIN_CLOCK_OFFSET_UTC &&
             def->clock_offset != SV_DOMAIN_CLOCK_OFFSET_LOCALTIME)
        what = clock;
    else if (def->clock_adjustment_reset)
        what = "<clock adjustment='reset'>";
    else if (def->timers->len)
        what = "<timer>";
    else if (def->firmware != SV_DOMAIN_FIRMWARE_NONE ||
             def->fw_enrolled_keys != SV_DOMAIN_TRISTATE_ABSENT ||
             def->fw_secure_boot != SV_DOMAIN_TRISTATE_ABSENT)
        what = "<os firmware>";
    else if (def->nvram || def->nvram_template)
        what = "<nvram>";
    else if (def->loader_secure != SV_DOMAIN_TRISTATE_ABSENT)
        what = "<loader secure>";
    else if (def->sysinfo || def->smbios_mode != SV_DOMAIN_SMBIOS_NONE)
        what = "<sysinfo> and <smbios>";
    else if (def->genid)
        what = "<genid>";
    else if (def->bootmenu != SV_DOMAIN_TRISTATE_ABSENT ||
             def->bios_useserial != SV_DOMAIN_TRISTATE_ABSENT || def->bios_reboot_timeout_set)
        what = "<bootmenu> and <bios>";
    else if (def->pm_suspend_to_mem != SV_DOMAIN_TRISTATE_ABSENT ||
             def->pm_suspend_to_disk != SV_DOMAIN_TRISTATE_ABSENT)
        what = "<pm>";
    if (!what)
        return TRUE;
    unsupported(error, "%s is not supported by the Xen driver", what);
    return FALSE;
}

gboolean
xen_def_check(const SvDomainDef *def, GError **error)
{
    if (def->type != SV_DOMAIN_VIRT_XEN) {
        unsupported(error, "domain type '%s' is not supported by libxenlight; use 'xen'",
                    sv_domain_virt_type_to_string(def->type));
        return FALSE;
    }
    if (!xen_def_is_hvm(def) && !g_str_equal(def->os.type, "linux")) {
        unsupported(error, "os type '%s' is not supported by libxenlight; use hvm or xen",
                    def->os.type);
        return FALSE;
    }
    if (!check_os(def, error) || !check_platform(def, error))
        return FALSE;
    if (def->placement == SV_DOMAIN_CPU_PLACEMENT_AUTO) {
        unsupported(error, "<vcpu placement='auto'> is not supported by the Xen driver");
        return FALSE;
    }
    if (def->cpu_mode != SV_DOMAIN_CPU_MODE_CUSTOM || def->cpu_model) {
        unsupported(error, "<cpu mode='%s'> is not supported by the Xen driver",
                    sv_domain_cpu_mode_to_string(def->cpu_mode));
        return FALSE;
    }
    /* libxl gets memory and a vcpu count, nothing else of these: refused, not dropped. */
    if (sv_domain_cpu_tuning_used(def)) {
        unsupported(error, "%s is not supported by the Xen driver", sv_domain_cpu_tuning_used(def));
        return FALSE;
    }
    if (def->controllers->len) {
        const SvDomainControllerDef *c = def->controllers->pdata[0];
        unsupported(error, "<controller type='%s'> is not supported by the Xen driver",
                    sv_domain_controller_type_to_string(c->type));
        return FALSE;
    }
    if (def->filesystems->len || def->idmaps->len || def->panics->len ||
        def->channels->len || def->rngs->len || def->watchdog) {
        unsupported(error, "%s is not supported by the Xen driver",
                    def->filesystems->len ? "<filesystem>"
                    : def->idmaps->len    ? "<idmap>"
                    : def->panics->len    ? "<panic>"
                    : def->channels->len  ? "<channel>"
                    : def->rngs->len      ? "<rng>"
                                          : "<watchdog>");
        return FALSE;
    }
    if (sv_domain_display_first_device(def)) {
        unsupported(error, "%s is not supported by the Xen driver",
                    sv_domain_display_first_device(def));
        return FALSE;
    }

    if (def->memballoon && !g_str_equal(def->memballoon->model, "xen")) {
        unsupported(error, "memballoon model '%s'; Xen's balloon is model 'xen'",
                    def->memballoon->model);
        return FALSE;
    }
    for (guint i = 0; i < def->disks->len; i++) {
        if (!check_disk(def->disks->pdata[i], error))
            return FALSE;
    }
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *net = def->interfaces->pdata[i];

        if (net->type != SV_DOMAIN_NET_TYPE_ETHERNET) {
            unsupported(error, "interface type '%s'; Xen guests use 'ethernet'",
                        sv_domain_net_type_to_string(net->type));
            return FALSE;
        }
        if (sv_domain_net_tuning_name(net)) {
            unsupported(error, "interface %s is not supported by the Xen driver",
                        sv_domain_net_tuning_name(net));
            return FALSE;
        }
    }
    return check_chr(def, error);
}
