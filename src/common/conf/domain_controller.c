/* domain_controller.c: <controller> elements: parsing, libvirt's model lists and checks,
 * and formatting, as libvirt 9.0 does. */
#include "conf/domain_conf.h"

#include <string.h>

#include "conf/domain_device.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "util/error.h"

/* libvirt 9.0's <model name> values for pci controllers. */
#define PCI_MODEL_NAMES                                                                        \
    "none pci-bridge i82801b11-bridge ioh3420 x3130-upstream xio3130-downstream pxb pxb-pcie " \
    "pcie-root-port spapr-pci-host-bridge pcie-pci-bridge"

/* libvirt 9.0's models per controller type (space-separated, NULL: the type has none). */
static const char *
known_models(SvDomainControllerType type)
{
    switch (type) {
    case SV_DOMAIN_CONTROLLER_SCSI:
        return "auto buslogic lsilogic lsisas1068 vmpvscsi ibmvscsi virtio-scsi lsisas1078 "
               "virtio-transitional virtio-non-transitional ncr53c90 am53c974 dc390";
    case SV_DOMAIN_CONTROLLER_USB:
        return "piix3-uhci piix4-uhci ehci ich9-ehci1 ich9-uhci1 ich9-uhci2 ich9-uhci3 "
               "vt82c686b-uhci pci-ohci nec-xhci qusb1 qusb2 qemu-xhci none";
    case SV_DOMAIN_CONTROLLER_PCI:
        return "pci-root pcie-root pci-bridge dmi-to-pci-bridge pcie-root-port "
               "pcie-switch-upstream-port pcie-switch-downstream-port pci-expander-bus "
               "pcie-expander-bus pcie-to-pci-bridge";
    case SV_DOMAIN_CONTROLLER_VIRTIO_SERIAL:
        return "virtio virtio-transitional virtio-non-transitional";
    case SV_DOMAIN_CONTROLLER_IDE:
        return "piix3 piix4 ich6";
    case SV_DOMAIN_CONTROLLER_ISA:
        return "";
    case SV_DOMAIN_CONTROLLER_XENBUS:
        return "";
    default:
        return NULL;
    }
}

/* The models splitvirt runs; the rest of libvirt's are refused as unsupported. */
static const char *
supported_models(SvDomainControllerType type)
{
    switch (type) {
    case SV_DOMAIN_CONTROLLER_SCSI:
        return "lsilogic virtio-scsi virtio-transitional virtio-non-transitional";
    case SV_DOMAIN_CONTROLLER_USB:
        return "piix3-uhci piix4-uhci ehci ich9-ehci1 ich9-uhci1 ich9-uhci2 ich9-uhci3 "
               "vt82c686b-uhci pci-ohci nec-xhci qemu-xhci none";
    case SV_DOMAIN_CONTROLLER_PCI:
        return "pci-root pcie-root pci-bridge dmi-to-pci-bridge pcie-root-port "
               "pcie-to-pci-bridge";
    case SV_DOMAIN_CONTROLLER_IDE:
        return "piix3 piix4 ich6";
    case SV_DOMAIN_CONTROLLER_VIRTIO_SERIAL:
        return "virtio virtio-transitional virtio-non-transitional";
    default:
        return "";
    }
}

void
sv_domain_controller_def_free(gpointer p)
{
    SvDomainControllerDef *c = p;

    if (!c)
        return;
    sv_domain_device_info_clear(&c->info);
    g_free(c->model);
    g_free(c->model_name);
    g_free(c);
}

SvDomainControllerDef *
sv_domain_controller_def_new(SvDomainControllerType type, guint index, const char *model)
{
    SvDomainControllerDef *c = g_new0(SvDomainControllerDef, 1);

    c->type = type;
    c->index = index;
    c->model = g_strdup(model);
    c->target_chassis_nr = c->target_chassis = c->target_port = -1;
    c->master_startport = c->ports = c->vectors = -1;
    return c;
}

/* An int attribute as libvirt's virXMLPropInt reads it (`base` 0 takes hex with 0x);
 * absent leaves *out alone. With `nonnegative`, as libvirt's VIR_XML_PROP_NONNEGATIVE. */
static gboolean
prop_int_full(const xmlNode *node, const char *attr, int base, gboolean nonnegative, int *out,
              GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);
    char *end = NULL;
    gint64 n;

    if (!v)
        return TRUE;
    n = g_ascii_strtoll(v, &end, base);
    if (!*v || *end || n < G_MININT || n > G_MAXINT) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element '%s': '%s'. Expected integer "
                     "value",
                     attr, (const char *)node->name, v);
        return FALSE;
    }
    if (nonnegative && n < 0) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element '%s': '%s'. Expected "
                     "non-negative value",
                     attr, (const char *)node->name, v);
        return FALSE;
    }
    *out = (int)n;
    return TRUE;
}

static gboolean
prop_int(const xmlNode *node, const char *attr, int base, int *out, GError **error)
{
    return prop_int_full(node, attr, base, FALSE, out, error);
}

static gboolean
check_range(int v, int lo, const char *what, GError **error)
{
    if (v == -1 || (v >= lo && v <= 255))
        return TRUE;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                 "PCI controller %s '%d' out of range - must be %d-255", what, v, lo);
    return FALSE;
}

static gboolean
parse_model(const xmlNode *node, SvDomainControllerDef *ctrl, GError **error)
{
    const char *known = known_models(ctrl->type);

    ctrl->model = sv_xml_prop(node, "model");
    if (!ctrl->model)
        return TRUE;
    if (!known || !sv_word_in(known, ctrl->model)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED, "Unknown model type '%s'",
                     ctrl->model);
        return FALSE;
    }
    if (!sv_word_in(supported_models(ctrl->type), ctrl->model)) {
        sv_domain_error_unsupported_value(error, node, "model", ctrl->model);
        return FALSE;
    }
    return TRUE;
}

/* <model name>, <target>, <master> and the ports/vectors attributes. */
static gboolean
parse_options(const xmlNode *node, SvDomainControllerDef *ctrl, GError **error)
{
    xmlNode *target = sv_xml_child(node, "target");
    xmlNode *master = sv_xml_child(node, "master");
    int hotplug = SV_DOMAIN_SWITCH_ABSENT;
    xmlNode *driver = sv_xml_child(node, "driver");
    g_autofree char *queues = driver ? sv_xml_prop(driver, "queues") : NULL;

    ctrl->model_name = sv_xml_child_prop(node, "model", "name");
    if (ctrl->model_name && !sv_word_in(PCI_MODEL_NAMES, ctrl->model_name)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'name' in element 'model': '%s'.",
                     ctrl->model_name);
        return FALSE;
    }
    /* libvirt's "none" is no name: the driver picks its default. */
    if (g_strcmp0(ctrl->model_name, "none") == 0)
        g_clear_pointer(&ctrl->model_name, g_free);
    if (queues && !sv_domain_parse_uint(queues, &ctrl->queues)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'queues' in element 'driver': '%s'. Expected "
                     "non-negative integer value",
                     queues);
        return FALSE;
    }
    if (!prop_int(node, "ports", 10, &ctrl->ports, error) ||
        !prop_int(node, "vectors", 10, &ctrl->vectors, error))
        return FALSE;
    if (target && (!prop_int_full(target, "chassisNr", 0, TRUE, &ctrl->target_chassis_nr, error) ||
                   !prop_int_full(target, "chassis", 0, TRUE, &ctrl->target_chassis, error) ||
                   !prop_int_full(target, "port", 0, TRUE, &ctrl->target_port, error) ||
                   !sv_domain_prop_enum(target, "hotplug", sv_domain_switch_from_string, 1, NULL,
                                        FALSE, &hotplug, error)))
        return FALSE;
    ctrl->target_hotplug = hotplug;
    if (master && !prop_int(master, "startport", 10, &ctrl->master_startport, error))
        return FALSE;
    return check_range(ctrl->target_chassis_nr, 1, "chassisNr", error) &&
           check_range(ctrl->target_chassis, 0, "chassis", error) &&
           check_range(ctrl->target_port, 0, "port", error);
}

/* libvirt's rule: a usb controller of model none is the only usb controller. */
static gboolean
check_usb_none(const SvDomainDef *def, const SvDomainControllerDef *ctrl, GError **error)
{
    gboolean none = FALSE, other = FALSE;

    if (ctrl->type != SV_DOMAIN_CONTROLLER_USB)
        return TRUE;
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == SV_DOMAIN_CONTROLLER_USB) {
            none = none || g_strcmp0(c->model, "none") == 0;
            other = TRUE;
        }
    }
    if (none || (other && g_strcmp0(ctrl->model, "none") == 0)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_DETAIL,
                     "Can't add another USB controller: USB is disabled for this domain");
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_domain_controller_parse(const xmlNode *node, SvDomainDef *def, guint flags, GError **error)
{
    g_autoptr(SvDomainControllerDef) ctrl = sv_domain_controller_def_new(0, G_MAXUINT, NULL);
    g_autofree char *index = sv_xml_prop(node, "index");
    guint info_flags = (flags & SV_DOMAIN_PARSE_INACTIVE) ? 0 : SV_DEVICE_INFO_KEEP_ALIAS;
    int type = SV_DOMAIN_CONTROLLER_IDE;

    if (!sv_domain_prop_enum(node, "type", sv_domain_controller_type_from_string, 0, NULL, FALSE,
                             &type, error))
        return FALSE;
    ctrl->type = type;
    /* G_MAXUINT marks "assign one" until post-parse; real indexes fit libvirt's int. */
    if (index && !sv_domain_parse_int_range(index, &ctrl->index)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'index' in element 'controller': '%s'. "
                     "Expected integer value",
                     index);
        return FALSE;
    }
    if (!parse_model(node, ctrl, error) || !parse_options(node, ctrl, error) ||
        !sv_domain_device_info_parse(node, &ctrl->info, info_flags, error) ||
        !check_usb_none(def, ctrl, error))
        return FALSE;
    g_ptr_array_add(def->controllers, g_steal_pointer(&ctrl));
    return TRUE;
}

/* The controller's own children, in libvirt's order: <driver>, <model name>, <target>. */
static void
format_children(GString *buf, const SvDomainControllerDef *c)
{
    if (c->queues)
        g_string_append_printf(buf, "      <driver queues='%u'/>\n", c->queues);
    if (c->model_name) {
        g_string_append(buf, "      <model");
        sv_xml_append_attr(buf, "name", c->model_name);
        g_string_append(buf, "/>\n");
    }
    if (c->target_chassis_nr != -1 || c->target_chassis != -1 || c->target_port != -1 ||
        c->target_hotplug != SV_DOMAIN_SWITCH_ABSENT) {
        g_string_append(buf, "      <target");
        if (c->target_chassis_nr != -1)
            g_string_append_printf(buf, " chassisNr='%d'", c->target_chassis_nr);
        if (c->target_chassis != -1)
            g_string_append_printf(buf, " chassis='%d'", c->target_chassis);
        if (c->target_port != -1)
            g_string_append_printf(buf, " port='0x%x'", (guint)c->target_port);
        if (c->target_hotplug != SV_DOMAIN_SWITCH_ABSENT)
            sv_xml_append_attr(buf, "hotplug", sv_domain_switch_to_string(c->target_hotplug));
        g_string_append(buf, "/>\n");
    }
}

void
sv_domain_controller_format(GString *buf, const SvDomainControllerDef *c, guint flags)
{
    g_autoptr(GString) inner = g_string_new(NULL);
    g_autoptr(GString) info = g_string_new(NULL);
    const char *address;

    g_string_append_printf(buf, "    <controller type='%s' index='%u'",
                           sv_domain_controller_type_to_string(c->type), c->index);
    sv_xml_append_attr(buf, "model", c->model);
    if (c->ports != -1)
        g_string_append_printf(buf, " ports='%d'", c->ports);
    if (c->vectors != -1)
        g_string_append_printf(buf, " vectors='%d'", c->vectors);
    format_children(inner, c);
    /* libvirt writes <master> among the device info, between the alias and the address. */
    sv_domain_device_info_format(info, 6, &c->info, flags);
    address = strstr(info->str, "      <address");
    if (c->master_startport != -1) {
        g_autofree char *line = g_strdup_printf("      <master startport='%d'/>\n",
                                                c->master_startport);
        g_string_insert(info, address ? address - info->str : (gssize)info->len, line);
    }
    g_string_append(inner, info->str);
    if (!inner->len) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append_printf(buf, ">\n%s    </controller>\n", inner->str);
}
