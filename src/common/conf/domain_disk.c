/* domain_disk.c: <disk> elements: their string tables, parsing (with libvirt's drive
 * addresses for disks without an address) and formatting, as libvirt 9.0 does. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_device.h"
#include "conf/domain_enum.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/storage_vol_def.h"
#include "util/error.h"

/* ---- string tables ------------------------------------------------------------------ */

SV_DOMAIN_ENUM_IMPL(disk_type, SV_DOMAIN_DISK_TYPE_LAST, "file", "block", "network", "volume")
SV_DOMAIN_ENUM_IMPL(disk_protocol, SV_DOMAIN_DISK_PROTOCOL_LAST, "nbd", "rbd", "sheepdog", "gluster",
               "iscsi", "http", "https", "ftp", "ftps", "tftp", "ssh", "vxhs", "nfs")
SV_DOMAIN_ENUM_IMPL(disk_transport, SV_DOMAIN_DISK_TRANSPORT_LAST, "tcp", "unix", "rdma")
SV_DOMAIN_ENUM_IMPL(disk_device, SV_DOMAIN_DISK_DEVICE_LAST, "disk", "cdrom", "floppy",
                    "lun")
SV_DOMAIN_ENUM_IMPL(disk_format, SV_DOMAIN_DISK_FORMAT_LAST, "none", "raw", "qcow2", "qcow", "qed",
               "vmdk", "vpc", "vdi", "bochs", "cloop", "dmg")
SV_DOMAIN_ENUM_IMPL(disk_bus, SV_DOMAIN_DISK_BUS_LAST, "ide", "fdc", "scsi", "virtio", "xen", "usb",
               "uml", "sata", "sd")
SV_DOMAIN_ENUM_IMPL(disk_cache, SV_DOMAIN_DISK_CACHE_LAST, "default", "none", "writethrough",
               "writeback", "directsync", "unsafe")
SV_DOMAIN_ENUM_IMPL(disk_model, SV_DOMAIN_DISK_MODEL_LAST, "default", "virtio", "virtio-transitional",
               "virtio-non-transitional")
SV_DOMAIN_ENUM_IMPL(disk_error_policy, SV_DOMAIN_DISK_ERROR_POLICY_LAST, "default", "stop", "report",
               "ignore", "enospace")
SV_DOMAIN_ENUM_IMPL(disk_io, SV_DOMAIN_DISK_IO_LAST, "default", "native", "threads", "io_uring")
SV_DOMAIN_ENUM_IMPL(disk_discard, SV_DOMAIN_DISK_DISCARD_LAST, "default", "unmap", "ignore")
SV_DOMAIN_ENUM_IMPL(disk_detect_zeroes, SV_DOMAIN_DISK_DETECT_ZEROES_LAST, "default", "off", "on",
               "unmap")
SV_DOMAIN_ENUM_IMPL(startup_policy, SV_DOMAIN_STARTUP_POLICY_LAST, "default", "mandatory",
               "requisite", "optional")
SV_DOMAIN_ENUM_IMPL(iotune, SV_DOMAIN_IOTUNE_LAST, "total_bytes_sec", "read_bytes_sec",
               "write_bytes_sec", "total_iops_sec", "read_iops_sec", "write_iops_sec",
               "total_bytes_sec_max", "read_bytes_sec_max", "write_bytes_sec_max",
               "total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max", "size_iops_sec",
               "total_bytes_sec_max_length", "read_bytes_sec_max_length",
               "write_bytes_sec_max_length", "total_iops_sec_max_length",
               "read_iops_sec_max_length", "write_iops_sec_max_length")

/* Values libvirt 9.0.0 knows and splitvirt does not implement: refused as unsupported,
 * while values nobody knows get libvirt's own error. Space-separated. */
#define UNSUPPORTED_DISK_TYPES "dir nvme vhostuser"
#define UNSUPPORTED_DISK_PROTOCOLS "sheepdog tftp vxhs"
#define UNSUPPORTED_DISK_FORMATS "dir iso fat vhd ploop cow"

/* ---- construction and destruction ------------------------------------------------------ */

static void
backing_free(gpointer p)
{
    SvDomainDiskBackingDef *b = p;

    g_free(b->path);
    g_free(b);
}

static void
host_free(gpointer p)
{
    SvDomainDiskHostDef *h = p;

    g_free(h->name);
    g_free(h->socket);
    g_free(h);
}

static SvDomainDiskDef *
disk_new(void)
{
    SvDomainDiskDef *d = g_new0(SvDomainDiskDef, 1);

    d->backing = g_ptr_array_new_with_free_func(backing_free);
    d->hosts = g_ptr_array_new_with_free_func(host_free);
    return d;
}

gboolean
sv_domain_disk_is_empty(const SvDomainDiskDef *disk)
{
    return !disk->source && !disk->vol_pool && disk->type != SV_DOMAIN_DISK_TYPE_NETWORK;
}

SvDomainDiskDef *
sv_domain_disk_by_name(const SvDomainDef *def, const char *name)
{
    for (guint i = 0; i < def->disks->len; i++) {
        SvDomainDiskDef *d = def->disks->pdata[i];

        if (g_str_equal(d->target_dev, name) || (d->source && g_str_equal(d->source, name)))
            return d;
    }
    return NULL;
}

void
sv_domain_disk_def_free(gpointer p)
{
    SvDomainDiskDef *d = p;

    if (!d)
        return;
    sv_domain_device_info_clear(&d->info);
    g_free(d->driver_name);
    g_free(d->source);
    g_free(d->vol_pool);
    g_free(d->vol_name);
    g_free(d->net_name);
    g_free(d->net_query);
    g_clear_pointer(&d->hosts, g_ptr_array_unref);
    g_clear_pointer(&d->backing, g_ptr_array_unref);
    g_free(d->target_dev);
    g_free(d->serial);
    g_free(d->iotune_group);
    g_free(d->wwn);
    sv_vol_encryption_free(d->encryption);
    g_free(d);
}

/* ---- target names, order and drive addresses ------------------------------------------ */

/* libvirt's virDiskNameToIndex: a known prefix, at least one lowercase letter (read as a
 * bijective base-26 number: a=0, z=25, aa=26) and an optional partition number.
 * Returns -1 for names libvirt refuses. */
int
sv_domain_disk_name_index(const char *name)
{
    static const char *const prefixes[] = {"fd", "hd", "vd", "sd", "xvd", "ubd"};
    const char *p = NULL;
    gint64 index = 0;

    for (guint i = 0; i < G_N_ELEMENTS(prefixes) && !p; i++) {
        if (g_str_has_prefix(name, prefixes[i]))
            p = name + strlen(prefixes[i]);
    }
    if (!p || !g_ascii_islower(*p))
        return -1;
    for (gboolean first = TRUE; g_ascii_islower(*p); p++, first = FALSE) {
        index = (index + (first ? 0 : 1)) * 26 + (*p - 'a');
        if (index > G_MAXINT)
            return -1;
    }
    while (g_ascii_isdigit(*p))
        p++;
    return *p == '\0' ? (int)index : -1;
}

/* What the disk ordering looks at. libvirt compares the bus as written (none when derived
 * from the name), which makes its own output reorder when parsed again; the derived bus
 * gives the same order whenever buses are explicit, as in any XML libvirt formatted, and
 * keeps format(parse(x)) a fixed point. */
typedef struct {
    SvDomainDiskBus bus;
    int index;
} DiskKey;

GArray *
sv_domain_disk_keys_new(void)
{
    return g_array_new(FALSE, FALSE, sizeof(DiskKey));
}

/* libvirt's virDomainDiskInsert, which its parser uses: a disk goes after the disks on the
 * same bus, but before the first of them with a higher index. So each bus keeps its disks
 * together, sorted by index, in the order the buses first appear. */
static guint
disk_insert_position(const GArray *keys, DiskKey key)
{
    gint64 at = -1;

    for (gint64 i = (gint64)keys->len - 1; i >= 0; i--) {
        const DiskKey *k = &g_array_index(keys, DiskKey, i);

        if (k->bus != key.bus)
            continue;
        if (k->index > key.index)
            at = i;
        else if (at == -1)
            at = i + 1;
    }
    return at < 0 ? keys->len : (guint)at;
}

/* libvirt's bus guess for a target without bus=. */
static SvDomainDiskBus
disk_bus_from_name(const char *name)
{
    if (g_str_has_prefix(name, "sd"))
        return SV_DOMAIN_DISK_BUS_SCSI;
    if (g_str_has_prefix(name, "vd"))
        return SV_DOMAIN_DISK_BUS_VIRTIO;
    if (g_str_has_prefix(name, "xvd"))
        return SV_DOMAIN_DISK_BUS_XEN;
    if (g_str_has_prefix(name, "ubd"))
        return SV_DOMAIN_DISK_BUS_UML;
    if (g_str_has_prefix(name, "fd"))
        return SV_DOMAIN_DISK_BUS_FDC;
    return SV_DOMAIN_DISK_BUS_IDE;
}

/* libvirt's virDomainDiskDefAssignAddress for a disk written without an address: ide has
 * two buses of two units per controller, sata six units, scsi seven (libvirt 9.0's narrow
 * mapping), fdc two; other buses get their addresses elsewhere (pci, usb). */
static void
assign_drive_address(SvDomainDiskDef *disk, int idx)
{
    SvDomainDriveAddress *a = &disk->info.addr.drive;
    guint i = (guint)idx;

    switch (disk->bus) {
    case SV_DOMAIN_DISK_BUS_IDE:
        *a = (SvDomainDriveAddress){i / 4, (i % 4) / 2, 0, i % 2};
        break;
    case SV_DOMAIN_DISK_BUS_SATA:
        *a = (SvDomainDriveAddress){i / 6, 0, 0, i % 6};
        break;
    case SV_DOMAIN_DISK_BUS_SCSI:
        *a = (SvDomainDriveAddress){i / 7, 0, 0, i % 7};
        break;
    case SV_DOMAIN_DISK_BUS_FDC:
        *a = (SvDomainDriveAddress){i / 2, 0, 0, i % 2};
        break;
    default:
        return;
    }
    disk->info.addr.type = SV_DOMAIN_ADDRESS_DRIVE;
}

/* ---- parsing --------------------------------------------------------------------------- */

static void
set_no_source(GError **error, const char *device)
{
    sv_domain_error_templated(error, SV_FROM_DOMAIN, SV_ERR_NO_SOURCE,
                              "missing source information for device %s",
                              "missing source information for device", device);
}

static gboolean
parse_format(const xmlNode *node, const char *attr, SvDomainDiskFormat *out, GError **error)
{
    g_autofree char *format = sv_xml_prop(node, attr);
    int v = sv_domain_disk_format_from_string(format);

    if (!format)
        return TRUE;
    if (v > SV_DOMAIN_DISK_FORMAT_NONE) {
        *out = v;
        return TRUE;
    }
    if (sv_word_in(UNSUPPORTED_DISK_FORMATS, format))
        sv_domain_error_unsupported_value(error, node, attr, format);
    else
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown driver format value '%s'", format);
    return FALSE;
}

/* A number attribute (0 is as absent), as libvirt's virXMLPropUInt. */
static gboolean
parse_driver_uint(const xmlNode *node, const char *attr, guint *out, GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);

    if (!v)
        return TRUE;
    if (!sv_domain_parse_uint(v, out)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element '%s': '%s'. Expected "
                     "non-negative integer value",
                     attr, (const char *)node->name, v);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_driver(const xmlNode *node, SvDomainDiskDef *disk, GError **error)
{
    xmlNode *driver = sv_xml_child(node, "driver");
    g_autofree char *iothread = NULL;
    int cache = 0, io = 0, discard = 0, zeroes = 0, werror = 0, rerror = 0;

    if (!driver)
        return TRUE;
    disk->driver_name = sv_xml_prop(driver, "name");
    if (!parse_format(driver, "type", &disk->format, error) ||
        !sv_domain_prop_enum(driver, "cache", sv_domain_disk_cache_from_string, 0, NULL, FALSE,
                             &cache, error) ||
        !sv_domain_prop_enum(driver, "error_policy", sv_domain_disk_error_policy_from_string, 1,
                             NULL, FALSE, &werror, error) ||
        !sv_domain_prop_enum(driver, "rerror_policy", sv_domain_disk_error_policy_from_string,
                             1, NULL, FALSE, &rerror, error) ||
        !sv_domain_prop_enum(driver, "io", sv_domain_disk_io_from_string, 1, NULL, FALSE, &io,
                             error) ||
        !sv_domain_prop_enum(driver, "discard", sv_domain_disk_discard_from_string, 1, NULL,
                             FALSE, &discard, error) ||
        !sv_domain_prop_enum(driver, "detect_zeroes", sv_domain_disk_detect_zeroes_from_string,
                             1, NULL, FALSE, &zeroes, error))
        return FALSE;
    if (rerror == SV_DOMAIN_DISK_ERROR_POLICY_ENOSPACE) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "Invalid disk read error policy: 'enospace'");
        return FALSE;
    }
    disk->cache = cache;
    disk->error_policy = werror;
    disk->rerror_policy = rerror;
    disk->io = io;
    disk->discard = discard;
    disk->detect_zeroes = zeroes;
    iothread = sv_xml_prop(driver, "iothread");
    if (iothread && !sv_domain_parse_uint(iothread, &disk->iothread)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'iothread' in element 'driver': '%s'. "
                     "Expected non-negative integer value",
                     iothread);
        return FALSE;
    }
    if (!parse_driver_uint(driver, "queues", &disk->queues, error) ||
        !parse_driver_uint(driver, "queue_size", &disk->queue_size, error))
        return FALSE;
    if (iothread && !disk->iothread) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'iothread' in element 'driver': "
                     "Zero is not permitted");
        return FALSE;
    }
    return TRUE;
}

static const char *
source_attr(SvDomainDiskType type)
{
    return type == SV_DOMAIN_DISK_TYPE_FILE ? "file" : "dev";
}

/* The <backingStore> chain under `node`, top down, until an empty one or none. */
/* The live index= of a <source> or <backingStore> (0 when absent or for a definition). */
static gboolean
parse_index(const xmlNode *node, guint flags, guint *out, GError **error)
{
    g_autofree char *index = (flags & SV_DOMAIN_PARSE_INACTIVE) ? NULL : sv_xml_prop(node, "index");

    if (index && !sv_domain_parse_int_range(index, out)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'index' in element '%s': '%s'. Expected "
                     "non-negative integer value",
                     (const char *)node->name, index);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_backing(const xmlNode *node, SvDomainDiskDef *disk, guint flags, GError **error)
{
    for (xmlNode *b = sv_xml_child(node, "backingStore"); b; b = sv_xml_child(b, "backingStore")) {
        g_autofree char *type = sv_xml_prop(b, "type");
        SvDomainDiskBackingDef *back;
        xmlNode *format = sv_xml_child(b, "format");
        int t = SV_DOMAIN_DISK_TYPE_FILE;

        if (!type) {
            /* libvirt: an empty element ends the chain. */
            disk->backing_end = TRUE;
            return TRUE;
        }
        if (!sv_domain_prop_enum(b, "type", sv_domain_disk_type_from_string, 0,
                                 UNSUPPORTED_DISK_TYPES, FALSE, &t, error))
            return FALSE;
        if (t == SV_DOMAIN_DISK_TYPE_NETWORK || t == SV_DOMAIN_DISK_TYPE_VOLUME) {
            g_autofree char *what = g_strdup_printf("<backingStore type='%s'>",
                                                    sv_domain_disk_type_to_string(t));
            sv_domain_error_unsupported(error, what);
            return FALSE;
        }
        back = g_new0(SvDomainDiskBackingDef, 1);
        g_ptr_array_add(disk->backing, back);
        back->type = t;
        if (!parse_index(b, flags, &back->index, error))
            return FALSE;
        if (!format) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "missing disk backing store format");
            return FALSE;
        }
        if (!parse_format(format, "type", &back->format, error))
            return FALSE;
        back->path = sv_xml_child_prop(b, "source", source_attr(back->type));
        if (!back->path || !*back->path) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "missing disk backing store source");
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean
parse_blockio(const xmlNode *node, SvDomainDiskDef *disk, GError **error)
{
    xmlNode *blockio = sv_xml_child(node, "blockio");

    return !blockio ||
           (parse_driver_uint(blockio, "logical_block_size", &disk->logical_block_size, error) &&
            parse_driver_uint(blockio, "physical_block_size", &disk->physical_block_size,
                              error));
}

static gboolean
parse_iotune(const xmlNode *node, SvDomainDiskDef *disk, GError **error)
{
    xmlNode *iotune = sv_xml_child(node, "iotune");

    if (!iotune)
        return TRUE;
    for (xmlNode *c = iotune->children; c; c = c->next) {
        g_autofree char *text = NULL;
        int which;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (g_str_equal((const char *)c->name, "group_name")) {
            g_free(disk->iotune_group);
            disk->iotune_group = sv_xml_text(c);
            continue;
        }
        which = sv_domain_iotune_from_string((const char *)c->name);
        /* Others are left to the schema check. */
        if (which < 0)
            continue;
        text = sv_xml_text(c);
        if (!text || !sv_domain_parse_u64(text, &disk->iotune[which])) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "disk iotune field '%s' must be an integer", c->name);
            return FALSE;
        }
    }
    return TRUE;
}

/* libvirt's checks of <iotune>: a total and its read or write part exclude each other. */
static gboolean
check_iotune(const SvDomainDiskDef *disk, GError **error)
{
    static const char *const what[] = {"bytes_sec", "iops_sec", "bytes_sec_max",
                                       "iops_sec_max", "bytes_sec_max_length",
                                       "iops_sec_max_length"};
    static const int totals[] = {
        SV_DOMAIN_IOTUNE_TOTAL_BYTES_SEC,      SV_DOMAIN_IOTUNE_TOTAL_IOPS_SEC,
        SV_DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX,  SV_DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX,
        SV_DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX_LENGTH, SV_DOMAIN_IOTUNE_TOTAL_IOPS_SEC_MAX_LENGTH};

    for (guint i = 0; i < G_N_ELEMENTS(totals); i++) {
        int t = totals[i];
        if (disk->iotune[t] && (disk->iotune[t + 1] || disk->iotune[t + 2])) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "total and read/write %s cannot be set at the same time", what[i]);
            return FALSE;
        }
    }
    return TRUE;
}

/* libvirt's virStringParsePort. */
static gboolean
parse_port(const char *s, guint *out, GError **error)
{
    guint64 v;

    if (!sv_domain_parse_u64(s, &v)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG, "failed to parse port number '%s'",
                     s);
        return FALSE;
    }
    if (v > 65535) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG, "port '%s' out of range", s);
        return FALSE;
    }
    *out = (guint)v;
    return TRUE;
}

static gboolean
parse_host(const xmlNode *node, SvDomainDiskDef *disk, GError **error)
{
    SvDomainDiskHostDef *h = g_new0(SvDomainDiskHostDef, 1);
    g_autofree char *port = sv_xml_prop(node, "port");
    int transport = SV_DOMAIN_DISK_TRANSPORT_TCP;

    g_ptr_array_add(disk->hosts, h);
    if (!sv_domain_prop_enum(node, "transport", sv_domain_disk_transport_from_string, 0, NULL,
                             FALSE, &transport, error))
        return FALSE;
    h->transport = transport;
    if (transport == SV_DOMAIN_DISK_TRANSPORT_RDMA) {
        sv_domain_error_unsupported_value(error, node, "transport", "rdma");
        return FALSE;
    }
    if (transport == SV_DOMAIN_DISK_TRANSPORT_UNIX) {
        h->socket = sv_xml_prop(node, "socket");
        if (!h->socket) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "missing socket for unix transport");
            return FALSE;
        }
        return TRUE;
    }
    h->name = sv_xml_prop(node, "name");
    if (!h->name) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "missing name for host");
        return FALSE;
    }
    return !port || parse_port(port, &h->port, error);
}

/* libvirt's default port of a protocol, filled in where a tcp host has none. */
static guint
default_port(SvDomainDiskProtocol p)
{
    static const guint ports[SV_DOMAIN_DISK_PROTOCOL_LAST] = {
        [SV_DOMAIN_DISK_PROTOCOL_NBD] = 10809,  [SV_DOMAIN_DISK_PROTOCOL_SHEEPDOG] = 7000,
        [SV_DOMAIN_DISK_PROTOCOL_GLUSTER] = 24007, [SV_DOMAIN_DISK_PROTOCOL_ISCSI] = 3260,
        [SV_DOMAIN_DISK_PROTOCOL_HTTP] = 80,    [SV_DOMAIN_DISK_PROTOCOL_HTTPS] = 443,
        [SV_DOMAIN_DISK_PROTOCOL_FTP] = 21,     [SV_DOMAIN_DISK_PROTOCOL_FTPS] = 990,
        [SV_DOMAIN_DISK_PROTOCOL_TFTP] = 69,    [SV_DOMAIN_DISK_PROTOCOL_SSH] = 22,
        [SV_DOMAIN_DISK_PROTOCOL_VXHS] = 9999,
    };

    return ports[p];
}

static gboolean
parse_network_source(const xmlNode *source, SvDomainDiskDef *disk, GError **error)
{
    int protocol = 0;

    if (!sv_domain_prop_enum(source, "protocol", sv_domain_disk_protocol_from_string, 0, NULL,
                             TRUE, &protocol, error))
        return FALSE;
    disk->protocol = protocol;
    if (sv_word_in(UNSUPPORTED_DISK_PROTOCOLS, sv_domain_disk_protocol_to_string(protocol))) {
        sv_domain_error_unsupported_value(error, source, "protocol",
                                          sv_domain_disk_protocol_to_string(protocol));
        return FALSE;
    }
    disk->net_name = sv_xml_prop(source, "name");
    if (!disk->net_name && protocol != SV_DOMAIN_DISK_PROTOCOL_NBD) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "missing name for disk source");
        return FALSE;
    }
    if (protocol == SV_DOMAIN_DISK_PROTOCOL_HTTP || protocol == SV_DOMAIN_DISK_PROTOCOL_HTTPS)
        disk->net_query = sv_xml_prop(source, "query");
    for (const xmlNode *c = source->children; c; c = c->next) {
        if (sv_xml_is(c, "host") && !parse_host(c, disk, error))
            return FALSE;
    }
    for (guint i = 0; i < disk->hosts->len; i++) {
        SvDomainDiskHostDef *h = disk->hosts->pdata[i];
        if (h->transport == SV_DOMAIN_DISK_TRANSPORT_TCP && !h->port)
            h->port = default_port(disk->protocol);
    }
    return TRUE;
}

static gboolean
parse_source(const xmlNode *node, SvDomainDiskDef *disk, guint flags, GError **error)
{
    xmlNode *source = sv_xml_child(node, "source");
    xmlNode *enc = sv_xml_child(node, "encryption");
    int policy = 0;

    if (enc && !(disk->encryption = sv_vol_encryption_parse(enc, error)))
        return FALSE;
    if (!source) {
        if (disk->type == SV_DOMAIN_DISK_TYPE_NETWORK) {
            sv_xml_error_missing_attr(error, node, "protocol");
            return FALSE;
        }
        return TRUE;
    }
    if (disk->type == SV_DOMAIN_DISK_TYPE_NETWORK)
        return parse_network_source(source, disk, error) &&
               parse_index(source, flags, &disk->source_index, error);
    if ((enc = sv_xml_child(source, "encryption"))) {
        sv_vol_encryption_free(disk->encryption);
        if (!(disk->encryption = sv_vol_encryption_parse(enc, error)))
            return FALSE;
        disk->encryption_in_source = TRUE;
    }
    if (disk->type == SV_DOMAIN_DISK_TYPE_VOLUME) {
        if (!sv_domain_disk_volume_parse_source(source, disk, flags, error))
            return FALSE;
    } else {
        disk->source = sv_xml_prop(source, source_attr(disk->type));
        if (disk->source && !*disk->source)
            g_clear_pointer(&disk->source, g_free);
    }
    if (!sv_domain_prop_enum(source, "startupPolicy", sv_domain_startup_policy_from_string, 1,
                             NULL, FALSE, &policy, error))
        return FALSE;
    disk->startup_policy = policy;
    return parse_index(source, flags, &disk->source_index, error);
}

/* <target tray=>: libvirt's virDomainDiskTray (closed, open). */
static int
tray_from_string(const char *s)
{
    return g_strcmp0(s, "closed") == 0 ? 0 : g_strcmp0(s, "open") == 0 ? 1 : -1;
}

static gboolean
parse_target(const xmlNode *node, SvDomainDiskDef *disk, DiskKey *key, GError **error)
{
    xmlNode *target = sv_xml_child(node, "target");
    int bus = -1;
    int removable = SV_DOMAIN_SWITCH_ABSENT;
    int tray = 0;

    disk->target_dev = target ? sv_xml_prop(target, "dev") : NULL;
    if (target && (!sv_domain_prop_enum(target, "bus", sv_domain_disk_bus_from_string, 0, NULL,
                                        FALSE, &bus, error) ||
                   !sv_domain_prop_enum(target, "removable", sv_domain_switch_from_string, 1,
                                        NULL, FALSE, &removable, error) ||
                   !sv_domain_prop_enum(target, "tray", tray_from_string, 0, NULL, FALSE, &tray,
                                        error) ||
                   !parse_driver_uint(target, "rotation_rate", &disk->rotation_rate, error)))
        return FALSE;
    disk->removable = removable;
    disk->tray_open = tray == 1;
    if (!disk->target_dev || !*disk->target_dev) {
        sv_domain_error_templated(error, SV_FROM_DOMAIN, SV_ERR_NO_TARGET,
                                  "missing target information for device %s",
                                  "missing target information for device", disk->source);
        return FALSE;
    }
    if (sv_domain_disk_is_empty(disk) && disk->device == SV_DOMAIN_DISK_DEVICE_DISK) {
        set_no_source(error, disk->target_dev);
        return FALSE;
    }
    key->index = sv_domain_disk_name_index(disk->target_dev);
    if (key->index < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "Unknown disk name '%s' and no address specified", disk->target_dev);
        return FALSE;
    }
    disk->bus = bus >= 0 ? (SvDomainDiskBus)bus : disk_bus_from_name(disk->target_dev);
    key->bus = disk->bus;
    if (disk->removable && disk->bus != SV_DOMAIN_DISK_BUS_USB) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "removable is only valid for usb disks");
        return FALSE;
    }
    return TRUE;
}

/* <serial>, <wwn> and the flags. */
static gboolean
parse_identity(const xmlNode *node, SvDomainDiskDef *disk, GError **error)
{
    disk->readonly = sv_xml_child(node, "readonly") || disk->device == SV_DOMAIN_DISK_DEVICE_CDROM;
    disk->shareable = sv_xml_child(node, "shareable") != NULL;
    disk->serial = sv_xml_child_text(node, "serial");
    disk->wwn = sv_xml_child_text(node, "wwn");
    if (disk->wwn) {
        const char *p = g_str_has_prefix(disk->wwn, "0x") ? disk->wwn + 2 : disk->wwn;
        if (strlen(p) != 16 || strspn(p, "0123456789abcdefABCDEF") != 16) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "Malformed wwn: %s", disk->wwn);
            return FALSE;
        }
    }
    return TRUE;
}

/* A floppy is an fd* drive on the fdc bus, and nothing else is on that bus. */
static gboolean
check_floppy(const SvDomainDiskDef *disk, GError **error)
{
    gboolean floppy = disk->device == SV_DOMAIN_DISK_DEVICE_FLOPPY;

    if (floppy && !g_str_has_prefix(disk->target_dev, "fd")) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "Invalid floppy device name: %s", disk->target_dev);
        return FALSE;
    }
    if (floppy != (disk->bus == SV_DOMAIN_DISK_BUS_FDC)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "Invalid bus type '%s' for %s", sv_domain_disk_bus_to_string(disk->bus),
                     floppy ? "floppy disk" : "disk");
        return FALSE;
    }
    return TRUE;
}

/* Checks libvirt makes of one disk when it is defined. */
static gboolean
check_disk(const SvDomainDef *def, const SvDomainDiskDef *disk, GError **error)
{
    if (!check_floppy(disk, error))
        return FALSE;
    /* libvirt also takes an iSCSI network lun, which splitvirt does not. */
    if (disk->device == SV_DOMAIN_DISK_DEVICE_LUN && disk->type == SV_DOMAIN_DISK_TYPE_NETWORK) {
        sv_domain_error_unsupported(error, "<disk type='network' device='lun'>");
        return FALSE;
    }
    if (disk->device == SV_DOMAIN_DISK_DEVICE_LUN && disk->type != SV_DOMAIN_DISK_TYPE_BLOCK) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "disk device='lun' is only valid for block type disk source");
        return FALSE;
    }
    if (disk->startup_policy != SV_DOMAIN_STARTUP_POLICY_DEFAULT &&
        disk->startup_policy != SV_DOMAIN_STARTUP_POLICY_OPTIONAL &&
        disk->device != SV_DOMAIN_DISK_DEVICE_CDROM &&
        disk->device != SV_DOMAIN_DISK_DEVICE_FLOPPY) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "disk startupPolicy '%s' is allowed only for cdrom or floppy",
                     sv_domain_startup_policy_to_string(disk->startup_policy));
        return FALSE;
    }
    if ((disk->bus == SV_DOMAIN_DISK_BUS_IDE || disk->bus == SV_DOMAIN_DISK_BUS_SATA ||
         disk->bus == SV_DOMAIN_DISK_BUS_SCSI || disk->bus == SV_DOMAIN_DISK_BUS_FDC) &&
        disk->info.addr.type != SV_DOMAIN_ADDRESS_NONE &&
        disk->info.addr.type != SV_DOMAIN_ADDRESS_DRIVE) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "Invalid address type '%s' for the disk '%s' with the bus type '%s'",
                     sv_domain_address_type_to_string(disk->info.addr.type), disk->target_dev,
                     sv_domain_disk_bus_to_string(disk->bus));
        return FALSE;
    }
    if (disk->model && disk->bus != SV_DOMAIN_DISK_BUS_VIRTIO) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "disk model '%s' not supported for bus '%s'",
                     sv_domain_disk_model_to_string(disk->model),
                     sv_domain_disk_bus_to_string(disk->bus));
        return FALSE;
    }
    if (disk->queues && disk->bus != SV_DOMAIN_DISK_BUS_VIRTIO) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "queues attribute in disk driver element is only supported by virtio-blk");
        return FALSE;
    }
    if (disk->queue_size && disk->bus != SV_DOMAIN_DISK_BUS_VIRTIO) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "queue_size attribute in disk driver element is only supported by "
                     "virtio-blk");
        return FALSE;
    }
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *o = def->disks->pdata[i];
        const char *a = o->source ? o->source : o->net_name;
        const char *b = disk->source ? disk->source : disk->net_name;
        if (g_str_equal(o->target_dev, disk->target_dev)) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "target '%s' duplicated for disk sources '%s' and '%s'",
                         disk->target_dev, a ? a : "<null>", b ? b : "<null>");
            return FALSE;
        }
    }
    return check_iotune(disk, error);
}

gboolean
sv_domain_disk_parse(const xmlNode *node, SvDomainDef *def, guint flags, GArray *disk_keys,
                     GError **error)
{
    g_autoptr(SvDomainDiskDef) disk = disk_new();
    guint info_flags = SV_DEVICE_INFO_BOOT |
                       ((flags & SV_DOMAIN_PARSE_INACTIVE) ? 0 : SV_DEVICE_INFO_KEEP_ALIAS);
    DiskKey key;
    guint at;
    int type = SV_DOMAIN_DISK_TYPE_FILE;
    int device = SV_DOMAIN_DISK_DEVICE_DISK;
    int model = SV_DOMAIN_DISK_MODEL_DEFAULT;

    if (!sv_domain_prop_enum(node, "type", sv_domain_disk_type_from_string, 0,
                             UNSUPPORTED_DISK_TYPES, FALSE, &type, error) ||
        !sv_domain_prop_enum(node, "device", sv_domain_disk_device_from_string, 0,
                             NULL, FALSE, &device, error) ||
        !sv_domain_prop_enum(node, "model", sv_domain_disk_model_from_string, 1, NULL, FALSE,
                             &model, error))
        return FALSE;
    disk->type = type;
    disk->device = device;
    disk->model = model;
    if (!parse_source(node, disk, flags, error) || !parse_driver(node, disk, error) ||
        !parse_backing(node, disk, flags, error) || !parse_target(node, disk, &key, error) ||
        !parse_iotune(node, disk, error) || !parse_blockio(node, disk, error) ||
        !parse_identity(node, disk, error) ||
        !sv_domain_device_info_parse(node, &disk->info, info_flags, error) ||
        !check_disk(def, disk, error))
        return FALSE;
    if (disk->info.addr.type == SV_DOMAIN_ADDRESS_NONE)
        assign_drive_address(disk, key.index);
    at = disk_insert_position(disk_keys, key);
    g_array_insert_val(disk_keys, at, key);
    g_ptr_array_insert(def->disks, (gint)at, g_steal_pointer(&disk));
    return TRUE;
}

/* ---- formatting ------------------------------------------------------------------------ */

static void
format_driver(GString *buf, const SvDomainDiskDef *disk)
{
    if (!disk->driver_name && !disk->format && !disk->cache && !disk->io && !disk->discard &&
        !disk->iothread && !disk->detect_zeroes && !disk->queues && !disk->queue_size &&
        !disk->error_policy && !disk->rerror_policy)
        return;
    g_string_append(buf, "      <driver");
    sv_xml_append_attr(buf, "name", disk->driver_name);
    if (disk->format)
        sv_xml_append_attr(buf, "type", sv_domain_disk_format_to_string(disk->format));
    if (disk->cache)
        sv_xml_append_attr(buf, "cache", sv_domain_disk_cache_to_string(disk->cache));
    if (disk->error_policy)
        sv_xml_append_attr(buf, "error_policy",
                           sv_domain_disk_error_policy_to_string(disk->error_policy));
    if (disk->rerror_policy)
        sv_xml_append_attr(buf, "rerror_policy",
                           sv_domain_disk_error_policy_to_string(disk->rerror_policy));
    if (disk->io)
        sv_xml_append_attr(buf, "io", sv_domain_disk_io_to_string(disk->io));
    if (disk->discard)
        sv_xml_append_attr(buf, "discard", sv_domain_disk_discard_to_string(disk->discard));
    if (disk->iothread)
        g_string_append_printf(buf, " iothread='%u'", disk->iothread);
    if (disk->detect_zeroes)
        sv_xml_append_attr(buf, "detect_zeroes",
                           sv_domain_disk_detect_zeroes_to_string(disk->detect_zeroes));
    if (disk->queues)
        g_string_append_printf(buf, " queues='%u'", disk->queues);
    if (disk->queue_size)
        g_string_append_printf(buf, " queue_size='%u'", disk->queue_size);
    g_string_append(buf, "/>\n");
}

static void
format_backing(GString *buf, const SvDomainDiskDef *disk, guint flags)
{
    guint n = disk->backing->len;

    for (guint i = 0; i < n; i++) {
        const SvDomainDiskBackingDef *b = disk->backing->pdata[i];
        int ind = 6 + 2 * (int)i;

        g_string_append_printf(buf, "%*s<backingStore type='%s'", ind, "",
                               sv_domain_disk_type_to_string(b->type));
        if (b->index && !(flags & SV_DOMAIN_FORMAT_INACTIVE))
            g_string_append_printf(buf, " index='%u'", b->index);
        g_string_append(buf, ">\n");
        if (b->format)
            g_string_append_printf(buf, "%*s<format type='%s'/>\n", ind + 2, "",
                                   sv_domain_disk_format_to_string(b->format));
        g_string_append_printf(buf, "%*s<source", ind + 2, "");
        sv_xml_append_attr(buf, source_attr(b->type), b->path);
        g_string_append(buf, "/>\n");
    }
    if (disk->backing_end)
        g_string_append_printf(buf, "%*s<backingStore/>\n", 6 + 2 * (int)n, "");
    for (guint i = n; i > 0; i--)
        g_string_append_printf(buf, "%*s</backingStore>\n", 6 + 2 * (int)(i - 1), "");
}

static void
format_iotune(GString *buf, const SvDomainDiskDef *disk)
{
    gboolean any = FALSE;

    for (int i = 0; i < SV_DOMAIN_IOTUNE_LAST; i++) {
        /* libvirt's order: <group_name> after <size_iops_sec>. */
        if (i == SV_DOMAIN_IOTUNE_TOTAL_BYTES_SEC_MAX_LENGTH && disk->iotune_group) {
            if (!any)
                g_string_append(buf, "      <iotune>\n");
            any = TRUE;
            sv_xml_append_text_elem(buf, 8, "group_name", disk->iotune_group);
        }
        if (!disk->iotune[i])
            continue;
        if (!any)
            g_string_append(buf, "      <iotune>\n");
        any = TRUE;
        g_string_append_printf(buf, "        <%s>%" G_GUINT64_FORMAT "</%s>\n",
                               sv_domain_iotune_to_string(i), disk->iotune[i],
                               sv_domain_iotune_to_string(i));
    }
    if (any)
        g_string_append(buf, "      </iotune>\n");
}

static void
format_network_source(GString *buf, const SvDomainDiskDef *disk, guint flags)
{
    g_string_append(buf, "      <source");
    sv_xml_append_attr(buf, "protocol", sv_domain_disk_protocol_to_string(disk->protocol));
    sv_xml_append_attr(buf, "name", disk->net_name);
    sv_xml_append_attr(buf, "query", disk->net_query);
    if (disk->source_index && !(flags & SV_DOMAIN_FORMAT_INACTIVE))
        g_string_append_printf(buf, " index='%u'", disk->source_index);
    if (!disk->hosts->len) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    for (guint i = 0; i < disk->hosts->len; i++) {
        const SvDomainDiskHostDef *h = disk->hosts->pdata[i];

        g_string_append(buf, "        <host");
        sv_xml_append_attr(buf, "name", h->name);
        if (h->port)
            g_string_append_printf(buf, " port='%u'", h->port);
        if (h->transport != SV_DOMAIN_DISK_TRANSPORT_TCP)
            sv_xml_append_attr(buf, "transport", sv_domain_disk_transport_to_string(h->transport));
        sv_xml_append_attr(buf, "socket", h->socket);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "      </source>\n");
}

void
sv_domain_disk_format(GString *buf, const SvDomainDiskDef *disk, guint flags)
{
    g_string_append_printf(buf, "    <disk type='%s' device='%s'",
                           sv_domain_disk_type_to_string(disk->type),
                           sv_domain_disk_device_to_string(disk->device));
    if (disk->model)
        sv_xml_append_attr(buf, "model", sv_domain_disk_model_to_string(disk->model));
    g_string_append(buf, ">\n");
    format_driver(buf, disk);
    if (disk->type == SV_DOMAIN_DISK_TYPE_NETWORK) {
        format_network_source(buf, disk, flags);
    } else if (disk->source || disk->vol_pool || disk->startup_policy ||
               (disk->source_index && !(flags & SV_DOMAIN_FORMAT_INACTIVE))) {
        /* An ejected medium keeps its node index in the live XML: <source index='N'/>. */
        g_string_append(buf, "      <source");
        if (disk->type == SV_DOMAIN_DISK_TYPE_VOLUME)
            sv_domain_disk_volume_format_source_attrs(buf, disk, flags);
        else
            sv_xml_append_attr(buf, source_attr(disk->type), disk->source);
        if (disk->startup_policy)
            sv_xml_append_attr(buf, "startupPolicy",
                               sv_domain_startup_policy_to_string(disk->startup_policy));
        if (disk->source_index && !(flags & SV_DOMAIN_FORMAT_INACTIVE))
            g_string_append_printf(buf, " index='%u'", disk->source_index);
        if (disk->encryption && disk->encryption_in_source) {
            g_string_append(buf, ">\n");
            sv_vol_encryption_format(buf, 8, disk->encryption);
            g_string_append(buf, "      </source>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    format_backing(buf, disk, flags);
    if (disk->logical_block_size || disk->physical_block_size) {
        g_string_append(buf, "      <blockio");
        if (disk->logical_block_size)
            g_string_append_printf(buf, " logical_block_size='%u'", disk->logical_block_size);
        if (disk->physical_block_size)
            g_string_append_printf(buf, " physical_block_size='%u'", disk->physical_block_size);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "      <target");
    sv_xml_append_attr(buf, "dev", disk->target_dev);
    sv_xml_append_attr(buf, "bus", sv_domain_disk_bus_to_string(disk->bus));
    /* Kept in every definition, as libvirt keeps it (QEMU's tray moves change the live one). */
    if (disk->tray_open &&
        (disk->device == SV_DOMAIN_DISK_DEVICE_CDROM ||
         disk->device == SV_DOMAIN_DISK_DEVICE_FLOPPY))
        g_string_append(buf, " tray='open'");
    if (disk->removable)
        sv_xml_append_attr(buf, "removable", sv_domain_switch_to_string(disk->removable));
    if (disk->rotation_rate)
        g_string_append_printf(buf, " rotation_rate='%u'", disk->rotation_rate);
    g_string_append(buf, "/>\n");
    format_iotune(buf, disk);
    if (disk->readonly)
        g_string_append(buf, "      <readonly/>\n");
    if (disk->shareable)
        g_string_append(buf, "      <shareable/>\n");
    sv_xml_append_text_elem(buf, 6, "serial", disk->serial);
    sv_xml_append_text_elem(buf, 6, "wwn", disk->wwn);
    if (disk->encryption && !disk->encryption_in_source)
        sv_vol_encryption_format(buf, 6, disk->encryption);
    sv_domain_device_info_format(buf, 6, &disk->info, flags);
    g_string_append(buf, "    </disk>\n");
}
