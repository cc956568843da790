/* xen_config.c: a domain definition as libxl's domain configuration. The fields set are
 * the ones xen_xl.c translates to xl.cfg (sharing its spellings of serial ports and the
 * boot order), so `xl create` of the converted file and a start through the driver build
 * the same guest. */
#include "xen_config.h"

#include <stdlib.h>
#include <string.h>

#include "xen_xl.h"

static char *
dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static libxl_action_on_shutdown
action_of(SvDomainLifecycleAction a)
{
    switch (a) {
    case SV_DOMAIN_LIFECYCLE_DESTROY:
        return LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
    case SV_DOMAIN_LIFECYCLE_RESTART:
        return LIBXL_ACTION_ON_SHUTDOWN_RESTART;
    case SV_DOMAIN_LIFECYCLE_PRESERVE:
        return LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
    case SV_DOMAIN_LIFECYCLE_RENAME_RESTART:
        return LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME;
    case SV_DOMAIN_LIFECYCLE_COREDUMP_DESTROY:
        return LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY;
    case SV_DOMAIN_LIFECYCLE_COREDUMP_RESTART:
        return LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART;
    case SV_DOMAIN_LIFECYCLE_LAST:
        break;
    }
    g_assert_not_reached();
}

static void
build_hvm(const SvDomainDef *def, libxl_domain_build_info *b)
{
    g_autofree char *boot = xen_xl_boot_order(&def->os);

    if (def->os.loader_type == SV_DOMAIN_LOADER_TYPE_ROM)
        b->u.hvm.firmware = dup_or_null(def->os.loader);
    if (def->os.loader_type == SV_DOMAIN_LOADER_TYPE_PFLASH) {
        b->u.hvm.bios = LIBXL_BIOS_TYPE_OVMF;
        b->u.hvm.system_firmware = dup_or_null(def->os.loader);
    }
    b->u.hvm.boot = dup_or_null(boot);
    libxl_defbool_set(&b->u.hvm.pae, (def->features & SV_DOMAIN_FEATURE_PAE) != 0);
    libxl_defbool_set(&b->acpi, (def->features & SV_DOMAIN_FEATURE_ACPI) != 0);
    libxl_defbool_set(&b->apic, (def->features & SV_DOMAIN_FEATURE_APIC) != 0);
    if (sv_domain_def_find_graphics(def, SV_DOMAIN_GRAPHICS_NONE))
        libxl_defbool_set(&b->u.hvm.nographic, true);
    if (def->serials->len) {
        b->u.hvm.serial_list = calloc(def->serials->len + 1, sizeof(char *));
        for (guint i = 0; i < def->serials->len; i++) {
            g_autofree char *spec = xen_xl_serial_spec(def->serials->pdata[i]);
            b->u.hvm.serial_list[i] = strdup(spec);
        }
    }
    b->device_model = dup_or_null(def->emulator);
}

static void
build_disk(const SvDomainDiskDef *disk, libxl_device_disk *d)
{
    libxl_device_disk_init(d);
    d->vdev = strdup(disk->target_dev);
    d->pdev_path = dup_or_null(disk->source);
    d->backend = g_strcmp0(disk->driver_name, "phy") == 0    ? LIBXL_DISK_BACKEND_PHY
                 : g_strcmp0(disk->driver_name, "qemu") == 0 ? LIBXL_DISK_BACKEND_QDISK
                 : g_strcmp0(disk->driver_name, "tap") == 0  ? LIBXL_DISK_BACKEND_TAP
                                                             : LIBXL_DISK_BACKEND_UNKNOWN;
    d->format = !disk->source                                  ? LIBXL_DISK_FORMAT_EMPTY
                : disk->format == SV_DOMAIN_DISK_FORMAT_QCOW2 ? LIBXL_DISK_FORMAT_QCOW2
                                                              : LIBXL_DISK_FORMAT_RAW;
    d->is_cdrom = disk->device == SV_DOMAIN_DISK_DEVICE_CDROM;
    d->removable = d->is_cdrom;
    d->readwrite = !disk->readonly;
}

static void
build_nic(const SvDomainNetDef *net, gboolean hvm, libxl_device_nic *n)
{
    libxl_device_nic_init(n);
    n->devid = -1;
    n->nictype = hvm ? LIBXL_NIC_TYPE_VIF_IOEMU : LIBXL_NIC_TYPE_VIF;
    n->model = dup_or_null(net->model);
    n->ifname = dup_or_null(net->target_dev);
    if (net->mac) {
        unsigned int m[6];
        if (sscanf(net->mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) ==
            6) {
            for (int i = 0; i < 6; i++)
                n->mac[i] = (uint8_t)m[i];
        }
    }
}

void
xen_config_build(const SvDomainDef *def, libxl_domain_config *d_config)
{
    libxl_domain_create_info *c = &d_config->c_info;
    libxl_domain_build_info *b = &d_config->b_info;
    gboolean hvm = g_str_equal(def->os.type, "hvm");
    libxl_domain_type type = hvm ? LIBXL_DOMAIN_TYPE_HVM : LIBXL_DOMAIN_TYPE_PV;

    c->type = type;
    c->name = strdup(def->name);
    memcpy(libxl_uuid_bytearray(&c->uuid), def->uuid, 16);

    libxl_domain_build_info_init_type(b, type);
    b->max_vcpus = (int)def->vcpus;
    /* libxl_bitmap_alloc() wants a context; the bitmap is plain bytes, bit i for vCPU i. */
    b->avail_vcpus.size = (def->vcpus + 7) / 8;
    b->avail_vcpus.map = calloc(b->avail_vcpus.size, 1);
    for (guint i = 0; i < def->vcpus; i++)
        b->avail_vcpus.map[i / 8] |= (uint8_t)(1u << (i % 8));
    b->max_memkb = def->memory_kib;
    b->target_memkb = def->current_memory_kib;
    libxl_defbool_set(&b->localtime, def->clock_offset == SV_DOMAIN_CLOCK_OFFSET_LOCALTIME);
    if (hvm) {
        build_hvm(def, b);
    } else {
        b->kernel = dup_or_null(def->os.kernel);
        b->ramdisk = dup_or_null(def->os.initrd);
        b->cmdline = dup_or_null(def->os.cmdline);
    }

    d_config->on_poweroff = action_of(def->on_poweroff);
    d_config->on_reboot = action_of(def->on_reboot);
    d_config->on_crash = action_of(def->on_crash);

    d_config->num_disks = (int)def->disks->len;
    d_config->disks = calloc(MAX(def->disks->len, 1), sizeof(libxl_device_disk));
    for (guint i = 0; i < def->disks->len; i++)
        build_disk(def->disks->pdata[i], &d_config->disks[i]);
    d_config->num_nics = (int)def->interfaces->len;
    d_config->nics = calloc(MAX(def->interfaces->len, 1), sizeof(libxl_device_nic));
    for (guint i = 0; i < def->interfaces->len; i++)
        build_nic(def->interfaces->pdata[i], hvm, &d_config->nics[i]);
}
