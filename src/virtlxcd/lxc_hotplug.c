/* lxc_hotplug.c: a container's devices attached, detached and updated as libvirt 9.0's LXC
 * driver changes them (issue 18 item 2, LXC hotplug): the persistent definition with its
 * errors (lxcDomainAttachDeviceConfig and the like), and the running container's interfaces
 * as veth pairs the daemon makes, the container's end created in its init's network
 * namespace. The machinery (flags, definitions, saving, answering) is domain_hotplug.c's. */
#include "lxc_hotplug.h"

#include <errno.h>

#include "domain/domain_hotplug.h"
#include "domain/domain_modify.h"
#include "domain/domain_netport.h"
#include "programs/backend.h"
#include "lxc_domain.h"
#include "util/error.h"
#include "util/netdev.h"

#define AFFECT_BOTH (SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG)

/* ---------------------------------------------------------------- persistent definition */

static gboolean
disk_index(const SvDomainDef *def, const char *target, guint *ret_index)
{
    for (guint i = 0; i < def->disks->len; i++) {
        if (g_str_equal(((SvDomainDiskDef *)def->disks->pdata[i])->target_dev, target)) {
            *ret_index = i;
            return TRUE;
        }
    }
    return FALSE;
}

/* Whether the device parsed is one `want` (its list holds it). */
static gboolean
one_of(const char *kind, const char *want, const GPtrArray *list)
{
    return g_str_equal(kind, want) && list->len == 1;
}

/* lxcDomainAttachDeviceConfig: disks (each target once) and interfaces; no other kind. */
static gboolean
attach_config(SvDomainDef *def, SvDomainDef *dev, const char *kind, GError **error)
{
    guint found;

    if (one_of(kind, "disk", dev->disks)) {
        SvDomainDiskDef *disk = dev->disks->pdata[0];

        if (disk_index(def, disk->target_dev, &found)) {
            sv_error_set(error, SV_FROM_LXC, SV_ERR_INVALID_ARG, "target %s already exists.",
                         disk->target_dev);
            return FALSE;
        }
        g_ptr_array_insert(def->disks, (gint)sv_domain_hotplug_disk_insert_at(def, disk),
                           g_ptr_array_steal_index(dev->disks, 0));
        return TRUE;
    }
    if (one_of(kind, "interface", dev->interfaces)) {
        g_ptr_array_add(def->interfaces, g_ptr_array_steal_index(dev->interfaces, 0));
        return TRUE;
    }
    sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                 "persistent attach of device is not supported");
    return FALSE;
}

/* lxcDomainDetachDeviceConfig. */
static gboolean
detach_config(SvDomainDef *def, SvDomainDef *dev, const char *kind, GError **error)
{
    guint found;

    if (one_of(kind, "disk", dev->disks)) {
        const char *target = ((SvDomainDiskDef *)dev->disks->pdata[0])->target_dev;

        if (!disk_index(def, target, &found)) {
            sv_error_set(error, SV_FROM_LXC, SV_ERR_INVALID_ARG, "no target device %s",
                         target);
            return FALSE;
        }
        g_ptr_array_remove_index(def->disks, found);
        return TRUE;
    }
    if (one_of(kind, "interface", dev->interfaces)) {
        if (!sv_domain_hotplug_net_find(def, dev->interfaces->pdata[0], &found, error))
            return FALSE;
        g_ptr_array_remove_index(def->interfaces, found);
        return TRUE;
    }
    sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                 "persistent detach of device is not supported");
    return FALSE;
}

/* lxcDomainUpdateDeviceConfig: an interface replaced by the one the XML gives. */
static gboolean
update_config(SvDomainDef *def, SvDomainDef *dev, const char *kind, GError **error)
{
    guint found;

    if (!one_of(kind, "interface", dev->interfaces)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "persistent update of device is not supported");
        return FALSE;
    }
    if (!sv_domain_hotplug_net_find(def, dev->interfaces->pdata[0], &found, error))
        return FALSE;
    g_ptr_array_remove_index(def->interfaces, found);
    g_ptr_array_insert(def->interfaces, (gint)found, g_ptr_array_steal_index(dev->interfaces, 0));
    return TRUE;
}

/* ---------------------------------------------------------------- running container */

/* The answer of a live change, on the loop after the call returned (the facts' contract). */
typedef struct {
    SvStoreDoneFunc done;
    gpointer data;
} LaterDone;

static gboolean
later_done(gpointer p)
{
    LaterDone *l = p;

    l->done(NULL, l->data);
    g_free(l);
    return G_SOURCE_REMOVE;
}

static void
answer_later(SvStoreDoneFunc done, gpointer data)
{
    LaterDone *l = g_new0(LaterDone, 1);

    l->done = done;
    l->data = data;
    g_idle_add(later_done, l);
}

/* The pid of obj's init, or 0 with libvirt's error (it says "disk" for every device). */
static pid_t
init_pid(SvDomainObj *obj, GError **error)
{
    LxcDomain *ld = lxc_domain_of(obj);

    if (ld && ld->init && !ld->ended)
        return sv_process_get_pid(ld->init);
    sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID,
                 "Cannot attach disk until init PID is known");
    return 0;
}

/* Interface net's veth pair for the container whose init is pid: its host end (the
 * <target dev>) here, up and, for a bridge, its port; the other end made in init's network
 * namespace with the interface's MAC, named as libvirt names it (a free vethN; it is not
 * renamed there). Nothing is left on failure. */
static gboolean
plug(SvDomainObj *obj, const SvDomainNetDef *net, pid_t pid, GError **error)
{
    g_autoptr(GError) cleanup_error = NULL;
    g_autofree char *peer = NULL;
    guint next = 0;

    /* Free here and in the container (its /sys shows its links); not the host end's,
     * which is not made yet. */
    for (;;) {
        g_autofree char *inside = NULL;

        g_free(peer);
        peer = lxc_free_link_name(obj->list, &next);
        inside = g_strdup_printf("/proc/%d/root/sys/class/net/%s", (int)pid, peer);
        if (!g_str_equal(peer, net->target_dev) && !g_file_test(inside, G_FILE_TEST_EXISTS))
            break;
    }
    if (!sv_netdev_veth_create(net->target_dev, peer, net->mac, pid, error))
        return FALSE;
    if (sv_domain_net_bridge(net) &&
        !sv_netdev_bridge_add_port(sv_domain_net_bridge(net), net->target_dev, error)) {
        if (!sv_netdev_delete(net->target_dev, &cleanup_error))
            g_warning("%s", cleanup_error->message);
        return FALSE;
    }
    return TRUE;
}

/* lxcDomainAttachDeviceNetLive for bridge and ethernet interfaces: the interface given
 * its MAC and host-side name where the XML has none, plugged, and (transfer full) made
 * part of the live definition. */
static gboolean
attach_net(SvDomainObj *obj, SvDomainNetDef *net, GError **error)
{
    pid_t pid = init_pid(obj, error);
    guint next = 0;

    if (!pid)
        return FALSE;
    if (net->type != SV_DOMAIN_NET_TYPE_BRIDGE && net->type != SV_DOMAIN_NET_TYPE_ETHERNET &&
        net->type != SV_DOMAIN_NET_TYPE_NETWORK) {
        if (net->type == SV_DOMAIN_NET_TYPE_DIRECT)
            /* libvirt moves a macvlan link in; there are only macvtap links here. */
            sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_UNSUPPORTED,
                         "live attach of a direct interface to a container is not supported");
        else
            sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                         "Network device type is not supported");
        return FALSE;
    }
    lxc_complete_interface(obj->list, net, &next);
    if (!plug(obj, net, pid, error))
        return FALSE;
    g_ptr_array_add(obj->def->interfaces, net);
    return TRUE;
}

/* The MACs of the links in the network namespace of process pid, as the /sys of its
 * container shows them; NULL when it cannot be read. */
static GHashTable *
container_macs(pid_t pid)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/root/sys/class/net", (int)pid);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GHashTable *macs;
    const char *name;

    if (!d)
        return NULL;
    macs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, "address", NULL);
        g_autofree char *text = NULL;

        if (g_file_get_contents(path, &text, NULL, NULL))
            g_hash_table_add(macs, g_strdup(g_strstrip(text)));
    }
    return macs;
}

void
lxc_hotplug_replug(SvDomainObj *obj)
{
    LxcDomain *ld = lxc_domain_of(obj);
    pid_t pid = ld && ld->init ? sv_process_get_pid(ld->init) : 0;
    g_autoptr(GHashTable) present = pid ? container_macs(pid) : NULL;

    if (pid)
        lxc_hotplug_disk_replug(obj, pid);

    for (guint i = 0; present && i < obj->def->interfaces->len;) {
        const SvDomainNetDef *n = obj->def->interfaces->pdata[i];
        g_autoptr(GError) error = NULL;

        /* The supervisor made the start's pairs again before init ran; an old host end
         * may outlive its namespace for a moment (the kernel tears them down later). */
        if (!n->mac || !n->target_dev || g_hash_table_contains(present, n->mac) ||
            (sv_netdev_delete(n->target_dev, &error) && plug(obj, n, pid, &error))) {
            i++;
            continue;
        }
        g_warning("domain %s: interface %s is gone after the reboot: %s", obj->def->name,
                  n->target_dev, error->message);
        g_ptr_array_remove_index(obj->def->interfaces, i);
    }
}

/* An interface of type network on its way in: its port first (for the client), then the
 * veth; a plug that fails gives the port back. */
typedef struct {
    gpointer run;
    SvDomainDef *one; /* the guest's name and UUID with the interface alone */
    SvStoreDoneFunc done;
    gpointer data;
} NetAttach;

static void
net_port_ready(SvNetportWork *done, const GError *error, gpointer data)
{
    g_autoptr(SvNetportWork) work = done;
    g_autofree NetAttach *a = data;
    g_autoptr(SvDomainDef) one = a->one;
    g_autoptr(GError) err = NULL;
    SvDomainObj *obj = error ? NULL : lxc_domain_find_run(a->run);
    SvDomainNetDef *net;

    if (!error && !obj) {
        sv_netport_work_undo(work);
        sv_error_set(&err, SV_FROM_LXC, SV_ERR_OPERATION_INVALID, "domain is not running");
    }
    if (error || err) {
        a->done(error ? error : err, a->data);
        return;
    }
    sv_netport_apply(work, one);
    net = g_ptr_array_steal_index(one->interfaces, 0);
    if (!attach_net(obj, net, &err)) {
        g_ptr_array_add(one->interfaces, net);
        sv_netport_release(one, 0, lxc_ctx_of(obj)->family_run_dir);
        a->done(err, a->data);
        return;
    }
    a->done(NULL, a->data);
}

static gboolean
attach_network(SvCall *call, SvDomainObj *obj, SvDomainNetDef *net, SvStoreDoneFunc done,
               gpointer data, GError **error)
{
    NetAttach *a;
    SvBackendIdentity id;
    guint next = 0;

    if (!init_pid(obj, error))
        return FALSE;
    a = g_new0(NetAttach, 1);
    a->run = sv_domain_obj_run_key(obj);
    a->one = sv_domain_def_copy(obj->def);
    g_ptr_array_set_size(a->one->interfaces, 0);
    lxc_complete_interface(obj->list, net, &next);
    g_ptr_array_add(a->one->interfaces, net);
    a->done = done;
    a->data = data;
    sv_backend_identity_of_client(&id, sv_call_get_client(call));
    sv_netport_allocate(a->one, 0, lxc_ctx_of(obj)->family_run_dir, &id, net_port_ready, a);
    return TRUE;
}

static gboolean
lxc_attach_live(SvCall *call, SvDomainObj *obj, SvDomainDef *dev, const char *kind,
                SvStoreDoneFunc done, gpointer data, GError **error)
{
    if (one_of(kind, "interface", dev->interfaces) &&
        ((SvDomainNetDef *)dev->interfaces->pdata[0])->type == SV_DOMAIN_NET_TYPE_NETWORK) {
        SvDomainNetDef *net = g_ptr_array_steal_index(dev->interfaces, 0);

        if (attach_network(call, obj, net, done, data, error))
            return TRUE;
        g_ptr_array_add(dev->interfaces, net);
        return FALSE;
    }
    if (one_of(kind, "disk", dev->disks)) {
        SvDomainDiskDef *disk = dev->disks->pdata[0];
        pid_t pid = init_pid(obj, error);

        if (!pid || !lxc_hotplug_disk_attach(obj, pid, disk, error))
            return FALSE;
        g_ptr_array_insert(obj->def->disks,
                           (gint)sv_domain_hotplug_disk_insert_at(obj->def, disk),
                           g_ptr_array_steal_index(dev->disks, 0));
    } else if (one_of(kind, "interface", dev->interfaces)) {
        SvDomainNetDef *net = g_ptr_array_steal_index(dev->interfaces, 0);

        if (!attach_net(obj, net, error)) {
            g_ptr_array_add(dev->interfaces, net);
            return FALSE;
        }
    } else {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "device type '%s' cannot be attached", sv_domain_hotplug_type_name(kind));
        return FALSE;
    }
    answer_later(done, data);
    return TRUE;
}

/* lxcDomainDetachDeviceNetLive: the host end of a veth pair deleted (the container's end
 * goes with it). */
static gboolean
detach_net(SvDomainObj *obj, const SvDomainNetDef *net, GError **error)
{
    const SvDomainNetDef *live;
    guint found;

    if (!sv_domain_hotplug_net_find(obj->def, net, &found, error))
        return FALSE;
    live = obj->def->interfaces->pdata[found];
    if (live->type != SV_DOMAIN_NET_TYPE_BRIDGE && live->type != SV_DOMAIN_NET_TYPE_ETHERNET &&
        live->type != SV_DOMAIN_NET_TYPE_NETWORK) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "Only bridged veth devices can be detached");
        return FALSE;
    }
    if (live->target_dev && !sv_netdev_delete(live->target_dev, error))
        return FALSE;
    sv_netport_release(obj->def, (int)found, lxc_ctx_of(obj)->family_run_dir);
    g_ptr_array_remove_index(obj->def->interfaces, found);
    return TRUE;
}

static gboolean
lxc_detach_live(SvDomainObj *obj, SvDomainDef *dev, const char *kind, SvStoreDoneFunc done,
                gpointer data, GError **error)
{
    if (one_of(kind, "disk", dev->disks)) {
        const char *target = ((SvDomainDiskDef *)dev->disks->pdata[0])->target_dev;
        pid_t pid = init_pid(obj, error);

        if (!pid || !lxc_hotplug_disk_detach(obj, pid, target, error))
            return FALSE;
        answer_later(done, data);
        return TRUE;
    }
    if (one_of(kind, "interface", dev->interfaces)) {
        if (!detach_net(obj, dev->interfaces->pdata[0], error))
            return FALSE;
        answer_later(done, data);
        return TRUE;
    }
    sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                 "device type '%s' cannot be detached", sv_domain_hotplug_type_name(kind));
    return FALSE;
}

static const SvHotplugFacts lxc_hotplug_facts = {
    .attach_live = lxc_attach_live,
    .detach_live = lxc_detach_live,
    .attach_config = attach_config,
    .detach_config = detach_config,
    .attach_fn = "DomainAttachDeviceFlags",
    .detach_fn = "DomainDetachDeviceFlags",
};

/* ---------------------------------------------------------------- update */

/* lxcDomainUpdateDeviceFlags: the persistent definition only; a live change is refused
 * before the XML is read. */
static gboolean
update_device_flags(SvCall *call, remote_domain_update_device_flags_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(SvDomainDef) dev = NULL;
    g_autoptr(SvDomainDef) changed = NULL;
    g_autofree char *kind = NULL;
    SvDomainDef *live, *config;
    SvDomainObj *obj;
    guint flags = a->flags;

    if (!sv_domain_driver_check_flags(drv, flags, AFFECT_BOTH, "DomainUpdateDeviceFlags",
                                      error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj || !sv_domain_modify_defs(obj, &flags, &live, &config, error))
        return FALSE;
    if (live) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_UNSUPPORTED,
                     "Unable to modify live devices");
        return FALSE;
    }
    dev = sv_domain_device_parse(a->xml, &kind, error);
    if (!dev)
        return FALSE;
    changed = sv_domain_def_copy(config);
    if (!update_config(changed, dev, kind, error))
        return FALSE;
    changed = sv_domain_hotplug_redefine(drv, g_steal_pointer(&changed), error);
    if (!changed)
        return FALSE;
    sv_domain_hotplug_save_config(call, obj, g_steal_pointer(&changed));
    return TRUE;
}

void
lxc_hotplug_install(SvDomainDriver *drv, SvRemoteHandlers *h)
{
    drv->hotplug = &lxc_hotplug_facts;
    sv_domain_hotplug_install(drv, h);
    /* libvirt's LXC driver has no DETACH_DEVICE_ALIAS */
    sv_domain_hotplug_install_alias_no_support(h);
    h->domain_update_device_flags = update_device_flags;
}
