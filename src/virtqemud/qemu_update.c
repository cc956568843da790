/* qemu_update.c: DOMAIN_UPDATE_DEVICE_FLAGS (virsh update-device) on virtqemud, as libvirt
 * 9.0's qemuDomainUpdateDeviceFlags serves it for an interface and a display (issue 18 item
 * 2): the persistent definition takes the new device as it is given (AFFECT_CONFIG); the
 * running guest takes a change of an interface's link state (QMP set_link on the NIC's
 * alias) or of a display's password (set_password, expire_password), any other change
 * refused with libvirt's error for it (qemuDomainChangeNet, qemuDomainChangeGraphics); a
 * cdrom or floppy <disk> whose <source> changed or is absent gets its new medium or is
 * ejected (qemu_media.c; qemuDomainChangeDiskLive; a volume medium resolved first,
 * qemu_volume.h), other disk changes refused. The
 * persistent change is checked before anything reaches the guest; both are saved once QEMU
 * has answered. */
#include "qemu_update.h"

#include <errno.h>

#include <glib/gstdio.h>

#include "conf/domain_parse.h"
#include "domain/domain_hotplug.h"
#include "domain/domain_ifparams.h"
#include "domain/domain_modify.h"
#include "qemu_command_net.h"
#include "qemu_display.h"
#include "qemu_command_disk.h"
#include "qemu_domain.h"
#include "qemu_hotplug.h"
#include "qemu_media.h"
#include "qemu_volume.h"
#include "util/error.h"

#define UPDATE_FLAGS                                                                               \
    (SV_DOMAIN_DEVICE_MODIFY_LIVE | SV_DOMAIN_DEVICE_MODIFY_CONFIG | SV_DOMAIN_DEVICE_MODIFY_FORCE)

/* An update on its way: what every device's has. */
typedef struct {
    SvCall *call; /* deferred */
    SvDomainDriver *drv;
    guint run;           /* weak handle of the guest's run (when `live`) */
    gboolean live;       /* the running guest changes */
    gboolean force;      /* VIR_DOMAIN_DEVICE_MODIFY_FORCE: a locked tray opened anyway */
    guint index;         /* the device's place in the live definition */
    SvDomainDef *config; /* the new persistent definition, or NULL */
} Update;

/* The guest a monitor reply of u comes back to, or NULL when its run is over. */
static SvDomainObj *
update_guest(Update *u)
{
    return sv_domain_list_find_run(u->drv->list, u->run);
}

/* Fail u's call when QEMU refused (error) or the guest is gone (no obj): TRUE then. */
static gboolean
update_failed(Update *u, SvDomainObj *obj, const GError *error)
{
    GError *gone = NULL;

    if (obj && !error)
        return FALSE;
    if (error) {
        sv_call_fail(u->call, g_error_copy(error));
        return TRUE;
    }
    sv_error_set(&gone, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
    sv_call_fail(u->call, gone);
    return TRUE;
}

/* The end of u on obj (its live change made): the new persistent definition in place, what
 * changed saved, then the call answered. */
static void
update_commit(Update *u, SvDomainObj *obj)
{
    SvDomainDef *config = NULL;

    if (u->config && sv_domain_obj_is_active(obj)) {
        sv_domain_def_free(obj->new_def);
        obj->new_def = g_steal_pointer(&u->config);
        config = obj->new_def;
    } else if (u->config) {
        sv_domain_obj_set_def(obj, g_steal_pointer(&u->config));
        config = obj->def;
    }
    sv_domain_modify_finish(u->call, u->drv, obj, u->live ? obj->def : NULL, config, TRUE);
}

/* What an update does for one kind of device (its struct begins with an Update). */
typedef struct {
    gsize size;
    /* The persistent definition config with dev's device (transfer full of dev) in place of
     * the one it names, or NULL with libvirt's error. */
    SvDomainDef *(*config_with)(SvDomainDriver *drv, const SvDomainDef *config,
                                SvDomainDef *dev, GError **error);
    /* dev checked against the running guest's device; *send: QEMU's state changes. */
    gboolean (*live_check)(SvDomainObj *obj, SvDomainDef *dev, Update *u, gboolean *send,
                           GError **error);
    void (*send)(QemuMonitor *mon, SvDomainObj *obj, Update *u); /* the monitor commands */
    void (*finish)(Update *u, SvDomainObj *obj, const GError *error); /* ends and frees u */
    void (*free)(Update *u);
} UpdateKind;

/* update-device of the device dev holds alone (transfer full): the persistent change made
 * and checked, then the live one checked, then sent to QEMU (when it changes anything).
 * live_in (transfer full) is the device for the live change when it differs from dev's
 * (a resolved volume), else NULL. */
static gboolean
update_run(SvCall *call, SvDomainObj *obj, SvDomainDef *dev_in, guint flags,
           SvDomainDef *live_in, const UpdateKind *kind, GError **error)
{
    g_autoptr(SvDomainDef) live_given = live_in;
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(SvDomainDef) dev = dev_in;
    g_autoptr(SvDomainDef) live_dev = NULL;
    SvDomainDef *live, *config;
    gboolean send = FALSE, force = (flags & SV_DOMAIN_DEVICE_MODIFY_FORCE) != 0;
    Update *u;

    flags &= ~SV_DOMAIN_DEVICE_MODIFY_FORCE;
    if (!sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    if (live)
        live_dev = live_given ? g_steal_pointer(&live_given) : sv_domain_def_copy(dev);
    u = g_malloc0(kind->size);
    u->force = force;
    if ((config && !(u->config = kind->config_with(drv, config, g_steal_pointer(&dev), error))) ||
        (live && !kind->live_check(obj, live_dev, u, &send, error))) {
        kind->free(u);
        return FALSE;
    }
    u->live = live != NULL;
    u->drv = drv;
    u->run = obj->run;
    u->call = sv_call_defer(call);
    if (send)
        kind->send(qemu_domain_of(obj)->mon, obj, u);
    else
        kind->finish(u, obj, NULL);
    return TRUE;
}

/* A link change on its way to QEMU: what to apply when set_link is answered. */
typedef struct {
    Update u;
    SvDomainNetLinkState link; /* the new state */
} LinkChange;

static void
link_change_free(Update *u)
{
    sv_domain_def_free(u->config);
    g_free(u);
}

static void
unsupported(GError **error, const char *msg)
{
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED, "%s", msg);
}

static gboolean
pci_same(const SvDomainDeviceInfo *a, const SvDomainDeviceInfo *b)
{
    const SvDomainPciAddress *x = &a->addr.pci, *y = &b->addr.pci;

    return x->domain == y->domain && x->bus == y->bus && x->slot == y->slot &&
           x->function == y->function;
}

/* libvirt's refusals of a live change of a NIC (old) into new (defaults given), in its
 * order: only the link state may differ. */
static gboolean
net_change_allowed(const SvDomainNetDef *old, const SvDomainNetDef *new,
                   GError **error)
{
    if (g_strcmp0(old->mac, new->mac) != 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "cannot change network interface mac address from %s to %s", old->mac,
                     new->mac);
        return FALSE;
    }
    if (g_strcmp0(old->model, new->model) != 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "cannot modify network device model from %s to %s",
                     old->model ? old->model : "(default)", new->model ? new->model : "(default)");
        return FALSE;
    }
    if (g_strcmp0(old->model, "virtio") == 0 &&
        (old->backend != new->backend || old->queues != new->queues ||
         old->rx_queue_size != new->rx_queue_size || old->tx_queue_size != new->tx_queue_size)) {
        unsupported(error, "cannot modify virtio network device driver attributes");
        return FALSE;
    }
    if (new->target_dev && g_strcmp0(old->target_dev, new->target_dev) != 0) {
        unsupported(error, "cannot modify network device tap name");
        return FALSE;
    }
    if (new->info.addr.type != SV_DOMAIN_ADDRESS_NONE &&
        (new->info.addr.type != old->info.addr.type || !pci_same(&old->info, &new->info))) {
        unsupported(error, "cannot modify network device guest PCI address");
        return FALSE;
    }
    if (old->rom_bar != new->rom_bar) {
        unsupported(error, "cannot modify network device rom bar setting");
        return FALSE;
    }
    if (g_strcmp0(old->rom_file, new->rom_file) != 0) {
        unsupported(error, "cannot modify network rom file");
        return FALSE;
    }
    if (old->info.boot_order != new->info.boot_order) {
        unsupported(error, "cannot modify network device boot index setting");
        return FALSE;
    }
    if (old->type != new->type || g_strcmp0(old->source, new->source) != 0 ||
        g_strcmp0(old->network, new->network) != 0 ||
        g_strcmp0(old->portgroup, new->portgroup) != 0 ||
        old->source_mode != new->source_mode || old->mtu != new->mtu ||
        old->rom_enabled != new->rom_enabled) {
        /* libvirt reconnects a bridge to another bridge here, or takes a port of another
         * network; splitvirt does not (yet). */
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "unable to change config on '%s' network type",
                     sv_domain_net_type_to_string(new->type));
        return FALSE;
    }
    return TRUE;
}

/* The persistent definition with config's NIC `net` names replaced by it (transfer full of
 * dev, whose only interface it is), given the driver's defaults; NULL with the error. */
static SvDomainDef *
config_with_net(SvDomainDriver *drv, const SvDomainDef *config,
                SvDomainDef *dev, GError **error)
{
    g_autoptr(SvDomainDef) owned = dev;
    g_autoptr(SvDomainDef) changed = sv_domain_def_copy(config);
    SvDomainNetDef *net = owned->interfaces->pdata[0];
    const SvDomainNetDef *old;
    guint at;

    if (!sv_domain_hotplug_net_find(changed, net, &at, error))
        return NULL;
    old = changed->interfaces->pdata[at];
    /* As libvirt keeps it: the address the definition gave the NIC when none is given. */
    if (net->info.addr.type == SV_DOMAIN_ADDRESS_NONE &&
        old->info.addr.type == SV_DOMAIN_ADDRESS_PCI)
        net->info.addr = old->info.addr;
    g_ptr_array_remove_index(changed->interfaces, at);
    g_ptr_array_insert(changed->interfaces, (gint)at,
                       g_ptr_array_steal_index(owned->interfaces, 0));
    return sv_domain_hotplug_redefine(drv, g_steal_pointer(&changed), error);
}

/* The end of a link change on obj (NULL: the guest is gone). */
static void
link_done(Update *u, SvDomainObj *obj, const GError *error)
{
    LinkChange *c = (LinkChange *)u;

    if (!update_failed(&c->u, obj, error)) {
        if (c->u.live)
            ((SvDomainNetDef *)obj->def->interfaces->pdata[c->u.index])->link = c->link;
        update_commit(&c->u, obj);
    }
    link_change_free(u);
}

static void
link_set(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    (void)mon;
    (void)ret;
    link_done(data, update_guest(data), error);
}

/* The live part: dev's interface (defaults given) checked against the running guest's, and
 * set_link sent when its link state differs; *c filled for the reply. FALSE: refused. */
static gboolean
net_update_live(SvDomainObj *obj, SvDomainDef *dev, Update *u, gboolean *send, GError **error)
{
    LinkChange *c = (LinkChange *)u;
    const SvDomainNetDef *net = dev->interfaces->pdata[0];
    const SvDomainNetDef *old;

    if (!sv_domain_hotplug_net_find(obj->def, net, &c->u.index, error))
        return FALSE;
    qemu_net_post_parse(dev);
    old = obj->def->interfaces->pdata[c->u.index];
    if (!net_change_allowed(old, net, error) ||
        (!sv_domain_bandwidth_equal(old->bandwidth, net->bandwidth) &&
         !sv_domain_ifparams_apply(obj->def->interfaces->pdata[c->u.index], net->bandwidth,
                                   error)))
        return FALSE;
    c->link = net->link;
    *send = old->link != net->link;
    return TRUE;
}

static void
link_send(QemuMonitor *mon, SvDomainObj *obj, Update *u)
{
    const SvDomainNetDef *net = obj->def->interfaces->pdata[u->index];
    JsonObject *args = json_object_new();

    json_object_set_string_member(args, "name", net->info.alias);
    json_object_set_boolean_member(args, "up", ((LinkChange *)u)->link != SV_DOMAIN_NET_LINK_DOWN);
    qemu_monitor_command(mon, "set_link", args, link_set, u);
}

static const UpdateKind net_kind = {
    sizeof(LinkChange), config_with_net, net_update_live, link_send, link_done, link_change_free,
};

/* ------------------------------------------------------------ graphics passwords */

/* A display password on its way to QEMU (set_password, then expire_password). */
typedef struct {
    Update u;
    SvDomainGraphicsDef *graphics; /* the new display, or NULL when only config changes */
} PasswordChange;

static void
password_change_free(Update *u)
{
    PasswordChange *c = (PasswordChange *)u;

    sv_domain_def_free(c->u.config);
    if (c->graphics)
        sv_domain_graphics_def_free(c->graphics);
    g_free(c);
}

static int
graphics_find(const SvDomainDef *def, SvDomainGraphicsType type)
{
    for (guint i = 0; i < def->graphics->len; i++) {
        if (((SvDomainGraphicsDef *)def->graphics->pdata[i])->type == type)
            return (int)i;
    }
    return -1;
}

static const char *
listen_address(const SvDomainGraphicsDef *g)
{
    return g->listens->len ? ((SvDomainGraphicsListenDef *)g->listens->pdata[0])->address
                           : NULL;
}

/* libvirt's refusals of a live change of a display (qemuDomainChangeGraphics), in its order;
 * *change: whether QEMU's password changes. */
static gboolean
graphics_change_allowed(const SvDomainGraphicsDef *old, const SvDomainGraphicsDef *new,
                        gboolean *change, GError **error)
{
    const char *type = sv_domain_graphics_type_to_string(new->type);

    if (g_strcmp0(listen_address(old), listen_address(new)) != 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "cannot change listen address setting on '%s' graphics", type);
        return FALSE;
    }
    if (old->autoport != new->autoport || (!new->autoport && old->port != new->port)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "cannot change port settings on %s graphics", type);
        return FALSE;
    }
    if (g_strcmp0(old->keymap, new->keymap) != 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "cannot change keymap setting on %s graphics", type);
        return FALSE;
    }
    *change = old->passwd_valid_to || new->passwd_valid_to ||
              g_strcmp0(old->connected, new->connected) != 0 ||
              g_strcmp0(old->passwd, new->passwd) != 0;
    return TRUE;
}

/* QEMU's expire_password time for g's password, as libvirt computes it: "now" for an empty
 * password or a validity already over, the end of its validity in seconds, or "never". */
static char *
password_expiry(const SvDomainGraphicsDef *g)
{
    g_autofree char *iso = NULL;
    g_autoptr(GDateTime) t = NULL;

    if (!g->passwd_valid_to)
        return g_strdup(g->passwd[0] ? "never" : "now");
    iso = g_strconcat(g->passwd_valid_to, "Z", NULL);
    t = g_date_time_new_from_iso8601(iso, NULL);
    if (!g->passwd[0] || !t || g_date_time_to_unix(t) <= g_get_real_time() / G_USEC_PER_SEC)
        return g_strdup("now");
    return g_strdup_printf("%" G_GINT64_FORMAT, g_date_time_to_unix(t));
}

/* The end of a password change on obj (NULL: the guest is gone). */
static void
password_finish(Update *u, SvDomainObj *obj, const GError *error)
{
    PasswordChange *c = (PasswordChange *)u;

    if (!update_failed(&c->u, obj, error)) {
        if (c->u.live) {
            SvDomainGraphicsDef *g = obj->def->graphics->pdata[c->u.index];

            g_free(g->passwd);
            g->passwd = g_steal_pointer(&c->graphics->passwd);
            g_free(g->passwd_valid_to);
            g->passwd_valid_to = g_steal_pointer(&c->graphics->passwd_valid_to);
            g_free(g->connected);
            g->connected = g_steal_pointer(&c->graphics->connected);
        }
        update_commit(&c->u, obj);
    }
    password_change_free(u);
}

static void
password_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    PasswordChange *c = data;

    (void)mon;
    (void)ret;
    password_finish(&c->u, update_guest(&c->u), error);
}

static void
password_set(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    PasswordChange *c = data;
    const char *protocol = sv_domain_graphics_type_to_string(c->graphics->type);
    g_autofree char *when = NULL;
    JsonObject *args;

    (void)ret;
    if (error || !update_guest(&c->u)) {
        password_finish(&c->u, update_guest(&c->u), error);
        return;
    }
    when = password_expiry(c->graphics);
    args = json_object_new();
    json_object_set_string_member(args, "protocol", protocol);
    json_object_set_string_member(args, "time", when);
    qemu_monitor_command(mon, "expire_password", args, password_done, c);
}

/* The persistent definition with config's display of dev's type replaced by dev's (transfer
 * full of dev), given the driver's defaults; NULL with libvirt's error. */
static SvDomainDef *
config_with_graphics(SvDomainDriver *drv, const SvDomainDef *config, SvDomainDef *dev,
                     GError **error)
{
    g_autoptr(SvDomainDef) owned = dev;
    g_autoptr(SvDomainDef) changed = sv_domain_def_copy(config);
    const SvDomainGraphicsDef *g = owned->graphics->pdata[0];
    int at = graphics_find(changed, g->type);

    if (!qemu_display_check_graphics(g, error))
        return NULL;
    if (at < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "cannot find existing graphics type '%s' device to modify",
                     sv_domain_graphics_type_to_string(g->type));
        return NULL;
    }
    g_ptr_array_remove_index(changed->graphics, (guint)at);
    g_ptr_array_insert(changed->graphics, at, g_ptr_array_steal_index(owned->graphics, 0));
    return sv_domain_hotplug_redefine(drv, g_steal_pointer(&changed), error);
}

/* The live part of a display's update: checked against the running guest's; *send when
 * QEMU's password changes. */
static gboolean
graphics_update_live(SvDomainObj *obj, SvDomainDef *dev, Update *u, gboolean *send,
                     GError **error)
{
    PasswordChange *c = (PasswordChange *)u;
    const SvDomainGraphicsDef *g = dev->graphics->pdata[0];
    int at = graphics_find(obj->def, g->type);

    if (!qemu_display_check_graphics(g, error))
        return FALSE;
    if (at < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_DEVICE_MISSING,
                     "cannot find existing graphics device to modify of type '%s'",
                     sv_domain_graphics_type_to_string(g->type));
        return FALSE;
    }
    if (!graphics_change_allowed(obj->def->graphics->pdata[at], g, send, error))
        return FALSE;
    c->u.index = (guint)at;
    c->graphics = g_ptr_array_steal_index(dev->graphics, 0);
    /* As libvirt: no password at all (none given, none configured) is not sent. */
    if (!c->graphics->passwd)
        *send = FALSE;
    return TRUE;
}

static void
password_send(QemuMonitor *mon, SvDomainObj *obj, Update *u)
{
    const SvDomainGraphicsDef *g = ((PasswordChange *)u)->graphics;
    JsonObject *args = json_object_new();

    (void)obj;
    json_object_set_string_member(args, "protocol", sv_domain_graphics_type_to_string(g->type));
    json_object_set_string_member(args, "password", g->passwd);
    if (g->connected)
        json_object_set_string_member(args, "connected", g->connected);
    qemu_monitor_command(mon, "set_password", args, password_set, u);
}

static const UpdateKind graphics_kind = {
    sizeof(PasswordChange), config_with_graphics, graphics_update_live, password_send,
    password_finish,        password_change_free,
};

/* ------------------------------------------------------------ cdrom and floppy media */

/* A medium change on its way to QEMU (qemu_media.c). */
typedef struct {
    Update u;
    SvDomainDiskDef *disk; /* the disk as given, its new medium's node index set */
} MediaChange;

static void
media_change_free(Update *u)
{
    MediaChange *c = (MediaChange *)u;

    sv_domain_def_free(c->u.config);
    if (c->disk)
        sv_domain_disk_def_free(c->disk);
    g_free(c);
}

static int
disk_find(const SvDomainDef *def, const char *target)
{
    for (guint i = 0; i < def->disks->len; i++) {
        if (g_str_equal(((SvDomainDiskDef *)def->disks->pdata[i])->target_dev, target))
            return (int)i;
    }
    return -1;
}

/* The persistent definition with its disk of dev's target replaced by dev's (transfer full
 * of dev), as libvirt's virDomainUpdateDeviceConfig replaces it; NULL with its error. */
static SvDomainDef *
config_with_disk(SvDomainDriver *drv, const SvDomainDef *config, SvDomainDef *dev,
                 GError **error)
{
    g_autoptr(SvDomainDef) owned = dev;
    g_autoptr(SvDomainDef) changed = sv_domain_def_copy(config);
    const SvDomainDiskDef *disk = owned->disks->pdata[0];
    int at = disk_find(changed, disk->target_dev);

    if (at < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "target %s doesn't exist.",
                     disk->target_dev);
        return NULL;
    }
    g_ptr_array_remove_index(changed->disks, (guint)at);
    g_ptr_array_insert(changed->disks, at, g_ptr_array_steal_index(owned->disks, 0));
    return sv_domain_hotplug_redefine(drv, g_steal_pointer(&changed), error);
}

/* The end of a medium change on obj (NULL: the guest is gone): the old medium's nodes
 * deleted, the live disk given the new one. */
static void
media_finish(Update *u, SvDomainObj *obj, const GError *error)
{
    MediaChange *c = (MediaChange *)u;

    if (!update_failed(&c->u, obj, error)) {
        /* Found again by its target: a hotplug meanwhile may have moved it. */
        int at = c->u.live && c->disk ? disk_find(obj->def, c->disk->target_dev) : -1;

        if (at >= 0) {
            SvDomainDiskDef *live = obj->def->disks->pdata[at];

            qemu_hotplug_del_nodes(obj, live);
            qemu_media_apply(live, c->disk);
        }
        update_commit(&c->u, obj);
    }
    media_change_free(u);
}

static void
media_done(const GError *error, gpointer data)
{
    MediaChange *c = data;

    media_finish(&c->u, update_guest(&c->u), error);
}

/* The live part of a disk's update: checked against the running guest's disk of its target
 * (libvirt's qemuDomainChangeDiskLive); *send when its medium changes. */
static gboolean
disk_update_live(SvDomainObj *obj, SvDomainDef *dev, Update *u, gboolean *send,
                 GError **error)
{
    MediaChange *c = (MediaChange *)u;
    SvDomainDiskDef *disk = dev->disks->pdata[0];
    int at = disk_find(obj->def, disk->target_dev);

    if (at < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "disk '%s' not found",
                     disk->target_dev);
        return FALSE;
    }
    if (!qemu_disk_def_post_parse(dev, error) ||
        !qemu_media_check(obj->def->disks->pdata[at], disk, send, error))
        return FALSE;
    c->u.index = (guint)at;
    if (!*send) {
        ((SvDomainDiskDef *)obj->def->disks->pdata[at])->startup_policy = disk->startup_policy;
        return TRUE;
    }
    /* As libvirt (qemuDomainDetermineDiskChain): a local image is looked at before QEMU. */
    if (disk->source && disk->type != SV_DOMAIN_DISK_TYPE_NETWORK &&
        g_access(disk->source, F_OK) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "Cannot access storage file '%s'",
                           disk->source);
        return FALSE;
    }
    c->disk = g_ptr_array_steal_index(dev->disks, 0);
    /* As libvirt: an empty medium takes a node index too (never used in QEMU). */
    c->disk->source_index = qemu_hotplug_next_node(obj);
    return TRUE;
}

static void
media_send(QemuMonitor *mon, SvDomainObj *obj, Update *u)
{
    MediaChange *c = (MediaChange *)u;
    const SvDomainDiskDef *live = obj->def->disks->pdata[u->index];

    qemu_media_change(mon, live->info.alias, c->disk, u->force, media_done, c);
}

static const UpdateKind disk_kind = {
    sizeof(MediaChange), config_with_disk, disk_update_live, media_send,
    media_finish,        media_change_free,
};

/* A volume medium on its way through the storage daemon: the update goes on once it is
 * resolved, the persistent definition taking the device as given (the names). */
typedef struct {
    SvCall *call; /* deferred */
    guint flags;
} VolumeUpdate;

static void
volume_resolved(SvDomainObj *obj, SvDomainDef *dev, SvDomainDef *resolved,
                const GError *error, gpointer data)
{
    g_autofree VolumeUpdate *v = data;
    g_autoptr(GError) err = NULL;

    if (error)
        sv_call_fail(v->call, g_error_copy(error));
    else if (!update_run(v->call, obj, dev, v->flags, resolved, &disk_kind, &err))
        sv_call_fail(v->call, g_steal_pointer(&err));
}

/* update-device of a volume disk: for the running guest, its volume resolved first (as
 * libvirt's qemuDomainChangeDiskLive translates it first), for the client of call. */
static gboolean
update_volume_disk(SvCall *call, SvDomainObj *obj, SvDomainDef *dev_in, guint flags,
                   GError **error)
{
    g_autoptr(SvDomainDef) dev = dev_in;
    guint which = flags & ~SV_DOMAIN_DEVICE_MODIFY_FORCE;
    SvDomainDef *live, *config;
    VolumeUpdate *v;

    if (!sv_domain_modify_defs(obj, &which, &live, &config, error))
        return FALSE;
    if (!live)
        return update_run(call, obj, g_steal_pointer(&dev), flags, NULL, &disk_kind, error);
    v = g_new0(VolumeUpdate, 1);
    v->flags = flags;
    v->call = sv_call_defer(call);
    qemu_volume_resolve_device(v->call, obj, g_steal_pointer(&dev), volume_resolved, v);
    return TRUE;
}

static gboolean
update_device_flags(SvCall *call, remote_domain_update_device_flags_args *a,
                    GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autofree char *kind = NULL;
    g_autoptr(SvDomainDef) dev = NULL;
    SvDomainObj *obj;

    if (!sv_domain_driver_check_flags(drv, a->flags, UPDATE_FLAGS, "DomainUpdateDeviceFlags",
                                      error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj)
        return FALSE;
    dev = sv_domain_device_parse(a->xml, &kind, error);
    if (!dev)
        return FALSE;
    if (g_str_equal(kind, "interface") && dev->interfaces->len == 1)
        return update_run(call, obj, g_steal_pointer(&dev), a->flags, NULL, &net_kind, error);
    if (g_str_equal(kind, "graphics") && dev->graphics->len == 1)
        return update_run(call, obj, g_steal_pointer(&dev), a->flags, NULL, &graphics_kind,
                          error);
    if (g_str_equal(kind, "disk") && dev->disks->len == 1 && qemu_volume_pending(dev))
        return update_volume_disk(call, obj, g_steal_pointer(&dev), a->flags, error);
    if (g_str_equal(kind, "disk") && dev->disks->len == 1)
        return update_run(call, obj, g_steal_pointer(&dev), a->flags, NULL, &disk_kind, error);
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                 "live update of device '%s' is not supported", kind);
    return FALSE;
}

void
qemu_update_install(SvRemoteHandlers *h)
{
    h->domain_update_device_flags = update_device_flags;
}
