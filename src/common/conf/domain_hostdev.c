/* domain_hostdev.c: <hostdev> (subsystem usb, pci, scsi) and <tpm> (passthrough), the
 * values the domain capabilities list for them, read and written back as libvirt 9.0 does
 * so that define accepts them; the QEMU driver refuses them at start
 * (qemu_hostdev.c). Other modes, types and backends stay refused as unsupported. */
#include "conf/domain_conf.h"

#include <errno.h>

#include "conf/domain_device.h"
#include "conf/domain_enum.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

SV_DOMAIN_ENUM_IMPL(hostdev_type, SV_DOMAIN_HOSTDEV_LAST, "usb", "pci", "scsi")

/* libvirt's startup policies; "default" is its placeholder, which XML may not name. */
static const char *const startup_policies[] = {"mandatory", "requisite", "optional", NULL};

static guint
info_flags(guint flags, gboolean boot)
{
    return ((flags & SV_DOMAIN_PARSE_INACTIVE) ? 0 : SV_DEVICE_INFO_KEEP_ALIAS) |
           (boot ? SV_DEVICE_INFO_BOOT : 0);
}

void
sv_domain_hostdev_def_free(gpointer p)
{
    SvDomainHostdevDef *h = p;

    if (!h)
        return;
    sv_domain_device_info_clear(&h->info);
    g_free(h->driver);
    g_free(h->startup_policy);
    g_free(h->adapter);
    g_free(h);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainHostdevDef, sv_domain_hostdev_def_free)

void
sv_domain_tpm_def_free(SvDomainTpmDef *t)
{
    if (!t)
        return;
    sv_domain_device_info_clear(&t->info);
    g_free(t->model);
    g_free(t->path);
    g_free(t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainTpmDef, sv_domain_tpm_def_free)

gboolean
sv_domain_hostdev_is_device(const xmlNode *node)
{
    return sv_xml_is(node, "hostdev") || sv_xml_is(node, "tpm");
}

/* ---------------------------------------------------------------- parsing */

/* A number as libvirt reads these ids and addresses (decimal, or hex with 0x). */
static gboolean
prop_number(const xmlNode *node, const char *attr, gboolean required, guint64 max,
            guint64 *out, GError **error)
{
    g_autofree char *s = sv_xml_prop(node, attr);
    guint64 v;
    char *end = NULL;

    if (!s) {
        if (required)
            sv_xml_error_missing_attr(error, node, attr);
        return !required;
    }
    errno = 0;
    v = g_ascii_strtoull(s, &end, 0);
    if (!*s || *end || errno || v > max || s[0] == '-') {
        sv_xml_error_invalid_attr(error, node, attr, s);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

static gboolean
prop_uint(const xmlNode *node, const char *attr, gboolean required, guint *out, GError **error)
{
    guint64 v = *out;

    if (!prop_number(node, attr, required, G_MAXUINT, &v, error))
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

static gboolean
parse_usb_source(const xmlNode *src, SvDomainHostdevDef *h, GError **error)
{
    xmlNode *vendor = sv_xml_child(src, "vendor");
    xmlNode *product = sv_xml_child(src, "product");
    xmlNode *addr = sv_xml_child(src, "address");

    if (vendor || product) {
        if (!product || !vendor) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "missing %s",
                         vendor ? "product" : "vendor");
            return FALSE;
        }
        if (!prop_uint(vendor, "id", TRUE, &h->vendor, error) ||
            !prop_uint(product, "id", TRUE, &h->product, error))
            return FALSE;
        h->has_ids = TRUE;
    }
    if (addr) {
        h->has_usb_address = TRUE;
        if (!prop_uint(addr, "bus", TRUE, &h->usb_bus, error) ||
            !prop_uint(addr, "device", TRUE, &h->usb_device, error))
            return FALSE;
    }
    if (!h->has_ids && !h->has_usb_address) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "%s",
                     "usb source needs vendor/product or address");
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_pci_source(const xmlNode *src, SvDomainHostdevDef *h, GError **error)
{
    xmlNode *addr = sv_xml_child(src, "address");

    if (!addr) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "%s",
                     "PCI host devices must use 'pci' or 'mdev' address type");
        return FALSE;
    }
    return prop_uint(addr, "domain", FALSE, &h->pci_domain, error) &&
           prop_uint(addr, "bus", TRUE, &h->pci_bus, error) &&
           prop_uint(addr, "slot", TRUE, &h->pci_slot, error) &&
           prop_uint(addr, "function", TRUE, &h->pci_function, error);
}

static gboolean
parse_scsi_source(const xmlNode *src, SvDomainHostdevDef *h, GError **error)
{
    xmlNode *addr = sv_xml_child(src, "address");
    g_autofree char *protocol = sv_xml_prop(src, "protocol");

    if (protocol) {
        sv_domain_error_unsupported_value(error, src, "protocol", protocol);
        return FALSE;
    }
    h->adapter = sv_xml_child_prop(src, "adapter", "name");
    if (!h->adapter) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "%s",
                     "'adapter' name attribute must be specified for scsi hostdev source");
        return FALSE;
    }
    if (!addr) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "%s",
                     "'address' must be specified for scsi hostdev source");
        return FALSE;
    }
    return prop_uint(addr, "bus", TRUE, &h->scsi_bus, error) &&
           prop_uint(addr, "target", TRUE, &h->scsi_target, error) &&
           prop_number(addr, "unit", TRUE, G_MAXUINT64, &h->scsi_unit, error);
}

static gboolean
parse_hostdev_source(const xmlNode *node, SvDomainHostdevDef *h, GError **error)
{
    xmlNode *src = sv_xml_child(node, "source");

    if (!src) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "%s",
                     "Missing <source> element in hostdev device");
        return FALSE;
    }
    h->startup_policy = sv_xml_prop(src, "startupPolicy");
    if (h->startup_policy) {
        if (!g_strv_contains(startup_policies, h->startup_policy)) {
            sv_xml_error_invalid_attr(error, src, "startupPolicy", h->startup_policy);
            return FALSE;
        }
        if (h->type != SV_DOMAIN_HOSTDEV_USB) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "%s",
                         "Setting startupPolicy is only allowed for USB devices");
            return FALSE;
        }
    }
    switch (h->type) {
    case SV_DOMAIN_HOSTDEV_USB:
        return parse_usb_source(src, h, error);
    case SV_DOMAIN_HOSTDEV_PCI:
        return parse_pci_source(src, h, error);
    default:
        return parse_scsi_source(src, h, error);
    }
}

static gboolean
parse_hostdev(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainHostdevDef) h = g_new0(SvDomainHostdevDef, 1);
    g_autofree char *mode = sv_xml_prop(node, "mode");
    g_autofree char *managed = sv_xml_prop(node, "managed");
    int type = -1;

    if (mode && !g_str_equal(mode, "subsystem")) {
        sv_domain_error_unsupported_value(error, node, "mode", mode);
        return FALSE;
    }
    if (!sv_domain_prop_enum(node, "type", sv_domain_hostdev_type_from_string, 0,
                             "scsi_host mdev", TRUE, &type, error))
        return FALSE;
    h->type = type;
    h->managed = g_strcmp0(managed, "yes") == 0;
    h->driver = sv_xml_child_prop(node, "driver", "name");
    if (!parse_hostdev_source(node, h, error) ||
        !sv_domain_device_info_parse(node, &h->info, info_flags(flags, TRUE), error))
        return FALSE;
    g_ptr_array_add(def->hostdevs, g_steal_pointer(&h));
    return TRUE;
}

static gboolean
parse_tpm(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainTpmDef) t = g_new0(SvDomainTpmDef, 1);
    xmlNode *backend = sv_xml_child(node, "backend");
    g_autofree char *type = backend ? sv_xml_prop(backend, "type") : NULL;

    t->model = sv_xml_prop(node, "model");
    if (!t->model)
        t->model = g_strdup("tpm-tis");
    if (!g_str_equal(t->model, "tpm-tis") && !g_str_equal(t->model, "tpm-crb")) {
        sv_domain_error_unsupported_value(error, node, "model", t->model);
        return FALSE;
    }
    if (!backend || !type) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "%s",
                     "missing TPM device backend type");
        return FALSE;
    }
    if (!g_str_equal(type, "passthrough")) {
        sv_domain_error_unsupported_value(error, backend, "type", type);
        return FALSE;
    }
    t->path = sv_xml_child_prop(backend, "device", "path");
    if (!t->path)
        t->path = g_strdup("/dev/tpm0");
    if (def->tpm) {
        sv_domain_error_unsupported(error, "a second <tpm>");
        return FALSE;
    }
    if (!sv_domain_device_info_parse(node, &t->info, info_flags(flags, FALSE), error))
        return FALSE;
    def->tpm = g_steal_pointer(&t);
    return TRUE;
}

gboolean
sv_domain_hostdev_parse(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    if (sv_xml_is(node, "tpm"))
        return parse_tpm(node, def, flags, error);
    return parse_hostdev(node, def, flags, error);
}

/* ---------------------------------------------------------------- formatting */

static void
format_source(GString *buf, const SvDomainHostdevDef *h)
{
    g_string_append(buf, "      <source");
    sv_xml_append_attr(buf, "startupPolicy", h->startup_policy);
    g_string_append(buf, ">\n");
    switch (h->type) {
    case SV_DOMAIN_HOSTDEV_USB:
        if (h->has_ids)
            g_string_append_printf(buf,
                                   "        <vendor id='0x%.4x'/>\n"
                                   "        <product id='0x%.4x'/>\n",
                                   h->vendor, h->product);
        if (h->has_usb_address)
            g_string_append_printf(buf, "        <address bus='%u' device='%u'/>\n", h->usb_bus,
                                   h->usb_device);
        break;
    case SV_DOMAIN_HOSTDEV_PCI:
        g_string_append_printf(buf,
                               "        <address domain='0x%.4x' bus='0x%.2x' slot='0x%.2x' "
                               "function='0x%x'/>\n",
                               h->pci_domain, h->pci_bus, h->pci_slot, h->pci_function);
        break;
    default:
        g_string_append(buf, "        <adapter");
        sv_xml_append_attr(buf, "name", h->adapter);
        g_string_append_printf(buf,
                               "/>\n        <address bus='%u' target='%u' unit='%" G_GUINT64_FORMAT
                               "'/>\n",
                               h->scsi_bus, h->scsi_target, h->scsi_unit);
        break;
    }
    g_string_append(buf, "      </source>\n");
}

void
sv_domain_hostdevs_format(GString *buf, const SvDomainDef *def, guint flags)
{
    for (guint i = 0; i < def->hostdevs->len; i++) {
        const SvDomainHostdevDef *h = def->hostdevs->pdata[i];

        g_string_append_printf(buf, "    <hostdev mode='subsystem' type='%s' managed='%s'>\n",
                               sv_domain_hostdev_type_to_string(h->type),
                               h->managed ? "yes" : "no");
        if (h->driver) {
            g_string_append(buf, "      <driver");
            sv_xml_append_attr(buf, "name", h->driver);
            g_string_append(buf, "/>\n");
        }
        format_source(buf, h);
        sv_domain_device_info_format(buf, 6, &h->info, flags);
        g_string_append(buf, "    </hostdev>\n");
    }
}

void
sv_domain_tpm_format(GString *buf, const SvDomainDef *def, guint flags)
{
    const SvDomainTpmDef *t = def->tpm;

    if (!t)
        return;
    g_string_append(buf, "    <tpm");
    sv_xml_append_attr(buf, "model", t->model);
    g_string_append(buf, ">\n      <backend type='passthrough'>\n        <device");
    sv_xml_append_attr(buf, "path", t->path);
    g_string_append(buf, "/>\n      </backend>\n");
    sv_domain_device_info_format(buf, 6, &t->info, flags);
    g_string_append(buf, "    </tpm>\n");
}
