/* qemu_hostdev.c: host devices and the host's TPM at start (qemu_hostdev.h). libvirt
 * accepts them at define, as the domain capabilities list them, and looks for the device
 * at start; so does this driver, which then refuses what it found, as it passes nothing
 * of the host through. */
#include "qemu_hostdev.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

static gboolean
unsupported(GError **error, const char *what)
{
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                 "%s passthrough is not supported by splitvirt", what);
    return FALSE;
}

/* The directory libvirt opens first, with its error when it cannot. */
static gboolean
open_dir(const char *path, GError **error)
{
    g_autoptr(GDir) dir = NULL;
    int saved;

    dir = g_dir_open(path, 0, NULL);
    if (dir)
        return TRUE;
    saved = errno;
    sv_error_set_errno(error, SV_FROM_NONE, saved, "cannot open directory '%s'", path);
    return FALSE;
}

static gboolean
check_scsi(const SvDomainHostdevDef *h, GError **error)
{
    g_autofree char *path = NULL;
    guint host = 0;

    if (h->managed) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_XML_ERROR, "%s",
                     "SCSI host device doesn't support managed mode");
        return FALSE;
    }
    if (h->adapter && g_str_has_prefix(h->adapter, "scsi_host"))
        host = (guint)g_ascii_strtoull(h->adapter + strlen("scsi_host"), NULL, 10);
    path = g_strdup_printf("/sys/bus/scsi/devices/%u:%u:%u:%" G_GUINT64_FORMAT "/scsi_generic",
                           host, h->scsi_bus, h->scsi_target, h->scsi_unit);
    return open_dir(path, error) && unsupported(error, "SCSI host device");
}

static gboolean
check_hostdev(const SvDomainHostdevDef *h, gboolean vfio_usable, GError **error)
{
    switch (h->type) {
    case SV_DOMAIN_HOSTDEV_USB:
        return open_dir("/sys/bus/usb/devices", error) && unsupported(error, "USB host device");
    case SV_DOMAIN_HOSTDEV_PCI:
        if (!vfio_usable) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED, "%s",
                         "host doesn't support passthrough of host PCI devices");
            return FALSE;
        }
        return unsupported(error, "PCI host device");
    default:
        return check_scsi(h, error);
    }
}

static gboolean
check_tpm(const SvDomainTpmDef *t, GError **error)
{
    int fd = open(t->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
    int saved = errno;

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, saved, "Could not open TPM device %s", t->path);
        return FALSE;
    }
    close(fd);
    return unsupported(error, "TPM");
}

gboolean
qemu_hostdev_check_start(const SvDomainDef *def, gboolean vfio_usable, GError **error)
{
    /* libvirt's order: the host devices are prepared before the TPM is opened. */
    for (guint i = 0; i < def->hostdevs->len; i++) {
        if (!check_hostdev(def->hostdevs->pdata[i], vfio_usable, error))
            return FALSE;
    }
    return !def->tpm || check_tpm(def->tpm, error);
}

gboolean
qemu_hostdev_check_argv(const SvDomainDef *def, GError **error)
{
    if (def->hostdevs->len > 0)
        return unsupported(error, "<hostdev>");
    if (def->tpm)
        return unsupported(error, "<tpm>");
    return TRUE;
}

/* ---------------------------------------------------------------- define-time defaults */

static gboolean
drive_used(const SvDomainDef *def, guint controller, guint unit)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];
        const SvDomainDeviceAddress *a = &d->info.addr;

        if (d->bus == SV_DOMAIN_DISK_BUS_SCSI && a->type == SV_DOMAIN_ADDRESS_DRIVE &&
            a->drive.controller == controller && a->drive.bus == 0 && a->drive.target == 0 &&
            a->drive.unit == unit)
            return TRUE;
    }
    for (guint i = 0; i < def->hostdevs->len; i++) {
        const SvDomainHostdevDef *h = def->hostdevs->pdata[i];
        const SvDomainDeviceAddress *a = &h->info.addr;

        if (h->type == SV_DOMAIN_HOSTDEV_SCSI && a->type == SV_DOMAIN_ADDRESS_DRIVE &&
            a->drive.controller == controller && a->drive.bus == 0 && a->drive.target == 0 &&
            a->drive.unit == unit)
            return TRUE;
    }
    return FALSE;
}

/* Units per controller: virtio-scsi's many, 7 on the others (lsilogic by default; the
 * controller's own id is the eighth). */
static guint
scsi_units(const SvDomainDef *def, guint controller)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];

        if (c->type == SV_DOMAIN_CONTROLLER_SCSI && c->index == controller)
            return g_strcmp0(c->model, "virtio-scsi") == 0 ? 16384 : 7;
    }
    return 7;
}

/* The SCSI controller a host device hangs off, appended when missing: libvirt adds it
 * with the device, before the machine's implicit controllers (so it comes first). */
static void
add_scsi_controller(SvDomainDef *def, guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];

        if (c->type == SV_DOMAIN_CONTROLLER_SCSI && c->index == index)
            return;
    }
    g_ptr_array_add(def->controllers,
                    sv_domain_controller_def_new(SV_DOMAIN_CONTROLLER_SCSI, index, NULL));
}

void
qemu_hostdev_post_parse(SvDomainDef *def)
{
    for (guint i = 0; i < def->hostdevs->len; i++) {
        SvDomainHostdevDef *h = def->hostdevs->pdata[i];
        SvDomainDeviceAddress *a = &h->info.addr;
        gboolean done = FALSE;

        if (h->type != SV_DOMAIN_HOSTDEV_SCSI || a->type != SV_DOMAIN_ADDRESS_NONE)
            continue;
        for (guint c = 0; !done; c++) {
            for (guint unit = 0; unit < scsi_units(def, c) && !done; unit++) {
                if (drive_used(def, c, unit))
                    continue;
                a->type = SV_DOMAIN_ADDRESS_DRIVE;
                a->drive.controller = c;
                a->drive.bus = 0;
                a->drive.target = 0;
                a->drive.unit = unit;
                done = TRUE;
            }
        }
    }
    for (guint i = 0; i < def->hostdevs->len; i++) {
        const SvDomainHostdevDef *h = def->hostdevs->pdata[i];

        if (h->type == SV_DOMAIN_HOSTDEV_SCSI && h->info.addr.type == SV_DOMAIN_ADDRESS_DRIVE)
            add_scsi_controller(def, h->info.addr.drive.controller);
    }
}
