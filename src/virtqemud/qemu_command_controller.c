/* qemu_command_controller.c: controllers on QEMU's command line and libvirt's QEMU defaults
 * and checks for them (qemu_command_controller.h). */
#include "qemu_command_controller.h"

#include "qemu_argv.h"
#include "util/error.h"

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
controller_post_parse(SvDomainControllerDef *c, GError **error)
{
    const char *name = pci_model_name(c->model);

    /* A usb controller the XML gives without a model is the PIIX3's on every x86 machine,
     * q35 included (its PCI-only device then gets a pcie-to-pci-bridge): only the one
     * libvirt adds itself on q35 is a qemu-xhci (qemu_topo.c). */
    if (c->type == SV_DOMAIN_CONTROLLER_USB && !c->model)
        c->model = g_strdup("piix3-uhci");
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
qemu_controller_def_post_parse(SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        if (!controller_post_parse(def->controllers->pdata[i], error))
            return FALSE;
    }
    qemu_controllers_fill_ports(def);
    return TRUE;
}

gboolean
qemu_controller_check(const SvDomainDef *def, GError **error)
{
    /* USB disks without USB are refused where their ports are given (qemu_usb.c), after
     * what libvirt checks first (USB inputs). */
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];
        gboolean virtio_scsi = c->type == SV_DOMAIN_CONTROLLER_SCSI && c->model &&
                               !g_str_equal(c->model, "lsilogic");

        if (c->type == SV_DOMAIN_CONTROLLER_IDE && qemu_machine_is_q35(def)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "IDE controllers are unsupported for this QEMU binary or machine type");
            return FALSE;
        }
        if (c->queues && !virtio_scsi) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "'queues' is only supported by virtio-scsi controller");
            return FALSE;
        }
        /* The floppy controller is the machine's own (an isa-fdc on q35): one. */
        if (c->type == SV_DOMAIN_CONTROLLER_FDC && c->index > 0) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                         "Only 1 fdc controller is supported");
            return FALSE;
        }
        if (c->type == SV_DOMAIN_CONTROLLER_CCID || c->type == SV_DOMAIN_CONTROLLER_XENBUS) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "controller type '%s' is not supported by splitvirt's QEMU driver",
                         sv_domain_controller_type_to_string(c->type));
            return FALSE;
        }
    }
    return TRUE;
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
        o = qemu_props_new(!c->model || g_str_equal(c->model, "lsilogic") ? "lsi"
                           : g_str_equal(c->model, "virtio-transitional")
                               ? "virtio-scsi-pci-transitional"
                           : g_str_equal(c->model, "virtio-non-transitional")
                               ? "virtio-scsi-pci-non-transitional"
                               : "virtio-scsi-pci");
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
        o = qemu_props_new(g_strcmp0(c->model, "virtio-transitional") == 0
                               ? "virtio-serial-pci-transitional"
                           : g_strcmp0(c->model, "virtio-non-transitional") == 0
                               ? "virtio-serial-pci-non-transitional"
                               : "virtio-serial-pci");
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
