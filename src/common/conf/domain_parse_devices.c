/* domain_parse_devices.c: parse the <devices> of libvirt domain XML: graphics here, each
 * area's other devices in its own file. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_device.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

/* Values libvirt 9.0.0 knows and splitvirt does not implement: these are refused as
 * unsupported, while values nobody knows get libvirt's own error. Space-separated. */

static gboolean
parse_device(const xmlNode *node, SvDomainDef *def, guint flags, GArray *disk_keys,
             GError **error)
{
    if (sv_xml_is(node, "emulator")) {
        if (!def->emulator)
            def->emulator = sv_xml_text(node);
        return TRUE;
    }

    /* ---- disks and controllers ---- */
    if (sv_xml_is(node, "disk"))
        return sv_domain_disk_parse(node, def, flags, disk_keys, error);
    if (sv_xml_is(node, "controller"))
        return sv_domain_controller_parse(node, def, flags, error);

    /* ---- interfaces ---- */
    if (sv_xml_is(node, "interface"))
        return sv_domain_net_parse(node, def, flags, error);

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */
    if (sv_domain_is_chr_device(node))
        return sv_domain_parse_chr_device(node, def, flags, error);

    /* ---- graphics, video, input, sound, audio, redirdev ---- */
    if (sv_domain_display_is_device(node))
        return sv_domain_display_parse(node, def, flags, error);

    /* ---- usb hubs ---- */
    if (sv_xml_is(node, "hub"))
        return sv_domain_hub_parse(node, def, flags, error);

    /* ---- capabilities: host devices and TPM ---- */
    if (sv_domain_hostdev_is_device(node))
        return sv_domain_hostdev_parse(node, def, flags, error);

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

/* The device element names libvirt 9.0 knows (virDomainDeviceType, and the character
 * devices' own names). */
static const char *const known_devices[] = {
    "disk", "lease", "filesystem", "interface", "input", "sound", "video", "hostdev",
    "watchdog", "controller", "graphics", "hub", "redirdev", "smartcard", "chr",
    "memballoon", "nvram", "rng", "shmem", "tpm", "panic", "memory", "iommu", "vsock",
    "audio", "crypto", "serial", "parallel", "console", "channel", NULL,
};

SvDomainDef *
sv_domain_device_parse(const char *xml, char **ret_kind, GError **error)
{
    return sv_domain_device_parse_flags(xml, SV_DOMAIN_PARSE_INACTIVE, ret_kind, error);
}

SvDomainDef *
sv_domain_device_parse_flags(const char *xml, guint flags, char **ret_kind, GError **error)
{
    xmlDoc *doc = sv_xml_read_named(xml, "(device_definition)", error);
    g_autofree char *dump = NULL;
    g_autofree char *wrapped = NULL;
    xmlNode *root;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!root || !g_strv_contains(known_devices, (const char *)root->name)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown device type '%s'",
                     root ? (const char *)root->name : "");
        xmlFreeDoc(doc);
        return NULL;
    }
    *ret_kind = g_strdup((const char *)root->name);
    dump = sv_xml_node_dump(doc, root, 2);
    xmlFreeDoc(doc);
    wrapped = g_strdup_printf("<domain type='qemu'><name>sv-device</name>"
                              "<memory unit='KiB'>1024</memory><os><type>hvm</type></os>"
                              "<devices>%s</devices></domain>",
                              dump);
    return sv_domain_def_parse(wrapped, flags, error);
}
