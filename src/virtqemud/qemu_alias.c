/* qemu_alias.c: device aliases as libvirt's QEMU driver assigns them (qemu_alias.h). */
#include "qemu_alias.h"

#include <string.h>

#include "qemu_argv.h"
#include "qemu_command_disk.h"
#include "qemu_command_chr.h"
#include "qemu_display.h"
#include "qemu_usb.h"

/* Set the alias of `info` when it has none. Takes the formatted name. */
static void
set_alias(SvDomainDeviceInfo *info, char *name)
{
    if (info->alias)
        g_free(name);
    else
        info->alias = name;
}

/* The model of scsi controller `index`, NULL when it has none or does not exist. */
static const char *
scsi_model(const SvDomainDef *def, guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == SV_DOMAIN_CONTROLLER_SCSI && c->index == index)
            return c->model;
    }
    return NULL;
}

/* libvirt's qemuAssignDeviceDiskAlias: virtio and usb disks by their target's index, the
 * others by their drive address ("ide0-1-0", "sata0-0-2", "scsi0-0-0-1", and three parts
 * on an lsilogic controller, which has no target). */
static char *
disk_alias(const SvDomainDef *def, const SvDomainDiskDef *d)
{
    const SvDomainDriveAddress *a = &d->info.addr.drive;
    int idx = sv_domain_disk_name_index(d->target_dev);
    const char *model;

    if (d->bus == SV_DOMAIN_DISK_BUS_VIRTIO)
        return g_strdup_printf("virtio-disk%d", idx);
    if (d->bus == SV_DOMAIN_DISK_BUS_USB)
        return g_strdup_printf("usb-disk%d", idx);
    if (d->info.addr.type != SV_DOMAIN_ADDRESS_DRIVE)
        return g_strdup_printf("disk%d", idx);
    if (d->bus == SV_DOMAIN_DISK_BUS_SCSI) {
        model = scsi_model(def, a->controller);
        if (!model || g_str_equal(model, "lsilogic"))
            return g_strdup_printf("scsi%u-%u-%u", a->controller, a->bus, a->unit);
        return g_strdup_printf("scsi%u-%u-%u-%u", a->controller, a->bus, a->target, a->unit);
    }
    return g_strdup_printf("%s%u-%u-%u", sv_domain_disk_bus_to_string(d->bus), a->controller,
                           a->bus, a->unit);
}

static char *
controller_alias(const SvDomainDef *def, const SvDomainControllerDef *c)
{
    switch (c->type) {
    case SV_DOMAIN_CONTROLLER_PCI:
        if (c->index == 0 && qemu_machine_is_q35(def))
            return g_strdup("pcie.0");
        return g_strdup_printf("pci.%u", c->index);
    case SV_DOMAIN_CONTROLLER_USB:
        return c->index == 0 ? g_strdup("usb") : g_strdup_printf("usb%u", c->index);
    case SV_DOMAIN_CONTROLLER_IDE:
        return c->index == 0 ? g_strdup("ide") : g_strdup_printf("ide%u", c->index);
    case SV_DOMAIN_CONTROLLER_SATA:
        /* q35's built-in AHCI is QEMU's "ide". */
        if (c->index == 0 && qemu_machine_is_q35(def))
            return g_strdup("ide");
        return g_strdup_printf("sata%u", c->index);
    default:
        return g_strdup_printf("%s%u", sv_domain_controller_type_to_string(c->type), c->index);
    }
}

/* As libvirt: "fsN", N one past the highest fsN alias already given (a user alias takes
 * no number). */
static void
assign_fs_aliases(SvDomainDef *def)
{
    guint next = 0;

    for (guint i = 0; i < def->filesystems->len; i++) {
        const char *a = ((SvDomainFsDef *)def->filesystems->pdata[i])->info.alias;
        guint n;

        if (!a || !g_str_has_prefix(a, "fs") || !a[2] ||
            strspn(a + 2, "0123456789") != strlen(a + 2))
            continue;
        n = (guint)g_ascii_strtoull(a + 2, NULL, 10);
        next = MAX(next, n + 1);
    }
    for (guint i = 0; i < def->filesystems->len; i++) {
        SvDomainFsDef *fs = def->filesystems->pdata[i];

        if (!fs->info.alias)
            set_alias(&fs->info, g_strdup_printf("fs%u", next++));
    }
}

void
qemu_domain_assign_aliases(SvDomainDef *def)
{
    for (guint i = 0; i < def->disks->len; i++) {
        SvDomainDiskDef *d = def->disks->pdata[i];
        set_alias(&d->info, disk_alias(def, d));
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        SvDomainControllerDef *c = def->controllers->pdata[i];
        set_alias(&c->info, controller_alias(def, c));
    }
    assign_fs_aliases(def);
    for (guint i = 0; i < def->interfaces->len; i++)
        set_alias(&((SvDomainNetDef *)def->interfaces->pdata[i])->info,
                  g_strdup_printf("net%u", i));
    for (guint i = 0; i < def->serials->len; i++)
        set_alias(&((SvDomainChrDef *)def->serials->pdata[i])->info,
                  g_strdup_printf("serial%u", i));
    /* The first console of an x86 guest is its first serial port, and named so. */
    for (guint i = 0; i < def->consoles->len; i++)
        set_alias(&((SvDomainChrDef *)def->consoles->pdata[i])->info,
                  i == 0 && def->serials->len ? g_strdup("serial0")
                                              : g_strdup_printf("console%u", i));

    /* ---- disks and controllers ---- */
    qemu_disk_assign_live(def);

    /* ---- interfaces ---- */

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */
    qemu_chr_assign_aliases(def);

    /* ---- graphics, video, input, sound, audio, redirdev ---- */
    qemu_display_assign_aliases(def);

    /* ---- usb hubs ---- */
    qemu_usb_assign_aliases(def);
}
