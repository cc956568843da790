/* qemu_command_disk.c: disks on QEMU's command line (qemu_command_disk.h). Every value from
 * the definition goes into JSON, so none can change the command line's shape. */
#include "qemu_command_disk.h"

#include <string.h>

#include "qemu_argv.h"
#include "qemu_command_controller.h"
#include "qemu_command_platform.h"
#include "qemu_secret.h"
#include "conf/storage_vol_def.h"
#include "util/error.h"

/* The characters libvirt lets through in a disk serial. */
#define SERIAL_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -_.+"

/* libvirt's drive address checks for the QEMU driver (qemuValidateDomainDeviceDefAddress). */
static gboolean
check_drive_address(const SvDomainDef *def, const SvDomainDiskDef *d, GError **error)
{
    const SvDomainDriveAddress *a = &d->info.addr.drive;
    const char *model = NULL;

    if (d->info.addr.type != SV_DOMAIN_ADDRESS_DRIVE)
        return TRUE;
    switch (d->bus) {
    case SV_DOMAIN_DISK_BUS_SCSI:
        for (guint i = 0; i < def->controllers->len; i++) {
            const SvDomainControllerDef *c = def->controllers->pdata[i];
            if (c->type == SV_DOMAIN_CONTROLLER_SCSI && c->index == a->controller)
                model = c->model;
        }
        if (a->bus != 0) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "SCSI controller only supports 1 bus");
            return FALSE;
        }
        /* A controller still to be added is libvirt's default, lsilogic. */
        if (a->target != 0 && (!model || g_str_equal(model, "lsilogic"))) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "target must be 0 for controller model 'lsilogic'");
            return FALSE;
        }
        return TRUE;
    case SV_DOMAIN_DISK_BUS_IDE:
    case SV_DOMAIN_DISK_BUS_SATA:
        if (d->bus == SV_DOMAIN_DISK_BUS_SATA && a->bus != 0) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "bus must be 0 for sata controller");
            return FALSE;
        }
        if (a->target != 0) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "target must be 0 for %s controller",
                         sv_domain_disk_bus_to_string(d->bus));
            return FALSE;
        }
        return TRUE;
    default:
        return TRUE;
    }
}

/* libvirt's QEMU checks of one disk at define. */
static gboolean
check_disk_def(const SvDomainDef *def, const SvDomainDiskDef *d, GError **error)
{
    if (!g_str_equal(d->driver_name, "qemu")) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "unsupported driver name '%s' for disk '%s'", d->driver_name,
                     d->target_dev);
        return FALSE;
    }
    if (d->serial && strspn(d->serial, SERIAL_CHARS) < strlen(d->serial)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "driver serial '%s' contains unsafe characters", d->serial);
        return FALSE;
    }
    if (d->iothread && d->bus != SV_DOMAIN_DISK_BUS_VIRTIO) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "IOThreads not available for bus %s target %s",
                     sv_domain_disk_bus_to_string(d->bus), d->target_dev);
        return FALSE;
    }
    /* The definition has no <iothreads> model yet (it is refused), so no iothread a
     * disk names exists. */
    if (d->iothread) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Disk iothread '%u' not defined in iothreadid", d->iothread);
        return FALSE;
    }
    if (d->wwn && d->bus != SV_DOMAIN_DISK_BUS_IDE && d->bus != SV_DOMAIN_DISK_BUS_SCSI) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Only ide and scsi disk support wwn");
        return FALSE;
    }
    if (d->rotation_rate && d->bus != SV_DOMAIN_DISK_BUS_SCSI &&
        d->bus != SV_DOMAIN_DISK_BUS_IDE && d->bus != SV_DOMAIN_DISK_BUS_SATA) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "rotation rate is only valid for SCSI/IDE/SATA bus");
        return FALSE;
    }
    if (d->shareable && d->format != SV_DOMAIN_DISK_FORMAT_RAW) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "shared access for disk '%s' requires use of supported storage format",
                     d->target_dev);
        return FALSE;
    }
    if (d->readonly && d->device == SV_DOMAIN_DISK_DEVICE_DISK &&
        (d->bus == SV_DOMAIN_DISK_BUS_IDE || d->bus == SV_DOMAIN_DISK_BUS_SATA)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "readonly %s disks are not supported",
                     sv_domain_disk_bus_to_string(d->bus));
        return FALSE;
    }
    return check_drive_address(def, d, error);
}

gboolean
qemu_disk_def_post_parse(SvDomainDef *def, GError **error)
{
    if (!qemu_controller_def_post_parse(def, error))
        return FALSE;
    for (guint i = 0; i < def->disks->len; i++) {
        SvDomainDiskDef *d = def->disks->pdata[i];

        if (!d->driver_name)
            d->driver_name = g_strdup("qemu");
        /* A volume disk's default comes with its resolution (qemu_volume.h). */
        if (d->format == SV_DOMAIN_DISK_FORMAT_NONE && d->type != SV_DOMAIN_DISK_TYPE_VOLUME)
            d->format = SV_DOMAIN_DISK_FORMAT_RAW;
        /* libvirt's QEMU driver opens encrypted images with QEMU's own engine */
        if (d->encryption && d->encryption->engine == SV_VOL_ENC_ENGINE_DEFAULT)
            d->encryption->engine = SV_VOL_ENC_ENGINE_QEMU;
        if (!check_disk_def(def, d, error))
            return FALSE;
    }
    return TRUE;
}

/* The wwn as the number QEMU's property takes; FALSE when it does not fit JSON's signed
 * integers (json-glib writes no larger ones). */
static gboolean
wwn_value(const char *wwn, gint64 *out)
{
    guint64 v = g_ascii_strtoull(g_str_has_prefix(wwn, "0x") ? wwn + 2 : wwn, NULL, 16);

    if (v > G_MAXINT64)
        return FALSE;
    *out = (gint64)v;
    return TRUE;
}

/* A lun is a SCSI device of the host: on a SCSI controller (scsi-block) or virtio. */
static gboolean
check_lun(const SvDomainDiskDef *d, GError **error)
{
    if (d->device != SV_DOMAIN_DISK_DEVICE_LUN)
        return TRUE;
    if (d->bus != SV_DOMAIN_DISK_BUS_SCSI && d->bus != SV_DOMAIN_DISK_BUS_VIRTIO) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "disk device='lun' is not supported for bus='%s'",
                     sv_domain_disk_bus_to_string(d->bus));
        return FALSE;
    }
    if (d->bus == SV_DOMAIN_DISK_BUS_SCSI && d->serial) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "scsi-block 'lun' devices do not support the serial property");
        return FALSE;
    }
    return TRUE;
}

gboolean
qemu_disk_check(const SvDomainDef *def, GError **error)
{
    if (!qemu_controller_check(def, error))
        return FALSE;
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];
        gint64 wwn;

        switch (d->bus) {
        case SV_DOMAIN_DISK_BUS_VIRTIO:
            if (d->device == SV_DOMAIN_DISK_DEVICE_CDROM) {
                sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                             "disk type of '%s' does not support ejectable media",
                             d->target_dev);
                return FALSE;
            }
            break;
        case SV_DOMAIN_DISK_BUS_IDE:
            if (d->info.addr.type == SV_DOMAIN_ADDRESS_DRIVE && d->info.addr.drive.controller) {
                sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                             "Only 1 IDE controller is supported");
                return FALSE;
            }
            if (qemu_machine_is_q35(def)) {
                sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                             "IDE controllers are unsupported for this QEMU binary or "
                             "machine type");
                return FALSE;
            }
            break;
        case SV_DOMAIN_DISK_BUS_FDC:
            if (d->info.addr.type == SV_DOMAIN_ADDRESS_DRIVE && d->info.addr.drive.controller) {
                sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                             "Only 1 fdc controller is supported");
                return FALSE;
            }
            break;
        case SV_DOMAIN_DISK_BUS_SATA:
        case SV_DOMAIN_DISK_BUS_SCSI:
        case SV_DOMAIN_DISK_BUS_USB:
            break;
        default:
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "disk bus '%s' is not supported by the QEMU driver",
                         sv_domain_disk_bus_to_string(d->bus));
            return FALSE;
        }
        if (d->bus == SV_DOMAIN_DISK_BUS_VIRTIO && d->info.addr.type != SV_DOMAIN_ADDRESS_NONE &&
            d->info.addr.type != SV_DOMAIN_ADDRESS_PCI) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "virtio disk cannot have an address of type '%s'",
                         sv_domain_address_type_to_string(d->info.addr.type));
            return FALSE;
        }
        if (d->bus == SV_DOMAIN_DISK_BUS_USB && d->info.addr.type != SV_DOMAIN_ADDRESS_NONE &&
            d->info.addr.type != SV_DOMAIN_ADDRESS_USB) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "unexpected address type for usb disk");
            return FALSE;
        }
        if (!check_lun(d, error))
            return FALSE;
        if (d->wwn && !wwn_value(d->wwn, &wwn)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "wwn '%s' of disk '%s' is above 0x7fffffffffffffff, which splitvirt "
                         "cannot pass to QEMU",
                         d->wwn, d->target_dev);
            return FALSE;
        }
    }
    return TRUE;
}

/* What libvirt checks of a network disk's hosts when it starts the guest. */
static gboolean
check_hosts(const SvDomainDiskDef *d, GError **error)
{
    const char *proto = sv_domain_disk_protocol_to_string(d->protocol);
    guint n = d->hosts->len;

    for (guint i = 0; i < n; i++) {
        const SvDomainDiskHostDef *h = d->hosts->pdata[i];
        if (h->transport == SV_DOMAIN_DISK_TRANSPORT_UNIX &&
            d->protocol != SV_DOMAIN_DISK_PROTOCOL_NBD &&
            d->protocol != SV_DOMAIN_DISK_PROTOCOL_GLUSTER) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "transport 'unix' is not supported for protocol '%s'", proto);
            return FALSE;
        }
    }
    switch (d->protocol) {
    case SV_DOMAIN_DISK_PROTOCOL_RBD:
        return TRUE;
    case SV_DOMAIN_DISK_PROTOCOL_GLUSTER:
    case SV_DOMAIN_DISK_PROTOCOL_ISCSI:
        /* libvirt 9.0 takes the first of several; without one it crashes. */
        if (n == 0)
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "protocol '%s' needs a <host>", proto);
        return n > 0;
    case SV_DOMAIN_DISK_PROTOCOL_NBD:
    case SV_DOMAIN_DISK_PROTOCOL_SSH:
        if (n != 1)
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "%s protocol accepts only one host", proto);
        return n == 1;
    case SV_DOMAIN_DISK_PROTOCOL_NFS:
        if (n != 1)
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "'nfs' protocol requires the usage of exactly one host");
        return n == 1;
    default:
        if (n != 1)
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "protocol '%s' accepts only one host", proto);
        return n == 1;
    }
}

gboolean
qemu_disk_check_start(const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];
        if (d->type == SV_DOMAIN_DISK_TYPE_NETWORK && !check_hosts(d, error))
            return FALSE;
        /* SCSI commands through virtio-blk, which QEMU 7.2 no longer has. */
        if (d->device == SV_DOMAIN_DISK_DEVICE_LUN && d->bus == SV_DOMAIN_DISK_BUS_VIRTIO) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "disk device='lun' on bus='virtio' (%s) is not supported by splitvirt",
                         d->target_dev);
            return FALSE;
        }
    }
    return TRUE;
}

guint
qemu_disk_node_index(const SvDomainDef *def, guint i)
{
    guint n = 1;

    for (guint j = def->disks->len; j > i + 1; j--) {
        const SvDomainDiskDef *d = def->disks->pdata[j - 1];
        /* A medium libvirt dropped before numbering takes no index. */
        if (!d->vol_dropped)
            n += 1 + d->backing->len;
    }
    return n;
}

/* libvirt's startupPolicy='optional' at a cold boot: a local image that is not there is
 * dropped, the medium of a cdrom, the whole of a disk. */
static void
drop_missing_optional(SvDomainDef *def)
{
    for (guint i = def->disks->len; i > 0; i--) {
        SvDomainDiskDef *d = def->disks->pdata[i - 1];

        if (d->startup_policy != SV_DOMAIN_STARTUP_POLICY_OPTIONAL || !d->source ||
            g_file_test(d->source, G_FILE_TEST_EXISTS))
            continue;
        if (d->device == SV_DOMAIN_DISK_DEVICE_DISK) {
            g_ptr_array_remove_index(def->disks, i - 1);
            continue;
        }
        /* An empty drive, as if defined so: the policy goes with the image. */
        g_clear_pointer(&d->source, g_free);
        d->source_index = 0;
        d->startup_policy = SV_DOMAIN_STARTUP_POLICY_DEFAULT;
    }
}

void
qemu_disk_assign_live(SvDomainDef *def)
{
    /* Numbered before optional images are dropped, as libvirt numbers them. */
    for (guint i = 0; i < def->disks->len; i++) {
        SvDomainDiskDef *d = def->disks->pdata[i];

        if (sv_domain_disk_is_empty(d))
            continue;
        if (!d->source_index)
            d->source_index = qemu_disk_node_index(def, i);
        for (guint k = 0; k < d->backing->len; k++) {
            SvDomainDiskBackingDef *b = d->backing->pdata[k];
            if (!b->index)
                b->index = d->source_index + 1 + k;
        }
    }
    drop_missing_optional(def);
    for (guint i = 0; i < def->disks->len; i++) {
        SvDomainDiskDef *d = def->disks->pdata[i];

        /* libvirt's live XML shows an empty drive without a format. */
        if (sv_domain_disk_is_empty(d))
            d->format = SV_DOMAIN_DISK_FORMAT_NONE;
        /* A raw image has no backing file: its chain is known to end there. */
        else if (!d->backing->len && d->format == SV_DOMAIN_DISK_FORMAT_RAW)
            d->backing_end = TRUE;
    }
}

/* ---- -blockdev ------------------------------------------------------------------------- */

/* libvirt's qemuDomainDiskCachemodeFlags: FALSE for the default mode (no cache options). */
static gboolean
cache_flags(SvDomainDiskCache mode, gboolean *writeback, gboolean *direct, gboolean *noflush)
{
    *writeback = mode == SV_DOMAIN_DISK_CACHE_NONE || mode == SV_DOMAIN_DISK_CACHE_WRITEBACK ||
                 mode == SV_DOMAIN_DISK_CACHE_UNSAFE;
    *direct = mode == SV_DOMAIN_DISK_CACHE_NONE || mode == SV_DOMAIN_DISK_CACHE_DIRECTSYNC;
    *noflush = mode == SV_DOMAIN_DISK_CACHE_UNSAFE;
    return mode != SV_DOMAIN_DISK_CACHE_DEFAULT;
}

static JsonObject *
cache_obj(const SvDomainDiskDef *d)
{
    gboolean wb, direct, noflush;
    JsonObject *o;

    if (!cache_flags(d->cache, &wb, &direct, &noflush))
        return NULL;
    o = json_object_new();
    qemu_props_bool(o, "direct", direct);
    qemu_props_bool(o, "no-flush", noflush);
    return o;
}

/* ---- network storage -------------------------------------------------------------------- */

/* A host as QEMU's SocketAddress: {"type":"inet","host","port"} or {"type":"unix","path"}. */
static JsonObject *
socket_address(const SvDomainDiskHostDef *h)
{
    JsonObject *o = json_object_new();
    g_autofree char *port = g_strdup_printf("%u", h->port);

    if (h->transport == SV_DOMAIN_DISK_TRANSPORT_UNIX) {
        qemu_props_str(o, "type", "unix");
        qemu_props_str(o, "path", h->socket);
        return o;
    }
    qemu_props_str(o, "type", "inet");
    qemu_props_str(o, "host", h->name);
    qemu_props_str(o, "port", port);
    return o;
}

/* A host name as a URI or iSCSI portal writes it: IPv6 addresses in brackets. */
static char *
uri_host(const char *name)
{
    return strchr(name, ':') ? g_strdup_printf("[%s]", name) : g_strdup(name);
}

/* libvirt's URI for the curl protocols: the path escaped as libxml2 escapes one, the query
 * as it is. */
static char *
curl_url(const SvDomainDiskDef *d, const SvDomainDiskHostDef *h)
{
    g_autofree char *host = uri_host(h->name);
    g_autofree char *path = g_uri_escape_string(d->net_name, "/;@&=+$,!*'()", TRUE);

    return g_strdup_printf("%s://%s:%u%s%s%s%s", sv_domain_disk_protocol_to_string(d->protocol),
                           host, h->port, *path == '/' ? "" : "/", path,
                           d->net_query ? "?" : "", d->net_query ? d->net_query : "");
}

static void
add_servers(JsonObject *o, const SvDomainDiskDef *d, gboolean typed)
{
    JsonArray *servers = json_array_new();

    for (guint i = 0; i < d->hosts->len; i++) {
        const SvDomainDiskHostDef *h = d->hosts->pdata[i];
        JsonObject *s;
        g_autofree char *port = g_strdup_printf("%u", h->port);

        if (typed) {
            s = socket_address(h);
        } else {
            s = json_object_new();
            qemu_props_str(s, "host", h->name);
            qemu_props_str(s, "port", port);
        }
        json_array_add_object_element(servers, s);
    }
    json_object_set_array_member(o, "server", servers);
}

/* `name` split at its first '/': what is before (transfer full) and a pointer after it. */
static char *
split_first(const char *name, const char **rest)
{
    const char *slash = strchr(name, '/');

    *rest = slash ? slash + 1 : NULL;
    return slash ? g_strndup(name, (gsize)(slash - name)) : g_strdup(name);
}

/* The protocol node of a network disk, as libvirt 9.0 writes each protocol's. */
static JsonObject *
network_node(const SvDomainDiskDef *d)
{
    const SvDomainDiskHostDef *h = d->hosts->len ? d->hosts->pdata[0] : NULL;
    JsonObject *o = qemu_props_new(sv_domain_disk_protocol_to_string(d->protocol));
    JsonObject *server;
    g_autofree char *first = NULL;
    g_autofree char *host = NULL;
    g_autofree char *text = NULL;
    const char *rest = NULL;

    switch (d->protocol) {
    case SV_DOMAIN_DISK_PROTOCOL_NBD:
        qemu_props_obj(o, "server", socket_address(h));
        qemu_props_str(o, "export", d->net_name);
        break;
    case SV_DOMAIN_DISK_PROTOCOL_ISCSI:
        first = split_first(d->net_name, &rest);
        host = uri_host(h->name);
        text = g_strdup_printf("%s:%u", host, h->port);
        qemu_props_str(o, "portal", text);
        qemu_props_str(o, "target", first);
        qemu_props_int(o, "lun", rest ? (gint64)g_ascii_strtoull(rest, NULL, 10) : 0);
        qemu_props_str(o, "transport", "tcp");
        break;
    case SV_DOMAIN_DISK_PROTOCOL_RBD:
        first = split_first(d->net_name, &rest);
        qemu_props_str(o, "pool", first);
        qemu_props_str(o, "image", rest);
        if (d->hosts->len)
            add_servers(o, d, FALSE);
        break;
    case SV_DOMAIN_DISK_PROTOCOL_GLUSTER:
        first = split_first(d->net_name, &rest);
        qemu_props_str(o, "volume", first);
        qemu_props_str(o, "path", rest);
        add_servers(o, d, TRUE);
        /* qemu.conf's gluster_debug_level, 4 by default. */
        qemu_props_int(o, "debug", 4);
        break;
    case SV_DOMAIN_DISK_PROTOCOL_NFS:
        server = json_object_new();
        qemu_props_str(server, "host", h->name);
        qemu_props_str(server, "type", "inet");
        qemu_props_obj(o, "server", server);
        qemu_props_str(o, "path", d->net_name);
        break;
    case SV_DOMAIN_DISK_PROTOCOL_SSH:
        qemu_props_str(o, "path", d->net_name);
        server = json_object_new();
        text = g_strdup_printf("%u", h->port);
        qemu_props_str(server, "host", h->name);
        qemu_props_str(server, "port", text);
        qemu_props_obj(o, "server", server);
        break;
    default:
        /* http, https, ftp, ftps */
        text = curl_url(d, h);
        qemu_props_str(o, "url", text);
        break;
    }
    return o;
}

static void
add_storage_node(GPtrArray *argv, const SvDomainDiskDef *d, SvDomainDiskType type,
                 const char *path, const char *node)
{
    JsonObject *o = type == SV_DOMAIN_DISK_TYPE_NETWORK
                        ? network_node(d)
                        : qemu_props_new(type == SV_DOMAIN_DISK_TYPE_BLOCK ? "host_device"
                                                                           : "file");

    qemu_props_str(o, "filename", path);
    if (d->io && type != SV_DOMAIN_DISK_TYPE_NETWORK)
        qemu_props_str(o, "aio", sv_domain_disk_io_to_string(d->io));
    qemu_props_str(o, "node-name", node);
    qemu_props_obj(o, "cache", cache_obj(d));
    qemu_props_bool(o, "auto-read-only", TRUE);
    qemu_props_str(o, "discard", "unmap");
    qemu_argv_add_json(argv, "-blockdev", o);
}

/* One image's format node; `backing` is the node below ("" for the chain's explicit end,
 * NULL when unknown), `top` whether it is the disk's own image. */
static void
add_format_node(GPtrArray *argv, const SvDomainDiskDef *d, SvDomainDiskFormat format,
                guint index, const char *backing, gboolean top, gboolean keyed)
{
    g_autofree char *node = g_strdup_printf("libvirt-%u-format", index);
    g_autofree char *file = g_strdup_printf("libvirt-%u-storage", index);
    g_autofree char *secret = g_strdup_printf("%s-encryption-secret0", node);
    JsonObject *o = json_object_new();

    qemu_props_str(o, "node-name", node);
    qemu_props_bool(o, "read-only", top ? d->readonly : TRUE);
    if (d->discard)
        qemu_props_str(o, "discard", sv_domain_disk_discard_to_string(d->discard));
    if (top && d->detect_zeroes) {
        /* unmap only goes with discard=unmap; otherwise libvirt asks for on. */
        gboolean unmap = d->detect_zeroes == SV_DOMAIN_DISK_DETECT_ZEROES_UNMAP &&
                         d->discard != SV_DOMAIN_DISK_DISCARD_UNMAP;
        qemu_props_str(o, "detect-zeroes",
                       unmap ? "on" : sv_domain_disk_detect_zeroes_to_string(d->detect_zeroes));
    }
    qemu_props_obj(o, "cache", cache_obj(d));
    if (keyed && format == SV_DOMAIN_DISK_FORMAT_RAW) {
        /* a raw image with LUKS encryption is QEMU's luks driver */
        qemu_props_str(o, "driver", "luks");
        qemu_props_str(o, "key-secret", secret);
    } else {
        qemu_props_str(o, "driver", sv_domain_disk_format_to_string(format));
        if (keyed) {
            JsonObject *enc = json_object_new();
            qemu_props_str(enc, "format", "luks");
            qemu_props_str(enc, "key-secret", secret);
            qemu_props_obj(o, "encrypt", enc);
        }
    }
    qemu_props_str(o, "file", file);
    /* raw images have no backing file. */
    if (backing && format != SV_DOMAIN_DISK_FORMAT_RAW) {
        if (*backing)
            qemu_props_str(o, "backing", backing);
        else
            json_object_set_null_member(o, "backing");
    }
    qemu_argv_add_json(argv, "-blockdev", o);
}

/* The secret object of a LUKS disk whose top image has node index `top`. */
static void
add_secret_object(GPtrArray *argv, guint top, const QemuDiskSecret *s)
{
    g_autofree char *id = g_strdup_printf("libvirt-%u-format-encryption-secret0", top);
    JsonObject *o = json_object_new();

    qemu_props_str(o, "qom-type", "secret");
    qemu_props_str(o, "id", id);
    qemu_props_str(o, "data", s->data);
    qemu_props_str(o, "keyid", "masterKey0");
    qemu_props_str(o, "iv", s->iv);
    qemu_props_str(o, "format", "base64");
    qemu_argv_add_json(argv, "-object", o);
}

/* The nodes of disk `d` whose top image has node index `top`, its backing chain first;
 * its own image opened with `secret` (NULL: none). */
static void
add_blockdevs(GPtrArray *argv, const SvDomainDiskDef *d, guint top, const QemuDiskSecret *secret)
{
    guint n = d->backing->len;

    if (secret)
        add_secret_object(argv, top, secret);
    for (guint k = n + 1; k > 0; k--) {
        guint layer = k - 1; /* 0: the disk's image, 1..n: its backing chain */
        const SvDomainDiskBackingDef *b = layer ? d->backing->pdata[layer - 1] : NULL;
        guint index = b && b->index ? b->index : top + layer;
        g_autofree char *storage = g_strdup_printf("libvirt-%u-storage", index);
        g_autofree char *below = NULL;
        const char *backing = NULL;

        if (layer < n) {
            const SvDomainDiskBackingDef *next = d->backing->pdata[layer];
            backing = below = g_strdup_printf("libvirt-%u-format",
                                              next->index ? next->index : top + layer + 1);
        } else if (d->backing_end) {
            backing = "";
        }
        add_storage_node(argv, d, b ? b->type : sv_domain_disk_actual_type(d),
                         b ? b->path : d->source, storage);
        add_format_node(argv, d, b ? b->format : d->format, index, backing, layer == 0,
                        layer == 0 && secret);
    }
}

/* ---- -device --------------------------------------------------------------------------- */

static const SvDomainControllerDef *
find_controller(const SvDomainDef *def, SvDomainControllerType type, guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == type && c->index == index)
            return c;
    }
    return NULL;
}

/* The bus part of a disk's device: where on its controller it sits. */
static void
add_disk_bus(JsonObject *o, const SvDomainDef *def, const SvDomainDiskDef *d)
{
    const SvDomainDriveAddress *a = &d->info.addr.drive;
    SvDomainDeviceInfo pci = d->info;
    g_autofree char *bus = NULL;
    const SvDomainControllerDef *c;

    switch (d->bus) {
    case SV_DOMAIN_DISK_BUS_IDE:
        bus = g_strdup_printf("ide.%u", a->bus);
        qemu_props_str(o, "bus", bus);
        qemu_props_int(o, "unit", a->unit);
        break;
    case SV_DOMAIN_DISK_BUS_SATA:
        /* q35's own AHCI (sata index 0) is QEMU's "ide". */
        bus = a->controller == 0 && qemu_machine_is_q35(def)
                  ? g_strdup_printf("ide.%u", a->unit)
                  : g_strdup_printf("sata%u.%u", a->controller, a->unit);
        qemu_props_str(o, "bus", bus);
        break;
    case SV_DOMAIN_DISK_BUS_SCSI:
        c = find_controller(def, SV_DOMAIN_CONTROLLER_SCSI, a->controller);
        if (!c || !c->model || g_str_equal(c->model, "lsilogic")) {
            bus = g_strdup_printf("scsi%u.%u", a->controller, a->bus);
            qemu_props_str(o, "bus", bus);
            qemu_props_int(o, "scsi-id", a->unit);
        } else {
            bus = g_strdup_printf("scsi%u.0", a->controller);
            qemu_props_str(o, "bus", bus);
            qemu_props_int(o, "channel", a->bus);
            qemu_props_int(o, "scsi-id", a->target);
            qemu_props_int(o, "lun", a->unit);
        }
        break;
    case SV_DOMAIN_DISK_BUS_FDC:
        /* The drive of the machine's floppy controller (isa-fdc). */
        qemu_props_int(o, "unit", a->unit);
        break;
    case SV_DOMAIN_DISK_BUS_USB:
        /* The USB port only, through the shared helper (bus "usb.0", "usb1.0"). */
        pci.alias = NULL;
        pci.boot_order = 0;
        qemu_props_device_info(o, def, &pci);
        break;
    default:
        if (d->iothread) {
            g_autofree char *io = g_strdup_printf("iothread%u", d->iothread);
            qemu_props_str(o, "iothread", io);
        }
        if (d->queues)
            qemu_props_int(o, "num-queues", d->queues);
        if (d->queue_size)
            qemu_props_int(o, "queue-size", d->queue_size);
        /* The PCI address only: the id and boot index come later in libvirt's order. */
        pci.alias = NULL;
        pci.boot_order = 0;
        qemu_props_device_info(o, def, &pci);
        break;
    }
}

static const char *
device_driver(const SvDomainDiskDef *d)
{
    gboolean cdrom = d->device == SV_DOMAIN_DISK_DEVICE_CDROM;

    switch (d->bus) {
    case SV_DOMAIN_DISK_BUS_IDE:
    case SV_DOMAIN_DISK_BUS_SATA:
        return cdrom ? "ide-cd" : "ide-hd";
    case SV_DOMAIN_DISK_BUS_SCSI:
        return cdrom ? "scsi-cd" : d->device == SV_DOMAIN_DISK_DEVICE_LUN ? "scsi-block" : "scsi-hd";
    case SV_DOMAIN_DISK_BUS_USB:
        return "usb-storage";
    case SV_DOMAIN_DISK_BUS_FDC:
        return "floppy";
    default:
        return d->model == SV_DOMAIN_DISK_MODEL_VIRTIO_TRANSITIONAL ? "virtio-blk-pci-transitional"
               : d->model == SV_DOMAIN_DISK_MODEL_VIRTIO_NON_TRANSITIONAL
                   ? "virtio-blk-pci-non-transitional"
                   : "virtio-blk-pci";
    }
}

/* werror and rerror as libvirt derives them: the read policy defaults to the write one,
 * which QEMU spells "enospc" and does not take for reads. */
static void
add_error_policies(JsonObject *o, const SvDomainDiskDef *d)
{
    SvDomainDiskErrorPolicy w = d->error_policy;
    SvDomainDiskErrorPolicy r = d->rerror_policy;

    if (!r && w != SV_DOMAIN_DISK_ERROR_POLICY_ENOSPACE)
        r = w;
    if (w)
        qemu_props_str(o, "werror", w == SV_DOMAIN_DISK_ERROR_POLICY_ENOSPACE
                                        ? "enospc"
                                        : sv_domain_disk_error_policy_to_string(w));
    if (r)
        qemu_props_str(o, "rerror", sv_domain_disk_error_policy_to_string(r));
}

static void
add_device(GPtrArray *argv, const SvDomainDef *def, const SvDomainDiskDef *d, guint top)
{
    JsonObject *o = qemu_props_new(device_driver(d));
    gboolean wb, direct, noflush;
    gint64 wwn;

    add_disk_bus(o, def, d);
    if (d->bus == SV_DOMAIN_DISK_BUS_SCSI && d->device != SV_DOMAIN_DISK_DEVICE_LUN) {
        g_autofree char *id = g_strconcat("drive-", d->info.alias, NULL);
        qemu_props_str(o, "device_id", d->serial ? d->serial : id);
    }
    if (d->shareable)
        qemu_props_bool(o, "share-rw", TRUE);
    if (!sv_domain_disk_is_empty(d)) {
        g_autofree char *node = g_strdup_printf("libvirt-%u-format", top);
        qemu_props_str(o, "drive", node);
    }
    qemu_props_str(o, "id", d->info.alias);
    /* Its <boot order>, or its place in <os><boot dev> when it is the first disk or cdrom
     * (a floppy's is its controller's: add_fdc). */
    if (d->bus != SV_DOMAIN_DISK_BUS_FDC && qemu_platform_boot_index(def, &d->info))
        qemu_props_int(o, "bootindex", qemu_platform_boot_index(def, &d->info));
    if (d->logical_block_size)
        qemu_props_int(o, "logical_block_size", d->logical_block_size);
    if (d->physical_block_size)
        qemu_props_int(o, "physical_block_size", d->physical_block_size);
    if (d->wwn && wwn_value(d->wwn, &wwn))
        qemu_props_int(o, "wwn", wwn);
    if (d->rotation_rate)
        qemu_props_int(o, "rotation_rate", d->rotation_rate);
    if (d->bus == SV_DOMAIN_DISK_BUS_USB)
        qemu_props_bool(o, "removable", d->removable == SV_DOMAIN_SWITCH_ON);
    /* scsi-block passes the host device's own cache through. */
    if (d->device != SV_DOMAIN_DISK_DEVICE_LUN && cache_flags(d->cache, &wb, &direct, &noflush))
        qemu_props_str(o, "write-cache", wb ? "on" : "off");
    if (d->serial) {
        /* libvirt escapes blanks in serials with a backslash. */
        g_auto(GStrv) parts = g_strsplit(d->serial, " ", -1);
        g_autofree char *serial = g_strjoinv("\\ ", parts);
        qemu_props_str(o, "serial", serial);
    }
    add_error_policies(o, d);
    qemu_argv_add_json(argv, "-device", o);
}

/* The floppy controller: q35 has none of its own, so libvirt adds an isa-fdc for its
 * floppies; the floppies' boot indexes are the controller's (bootindexA for unit 0,
 * bootindexB for unit 1), on that device or, on the pc machines, as -global options. */
static void
add_fdc(const SvDomainDef *def, GPtrArray *argv)
{
    gboolean q35 = qemu_machine_is_q35(def);
    gboolean any = FALSE;
    JsonObject *o = qemu_props_new("isa-fdc");

    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];
        guint index = qemu_platform_boot_index(def, &d->info);
        const char *prop = d->info.addr.drive.unit ? "bootindexB" : "bootindexA";

        if (d->bus != SV_DOMAIN_DISK_BUS_FDC)
            continue;
        any = TRUE;
        if (index && q35) {
            qemu_props_int(o, prop, index);
        } else if (index) {
            qemu_argv_add(argv, "-global");
            qemu_argv_addf(argv, "isa-fdc.%s=%u", prop, index);
        }
    }
    if (any && q35)
        qemu_argv_add_json(argv, "-device", o);
    else
        json_object_unref(o);
}

void
qemu_command_build_disk(const SvDomainDef *def, const SvDomainDiskDef *d,
                        const QemuDiskSecret *secret, GPtrArray *argv)
{
    if (!sv_domain_disk_is_empty(d))
        add_blockdevs(argv, d, d->source_index, secret);
    add_device(argv, def, d, d->source_index);
}

void
qemu_command_build_disk_nodes(const SvDomainDiskDef *d, GPtrArray *argv)
{
    add_blockdevs(argv, d, d->source_index, NULL);
}

void
qemu_command_build_disks(const SvDomainDef *def, GPtrArray *secrets, GPtrArray *argv)
{
    add_fdc(def, argv);
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];
        guint top = d->source_index ? d->source_index : qemu_disk_node_index(def, i);

        if (!sv_domain_disk_is_empty(d))
            add_blockdevs(argv, d, top,
                          secrets && i < secrets->len ? secrets->pdata[i] : NULL);
        add_device(argv, def, d, top);
    }
}

/* ---- <iotune> at start ------------------------------------------------------------------ */

/* QMP's names for libvirt's <iotune> values, in SvDomainIotune order. */
const char *const qemu_disk_throttle_keys[SV_DOMAIN_IOTUNE_LAST] = {
    "bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr",
    "bps_max", "bps_rd_max", "bps_wr_max", "iops_max", "iops_rd_max", "iops_wr_max",
    "iops_size",
    "bps_max_length", "bps_rd_max_length", "bps_wr_max_length",
    "iops_max_length", "iops_rd_max_length", "iops_wr_max_length"};

JsonObject *
qemu_disk_throttle_build(const SvDomainDiskDef *d, const guint64 values[], const char *group)
{
    g_autofree char *qom = NULL;
    JsonObject *o = json_object_new();

    /* The QOM path libvirt names the disk by: virtio-blk's block backend sits in its
     * virtio-backend child, usb-storage's in its own scsi bus' legacy device. */
    if (d->bus == SV_DOMAIN_DISK_BUS_VIRTIO)
        qom = g_strdup_printf("/machine/peripheral/%s/virtio-backend", d->info.alias);
    else if (d->bus == SV_DOMAIN_DISK_BUS_USB)
        qom = g_strdup_printf("/machine/peripheral/%s/%s.0/legacy[0]", d->info.alias,
                              d->info.alias);
    qemu_props_str(o, "id", qom ? qom : d->info.alias);
    for (int i = 0; i < SV_DOMAIN_IOTUNE_LAST; i++) {
        /* The six totals are mandatory; the rest only when set. */
        if (i <= SV_DOMAIN_IOTUNE_WRITE_IOPS_SEC || values[i])
            qemu_props_int(o, qemu_disk_throttle_keys[i],
                           (gint64)MIN(values[i], (guint64)G_MAXINT64));
    }
    if (group)
        qemu_props_str(o, "group", group);
    return o;
}

JsonObject *
qemu_disk_throttle_args(const SvDomainDiskDef *d)
{
    gboolean any = d->iotune_group != NULL;

    for (int i = 0; i < SV_DOMAIN_IOTUNE_LAST; i++)
        any = any || d->iotune[i];
    /* QEMU refuses throttling an empty drive, and libvirt does not ask it to. */
    if (!any || sv_domain_disk_is_empty(d) || !d->info.alias)
        return NULL;
    return qemu_disk_throttle_build(d, d->iotune, d->iotune_group);
}
