/* domain_hotplug_config.c: the devices beyond disks and interfaces added to and removed from
 * a persistent definition (AFFECT_CONFIG), as libvirt 9.0's QEMU driver changes it
 * (qemuDomainAttachDeviceConfig, qemuDomainDetachDeviceConfig; host devices as far as this
 * model keeps them), and the matching rules (libvirt's virDomain*Find) its live hotplug
 * shares. */
#include "domain/domain_hotplug.h"

#include "util/error.h"
#include "conf/domain_parse.h"
#include "conf/domain_xml.h"

/* ---------------------------------------------------------------- matching */

gboolean
sv_domain_hotplug_pci_equal(const SvDomainDeviceAddress *a, const SvDomainDeviceAddress *b)
{
    return a->pci.domain == b->pci.domain && a->pci.bus == b->pci.bus &&
           a->pci.slot == b->pci.slot && a->pci.function == b->pci.function;
}

/* What the device XML gives of its place and alias matches the definition's device. */
static gboolean
info_matches(const SvDomainDeviceInfo *want, const SvDomainDeviceInfo *have)
{
    if (want->alias && g_strcmp0(want->alias, have->alias) != 0)
        return FALSE;
    if (want->addr.type == SV_DOMAIN_ADDRESS_PCI)
        return have->addr.type == SV_DOMAIN_ADDRESS_PCI &&
               sv_domain_hotplug_pci_equal(&want->addr, &have->addr);
    return TRUE;
}

/* libvirt's virDomainChrSourceDefIsEqual. */
static gboolean
source_equal(const SvDomainChrSource *a, const SvDomainChrSource *b)
{
    if (a->type != b->type)
        return FALSE;
    switch (a->type) {
    case SV_DOMAIN_CHR_TYPE_FILE:
        return a->append == b->append && g_strcmp0(a->path, b->path) == 0;
    case SV_DOMAIN_CHR_TYPE_PTY:
        return g_strcmp0(a->path, b->path) == 0;
    case SV_DOMAIN_CHR_TYPE_TCP:
        return a->mode == b->mode && a->protocol == b->protocol &&
               g_strcmp0(a->host, b->host) == 0 && g_strcmp0(a->service, b->service) == 0;
    case SV_DOMAIN_CHR_TYPE_UNIX:
        return a->mode == b->mode && g_strcmp0(a->path, b->path) == 0;
    default:
        return TRUE;
    }
}

/* libvirt's virDomainChrEquals for two devices of the same kind. */
static gboolean
chr_equal(const char *kind, const SvDomainChrDef *a, const SvDomainChrDef *b)
{
    if (!source_equal(&a->source, &b->source))
        return FALSE;
    if (g_str_equal(kind, "channel"))
        return g_strcmp0(a->target_type, b->target_type) == 0 &&
               g_strcmp0(a->target_name, b->target_name) == 0;
    if (g_str_equal(kind, "serial") && g_strcmp0(a->target_model, b->target_model) != 0)
        return FALSE;
    return g_strcmp0(a->target_type, b->target_type) == 0 && a->target_port == b->target_port;
}

GPtrArray *
sv_domain_hotplug_chr_list(SvDomainDef *def, const char *kind)
{
    return g_str_equal(kind, "serial")    ? def->serials
           : g_str_equal(kind, "console") ? def->consoles
                                          : def->channels;
}

int
sv_domain_hotplug_chr_find(SvDomainDef *def, const char *kind, const SvDomainChrDef *want)
{
    GPtrArray *list = sv_domain_hotplug_chr_list(def, kind);

    for (guint i = 0; i < list->len; i++) {
        if (chr_equal(kind, list->pdata[i], want))
            return (int)i;
    }
    return -1;
}

void
sv_domain_hotplug_serial_defaults(SvDomainChrDef *c)
{
    if (!c->target_type)
        c->target_type = g_strdup("isa-serial");
    if (!c->target_model && (g_str_equal(c->target_type, "isa-serial") ||
                             g_str_equal(c->target_type, "pci-serial") ||
                             g_str_equal(c->target_type, "usb-serial")))
        c->target_model = g_strdup(c->target_type);
}

static gboolean
egd_equal(const SvDomainChrSource *a, const SvDomainChrSource *b)
{
    return a->type == b->type && a->mode == b->mode && g_strcmp0(a->path, b->path) == 0 &&
           g_strcmp0(a->host, b->host) == 0 && g_strcmp0(a->service, b->service) == 0;
}

/* libvirt's virDomainRNGFind: the same model and backend (device, or egd source), and the
 * address and alias the XML gives. */
static gboolean
rng_equal(const SvDomainRngDef *want, const SvDomainRngDef *have)
{
    if (g_strcmp0(want->model, have->model) != 0 || want->backend != have->backend)
        return FALSE;
    if (want->backend == SV_DOMAIN_RNG_BACKEND_RANDOM &&
        g_strcmp0(want->device, have->device) != 0)
        return FALSE;
    if (want->backend == SV_DOMAIN_RNG_BACKEND_EGD && !egd_equal(&want->egd, &have->egd))
        return FALSE;
    return info_matches(&want->info, &have->info);
}

/* libvirt's virDomainInputDefFind: type, bus, and the alias the XML gives. */
static gboolean
input_equal(const SvDomainInputDef *want, const SvDomainInputDef *have)
{
    return want->type == have->type && want->bus == have->bus &&
           (!want->info.alias || g_strcmp0(want->info.alias, have->info.alias) == 0);
}

int
sv_domain_hotplug_dev_find(SvDomainDef *def, const char *kind, gconstpointer want)
{
    gboolean rng = g_str_equal(kind, "rng");
    GPtrArray *list = rng ? def->rngs : def->inputs;

    for (guint i = 0; i < list->len; i++) {
        if (rng ? rng_equal(want, list->pdata[i]) : input_equal(want, list->pdata[i]))
            return (int)i;
    }
    return -1;
}

int
sv_domain_hotplug_controller_find(const SvDomainDef *def, SvDomainControllerType type,
                                  guint index)
{
    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *c = def->controllers->pdata[i];

        if (c->type == type && c->index == index)
            return (int)i;
    }
    return -1;
}

guint
sv_domain_hotplug_controller_insert_at(const SvDomainDef *def, const SvDomainControllerDef *c)
{
    int after = -1;

    for (guint i = 0; i < def->controllers->len; i++) {
        const SvDomainControllerDef *o = def->controllers->pdata[i];

        if (o->type != c->type)
            continue;
        if (o->index > c->index)
            return i;
        after = (int)i;
    }
    return after >= 0 ? (guint)after + 1 : def->controllers->len;
}

/* libvirt's virDomainSoundDefFind: model, codecs, and the address the XML gives. */
static gboolean
sound_equal(const SvDomainSoundDef *want, const SvDomainSoundDef *have)
{
    if (want->model != have->model || want->codecs->len != have->codecs->len)
        return FALSE;
    for (guint i = 0; i < want->codecs->len; i++) {
        if (g_array_index(want->codecs, SvDomainSoundCodec, i) !=
            g_array_index(have->codecs, SvDomainSoundCodec, i))
            return FALSE;
    }
    return want->info.addr.type != SV_DOMAIN_ADDRESS_PCI ||
           (have->info.addr.type == SV_DOMAIN_ADDRESS_PCI &&
            sv_domain_hotplug_pci_equal(&want->info.addr, &have->info.addr));
}

/* libvirt's virDomainHostdevMatch for the subsystem devices modelled: the same type and host
 * source (a USB device by the bus and device `have` gives, else by vendor and product). */
static gboolean
hostdev_equal(const SvDomainHostdevDef *want, const SvDomainHostdevDef *have)
{
    if (want->type != have->type)
        return FALSE;
    switch (have->type) {
    case SV_DOMAIN_HOSTDEV_USB:
        if (have->usb_bus && have->usb_device)
            return have->usb_bus == want->usb_bus && have->usb_device == want->usb_device;
        return have->vendor == want->vendor && have->product == want->product;
    case SV_DOMAIN_HOSTDEV_PCI:
        return have->pci_domain == want->pci_domain && have->pci_bus == want->pci_bus &&
               have->pci_slot == want->pci_slot && have->pci_function == want->pci_function;
    default:
        return g_strcmp0(have->adapter, want->adapter) == 0 &&
               have->scsi_bus == want->scsi_bus && have->scsi_target == want->scsi_target &&
               have->scsi_unit == want->scsi_unit;
    }
}

static int
hostdev_find(const SvDomainDef *def, const SvDomainHostdevDef *want)
{
    for (guint i = 0; i < def->hostdevs->len; i++) {
        if (hostdev_equal(want, def->hostdevs->pdata[i]))
            return (int)i;
    }
    return -1;
}

/* ---------------------------------------------------------------- auto numbers */

/* The device XML left out the controller's index or the serial's port: libvirt numbers it
 * against the domain (the lowest free index, the next port), not against the device alone
 * as its parse here did; marked G_MAXUINT for the config change to number. */
void
sv_domain_hotplug_mark_auto(SvDomainDef *dev, const char *kind, const char *xml)
{
    g_autoptr(GError) ignored = NULL;
    xmlDoc *doc = sv_xml_read_named(xml, "(device_definition)", &ignored);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

    if (root && g_str_equal(kind, "controller") && dev->controllers->len == 1) {
        g_autofree char *index = sv_xml_prop(root, "index");
        if (!index)
            ((SvDomainControllerDef *)dev->controllers->pdata[0])->index = G_MAXUINT;
    } else if (root && (g_str_equal(kind, "serial") || g_str_equal(kind, "console")) &&
               sv_domain_hotplug_chr_list(dev, kind)->len >= 1) {
        gboolean port = FALSE;

        for (const xmlNode *c = root->children; c; c = c->next) {
            g_autofree char *p = sv_xml_is(c, "target") ? sv_xml_prop(c, "port") : NULL;
            port |= p != NULL;
        }
        if (!port)
            ((SvDomainChrDef *)sv_domain_hotplug_chr_list(dev, kind)->pdata[0])->target_port =
                G_MAXUINT;
    }
    if (doc)
        xmlFreeDoc(doc);
}

static void
number_controller(const SvDomainDef *def, SvDomainControllerDef *c)
{
    guint index = 0;

    while (sv_domain_hotplug_controller_find(def, c->type, index) >= 0)
        index++;
    c->index = index;
}

/* libvirt's port for a serial or console without one: after the highest of the domain's. */
static void
number_port(GPtrArray *list, SvDomainChrDef *c)
{
    gint64 max = -1;

    for (guint i = 0; i < list->len; i++)
        max = MAX(max, (gint64)((const SvDomainChrDef *)list->pdata[i])->target_port);
    c->target_port = (guint)(max + 1);
}

/* ---------------------------------------------------------------- attach */

static gboolean
is_serial_console(const SvDomainChrDef *c)
{
    return !c->target_type || g_str_equal(c->target_type, "serial");
}

static gboolean
attach_chr(SvDomainDef *def, SvDomainDef *dev, const char *kind, GError **error)
{
    GPtrArray *from = sv_domain_hotplug_chr_list(dev, kind);
    SvDomainChrDef *c = from->pdata[0];

    if (g_str_equal(kind, "console") && is_serial_console(c)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "attaching serial console is not supported");
        return FALSE;
    }
    if (g_str_equal(kind, "serial"))
        sv_domain_hotplug_serial_defaults(c);
    if (c->target_port == G_MAXUINT)
        number_port(sv_domain_hotplug_chr_list(def, kind), c);
    if (sv_domain_hotplug_chr_find(def, kind, c) >= 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "chardev already exists");
        return FALSE;
    }
    g_ptr_array_add(sv_domain_hotplug_chr_list(def, kind), g_ptr_array_steal_index(from, 0));
    return TRUE;
}

static gboolean
attach_controller(SvDomainDef *def, SvDomainDef *dev, GError **error)
{
    SvDomainControllerDef *c = dev->controllers->pdata[0];

    if (c->index == G_MAXUINT) {
        number_controller(def, c);
    } else if (sv_domain_hotplug_controller_find(def, c->type, c->index) >= 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "controller index='%u' already exists", c->index);
        return FALSE;
    }
    g_ptr_array_insert(def->controllers, (gint)sv_domain_hotplug_controller_insert_at(def, c),
                       g_ptr_array_steal_index(dev->controllers, 0));
    return TRUE;
}

/* libvirt's virDomainDefHasDeviceAddress, for the PCI addresses this model keeps. */
static gboolean
pci_address_used(const SvDomainDef *def, const SvDomainDeviceInfo *want)
{
    GPtrArray *lists[] = {def->disks,    def->interfaces, def->controllers, def->filesystems,
                          def->serials,  def->channels,   def->rngs,        def->inputs,
                          def->sounds,   def->redirdevs,  def->hostdevs,    def->videos};

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            const SvDomainDeviceInfo *info = lists[l]->pdata[i];

            if (info->addr.type == SV_DOMAIN_ADDRESS_PCI &&
                sv_domain_hotplug_pci_equal(&info->addr, &want->addr))
                return TRUE;
        }
    }
    return (def->watchdog && def->watchdog->info.addr.type == SV_DOMAIN_ADDRESS_PCI &&
            sv_domain_hotplug_pci_equal(&def->watchdog->info.addr, &want->addr)) ||
           (def->memballoon && def->memballoon->info.addr.type == SV_DOMAIN_ADDRESS_PCI &&
            sv_domain_hotplug_pci_equal(&def->memballoon->info.addr, &want->addr));
}

static gboolean
attach_rng(SvDomainDef *def, SvDomainDef *dev, GError **error)
{
    const SvDomainRngDef *rng = dev->rngs->pdata[0];

    if (rng->info.addr.type == SV_DOMAIN_ADDRESS_PCI && pci_address_used(def, &rng->info)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "a device with the same address already exists ");
        return FALSE;
    }
    g_ptr_array_add(def->rngs, g_ptr_array_steal_index(dev->rngs, 0));
    return TRUE;
}

static gboolean
fs_find(const SvDomainDef *def, const char *target, guint *ret_index)
{
    for (guint i = 0; i < def->filesystems->len; i++) {
        if (g_str_equal(((const SvDomainFsDef *)def->filesystems->pdata[i])->target_dir,
                        target)) {
            *ret_index = i;
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
attach_fs(SvDomainDef *def, SvDomainDef *dev, GError **error)
{
    const SvDomainFsDef *fs = dev->filesystems->pdata[0];
    guint found;

    if (fs_find(def, fs->target_dir, &found)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "Target already exists");
        return FALSE;
    }
    g_ptr_array_add(def->filesystems, g_ptr_array_steal_index(dev->filesystems, 0));
    return TRUE;
}

static gboolean
attach_watchdog(SvDomainDef *def, SvDomainDef *dev, GError **error)
{
    if (def->watchdog) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "domain already has a watchdog");
        return FALSE;
    }
    def->watchdog = g_steal_pointer(&dev->watchdog);
    return TRUE;
}

static gboolean
attach_hostdev(SvDomainDef *def, SvDomainDef *dev, GError **error)
{
    if (hostdev_find(def, dev->hostdevs->pdata[0]) >= 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "device is already in the domain configuration");
        return FALSE;
    }
    g_ptr_array_add(def->hostdevs, g_ptr_array_steal_index(dev->hostdevs, 0));
    return TRUE;
}

static gboolean
is_chr_kind(const char *kind)
{
    return g_str_equal(kind, "serial") || g_str_equal(kind, "console") ||
           g_str_equal(kind, "channel");
}

/* Devices libvirt appends without a check (input, sound, redirdev). */
static gboolean
append_one(GPtrArray *to, GPtrArray *from)
{
    if (from->len != 1)
        return FALSE;
    g_ptr_array_add(to, g_ptr_array_steal_index(from, 0));
    return TRUE;
}

gboolean
sv_domain_hotplug_attach_other(SvDomainDef *def, SvDomainDef *dev, const char *kind,
                               gboolean *handled, GError **error)
{
    *handled = TRUE;
    if (is_chr_kind(kind) && sv_domain_hotplug_chr_list(dev, kind)->len >= 1)
        return attach_chr(def, dev, kind, error);
    if (g_str_equal(kind, "controller") && dev->controllers->len == 1)
        return attach_controller(def, dev, error);
    if (g_str_equal(kind, "rng") && dev->rngs->len == 1)
        return attach_rng(def, dev, error);
    if (g_str_equal(kind, "filesystem") && dev->filesystems->len == 1)
        return attach_fs(def, dev, error);
    if (g_str_equal(kind, "watchdog") && dev->watchdog)
        return attach_watchdog(def, dev, error);
    if (g_str_equal(kind, "hostdev") && dev->hostdevs->len == 1)
        return attach_hostdev(def, dev, error);
    if ((g_str_equal(kind, "input") && append_one(def->inputs, dev->inputs)) ||
        (g_str_equal(kind, "sound") && append_one(def->sounds, dev->sounds)) ||
        (g_str_equal(kind, "redirdev") && append_one(def->redirdevs, dev->redirdevs)))
        return TRUE;
    *handled = FALSE;
    return FALSE;
}

/* ---------------------------------------------------------------- detach */

static gboolean
missing(GError **error, const char *message)
{
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_DEVICE_MISSING, "%s", message);
    return FALSE;
}

/* libvirt's qemuDomainChrRemove: the device, and the console standing for it when it is
 * the first serial. */
static gboolean
detach_chr(SvDomainDef *def, SvDomainDef *dev, const char *kind, GError **error)
{
    SvDomainChrDef *c = sv_domain_hotplug_chr_list(dev, kind)->pdata[0];
    gboolean compat;
    int at;

    if (g_str_equal(kind, "console") && is_serial_console(c)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "detaching serial console is not supported");
        return FALSE;
    }
    if (g_str_equal(kind, "serial"))
        sv_domain_hotplug_serial_defaults(c);
    at = sv_domain_hotplug_chr_find(def, kind, c);
    if (at < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "device not present in domain configuration");
        return FALSE;
    }
    compat = g_str_equal(kind, "serial") && at == 0 && def->consoles->len &&
             sv_domain_console_is_serial(def, 0);
    g_ptr_array_remove_index(sv_domain_hotplug_chr_list(def, kind), (guint)at);
    if (compat)
        g_ptr_array_remove_index(def->consoles, 0);
    return TRUE;
}

static int
list_find(GPtrArray *list, gconstpointer want, gboolean (*equal)(gconstpointer, gconstpointer))
{
    for (guint i = 0; i < list->len; i++) {
        if (equal(want, list->pdata[i]))
            return (int)i;
    }
    return -1;
}

static gboolean
sound_equal_cb(gconstpointer want, gconstpointer have)
{
    return sound_equal(want, have);
}

/* libvirt's virDomainRedirdevDefFind for the one kind modelled (spicevmc on usb): the
 * address and alias the XML gives. */
static gboolean
redirdev_equal_cb(gconstpointer want, gconstpointer have)
{
    const SvDomainDeviceInfo *w = want, *h = have;

    if (w->alias && g_strcmp0(w->alias, h->alias) != 0)
        return FALSE;
    if (w->addr.type == SV_DOMAIN_ADDRESS_USB)
        return h->addr.type == SV_DOMAIN_ADDRESS_USB && w->addr.usb.bus == h->addr.usb.bus &&
               g_strcmp0(w->addr.usb.port, h->addr.usb.port) == 0;
    return TRUE;
}

static gboolean
remove_found(GPtrArray *list, int at, const char *message, GError **error)
{
    if (at < 0)
        return missing(error, message);
    g_ptr_array_remove_index(list, (guint)at);
    return TRUE;
}

static gboolean
detach_listed(SvDomainDef *def, SvDomainDef *dev, const char *kind, GError **error)
{
    guint found;

    if (g_str_equal(kind, "controller")) {
        const SvDomainControllerDef *c = dev->controllers->pdata[0];
        return remove_found(def->controllers,
                            sv_domain_hotplug_controller_find(def, c->type, c->index),
                            "device not present in domain configuration", error);
    }
    if (g_str_equal(kind, "rng") || g_str_equal(kind, "input")) {
        gboolean rng = g_str_equal(kind, "rng");
        return remove_found(rng ? def->rngs : def->inputs,
                            sv_domain_hotplug_dev_find(def, kind,
                                                       (rng ? dev->rngs : dev->inputs)->pdata[0]),
                            rng ? "no matching RNG device was found"
                                : "matching input device not found",
                            error);
    }
    if (g_str_equal(kind, "filesystem"))
        return remove_found(def->filesystems,
                            fs_find(def, ((SvDomainFsDef *)dev->filesystems->pdata[0])->target_dir,
                                    &found) ? (int)found : -1,
                            "no matching filesystem device was found", error);
    if (g_str_equal(kind, "hostdev"))
        return remove_found(def->hostdevs, hostdev_find(def, dev->hostdevs->pdata[0]),
                            "device not present in domain configuration", error);
    if (g_str_equal(kind, "sound"))
        return remove_found(def->sounds, list_find(def->sounds, dev->sounds->pdata[0],
                                                   sound_equal_cb),
                            "device not present in domain configuration", error);
    return remove_found(def->redirdevs,
                        list_find(def->redirdevs, dev->redirdevs->pdata[0], redirdev_equal_cb),
                        "no matching redirdev was not found", error);
}

static GPtrArray *
dev_list_of(SvDomainDef *dev, const char *kind)
{
    if (is_chr_kind(kind))
        return sv_domain_hotplug_chr_list(dev, kind);
    if (g_str_equal(kind, "controller"))
        return dev->controllers;
    if (g_str_equal(kind, "rng"))
        return dev->rngs;
    if (g_str_equal(kind, "input"))
        return dev->inputs;
    if (g_str_equal(kind, "filesystem"))
        return dev->filesystems;
    if (g_str_equal(kind, "sound"))
        return dev->sounds;
    if (g_str_equal(kind, "redirdev"))
        return dev->redirdevs;
    if (g_str_equal(kind, "hostdev"))
        return dev->hostdevs;
    return NULL;
}

gboolean
sv_domain_hotplug_detach_other(SvDomainDef *def, SvDomainDef *dev, const char *kind,
                               gboolean *handled, GError **error)
{
    GPtrArray *list = dev_list_of(dev, kind);

    *handled = TRUE;
    if (g_str_equal(kind, "watchdog") && dev->watchdog) {
        if (!def->watchdog)
            return missing(error, "domain has no watchdog");
        g_clear_pointer(&def->watchdog, sv_domain_watchdog_def_free);
        return TRUE;
    }
    if (list && list->len >= 1) {
        if (is_chr_kind(kind))
            return detach_chr(def, dev, kind, error);
        return detach_listed(def, dev, kind, error);
    }
    *handled = FALSE;
    return FALSE;
}

/* ---------------------------------------------------------------- by alias */

gboolean
sv_domain_hotplug_detach_alias_other(SvDomainDef *def, const char *alias)
{
    GPtrArray *lists[] = {def->controllers, def->channels,    def->consoles,
                          def->rngs,        def->inputs,      def->filesystems,
                          def->sounds,      def->redirdevs,  def->hostdevs};

    for (guint i = 0; i < def->serials->len; i++) {
        const SvDomainDeviceInfo *info = def->serials->pdata[i];

        if (g_strcmp0(info->alias, alias) == 0) {
            gboolean compat = i == 0 && def->consoles->len && sv_domain_console_is_serial(def, 0);
            g_ptr_array_remove_index(def->serials, i);
            if (compat)
                g_ptr_array_remove_index(def->consoles, 0);
            return TRUE;
        }
    }
    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            if (g_strcmp0(((const SvDomainDeviceInfo *)lists[l]->pdata[i])->alias, alias) == 0) {
                g_ptr_array_remove_index(lists[l], i);
                return TRUE;
            }
        }
    }
    if (def->watchdog && g_strcmp0(def->watchdog->info.alias, alias) == 0) {
        g_clear_pointer(&def->watchdog, sv_domain_watchdog_def_free);
        return TRUE;
    }
    return FALSE;
}
