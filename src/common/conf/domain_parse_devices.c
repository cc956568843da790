/* domain_parse_devices.c: parse the <devices> of libvirt domain XML: disks, filesystems,
 * interfaces, serials and consoles, controllers, panic, memballoon and graphics. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_device.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

/* Values libvirt 9.0.0 knows and splitvirt does not implement: these are refused as
 * unsupported, while values nobody knows get libvirt's own error. Space-separated. */
#define UNSUPPORTED_FS_TYPES "block file template ram bind volume"
#define UNSUPPORTED_CHR_TYPES                                                                  \
    "null vc dev pipe stdio udp tcp unix spicevmc spiceport nmdm qemu-vdagent dbus"
#define UNSUPPORTED_GRAPHICS_TYPES "sdl vnc rdp desktop spice egl-headless dbus"

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
parse_graphics(const xmlNode *node, SvDomainDef *def, GError **error)
{
    g_autofree char *type = sv_xml_prop(node, "type");

    if (!type) {
        sv_xml_error_missing_attr(error, node, "type");
        return FALSE;
    }
    /* 'none' is splitvirt's own: libvirt 9.0.0 has no such graphics type. */
    if (!g_str_equal(type, "none")) {
        if (sv_word_in(UNSUPPORTED_GRAPHICS_TYPES, type))
            sv_domain_error_unsupported_value(error, node, "type", type);
        else
            sv_xml_error_invalid_attr(error, node, "type", type);
        return FALSE;
    }
    def->graphics_none = TRUE;
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
    if (sv_xml_is(node, "filesystem"))
        return parse_filesystem(node, def, flags, error);
    if (sv_xml_is(node, "serial") || sv_xml_is(node, "console"))
        return parse_chr(node, def, flags, error);
    if (sv_xml_is(node, "panic"))
        return parse_panic(node, def, error);
    if (sv_xml_is(node, "memballoon"))
        return parse_memballoon(node, def, error);
    if (sv_xml_is(node, "graphics"))
        return parse_graphics(node, def, error);

    /* ---- disks and controllers ---- */
    if (sv_xml_is(node, "disk"))
        return sv_domain_disk_parse(node, def, flags, disk_keys, error);
    if (sv_xml_is(node, "controller"))
        return sv_domain_controller_parse(node, def, flags, error);

    /* ---- interfaces ---- */
    if (sv_xml_is(node, "interface"))
        return sv_domain_net_parse(node, def, flags, error);

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */

    /* ---- graphics, video, input, sound, audio, redirdev ---- */

    /* Anything else is refused or dropped by the schema check. */
    return TRUE;
}

gboolean
sv_domain_parse_devices(const xmlNode *root, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(GArray) disk_keys = sv_domain_disk_keys_new();

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
