/* qemu_usb.c: USB ports and the implicit USB hubs, given at define as libvirt 9.0's QEMU driver
 * gives them (qemu_usb.h): every USB device without a port gets the first free one, looking
 * through the controllers by index and, once a bus' root ports are taken, through the hubs on
 * it; hubs are added first when the devices need more ports than the controllers have. */
#include "qemu_usb.h"

#include <string.h>

#include "qemu_argv.h"
#include "util/error.h"

/* A bus' root ports or a hub's ports: which are taken, and the hubs plugged into them. */
typedef struct UsbHub UsbHub;
struct UsbHub {
    guint nports;
    gboolean *taken;
    UsbHub **hubs;
};

static UsbHub *
hub_new(guint nports)
{
    UsbHub *h = g_new0(UsbHub, 1);

    h->nports = nports;
    h->taken = g_new0(gboolean, nports);
    h->hubs = g_new0(UsbHub *, nports);
    return h;
}

static void
hub_free(gpointer p)
{
    UsbHub *h = p;

    if (!h)
        return;
    for (guint i = 0; i < h->nports; i++)
        hub_free(h->hubs[i]);
    g_free(h->taken);
    g_free(h->hubs);
    g_free(h);
}

/* The root ports of a USB controller model as libvirt counts them: 0 for the ICH9 UHCI
 * companions (their ports are the EHCI's) and for none. */
static guint
controller_ports(const SvDomainControllerDef *c)
{
    /* The xHCI and qusb controllers take ports= (-1: unset). */
    static const struct {
        const char *model;
        guint ports;
        gboolean configurable;
    } models[] = {
        {"piix3-uhci", 2, FALSE}, {"piix4-uhci", 2, FALSE}, {"vt82c686b-uhci", 2, FALSE},
        {"ehci", 6, FALSE},       {"ich9-ehci1", 6, FALSE}, {"pci-ohci", 3, FALSE},
        {"nec-xhci", 4, TRUE},    {"qemu-xhci", 4, TRUE},   {"qusb1", 8, TRUE},
        {"qusb2", 8, TRUE},
    };

    /* No model: the driver's default, which is a piix3-uhci where it is not written. */
    if (!c->model)
        return 2;
    for (guint i = 0; i < G_N_ELEMENTS(models); i++) {
        if (g_str_equal(models[i].model, c->model))
            return models[i].configurable && c->ports != -1 ? (guint)c->ports : models[i].ports;
    }
    return 0;
}

gboolean
qemu_usb_def_has_usb(const SvDomainDef *def)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];

        if (c->type == SV_DOMAIN_CONTROLLER_USB && g_strcmp0(c->model, "none") != 0)
            return TRUE;
    }
    return FALSE;
}

/* The device info of every device on USB, in libvirt's order: hubs (unless `hubs` is FALSE),
 * host devices, disks, smartcard controllers, inputs, serials, sounds, redirdevs.
 * (transfer container) */
static GPtrArray *
usb_devices(SvDomainDef *def, gboolean hubs)
{
    GPtrArray *out = g_ptr_array_new();

    for (guint i = 0; hubs && i < def->hubs->len; i++)
        g_ptr_array_add(out, &((SvDomainHubDef *)def->hubs->pdata[i])->info);
    for (guint i = 0; i < def->hostdevs->len; i++) {
        SvDomainHostdevDef *h = def->hostdevs->pdata[i];
        if (h->type == SV_DOMAIN_HOSTDEV_USB)
            g_ptr_array_add(out, &h->info);
    }
    for (guint i = 0; i < def->disks->len; i++) {
        SvDomainDiskDef *d = def->disks->pdata[i];
        if (d->bus == SV_DOMAIN_DISK_BUS_USB)
            g_ptr_array_add(out, &d->info);
    }
    for (guint i = 0; i < def->controllers->len; i++) {
        SvDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == SV_DOMAIN_CONTROLLER_CCID)
            g_ptr_array_add(out, &c->info);
    }
    for (guint i = 0; i < def->inputs->len; i++) {
        SvDomainInputDef *in = def->inputs->pdata[i];
        if (in->bus == SV_DOMAIN_INPUT_BUS_USB)
            g_ptr_array_add(out, &in->info);
    }
    for (guint i = 0; i < def->serials->len; i++) {
        SvDomainChrDef *c = def->serials->pdata[i];
        if (g_strcmp0(c->target_type, "usb-serial") == 0)
            g_ptr_array_add(out, &c->info);
    }
    for (guint i = 0; i < def->sounds->len; i++) {
        SvDomainSoundDef *s = def->sounds->pdata[i];
        if (s->model == SV_DOMAIN_SOUND_USB)
            g_ptr_array_add(out, &s->info);
    }
    for (guint i = 0; i < def->redirdevs->len; i++)
        g_ptr_array_add(out, &((SvDomainRedirdevDef *)def->redirdevs->pdata[i])->info);
    return out;
}

static gboolean
has_port(const SvDomainDeviceInfo *info)
{
    return info->addr.type == SV_DOMAIN_ADDRESS_USB &&
           sv_domain_usb_port_is_set(info->addr.usb.port);
}

/* libvirt adds hubs of 8 ports when the devices outnumber the ports of the controllers and
 * hubs there are: each hub takes one port of the others. */
static gboolean
add_hubs(SvDomainDef *def, GError **error)
{
    g_autoptr(GPtrArray) devices = usb_devices(def, TRUE);
    guint ports = def->hubs->len * SV_DOMAIN_USB_HUB_PORTS;

    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];
        if (c->type == SV_DOMAIN_CONTROLLER_USB)
            ports += controller_ports(c);
    }
    if (devices->len && !qemu_usb_def_has_usb(def)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "USB is disabled for this domain, but USB devices are present in the "
                     "domain XML");
        return FALSE;
    }
    if (devices->len > ports) {
        guint needed = (devices->len - ports + 1 + SV_DOMAIN_USB_HUB_PORTS - 2) /
                       (SV_DOMAIN_USB_HUB_PORTS - 1);

        for (guint i = 0; i < needed; i++)
            g_ptr_array_add(def->hubs, g_new0(SvDomainHubDef, 1));
    }
    return TRUE;
}

static gboolean
add_controllers(GPtrArray *buses, const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];
        guint n = c->type == SV_DOMAIN_CONTROLLER_USB ? controller_ports(c) : 0;

        if (!n)
            continue;
        if (buses->len <= c->index)
            g_ptr_array_set_size(buses, c->index + 1);
        if (buses->pdata[c->index]) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "Duplicate USB controllers with index %u", c->index);
            return FALSE;
        }
        buses->pdata[c->index] = hub_new(n);
    }
    return TRUE;
}

/* The hub or root ports the last number of info's port path is on; *port is its index. */
static UsbHub *
find_port(GPtrArray *buses, const SvDomainDeviceInfo *info, guint *port, GError **error)
{
    const SvDomainUsbAddress *a = &info->addr.usb;
    guint path[SV_DOMAIN_USB_PORT_DEPTH] = {0};
    g_autofree char *text = NULL;
    guint last = SV_DOMAIN_USB_PORT_DEPTH - 1;
    UsbHub *hub;

    sv_domain_usb_port_parse(a->port, path);
    text = sv_domain_usb_port_format(path, TRUE);
    if (a->bus >= buses->len || !buses->pdata[a->bus]) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "Missing USB bus %u", a->bus);
        return NULL;
    }
    hub = buses->pdata[a->bus];
    while (last > 0 && !path[last])
        last--;
    for (guint i = 0; i < last; i++) {
        if (path[i] == 0 || path[i] > hub->nports) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "port %u out of range in USB address bus: %u port: %s", path[i], a->bus,
                         text);
            return NULL;
        }
        if (!hub->hubs[path[i] - 1]) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                         "there is no hub at port %u in USB address bus: %u port: %s", path[i],
                         a->bus, text);
            return NULL;
        }
        hub = hub->hubs[path[i] - 1];
    }
    if (path[last] == 0 || path[last] > hub->nports) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "requested USB port %s not present on USB bus %u", text, a->bus);
        return NULL;
    }
    *port = path[last] - 1;
    return hub;
}

static gboolean
reserve(GPtrArray *buses, const SvDomainDeviceInfo *info, GError **error)
{
    UsbHub *hub;
    guint port;

    if (!has_port(info))
        return TRUE;
    if (!(hub = find_port(buses, info, &port, error)))
        return FALSE;
    if (hub->taken[port]) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "Duplicate USB address bus %u port %s", info->addr.usb.bus,
                     info->addr.usb.port);
        return FALSE;
    }
    hub->taken[port] = TRUE;
    return TRUE;
}

/* Plug a new hub into the port `info` names. */
static gboolean
plug_hub(GPtrArray *buses, const SvDomainDeviceInfo *info, GError **error)
{
    UsbHub *hub;
    guint port;

    if (!(hub = find_port(buses, info, &port, error)))
        return FALSE;
    if (hub->hubs[port]) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR, "Duplicate USB hub on bus %u port %s",
                     info->addr.usb.bus, info->addr.usb.port);
        return FALSE;
    }
    hub->taken[port] = TRUE;
    hub->hubs[port] = hub_new(SV_DOMAIN_USB_HUB_PORTS);
    return TRUE;
}

/* The first free port at or below `hub`, depth first through its hubs, into path[level...]. */
static gboolean
find_free(UsbHub *hub, guint *path, guint level)
{
    for (guint i = 0; i < hub->nports; i++) {
        if (!hub->taken[i]) {
            path[level] = i + 1;
            return TRUE;
        }
    }
    if (level >= SV_DOMAIN_USB_PORT_DEPTH - 1)
        return FALSE;
    for (guint i = 0; i < hub->nports; i++) {
        if (hub->hubs[i] && find_free(hub->hubs[i], path, level + 1)) {
            path[level] = i + 1;
            return TRUE;
        }
    }
    return FALSE;
}

/* A free port for info: on its bus when it names one, else on the first bus with one. */
static gboolean
assign(GPtrArray *buses, SvDomainDeviceInfo *info, GError **error)
{
    gboolean given = info->addr.type == SV_DOMAIN_ADDRESS_USB;
    guint bus = given ? info->addr.usb.bus : 0;

    if (given && (bus >= buses->len || !buses->pdata[bus])) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_XML_ERROR,
                     "USB bus %u requested but no controller with that index is present", bus);
        return FALSE;
    }
    for (; bus < buses->len; bus++) {
        guint path[SV_DOMAIN_USB_PORT_DEPTH] = {0};

        if (buses->pdata[bus] && find_free(buses->pdata[bus], path, 0)) {
            /* A device without an address has nothing else in addr to clear. */
            g_free(info->addr.usb.port);
            memset(&info->addr, 0, sizeof(info->addr));
            info->addr.type = SV_DOMAIN_ADDRESS_USB;
            info->addr.usb.bus = bus;
            info->addr.usb.port = sv_domain_usb_port_format(path, TRUE);
            return reserve(buses, info, error);
        }
        if (given)
            break;
    }
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "No free USB ports");
    return FALSE;
}

static gboolean
assign_all(GPtrArray *buses, SvDomainDef *def, GError **error)
{
    g_autoptr(GPtrArray) devices = usb_devices(def, FALSE);

    for (guint i = 0; i < def->hubs->len; i++) {
        SvDomainDeviceInfo *info = &((SvDomainHubDef *)def->hubs->pdata[i])->info;

        if (!has_port(info) && (!assign(buses, info, error) || !plug_hub(buses, info, error)))
            return FALSE;
    }
    for (guint i = 0; i < devices->len; i++) {
        SvDomainDeviceInfo *info = devices->pdata[i];

        if ((info->addr.type == SV_DOMAIN_ADDRESS_NONE ||
             info->addr.type == SV_DOMAIN_ADDRESS_USB) &&
            !has_port(info) && !assign(buses, info, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
qemu_usb_assign_addresses(SvDomainDef *def, GError **error)
{
    g_autoptr(GPtrArray) buses = g_ptr_array_new_with_free_func(hub_free);
    g_autoptr(GPtrArray) devices = NULL;

    if (!add_hubs(def, error) || !add_controllers(buses, def, error))
        return FALSE;
    /* Hubs with a port first (what is plugged into them needs them), then every port given. */
    for (guint i = 0; i < def->hubs->len; i++) {
        const SvDomainDeviceInfo *info = &((SvDomainHubDef *)def->hubs->pdata[i])->info;

        if (has_port(info) && !plug_hub(buses, info, error))
            return FALSE;
    }
    devices = usb_devices(def, FALSE);
    for (guint i = 0; i < devices->len; i++) {
        if (!reserve(buses, devices->pdata[i], error))
            return FALSE;
    }
    return assign_all(buses, def, error);
}

gboolean
qemu_usb_check_inputs(const SvDomainDef *def, GError **error)
{
    if (qemu_usb_def_has_usb(def))
        return TRUE;
    for (guint i = 0; i < def->inputs->len; i++) {
        if (((SvDomainInputDef *)def->inputs->pdata[i])->bus == SV_DOMAIN_INPUT_BUS_USB) {
            sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                         "Can't add USB input device. USB bus is disabled");
            return FALSE;
        }
    }
    return TRUE;
}

void
qemu_usb_assign_aliases(SvDomainDef *def)
{
    for (guint i = 0; i < def->hubs->len; i++) {
        SvDomainHubDef *hub = def->hubs->pdata[i];

        if (!hub->info.alias)
            hub->info.alias = g_strdup_printf("hub%u", i);
    }
}

void
qemu_usb_build_hubs(const SvDomainDef *def, GPtrArray *argv)
{
    for (guint i = 0; i < def->hubs->len; i++) {
        const SvDomainHubDef *hub = def->hubs->pdata[i];
        JsonObject *o = qemu_props_new("usb-hub");

        qemu_props_str(o, "id", hub->info.alias);
        qemu_props_device_info(o, def, &hub->info);
        qemu_argv_add_json(argv, "-device", o);
    }
}
