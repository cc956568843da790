/* qemu_command_disk.c: disks on QEMU's command line (qemu_command_disk.h). Every value from
 * the definition goes into JSON, so none can change the command line's shape. */
#include "qemu_command_disk.h"

#include <string.h>

#include "qemu_argv.h"
#include "util/error.h"

/* The characters libvirt lets through in a disk serial. */
#define SERIAL_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -_.+"

/* The QEMU device of a pci controller model, libvirt's default <model name>. */
static const char *
pci_model_name(const char *model)
{
    static const char *const names[][2] = {
        {"pci-bridge", "pci-bridge"},
        {"dmi-to-pci-bridge", "i82801b11-bridge"},
        {"pcie-root-port", "pcie-root-port"},
        {"pcie-to-pci-bridge", "pcie-pci-bridge"},
    };

    for (guint i = 0; model && i < G_N_ELEMENTS(names); i++) {
        if (g_str_equal(names[i][0], model))
            return names[i][1];
    }
    return NULL;
}

/* libvirt's QEMU controller defaults: models, pci model names, chassis and ports. */
static gboolean
controller_post_parse(const SvDomainDef *def, SvDomainControllerDef *c, GError **error)
{
    const char *name = pci_model_name(c->model);

    if (c->type == SV_DOMAIN_CONTROLLER_USB && !c->model)
        c->model = g_strdup(qemu_machine_is_q35(def) ? "qemu-xhci" : "piix3-uhci");
    if (c->type == SV_DOMAIN_CONTROLLER_SCSI && !c->model)
        c->model = g_strdup("lsilogic");
    if (c->type == SV_DOMAIN_CONTROLLER_PCI && name && !c->model_name)
        c->model_name = g_strdup(name);
    /* The one other name QEMU has for one of these: the Intel root port. */
    if (c->model_name && g_strcmp0(c->model_name, name) != 0 &&
        !(g_strcmp0(c->model, "pcie-root-port") == 0 &&
          g_str_equal(c->model_name, "ioh3420"))) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "Option 'modelName' has invalid value for PCI controller with index '%u', "
                     "model '%s' and modelName '%s'",
                     c->index, c->model ? c->model : "", c->model_name);
        return FALSE;
    }
    if (g_strcmp0(c->model, "pci-bridge") == 0 && c->target_chassis_nr == -1)
        c->target_chassis_nr = (int)c->index;
    if (g_strcmp0(c->model, "pcie-root-port") == 0 && c->target_chassis == -1)
        c->target_chassis = (int)c->index;
    if (c->type == SV_DOMAIN_CONTROLLER_USB && c->ports > 15 &&
        (g_str_equal(c->model, "qemu-xhci") || g_str_equal(c->model, "nec-xhci"))) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "'%s' controller only supports up to '15' ports", c->model);
        return FALSE;
    }
    return TRUE;
}

/* libvirt's port of a pcie-root-port without one: its slot and function, 0xSF. */
static int
root_port_port(const SvDomainControllerDef *c)
{
    const SvDomainPciAddress *a = &c->info.addr.pci;

    if (c->target_port != -1 || g_strcmp0(c->model, "pcie-root-port") != 0 ||
        c->info.addr.type != SV_DOMAIN_ADDRESS_PCI)
        return c->target_port;
    return (int)((a->slot << 3) + a->function);
}

void
qemu_controllers_fill_ports(SvDomainDef *def)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        SvDomainControllerDef *c = def->controllers->pdata[i];
        c->target_port = root_port_port(c);
    }
}

gboolean
qemu_disk_def_post_parse(SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        if (!controller_post_parse(def, def->controllers->pdata[i], error))
            return FALSE;
    }
    qemu_controllers_fill_ports(def);
    for (guint i = 0; i < def->disks->len; i++) {
        SvDomainDiskDef *d = def->disks->pdata[i];

        if (!d->driver_name)
            d->driver_name = g_strdup("qemu");
        if (d->format == SV_DOMAIN_DISK_FORMAT_NONE)
            d->format = SV_DOMAIN_DISK_FORMAT_RAW;
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

static gboolean
check_controllers(const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];

        if (c->type == SV_DOMAIN_CONTROLLER_IDE && qemu_machine_is_q35(def)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "IDE controllers are unsupported for this QEMU binary or machine type");
            return FALSE;
        }
        if (c->queues && g_strcmp0(c->model, "virtio-scsi") != 0) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "'queues' is only supported by virtio-scsi controller");
            return FALSE;
        }
        if (c->type == SV_DOMAIN_CONTROLLER_CCID || c->type == SV_DOMAIN_CONTROLLER_XENBUS ||
            c->type == SV_DOMAIN_CONTROLLER_FDC) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "controller type '%s' is not supported by splitvirt's QEMU driver",
                         sv_domain_controller_type_to_string(c->type));
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
qemu_disk_check(const SvDomainDef *def, GError **error)
{
    if (!check_controllers(def, error))
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
        if (d->info.addr.type != SV_DOMAIN_ADDRESS_NONE &&
            d->info.addr.type != (d->bus == SV_DOMAIN_DISK_BUS_VIRTIO ? SV_DOMAIN_ADDRESS_PCI
                                  : d->bus == SV_DOMAIN_DISK_BUS_USB  ? SV_DOMAIN_ADDRESS_USB
                                                                      : SV_DOMAIN_ADDRESS_DRIVE)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "disk '%s' has an address of a kind its bus does not take",
                         d->target_dev);
            return FALSE;
        }
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
    }
    return TRUE;
}

guint
qemu_disk_node_index(const SvDomainDef *def, guint i)
{
    guint n = 1;

    for (guint j = def->disks->len; j > i + 1; j--) {
        const SvDomainDiskDef *d = def->disks->pdata[j - 1];
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
        if (d->device != SV_DOMAIN_DISK_DEVICE_CDROM) {
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
                guint index, const char *backing, gboolean top)
{
    g_autofree char *node = g_strdup_printf("libvirt-%u-format", index);
    g_autofree char *file = g_strdup_printf("libvirt-%u-storage", index);
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
    qemu_props_str(o, "driver", sv_domain_disk_format_to_string(format));
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

/* The nodes of disk `d` whose top image has node index `top`, its backing chain first. */
static void
add_blockdevs(GPtrArray *argv, const SvDomainDiskDef *d, guint top)
{
    guint n = d->backing->len;

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
        add_storage_node(argv, d, b ? b->type : d->type, b ? b->path : d->source, storage);
        add_format_node(argv, d, b ? b->format : d->format, index, backing, layer == 0);
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
    case SV_DOMAIN_DISK_BUS_USB:
        if (d->info.addr.type == SV_DOMAIN_ADDRESS_USB) {
            bus = g_strdup_printf("usb.%u", d->info.addr.usb.bus);
            qemu_props_str(o, "bus", bus);
            qemu_props_str(o, "port", d->info.addr.usb.port);
        }
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
        return cdrom ? "scsi-cd" : "scsi-hd";
    case SV_DOMAIN_DISK_BUS_USB:
        return "usb-storage";
    default:
        return "virtio-blk-pci";
    }
}

static void
add_device(GPtrArray *argv, const SvDomainDef *def, const SvDomainDiskDef *d, guint top)
{
    JsonObject *o = qemu_props_new(device_driver(d));
    gboolean wb, direct, noflush;
    gint64 wwn;

    add_disk_bus(o, def, d);
    if (d->bus == SV_DOMAIN_DISK_BUS_SCSI) {
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
    if (d->info.boot_order)
        qemu_props_int(o, "bootindex", d->info.boot_order);
    if (d->wwn && wwn_value(d->wwn, &wwn))
        qemu_props_int(o, "wwn", wwn);
    if (d->bus == SV_DOMAIN_DISK_BUS_USB)
        qemu_props_bool(o, "removable", FALSE);
    if (cache_flags(d->cache, &wb, &direct, &noflush))
        qemu_props_str(o, "write-cache", wb ? "on" : "off");
    if (d->serial) {
        /* libvirt escapes blanks in serials with a backslash. */
        g_auto(GStrv) parts = g_strsplit(d->serial, " ", -1);
        g_autofree char *serial = g_strjoinv("\\ ", parts);
        qemu_props_str(o, "serial", serial);
    }
    qemu_argv_add_json(argv, "-device", o);
}

void
qemu_command_build_disks(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];
        guint top = d->source_index ? d->source_index : qemu_disk_node_index(def, i);

        if (!sv_domain_disk_is_empty(d))
            add_blockdevs(argv, d, top);
        add_device(argv, def, d, top);
    }
}

/* ---- controllers ----------------------------------------------------------------------- */

/* libvirt's PCI address options: "bus", "multifunction", "addr", in that order. */
static void
add_pci_address(JsonObject *o, const SvDomainDef *def, const SvDomainDeviceInfo *info)
{
    const SvDomainPciAddress *a = &info->addr.pci;
    g_autofree char *bus = NULL;
    g_autofree char *addr = NULL;

    if (info->addr.type != SV_DOMAIN_ADDRESS_PCI)
        return;
    bus = a->bus ? g_strdup_printf("pci.%u", a->bus)
                 : g_strdup(qemu_machine_is_q35(def) ? "pcie.0" : "pci.0");
    addr = a->function ? g_strdup_printf("0x%x.0x%x", a->slot, a->function)
                       : g_strdup_printf("0x%x", a->slot);
    qemu_props_str(o, "bus", bus);
    if (a->multifunction != SV_DOMAIN_SWITCH_ABSENT)
        qemu_props_bool(o, "multifunction", a->multifunction == SV_DOMAIN_SWITCH_ON);
    qemu_props_str(o, "addr", addr);
}

/* The QEMU device of a usb controller model; NULL for none. */
static const char *
usb_driver(const char *model)
{
    static const char *const drivers[][2] = {
        {"piix3-uhci", "piix3-usb-uhci"}, {"piix4-uhci", "piix4-usb-uhci"},
        {"ehci", "usb-ehci"},             {"ich9-ehci1", "ich9-usb-ehci1"},
        {"ich9-uhci1", "ich9-usb-uhci1"}, {"ich9-uhci2", "ich9-usb-uhci2"},
        {"ich9-uhci3", "ich9-usb-uhci3"}, {"vt82c686b-uhci", "vt82c686b-usb-uhci"},
        {"pci-ohci", "pci-ohci"},         {"nec-xhci", "nec-usb-xhci"},
        {"qemu-xhci", "qemu-xhci"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(drivers); i++) {
        if (g_str_equal(drivers[i][0], model))
            return drivers[i][1];
    }
    return NULL;
}

/* The alias of the usb controller companion `c` hangs off: the one of its index that is
 * no companion. */
static const char *
usb_master_alias(const SvDomainDef *def, const SvDomainControllerDef *c)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *m = def->controllers->pdata[i];
        if (m->type == SV_DOMAIN_CONTROLLER_USB && m->index == c->index &&
            m->master_startport == -1)
            return m->info.alias;
    }
    return NULL;
}

static JsonObject *
usb_props(const SvDomainDef *def, const SvDomainControllerDef *c)
{
    const char *model = c->model ? c->model : qemu_machine_is_q35(def) ? "qemu-xhci"
                                                                       : "piix3-uhci";
    const char *driver = usb_driver(model);
    JsonObject *o;

    if (!driver)
        return NULL;
    o = qemu_props_new(driver);
    if (c->master_startport != -1) {
        const char *master = usb_master_alias(def, c);
        g_autofree char *bus = g_strdup_printf("%s.0", master ? master : "usb");
        /* A companion shares its master's alias, so QEMU gets no id for it. */
        qemu_props_str(o, "masterbus", bus);
        qemu_props_int(o, "firstport", c->master_startport);
        return o;
    }
    if (c->ports != -1 && g_str_has_suffix(model, "xhci")) {
        qemu_props_int(o, "p2", c->ports);
        qemu_props_int(o, "p3", c->ports);
    }
    qemu_props_str(o, "id", c->info.alias);
    return o;
}

static JsonObject *
pci_props(const SvDomainControllerDef *c)
{
    const char *name = c->model_name ? c->model_name : pci_model_name(c->model);
    JsonObject *o;

    /* pci-root and pcie-root are the machine's own. */
    if (!name)
        return NULL;
    o = qemu_props_new(name);
    if (c->target_chassis_nr != -1)
        qemu_props_int(o, "chassis_nr", c->target_chassis_nr);
    if (root_port_port(c) != -1)
        qemu_props_int(o, "port", root_port_port(c));
    if (c->target_chassis != -1)
        qemu_props_int(o, "chassis", c->target_chassis);
    qemu_props_str(o, "id", c->info.alias);
    if (c->target_hotplug != SV_DOMAIN_SWITCH_ABSENT)
        qemu_props_bool(o, "hotplug", c->target_hotplug == SV_DOMAIN_SWITCH_ON);
    return o;
}

static JsonObject *
controller_props(const SvDomainDef *def, const SvDomainControllerDef *c)
{
    JsonObject *o = NULL;

    switch (c->type) {
    case SV_DOMAIN_CONTROLLER_PCI:
        return pci_props(c);
    case SV_DOMAIN_CONTROLLER_USB:
        return usb_props(def, c);
    case SV_DOMAIN_CONTROLLER_SCSI:
        o = qemu_props_new(g_strcmp0(c->model, "virtio-scsi") == 0 ? "virtio-scsi-pci" : "lsi");
        qemu_props_str(o, "id", c->info.alias);
        if (c->queues)
            qemu_props_int(o, "num_queues", c->queues);
        return o;
    case SV_DOMAIN_CONTROLLER_SATA:
        /* q35's own AHCI is sata index 0. */
        if (c->index == 0 && qemu_machine_is_q35(def))
            return NULL;
        o = qemu_props_new("ahci");
        qemu_props_str(o, "id", c->info.alias);
        return o;
    case SV_DOMAIN_CONTROLLER_VIRTIO_SERIAL:
        o = qemu_props_new("virtio-serial-pci");
        qemu_props_str(o, "id", c->info.alias);
        if (c->ports != -1)
            qemu_props_int(o, "max_ports", c->ports);
        if (c->vectors != -1)
            qemu_props_int(o, "vectors", c->vectors);
        return o;
    default:
        /* ide (the pc machine's own), fdc, isa: built in. */
        return NULL;
    }
}

static gint
compare_index(gconstpointer a, gconstpointer b)
{
    const SvDomainControllerDef *x = *(const SvDomainControllerDef *const *)a;
    const SvDomainControllerDef *y = *(const SvDomainControllerDef *const *)b;

    return x->index < y->index ? -1 : x->index > y->index;
}

void
qemu_command_build_controllers(const SvDomainDef *def, GPtrArray *argv)
{
    static const SvDomainControllerType order[] = {
        SV_DOMAIN_CONTROLLER_PCI, SV_DOMAIN_CONTROLLER_USB, SV_DOMAIN_CONTROLLER_SCSI,
        SV_DOMAIN_CONTROLLER_IDE, SV_DOMAIN_CONTROLLER_SATA, SV_DOMAIN_CONTROLLER_FDC,
        SV_DOMAIN_CONTROLLER_VIRTIO_SERIAL,
    };
    g_autoptr(GPtrArray) pci = g_ptr_array_new();

    /* PCI controllers by index, so that each bus exists before what plugs into it. */
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == SV_DOMAIN_CONTROLLER_PCI)
            g_ptr_array_add(pci, (gpointer)c);
    }
    g_ptr_array_sort(pci, compare_index);
    for (guint t = 0; t < G_N_ELEMENTS(order); t++) {
        GPtrArray *list = order[t] == SV_DOMAIN_CONTROLLER_PCI ? pci : def->controllers;
        for (guint i = 0; i < list->len; i++) {
            const SvDomainControllerDef *c = list->pdata[i];
            JsonObject *o;

            if (c->type != order[t] || !(o = controller_props(def, c)))
                continue;
            add_pci_address(o, def, &c->info);
            qemu_argv_add_json(argv, "-device", o);
        }
    }
}

/* ---- <iotune> at start ------------------------------------------------------------------ */

JsonObject *
qemu_disk_throttle_args(const SvDomainDiskDef *d)
{
    /* QMP's names for libvirt's <iotune> values, in SvDomainIotune order. */
    static const char *const keys[SV_DOMAIN_IOTUNE_LAST] = {
        "bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr",
        "bps_max", "bps_rd_max", "bps_wr_max", "iops_max", "iops_rd_max", "iops_wr_max",
        "iops_size",
        "bps_max_length", "bps_rd_max_length", "bps_wr_max_length",
        "iops_max_length", "iops_rd_max_length", "iops_wr_max_length"};
    g_autofree char *qom = NULL;
    gboolean any = FALSE;
    JsonObject *o;

    for (int i = 0; i < SV_DOMAIN_IOTUNE_LAST; i++)
        any = any || d->iotune[i];
    /* QEMU refuses throttling an empty drive, and libvirt does not ask it to. */
    if (!any || sv_domain_disk_is_empty(d) || !d->info.alias)
        return NULL;
    o = json_object_new();
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
        if (i <= SV_DOMAIN_IOTUNE_WRITE_IOPS_SEC || d->iotune[i])
            qemu_props_int(o, keys[i], (gint64)MIN(d->iotune[i], (guint64)G_MAXINT64));
    }
    return o;
}
