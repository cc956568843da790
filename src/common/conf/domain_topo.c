/* domain_topo.c: the parts of domain XML that libvirt fills in when it lays out a guest's
 * PCI topology: a PCI controller's <model name=> and <target> (domain_parse.h). */
#include "conf/domain_conf.h"

#include <errno.h>
#include <stdlib.h>

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

/* libvirt's names of the QEMU devices behind PCI controllers (virDomainControllerPCIModelName). */
static const char *const pci_model_names[] = {
    "pci-bridge", "i82801b11-bridge", "ioh3420", "pcie-root-port", "x3130-upstream",
    "xio3130-downstream", "pxb", "pxb-pcie", "pcie-pci-bridge", "spapr-pci-host-bridge", NULL,
};

SvDomainPciControllerOpts *
sv_domain_pci_controller_opts_new(void)
{
    SvDomainPciControllerOpts *o = g_new0(SvDomainPciControllerOpts, 1);

    o->chassis_nr = o->chassis = o->port = -1;
    return o;
}

void
sv_domain_pci_controller_opts_free(SvDomainPciControllerOpts *opts)
{
    if (!opts)
        return;
    g_free(opts->model_name);
    g_free(opts);
}

/* A non-negative integer attribute as libvirt's virXMLPropInt reads it (any base); -1 when
 * absent. */
static gboolean
parse_nonnegative(const xmlNode *node, const char *attr, int *out, GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);
    char *end = NULL;
    gint64 n;

    *out = -1;
    if (!v)
        return TRUE;
    errno = 0;
    n = g_ascii_strtoll(v, &end, 0);
    if (errno || end == v || *end || n < G_MININT || n > G_MAXINT) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element '%s': '%s'. "
                     "Expected integer value",
                     attr, (const char *)node->name, v);
        return FALSE;
    }
    if (n < 0) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element '%s': '%s'. "
                     "Expected non-negative value",
                     attr, (const char *)node->name, v);
        return FALSE;
    }
    *out = (int)n;
    return TRUE;
}

/* libvirt's range checks of the values (its controller validation, after the parse). */
static gboolean
check_range(const char *what, int value, int min, GError **error)
{
    if (value == -1 || (value >= min && value <= 255))
        return TRUE;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                 "PCI controller %s '%d' out of range - must be %d-255", what, value, min);
    return FALSE;
}

gboolean
sv_domain_pci_controller_opts_parse(const xmlNode *node, SvDomainPciControllerOpts **out,
                                    GError **error)
{
    g_autofree char *type = sv_xml_prop(node, "type");
    const xmlNode *model = sv_xml_child(node, "model");
    const xmlNode *target = sv_xml_child(node, "target");
    SvDomainPciControllerOpts *o;

    /* libvirt reads these for PCI controllers only. */
    *out = NULL;
    if (!type || !g_str_equal(type, "pci") || (!model && !target))
        return TRUE;
    o = *out = sv_domain_pci_controller_opts_new();
    if (model) {
        o->model_name = sv_xml_prop(model, "name");
        if (o->model_name && !g_strv_contains(pci_model_names, o->model_name)) {
            sv_xml_error_invalid_attr(error, model, "name", o->model_name);
            return FALSE;
        }
    }
    if (target && (!parse_nonnegative(target, "chassisNr", &o->chassis_nr, error) ||
                   !parse_nonnegative(target, "chassis", &o->chassis, error) ||
                   !parse_nonnegative(target, "port", &o->port, error)))
        return FALSE;
    if (!check_range("chassisNr", o->chassis_nr, 1, error) ||
        !check_range("chassis", o->chassis, 0, error) || !check_range("port", o->port, 0, error))
        return FALSE;
    /* Elements without values say nothing: the same as none, so the format is a fixed point. */
    if (!o->model_name && o->chassis_nr == -1 && o->chassis == -1 && o->port == -1)
        g_clear_pointer(out, sv_domain_pci_controller_opts_free);
    return TRUE;
}

void
sv_domain_pci_controller_opts_format(GString *buf, int indent,
                                     const SvDomainPciControllerOpts *opts)
{
    if (!opts)
        return;
    if (opts->model_name) {
        g_string_append_printf(buf, "%*s<model", indent, "");
        sv_xml_append_attr(buf, "name", opts->model_name);
        g_string_append(buf, "/>\n");
    }
    if (opts->chassis_nr == -1 && opts->chassis == -1 && opts->port == -1)
        return;
    g_string_append_printf(buf, "%*s<target", indent, "");
    if (opts->chassis_nr != -1)
        g_string_append_printf(buf, " chassisNr='%d'", opts->chassis_nr);
    if (opts->chassis != -1)
        g_string_append_printf(buf, " chassis='%d'", opts->chassis);
    if (opts->port != -1)
        g_string_append_printf(buf, " port='0x%x'", opts->port);
    g_string_append(buf, "/>\n");
}
