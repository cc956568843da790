/* domain_parse_devices.c: parse the <devices> of libvirt domain XML: disks, filesystems,
 * interfaces, serials and consoles, controllers, panic and memballoon; the display devices
 * are domain_display.c's. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_device.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

/* Values libvirt 9.0.0 knows and splitvirt does not implement: these are refused as
 * unsupported, while values nobody knows get libvirt's own error. Space-separated. */
#define UNSUPPORTED_DISK_TYPES "dir network volume nvme vhostuser"
#define UNSUPPORTED_DISK_DEVICES "floppy lun"
#define UNSUPPORTED_DISK_FORMATS                                                               \
    "dir bochs cloop dmg iso vpc vdi fat vhd ploop cow qcow qed vmdk luks"
#define UNSUPPORTED_FS_TYPES "block file template ram bind volume"
#define UNSUPPORTED_NET_TYPES                                                                  \
    "vhostuser server client mcast network bridge internal direct hostdev udp vdpa null vds"
#define UNSUPPORTED_CHR_TYPES                                                                  \
    "null vc dev pipe stdio udp tcp unix spicevmc spiceport nmdm qemu-vdagent dbus"

/* Values splitvirt keeps as strings, checked against libvirt's lists. */
#define SERIAL_TARGET_TYPES                                                                    \
    "isa-serial usb-serial pci-serial spapr-vio-serial system-serial sclp-serial isa-debug"
#define CONSOLE_TARGET_TYPES "serial xen uml virtio lxc openvz sclp sclplm"
#define PANIC_MODELS "isa pseries hyperv s390"
#define MEMBALLOON_MODELS "virtio xen none virtio-transitional virtio-non-transitional"

/* The device-info flags for a device parsed under SvDomainParseFlags `flags`. */
static guint
info_flags(guint flags, gboolean boot)
{
    return (boot ? SV_DEVICE_INFO_BOOT : 0) |
           ((flags & SV_DOMAIN_PARSE_INACTIVE) ? 0 : SV_DEVICE_INFO_KEEP_ALIAS);
}

static void
set_no_source(GError **error, const char *device)
{
    sv_domain_error_templated(error, SV_FROM_DOMAIN, SV_ERR_NO_SOURCE,
                              "missing source information for device %s",
                              "missing source information for device", device);
}

static void
set_no_target(GError **error, const char *device)
{
    sv_domain_error_templated(error, SV_FROM_DOMAIN, SV_ERR_NO_TARGET,
                              "missing target information for device %s",
                              "missing target information for device", device);
}

/* libvirt's virDiskNameToIndex: a known prefix, at least one lowercase letter (read as a
 * bijective base-26 number: a=0, z=25, aa=26) and an optional partition number.
 * Returns -1 for names libvirt refuses. */
static int
disk_name_index(const char *name)
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

static gboolean
parse_disk_driver(const xmlNode *node, SvDomainDiskDef *disk, GError **error)
{
    xmlNode *driver = sv_xml_child(node, "driver");
    g_autofree char *format = NULL;
    int v;

    if (!driver)
        return TRUE;
    disk->driver_name = sv_xml_prop(driver, "name");
    format = sv_xml_prop(driver, "type");
    if (!format)
        return TRUE;
    v = sv_domain_disk_format_from_string(format);
    if (v > SV_DOMAIN_DISK_FORMAT_NONE) {
        disk->format = v;
        return TRUE;
    }
    if (sv_word_in(UNSUPPORTED_DISK_FORMATS, format))
        sv_domain_error_unsupported_value(error, driver, "type", format);
    else
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown driver format value '%s'", format);
    return FALSE;
}

static gboolean
parse_disk_target(const xmlNode *node, SvDomainDiskDef *disk, DiskKey *key, GError **error)
{
    xmlNode *target = sv_xml_child(node, "target");
    int bus = -1;

    disk->target_dev = target ? sv_xml_prop(target, "dev") : NULL;
    if (target && !sv_domain_prop_enum(target, "bus", sv_domain_disk_bus_from_string, 0, NULL,
                                       FALSE, &bus, error))
        return FALSE;
    if (!disk->target_dev || !*disk->target_dev) {
        set_no_target(error, disk->source);
        return FALSE;
    }
    if (!disk->source && disk->device == SV_DOMAIN_DISK_DEVICE_DISK) {
        set_no_source(error, disk->target_dev);
        return FALSE;
    }
    key->index = disk_name_index(disk->target_dev);
    if (key->index < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "Unknown disk name '%s' and no address specified", disk->target_dev);
        return FALSE;
    }
    disk->bus = bus >= 0 ? (SvDomainDiskBus)bus : disk_bus_from_name(disk->target_dev);
    key->bus = disk->bus;
    return TRUE;
}

static gboolean
parse_disk(const xmlNode *node, SvDomainDef *def, guint flags, GArray *disk_keys,
           GError **error)
{
    g_autoptr(SvDomainDiskDef) disk = g_new0(SvDomainDiskDef, 1);
    DiskKey key;
    guint at;
    xmlNode *source = sv_xml_child(node, "source");
    int type = SV_DOMAIN_DISK_TYPE_FILE;
    int device = SV_DOMAIN_DISK_DEVICE_DISK;

    if (!sv_domain_prop_enum(node, "type", sv_domain_disk_type_from_string, 0,
                             UNSUPPORTED_DISK_TYPES, FALSE, &type, error) ||
        !sv_domain_prop_enum(node, "device", sv_domain_disk_device_from_string, 0,
                             UNSUPPORTED_DISK_DEVICES, FALSE, &device, error))
        return FALSE;
    disk->type = type;
    disk->device = device;
    if (source) {
        disk->source = sv_xml_prop(source, type == SV_DOMAIN_DISK_TYPE_FILE ? "file" : "dev");
        if (disk->source && !*disk->source)
            g_clear_pointer(&disk->source, g_free);
    }
    if (!parse_disk_driver(node, disk, error) || !parse_disk_target(node, disk, &key, error) ||
        !sv_domain_device_info_parse(node, &disk->info, info_flags(flags, TRUE), error))
        return FALSE;
    /* libvirt makes every cdrom read-only. */
    disk->readonly = sv_xml_child(node, "readonly") || device == SV_DOMAIN_DISK_DEVICE_CDROM;
    at = disk_insert_position(disk_keys, key);
    g_array_insert_val(disk_keys, at, key);
    g_ptr_array_insert(def->disks, (gint)at, g_steal_pointer(&disk));
    return TRUE;
}

static gboolean
parse_filesystem(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainFsDef) fs = g_new0(SvDomainFsDef, 1);
    int type = SV_DOMAIN_FS_TYPE_MOUNT;
    int access = SV_DOMAIN_FS_ACCESS_PASSTHROUGH;

    if (!sv_domain_prop_enum(node, "type", sv_domain_fs_type_from_string, 0, UNSUPPORTED_FS_TYPES,
                             FALSE, &type, error) ||
        !sv_domain_prop_enum(node, "accessmode", sv_domain_fs_access_mode_from_string, 0, NULL,
                             FALSE, &access, error))
        return FALSE;
    fs->type = type;
    fs->accessmode = access;
    fs->source_dir = sv_xml_child_prop(node, "source", "dir");
    fs->target_dir = sv_xml_child_prop(node, "target", "dir");
    if (!fs->source_dir) {
        set_no_source(error, fs->target_dir);
        return FALSE;
    }
    if (!fs->target_dir) {
        set_no_target(error, fs->source_dir);
        return FALSE;
    }
    fs->readonly = sv_xml_child(node, "readonly") != NULL;
    if (!sv_domain_device_info_parse(node, &fs->info, info_flags(flags, FALSE), error))
        return FALSE;
    g_ptr_array_add(def->filesystems, g_steal_pointer(&fs));
    return TRUE;
}

/* libvirt's virMacAddrParse: six groups of one or two hex digits split by ':', optionally
 * followed by blanks. */
static gboolean
mac_parse(const char *s, guint8 out[6])
{
    const char *p = s;

    for (guint i = 0; i < 6; i++) {
        guint v = 0;
        guint n = 0;

        while (n < 3 && g_ascii_isxdigit(p[n]))
            v = v * 16 + (guint)g_ascii_xdigit_value(p[n++]);
        if (n < 1 || n > 2)
            return FALSE;
        out[i] = (guint8)v;
        p += n;
        if (i == 5)
            return (guchar)*p <= ' ';
        if (*p != ':')
            return FALSE;
        p++;
    }
    return FALSE;
}

static gboolean
parse_mac(const xmlNode *node, SvDomainNetDef *net, GError **error)
{
    g_autofree char *address = sv_xml_child_prop(node, "mac", "address");
    guint8 mac[6];

    if (!address)
        return TRUE;
    if (!mac_parse(address, mac)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "unable to parse mac address '%s'",
                     address);
        return FALSE;
    }
    if (mac[0] & 1) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "expected unicast mac address, found multicast '%s'", address);
        return FALSE;
    }
    net->mac = g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                               mac[4], mac[5]);
    return TRUE;
}

#define NET_MODEL_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

static gboolean
parse_interface(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainNetDef) net = g_new0(SvDomainNetDef, 1);
    int type = SV_DOMAIN_NET_TYPE_USER;

    if (!sv_domain_prop_enum(node, "type", sv_domain_net_type_from_string, 0, UNSUPPORTED_NET_TYPES,
                             FALSE, &type, error) ||
        !parse_mac(node, net, error) ||
        !sv_domain_device_info_parse(node, &net->info, info_flags(flags, TRUE), error))
        return FALSE;
    net->type = type;
    net->model = sv_xml_child_prop(node, "model", "type");
    net->target_dev = sv_xml_child_prop(node, "target", "dev");
    /* As libvirt: a model it does not know is taken, but only as one plain word (it ends
     * up in a hypervisor's command line). */
    if (net->model && strspn(net->model, NET_MODEL_CHARS) < strlen(net->model)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                     "Model name contains invalid characters");
        return FALSE;
    }
    g_ptr_array_add(def->interfaces, g_steal_pointer(&net));
    return TRUE;
}

static gboolean
parse_chr_target(const xmlNode *node, SvDomainChrDef *chr, gboolean serial, GError **error)
{
    xmlNode *target = sv_xml_child(node, "target");
    g_autofree char *port = target ? sv_xml_prop(target, "port") : NULL;

    chr->target_type = target ? sv_xml_prop(target, "type") : NULL;
    if (chr->target_type &&
        !sv_word_in(serial ? SERIAL_TARGET_TYPES : CONSOLE_TARGET_TYPES, chr->target_type)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown target type '%s' specified for character device",
                     chr->target_type);
        return FALSE;
    }
    /* Unset ports (libvirt also takes -1 for unset) are assigned after parsing. */
    chr->target_port = serial ? G_MAXUINT : 0;
    if (port && !g_str_equal(port, "-1") && !sv_domain_parse_int_range(port, &chr->target_port)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "Invalid port number: %s", port);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_chr(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainChrDef) chr = g_new0(SvDomainChrDef, 1);
    g_autofree char *type = sv_xml_prop(node, "type");
    gboolean serial = sv_xml_is(node, "serial");
    int v = type ? sv_domain_chr_type_from_string(type) : SV_DOMAIN_CHR_TYPE_PTY;

    if (v < 0 && sv_word_in(UNSUPPORTED_CHR_TYPES, type)) {
        sv_domain_error_unsupported_value(error, node, "type", type);
        return FALSE;
    }
    if (v < 0) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown type presented to host for character device: %s", type);
        return FALSE;
    }
    chr->type = v;
    chr->source_path = sv_xml_child_prop(node, "source", "path");
    if (chr->type == SV_DOMAIN_CHR_TYPE_FILE && !chr->source_path) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "Missing source path attribute for char device");
        return FALSE;
    }
    /* A pty path is live state, allocated at start; a new definition must not carry one. */
    if (chr->type == SV_DOMAIN_CHR_TYPE_PTY && (flags & SV_DOMAIN_PARSE_INACTIVE))
        g_clear_pointer(&chr->source_path, g_free);
    if (!parse_chr_target(node, chr, serial, error) ||
        !sv_domain_device_info_parse(node, &chr->info, info_flags(flags, FALSE), error))
        return FALSE;
    g_ptr_array_add(serial ? def->serials : def->consoles, g_steal_pointer(&chr));
    return TRUE;
}

static gboolean
parse_controller(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainControllerDef) ctrl = g_new0(SvDomainControllerDef, 1);
    g_autofree char *index = sv_xml_prop(node, "index");
    int type = SV_DOMAIN_CONTROLLER_IDE;

    if (!sv_domain_prop_enum(node, "type", sv_domain_controller_type_from_string, 0, NULL, FALSE,
                             &type, error))
        return FALSE;
    ctrl->type = type;
    /* G_MAXUINT marks "assign one" until post-parse; real indexes fit libvirt's int. */
    ctrl->index = G_MAXUINT;
    if (index && !sv_domain_parse_int_range(index, &ctrl->index)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'index' in element 'controller': '%s'. "
                     "Expected integer value",
                     index);
        return FALSE;
    }
    ctrl->model = sv_xml_prop(node, "model");
    if (!sv_domain_device_info_parse(node, &ctrl->info, info_flags(flags, FALSE), error))
        return FALSE;
    g_ptr_array_add(def->controllers, g_steal_pointer(&ctrl));
    return TRUE;
}

static gboolean
parse_panic(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *model = sv_xml_prop(node, "model");

    if (def->panic) {
        sv_domain_error_unsupported(error, "more than one <panic>");
        return FALSE;
    }
    if (model && !sv_word_in(PANIC_MODELS, model)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "unknown panic model '%s'",
                     model);
        return FALSE;
    }
    def->panic = TRUE;
    def->panic_model = g_steal_pointer(&model);
    return TRUE;
}

static gboolean
parse_memballoon(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *model = sv_xml_prop(node, "model");

    if (def->memballoon_model) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR,
                     "only a single memory balloon device is supported");
        return FALSE;
    }
    if (!model) {
        sv_xml_error_missing_attr(error, node, "model");
        return FALSE;
    }
    if (!sv_word_in(MEMBALLOON_MODELS, model)) {
        sv_xml_error_invalid_attr(error, node, "model", model);
        return FALSE;
    }
    def->memballoon_model = g_steal_pointer(&model);
    return TRUE;
}

static gboolean
parse_device(const xmlNode *node, SvDomainDef *def, guint flags, GArray *disk_keys,
             GError **error)
{
    if (sv_xml_is(node, "emulator")) {
        if (!def->emulator)
            def->emulator = sv_xml_text(node);
        return TRUE;
    }
    if (sv_xml_is(node, "disk"))
        return parse_disk(node, def, flags, disk_keys, error);
    if (sv_xml_is(node, "filesystem"))
        return parse_filesystem(node, def, flags, error);
    if (sv_xml_is(node, "interface"))
        return parse_interface(node, def, flags, error);
    if (sv_xml_is(node, "serial") || sv_xml_is(node, "console"))
        return parse_chr(node, def, flags, error);
    if (sv_xml_is(node, "controller"))
        return parse_controller(node, def, flags, error);
    if (sv_xml_is(node, "panic"))
        return parse_panic(node, def, error);
    if (sv_xml_is(node, "memballoon"))
        return parse_memballoon(node, def, error);

    /* ---- disks and controllers ---- */

    /* ---- interfaces ---- */

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */

    /* ---- graphics, video, input, sound, audio, redirdev ---- */
    if (sv_domain_display_is_device(node))
        return sv_domain_display_parse(node, def, flags, error);

    /* Anything else is refused or dropped by the schema check. */
    return TRUE;
}

gboolean
sv_domain_parse_devices(const xmlNode *root, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(GArray) disk_keys = g_array_new(FALSE, FALSE, sizeof(DiskKey));

    for (const xmlNode *d = root->children; d; d = d->next) {
        if (!sv_xml_is(d, "devices"))
            continue;
        for (const xmlNode *c = d->children; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE && !parse_device(c, def, flags, disk_keys, error))
                return FALSE;
        }
    }
    return TRUE;
}
