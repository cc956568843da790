/* domain_device.c: a device's alias, address and boot order (domain_device.h). */
#include "conf/domain_device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/domain_conf.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

static const char *const address_type_names[] = {
    "none", "pci", "drive", "virtio-serial", "ccid", "usb", "spapr-vio", "virtio-s390",
    "ccw", "virtio-mmio", "isa", "dimm", "unassigned",
};
G_STATIC_ASSERT(G_N_ELEMENTS(address_type_names) == SV_DOMAIN_ADDRESS_LAST);

const char *
sv_domain_address_type_to_string(int v)
{
    return v >= 0 && v < SV_DOMAIN_ADDRESS_LAST ? address_type_names[v] : NULL;
}

int
sv_domain_address_type_from_string(const char *s)
{
    for (int i = 0; s && i < SV_DOMAIN_ADDRESS_LAST; i++) {
        if (g_str_equal(s, address_type_names[i]))
            return i;
    }
    return -1;
}

gboolean
sv_domain_alias_is_user(const char *alias)
{
    return alias && g_str_has_prefix(alias, "ua-") && alias[3];
}

/* An unsigned attribute as libvirt's virXMLPropUInt with base 0 reads it (decimal, 0x hex
 * or 0 octal); absent leaves *out alone. */
static gboolean
prop_uint(const xmlNode *node, const char *attr, guint max, guint *out, GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);
    char *end = NULL;
    guint64 n;

    if (!v)
        return TRUE;
    errno = 0;
    n = g_ascii_strtoull(v, &end, 0);
    if (!*v || *v == '-' || *v == '+' || errno || *end || n > G_MAXUINT) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element '%s': '%s'. Expected "
                     "non-negative integer value",
                     attr, (const char *)node->name, v);
        return FALSE;
    }
    if (n > max) {
        /* Only PCI addresses have bounds below G_MAXUINT. */
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "Invalid PCI address %s='0x%" G_GINT64_MODIFIER "x', must be <= 0x%X", attr,
                     n, max);
        return FALSE;
    }
    *out = (guint)n;
    return TRUE;
}

static gboolean
parse_pci(const xmlNode *a, SvDomainPciAddress *pci, GError **error)
{
    return prop_uint(a, "domain", 0xFFFF, &pci->domain, error) &&
           prop_uint(a, "bus", 0xFF, &pci->bus, error) &&
           prop_uint(a, "slot", 0x1F, &pci->slot, error) &&
           prop_uint(a, "function", 7, &pci->function, error) &&
           sv_domain_prop_enum(a, "multifunction", sv_domain_switch_from_string,
                               SV_DOMAIN_SWITCH_ON, NULL, FALSE, &pci->multifunction, error);
}

/* <address type='usb' port=>: up to SV_DOMAIN_USB_PORT_DEPTH numbers joined by dots, kept
 * as their numbers write ("01.2" is "1.2"), as libvirt keeps them. */
static gboolean
parse_usb_port(const xmlNode *a, SvDomainUsbAddress *usb, GError **error)
{
    g_autofree char *port = sv_xml_prop(a, "port");
    guint path[SV_DOMAIN_USB_PORT_DEPTH] = {0};

    if (!port)
        return TRUE;
    if (!sv_domain_usb_port_parse(port, path)) {
        sv_error_set(error, SV_FROM_DEVICE, SV_ERR_INTERNAL_ERROR,
                     "Cannot parse <address> 'port' attribute");
        return FALSE;
    }
    usb->port = sv_domain_usb_port_format(path, FALSE);
    return TRUE;
}

static gboolean
parse_address(const xmlNode *a, SvDomainDeviceAddress *addr, GError **error)
{
    int type = SV_DOMAIN_ADDRESS_NONE;

    if (!sv_domain_prop_enum(a, "type", sv_domain_address_type_from_string,
                             SV_DOMAIN_ADDRESS_PCI, NULL, TRUE, &type, error))
        return FALSE;
    if (type > SV_DOMAIN_ADDRESS_USB && type != SV_DOMAIN_ADDRESS_ISA) {
        sv_domain_error_unsupported_value(error, a, "type",
                                          sv_domain_address_type_to_string(type));
        return FALSE;
    }
    addr->type = type;
    switch (addr->type) {
    case SV_DOMAIN_ADDRESS_PCI:
        return parse_pci(a, &addr->pci, error);
    case SV_DOMAIN_ADDRESS_DRIVE:
        return prop_uint(a, "controller", G_MAXUINT, &addr->drive.controller, error) &&
               prop_uint(a, "bus", G_MAXUINT, &addr->drive.bus, error) &&
               prop_uint(a, "target", G_MAXUINT, &addr->drive.target, error) &&
               prop_uint(a, "unit", G_MAXUINT, &addr->drive.unit, error);
    case SV_DOMAIN_ADDRESS_VIRTIO_SERIAL:
        return prop_uint(a, "controller", G_MAXUINT, &addr->serial.controller, error) &&
               prop_uint(a, "bus", G_MAXUINT, &addr->serial.bus, error) &&
               prop_uint(a, "port", G_MAXUINT, &addr->serial.port, error);
    case SV_DOMAIN_ADDRESS_CCID:
        return prop_uint(a, "controller", G_MAXUINT, &addr->serial.controller, error) &&
               prop_uint(a, "slot", G_MAXUINT, &addr->serial.port, error);
    case SV_DOMAIN_ADDRESS_USB:
        return prop_uint(a, "bus", G_MAXUINT, &addr->usb.bus, error) &&
               parse_usb_port(a, &addr->usb, error);
    case SV_DOMAIN_ADDRESS_ISA:
        return prop_uint(a, "iobase", G_MAXUINT, &addr->isa.iobase, error) &&
               prop_uint(a, "irq", G_MAXUINT, &addr->isa.irq, error);
    default:
        return TRUE;
    }
}

static gboolean
parse_boot(const xmlNode *b, SvDomainDeviceInfo *info, guint flags, GError **error)
{
    g_autofree char *order = sv_xml_prop(b, "order");

    if (!(flags & SV_DEVICE_INFO_BOOT)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "per-device boot elements are not supported for <%s>",
                     (const char *)b->parent->name);
        return FALSE;
    }
    if (!order) {
        sv_xml_error_missing_attr(error, b, "order");
        return FALSE;
    }
    if (!sv_domain_parse_uint(order, &info->boot_order) || info->boot_order == 0 ||
        info->boot_order > G_MAXINT) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "incorrect boot order '%s', expecting positive integer", order);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_domain_device_info_parse(const xmlNode *dev, SvDomainDeviceInfo *info, guint flags,
                            GError **error)
{
    for (const xmlNode *c = dev->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (sv_xml_is(c, "alias") && !info->alias) {
            g_autofree char *name = sv_xml_prop(c, "name");
            if (name && (sv_domain_alias_is_user(name) || (flags & SV_DEVICE_INFO_KEEP_ALIAS)))
                info->alias = g_steal_pointer(&name);
        } else if (sv_xml_is(c, "address") && info->addr.type == SV_DOMAIN_ADDRESS_NONE) {
            if (!parse_address(c, &info->addr, error))
                return FALSE;
        } else if (sv_xml_is(c, "boot") && !info->boot_order) {
            if (!parse_boot(c, info, flags, error))
                return FALSE;
        }
    }
    return TRUE;
}

static void
format_address(GString *buf, int indent, const SvDomainDeviceAddress *a)
{
    g_string_append_printf(buf, "%*s<address type='%s'", indent, "",
                           sv_domain_address_type_to_string(a->type));
    switch (a->type) {
    case SV_DOMAIN_ADDRESS_PCI:
        g_string_append_printf(buf, " domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'",
                               a->pci.domain, a->pci.bus, a->pci.slot, a->pci.function);
        if (a->pci.multifunction != SV_DOMAIN_SWITCH_ABSENT)
            sv_xml_append_attr(buf, "multifunction",
                               sv_domain_switch_to_string(a->pci.multifunction));
        break;
    case SV_DOMAIN_ADDRESS_DRIVE:
        g_string_append_printf(buf, " controller='%u' bus='%u' target='%u' unit='%u'",
                               a->drive.controller, a->drive.bus, a->drive.target, a->drive.unit);
        break;
    case SV_DOMAIN_ADDRESS_VIRTIO_SERIAL:
        g_string_append_printf(buf, " controller='%u' bus='%u' port='%u'", a->serial.controller,
                               a->serial.bus, a->serial.port);
        break;
    case SV_DOMAIN_ADDRESS_CCID:
        g_string_append_printf(buf, " controller='%u' slot='%u'", a->serial.controller,
                               a->serial.port);
        break;
    case SV_DOMAIN_ADDRESS_USB:
        g_string_append_printf(buf, " bus='%u'", a->usb.bus);
        if (sv_domain_usb_port_is_set(a->usb.port)) {
            guint path[SV_DOMAIN_USB_PORT_DEPTH] = {0};
            g_autofree char *port = NULL;

            sv_domain_usb_port_parse(a->usb.port, path);
            port = sv_domain_usb_port_format(path, TRUE);
            sv_xml_append_attr(buf, "port", port);
        }
        break;
    case SV_DOMAIN_ADDRESS_ISA:
        if (a->isa.iobase)
            g_string_append_printf(buf, " iobase='0x%x'", a->isa.iobase);
        if (a->isa.irq)
            g_string_append_printf(buf, " irq='0x%x'", a->isa.irq);
        break;
    default:
        break;
    }
    g_string_append(buf, "/>\n");
}

void
sv_domain_device_info_format(GString *buf, int indent, const SvDomainDeviceInfo *info,
                             guint format_flags)
{
    if (info->boot_order)
        g_string_append_printf(buf, "%*s<boot order='%u'/>\n", indent, "", info->boot_order);
    if (info->alias &&
        (!(format_flags & SV_DOMAIN_FORMAT_INACTIVE) || sv_domain_alias_is_user(info->alias))) {
        g_string_append_printf(buf, "%*s<alias", indent, "");
        sv_xml_append_attr(buf, "name", info->alias);
        g_string_append(buf, "/>\n");
    }
    if (info->addr.type != SV_DOMAIN_ADDRESS_NONE)
        format_address(buf, indent, &info->addr);
}

void
sv_domain_device_info_clear(SvDomainDeviceInfo *info)
{
    g_free(info->alias);
    g_free(info->addr.usb.port);
    memset(info, 0, sizeof(*info));
}

gboolean
sv_domain_usb_port_parse(const char *port, guint *path)
{
    g_auto(GStrv) parts = g_strsplit(port, ".", 0);

    if (!parts[0])
        return FALSE;
    for (guint i = 0; parts[i]; i++) {
        guint64 n;

        if (i == SV_DOMAIN_USB_PORT_DEPTH || !parts[i][0] ||
            !g_ascii_string_to_unsigned(parts[i], 10, 0, G_MAXUINT, &n, NULL))
            return FALSE;
        path[i] = (guint)n;
    }
    return TRUE;
}

char *
sv_domain_usb_port_format(const guint *path, gboolean stop_at_zero)
{
    GString *out = g_string_new(NULL);
    guint n = 0;

    /* Up to the first 0 (libvirt's writing), or up to the last number that is not 0. */
    for (guint i = 0; i < SV_DOMAIN_USB_PORT_DEPTH; i++) {
        if (stop_at_zero && !path[i])
            break;
        if (path[i])
            n = i + 1;
    }
    for (guint i = 0; i < MAX(n, 1); i++)
        g_string_append_printf(out, "%s%u", i ? "." : "", path[i]);
    return g_string_free(out, FALSE);
}

gboolean
sv_domain_usb_port_is_set(const char *port)
{
    return port && port[0] && port[0] != '0';
}
