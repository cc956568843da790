/* domain_hotplug.c: devices added to and removed from a persistent definition, and (through
 * the driver's SvHotplugFacts) from a running guest. */
#include "domain/domain_hotplug.h"

#include "domain/domain_modify.h"
#include "util/error.h"

#include <string.h>

#define AFFECT_BOTH (SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG)

/* libvirt's name of a device element's type in its errors (virDomainDeviceType). */
const char *
sv_domain_hotplug_type_name(const char *kind)
{
    if (g_str_equal(kind, "serial") || g_str_equal(kind, "parallel") ||
        g_str_equal(kind, "console") || g_str_equal(kind, "channel"))
        return "chr";
    if (g_str_equal(kind, "filesystem"))
        return "fs";
    if (g_str_equal(kind, "interface"))
        return "net";
    return kind;
}

/* Where libvirt puts a new disk (virDomainDiskInsert): before the first disk of its bus with
 * a later target, else after the last disk of its bus, else last. */
guint
sv_domain_hotplug_disk_insert_at(const SvDomainDef *def, const SvDomainDiskDef *disk)
{
    int at = -1;
    int index = sv_domain_disk_name_index(disk->target_dev);

    for (int i = (int)def->disks->len - 1; i >= 0; i--) {
        const SvDomainDiskDef *d = def->disks->pdata[i];

        if (d->bus != disk->bus)
            continue;
        if (sv_domain_disk_name_index(d->target_dev) > index)
            at = i;
        else if (at == -1)
            at = i + 1;
    }
    return at < 0 ? def->disks->len : (guint)at;
}

static gboolean
disk_find(const SvDomainDef *def, const char *target, guint *ret_index)
{
    for (guint i = 0; i < def->disks->len; i++) {
        const SvDomainDiskDef *d = def->disks->pdata[i];

        if (g_str_equal(d->target_dev, target)) {
            *ret_index = i;
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean
attach_config(SvDomainDef *def, SvDomainDef *dev, const char *kind, GError **error)
{
    gboolean handled;
    guint found;

    if (g_str_equal(kind, "disk") && dev->disks->len == 1) {
        SvDomainDiskDef *disk = dev->disks->pdata[0];

        if (disk_find(def, disk->target_dev, &found)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                         "target %s already exists", disk->target_dev);
            return FALSE;
        }
        g_ptr_array_insert(def->disks, (gint)sv_domain_hotplug_disk_insert_at(def, disk),
                           g_ptr_array_steal_index(dev->disks, 0));
        return TRUE;
    }
    if (g_str_equal(kind, "interface") && dev->interfaces->len == 1) {
        g_ptr_array_add(def->interfaces, g_ptr_array_steal_index(dev->interfaces, 0));
        return TRUE;
    }
    if (sv_domain_hotplug_attach_other(def, dev, kind, &handled, error))
        return TRUE;
    if (handled)
        return FALSE;
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                 "persistent attach of device '%s' is not supported",
                 sv_domain_hotplug_type_name(kind));
    return FALSE;
}

static gboolean
pci_equal(const SvDomainPciAddress *a, const SvDomainPciAddress *b)
{
    return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot &&
           a->function == b->function;
}

/* libvirt's virDomainNetFindIdx: the one interface with the MAC and the PCI address the XML
 * gives (those it gives), whose alias is the XML's if both have one. */
gboolean
sv_domain_hotplug_net_find(const SvDomainDef *def, const SvDomainNetDef *net, guint *ret_index,
                           GError **error)
{
    const SvDomainPciAddress *pci = &net->info.addr.pci;
    gboolean by_pci = net->info.addr.type == SV_DOMAIN_ADDRESS_PCI;
    g_autofree char *where = NULL;
    int match = -1;

    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];

        if (net->mac && g_strcmp0(n->mac, net->mac) != 0)
            continue;
        if (by_pci && (n->info.addr.type != SV_DOMAIN_ADDRESS_PCI ||
                       !pci_equal(&n->info.addr.pci, pci)))
            continue;
        if (net->info.alias && n->info.alias && !g_str_equal(n->info.alias, net->info.alias))
            continue;
        if (match >= 0) {
            if (net->mac)
                sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                             "multiple devices matching MAC address %s found", net->mac);
            else
                sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                             "multiple matching devices found");
            return FALSE;
        }
        match = (int)i;
    }
    if (match >= 0) {
        *ret_index = (guint)match;
        return TRUE;
    }
    /* libvirt prints what the XML does not give as glibc prints a NULL string. */
    where = by_pci ? g_strdup_printf("%04x:%02x:%02x.%x", pci->domain, pci->bus, pci->slot,
                                     pci->function)
                   : g_strdup("(<null>)");
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_DEVICE_MISSING,
                 "no device found at address '%s' matching MAC address '%s' and alias '%s'",
                 where, net->mac ? net->mac : "(<null>)",
                 net->info.alias ? net->info.alias : "(<null>)");
    return FALSE;
}

static gboolean
detach_config(SvDomainDef *def, SvDomainDef *dev, const char *kind, GError **error)
{
    gboolean handled;
    guint found;

    if (g_str_equal(kind, "disk") && dev->disks->len == 1) {
        const SvDomainDiskDef *disk = dev->disks->pdata[0];

        if (!disk_find(def, disk->target_dev, &found)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_DEVICE_MISSING, "no target device %s",
                         disk->target_dev);
            return FALSE;
        }
        g_ptr_array_remove_index(def->disks, found);
        return TRUE;
    }
    if (g_str_equal(kind, "interface") && dev->interfaces->len == 1) {
        if (!sv_domain_hotplug_net_find(def, dev->interfaces->pdata[0], &found, error))
            return FALSE;
        g_ptr_array_remove_index(def->interfaces, found);
        return TRUE;
    }
    if (sv_domain_hotplug_detach_other(def, dev, kind, &handled, error))
        return TRUE;
    if (handled)
        return FALSE;
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                 "persistent detach of device '%s' is not supported",
                 sv_domain_hotplug_type_name(kind));
    return FALSE;
}

/* def as a define of its XML makes it: parsed (the checks across devices, such as boot
 * orders beside <os><boot>), then given the driver's defaults and addresses. (transfer full
 * of def; the new definition, or NULL) */
static SvDomainDef *
redefine(SvDomainDriver *drv, SvDomainDef *def, GError **error)
{
    g_autoptr(SvDomainDef) owned = def;
    g_autofree char *text = NULL;
    g_autoptr(SvDomainDef) parsed = NULL;

    text = sv_domain_def_format(owned, -1, SV_DOMAIN_FORMAT_INACTIVE | SV_DOMAIN_FORMAT_SECURE);
    parsed = sv_domain_def_parse(text, SV_DOMAIN_PARSE_INACTIVE, error);
    if (!parsed || (drv->check_def && !drv->check_def(drv, parsed, error)))
        return NULL;
    return g_steal_pointer(&parsed);
}

SvDomainDef *
sv_domain_hotplug_redefine(SvDomainDriver *drv, SvDomainDef *def, GError **error)
{
    return redefine(drv, def, error);
}

/* A device change that reached the running guest (or failed there): the persistent
 * definition prepared with it is put in place, both are saved, and the call is answered. */
typedef struct {
    SvDomainDriver *drv;
    SvCall *call; /* deferred */
    guint8 uuid[16];
    SvDomainDef *changed; /* the new persistent definition; NULL: LIVE only */
} LiveChange;

static void
set_config(SvDomainObj *obj, SvDomainDef *changed)
{
    if (sv_domain_obj_is_active(obj)) {
        sv_domain_def_free(obj->new_def);
        obj->new_def = changed;
    } else {
        sv_domain_obj_set_def(obj, changed);
    }
}

void
sv_domain_hotplug_save_config(SvCall *call, SvDomainObj *obj, SvDomainDef *changed)
{
    set_config(obj, changed);
    sv_domain_modify_save(sv_domain_driver_of(call), obj, FALSE, TRUE,
                          sv_domain_modify_reply_call, sv_call_defer(call));
}

static void
live_done(const GError *error, gpointer data)
{
    LiveChange *job = data;
    SvDomainObj *obj = sv_domain_list_find_by_uuid(job->drv->list, job->uuid);
    gboolean config = job->changed != NULL;

    if (error || !obj) {
        GError *e = error ? g_error_copy(error) : NULL;

        if (!e)
            sv_error_set(&e, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        sv_call_fail(job->call, e);
        sv_domain_def_free(job->changed);
    } else {
        if (config)
            set_config(obj, job->changed);
        sv_domain_modify_save(job->drv, obj, TRUE, config, sv_domain_modify_reply_call,
                              job->call);
    }
    g_free(job);
}

/* The live half of a change (after the persistent one was prepared, as libvirt orders
 * them): handed to the driver, which answers through live_done. What the driver is asked:
 * the device of `xml` attached or detached, or (xml NULL) the device of `alias` detached. */
typedef struct {
    const char *xml;
    gboolean attach;
    const char *alias;
} LiveAsk;

static gboolean
ask_driver(SvCall *call, SvDomainObj *obj, const LiveAsk *ask, LiveChange *job,
           GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(SvDomainDef) dev = NULL;
    g_autofree char *kind = NULL;

    if (!ask->xml) {
        if (drv->hotplug && drv->hotplug->detach_alias)
            return drv->hotplug->detach_alias(obj, ask->alias, live_done, job, error);
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "live detach of device with alias '%s' is not supported", ask->alias);
        return FALSE;
    }
    /* libvirt parses the device of a live detach as live XML (its pty path kept). */
    dev = sv_domain_device_parse_flags(ask->xml, ask->attach ? SV_DOMAIN_PARSE_INACTIVE : 0,
                                       &kind, error);
    if (!dev)
        return FALSE;
    if (!drv->hotplug ||
        !(ask->attach ? drv->hotplug->attach_live != NULL
                      : drv->hotplug->detach_live != NULL)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "live %s of device '%s' is not supported",
                     ask->attach ? "attach" : "detach", sv_domain_hotplug_type_name(kind));
        return FALSE;
    }
    if (ask->attach)
        return drv->hotplug->attach_live(call, obj, dev, kind, live_done, job, error);
    return drv->hotplug->detach_live(obj, dev, kind, live_done, job, error);
}

static gboolean
change_live(SvCall *call, SvDomainObj *obj, const LiveAsk *ask, SvDomainDef *changed,
            GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(SvDomainDef) owned = changed;
    LiveChange *job = g_new0(LiveChange, 1);

    job->drv = drv;
    memcpy(job->uuid, obj->def->uuid, 16);
    if (!ask_driver(call, obj, ask, job, error)) {
        g_free(job);
        return FALSE;
    }
    /* The driver answers on the loop, never before this returns. */
    job->call = sv_call_defer(call);
    job->changed = g_steal_pointer(&owned);
    return TRUE;
}

/* The device change of a call: the persistent definition with the device added (attach) or
 * removed, checked and given its defaults by the driver; then the running guest's change
 * (AFFECT_LIVE) through the driver's facts; both saved, and the call answered once they
 * are on disk. */
static gboolean
change_device(SvCall *call, const remote_nonnull_domain *dom, const char *xml, guint flags,
              gboolean attach, const char *fn, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const SvHotplugFacts *hp = drv->hotplug;
    g_autoptr(SvDomainDef) dev = NULL;
    g_autoptr(SvDomainDef) changed = NULL;
    g_autofree char *kind = NULL;
    SvDomainDef *live, *config;
    SvDomainObj *obj;
    gboolean (*change_config)(SvDomainDef *, SvDomainDef *, const char *, GError **) =
        attach ? attach_config : detach_config;

    if (hp && (attach ? hp->attach_config : hp->detach_config))
        change_config = attach ? hp->attach_config : hp->detach_config;
    if (hp && (attach ? hp->attach_fn : hp->detach_fn))
        fn = attach ? hp->attach_fn : hp->detach_fn;
    if (!sv_domain_driver_check_flags(drv, flags, AFFECT_BOTH, fn, error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, dom, error);
    if (!obj || !sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    dev = sv_domain_device_parse(xml, &kind, error);
    if (!dev)
        return FALSE;
    sv_domain_hotplug_mark_auto(dev, kind, xml);
    if (config) {
        changed = sv_domain_def_copy(config);
        if (!change_config(changed, dev, kind, error))
            return FALSE;
        changed = redefine(drv, g_steal_pointer(&changed), error);
        if (!changed)
            return FALSE;
    }
    if (live) {
        LiveAsk ask = {xml, attach, NULL};
        return change_live(call, obj, &ask, g_steal_pointer(&changed), error);
    }
    set_config(obj, g_steal_pointer(&changed));
    sv_domain_modify_save(drv, obj, FALSE, TRUE, sv_domain_modify_reply_call,
                          sv_call_defer(call));
    return TRUE;
}

static gboolean
attach_device(SvCall *call, remote_domain_attach_device_args *a, GError **error)
{
    return change_device(call, &a->dom, a->xml, SV_DOMAIN_AFFECT_LIVE, TRUE,
                         "DomainAttachDeviceLiveAndConfig", error);
}

static gboolean
attach_device_flags(SvCall *call, remote_domain_attach_device_flags_args *a, GError **error)
{
    return change_device(call, &a->dom, a->xml, a->flags, TRUE,
                         "DomainAttachDeviceLiveAndConfig", error);
}

static gboolean
detach_device(SvCall *call, remote_domain_detach_device_args *a, GError **error)
{
    return change_device(call, &a->dom, a->xml, SV_DOMAIN_AFFECT_LIVE, FALSE,
                         "DomainDetachDeviceLiveAndConfig", error);
}

static gboolean
detach_device_flags(SvCall *call, remote_domain_detach_device_flags_args *a, GError **error)
{
    return change_device(call, &a->dom, a->xml, a->flags, FALSE,
                         "DomainDetachDeviceLiveAndConfig", error);
}

/* libvirt's DETACH_DEVICE_ALIAS on a persistent definition: the device with that alias (a
 * user alias, "ua-...", is the only kind a persistent definition keeps). */
static gboolean
detach_alias_config(SvDomainDef *def, const char *alias, GError **error)
{
    GPtrArray *lists[] = {def->disks, def->interfaces};

    if (sv_domain_hotplug_detach_alias_other(def, alias))
        return TRUE;

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            /* Every device struct starts with its SvDomainDeviceInfo. */
            const SvDomainDeviceInfo *info = lists[l]->pdata[i];

            if (g_strcmp0(info->alias, alias) == 0) {
                g_ptr_array_remove_index(lists[l], i);
                return TRUE;
            }
        }
    }
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INTERNAL_ERROR, "no device found with alias %s",
                 alias);
    return FALSE;
}

static gboolean
detach_device_alias(SvCall *call, remote_domain_detach_device_alias_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(SvDomainDef) changed = NULL;
    SvDomainDef *live, *config;
    SvDomainObj *obj;
    guint flags = a->flags;

    if (!sv_domain_driver_check_flags(drv, flags, AFFECT_BOTH,
                                      "DomainDetachDeviceAliasLiveAndConfig", error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj || !sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    if (config) {
        changed = sv_domain_def_copy(config);
        if (!detach_alias_config(changed, a->alias, error) ||
            !(changed = redefine(drv, g_steal_pointer(&changed), error)))
            return FALSE;
    }
    if (live) {
        LiveAsk ask = {NULL, FALSE, a->alias};
        return change_live(call, obj, &ask, g_steal_pointer(&changed), error);
    }
    set_config(obj, g_steal_pointer(&changed));
    sv_domain_modify_save(drv, obj, FALSE, TRUE, sv_domain_modify_reply_call,
                          sv_call_defer(call));
    return TRUE;
}

void
sv_domain_hotplug_install(SvDomainDriver *drv, SvRemoteHandlers *h)
{
    (void)drv;
    h->domain_attach_device = attach_device;
    h->domain_attach_device_flags = attach_device_flags;
    h->domain_detach_device = detach_device;
    h->domain_detach_device_flags = detach_device_flags;
    h->domain_detach_device_alias = detach_device_alias;
}

static gboolean
detach_device_alias_no_support(SvCall *call, remote_domain_detach_device_alias_args *a,
                               GError **error)
{
    (void)call;
    (void)a;
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "virDomainDetachDeviceAlias");
    return FALSE;
}

void
sv_domain_hotplug_install_alias_no_support(SvRemoteHandlers *h)
{
    h->domain_detach_device_alias = detach_device_alias_no_support;
}
