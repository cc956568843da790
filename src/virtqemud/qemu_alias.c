/* qemu_alias.c: device aliases as libvirt's QEMU driver assigns them (qemu_alias.h). */
#include "qemu_alias.h"

#include "qemu_argv.h"
#include "qemu_display.h"

/* Set the alias of `info` when it has none. Takes the formatted name. */
static void
set_alias(SvDomainDeviceInfo *info, char *name)
{
    if (info->alias)
        g_free(name);
    else
        info->alias = name;
}

/* The index of a disk target name, as libvirt reads it (vda = 0, hdc = 2, sdaa = 26). */
static guint
disk_index(const char *target)
{
    const char *p;
    guint idx = 0;

    /* Skip the prefix (fd, hd, vd, sd, xvd, ubd): the letters after it are the index. */
    if (g_str_has_prefix(target, "xvd") || g_str_has_prefix(target, "ubd"))
        p = target + 3;
    else
        p = target + 2;
    for (; *p >= 'a' && *p <= 'z'; p++)
        idx = idx * 26 + (guint)(*p - 'a') + 1;
    return idx ? idx - 1 : 0;
}

static char *
disk_alias(const SvDomainDiskDef *d)
{
    const SvDomainDriveAddress *a = &d->info.addr.drive;
    gboolean drive = d->info.addr.type == SV_DOMAIN_ADDRESS_DRIVE;
    guint idx = disk_index(d->target_dev);

    switch (d->bus) {
    case SV_DOMAIN_DISK_BUS_VIRTIO:
        return g_strdup_printf("virtio-disk%u", idx);
    case SV_DOMAIN_DISK_BUS_IDE:
        if (drive)
            return g_strdup_printf("ide%u-%u-%u", a->controller, a->bus, a->unit);
        return g_strdup_printf("ide%u-%u-%u", idx / 4, (idx % 4) / 2, idx % 2);
    case SV_DOMAIN_DISK_BUS_SATA:
        if (drive)
            return g_strdup_printf("sata%u-%u-%u", a->controller, a->bus, a->unit);
        return g_strdup_printf("sata%u-0-%u", idx / 6, idx % 6);
    case SV_DOMAIN_DISK_BUS_SCSI:
        if (drive)
            return g_strdup_printf("scsi%u-%u-%u-%u", a->controller, a->bus, a->target, a->unit);
        return g_strdup_printf("scsi%u-0-0-%u", idx / 7, idx % 7);
    case SV_DOMAIN_DISK_BUS_USB:
        return g_strdup_printf("usb-disk%u", idx);
    default:
        return g_strdup_printf("disk%u", idx);
    }
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
    default:
        return g_strdup_printf("%s%u", sv_domain_controller_type_to_string(c->type), c->index);
    }
}

void
qemu_domain_assign_aliases(SvDomainDef *def)
{
    for (guint i = 0; i < def->disks->len; i++) {
        SvDomainDiskDef *d = def->disks->pdata[i];
        set_alias(&d->info, disk_alias(d));
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        SvDomainControllerDef *c = def->controllers->pdata[i];
        set_alias(&c->info, controller_alias(def, c));
    }
    for (guint i = 0; i < def->filesystems->len; i++)
        set_alias(&((SvDomainFsDef *)def->filesystems->pdata[i])->info,
                  g_strdup_printf("fs%u", i));
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

    /* ---- interfaces ---- */

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */

    /* ---- graphics, video, input, sound, audio, redirdev ---- */
    qemu_display_assign_aliases(def);
}
