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
