/* nodedev_driver.c: virtnodedevd's connection (nodedev:///system) and its read-only
 * node-device procedures, answered from nodedev.c's view of the host as libvirt 9.0's
 * node-device driver answers them, kept up to date from uevents (nodedev_monitor.c), with
 * the lifecycle and update events libvirt sends. Creating, destroying, defining and
 * detaching devices are not served (libvirt's client makes the unknown procedure
 * NO_SUPPORT). */
#include "nodedev_driver.h"

#include <string.h>

#include "domain/domain_connect.h"
#include "nodedev.h"
#include "nodedev_monitor.h"
#include "programs/object_events.h"
#include "programs/qemu.h"
#include "programs/remote.h"
#include "util/error.h"

/* Without a uevent monitor (a test's sysfs tree, or no netlink socket to be had), how long
 * an enumeration answers for: hotplug shows within this. */
#define NODEDEV_REFRESH_USEC (2 * G_USEC_PER_SEC)

typedef struct {
    SvDaemon *daemon;
    SvRemoteHandlers handlers;
    char *root;
    GPtrArray *devs; /* NodeDev, computer first */
    gint64 read_at;
    NodeDevMonitor *monitor; /* NULL: devs is read again when older than the refresh time */
} NodeDevDriver;

static SvObjectEvents nodedev_events =
    SV_OBJECT_EVENTS_INIT("node device", SV_NODE_DEVICE_EVENT_ID_LAST);

static const char *const nodedev_paths[] = {"/system", NULL};
static const SvConnectFacts nodedev_connect = {
    .scheme = "nodedev",
    .paths = nodedev_paths,
    .path_error = "unexpected nodedev URI path",
    .path_error_from = SV_FROM_NONE,
    .default_uri = "nodedev:///system",
    .type = "nodedev",
};

static NodeDevDriver *
driver_of(SvCall *call)
{
    return sv_call_get_server_data(call);
}

/* The host's devices: as uevents keep them, else read again when the last reading is older
 * than the refresh time. */
static GPtrArray *
devices_of(SvCall *call)
{
    NodeDevDriver *drv = driver_of(call);
    gint64 now = g_get_monotonic_time();

    if (!drv->devs || (!drv->monitor && now - drv->read_at > NODEDEV_REFRESH_USEC)) {
        g_clear_pointer(&drv->devs, g_ptr_array_unref);
        drv->devs = nodedev_enumerate(drv->root);
        drv->read_at = now;
    }
    return drv->devs;
}

static NodeDev *
find_or_fail(SvCall *call, const char *name, GError **error)
{
    NodeDev *dev = nodedev_find(devices_of(call), name);

    if (!dev)
        sv_error_set(error, SV_FROM_NODEDEV, SV_ERR_NO_NODE_DEVICE,
                     "no node device with matching name '%s'", name);
    return dev;
}

/* ---------------------------------------------------------------- connection */

/* ---------------------------------------------------------------- listing */

/* The devices having capability cap (all for NULL), sorted by name. */
static GPtrArray *
devices_with_cap(SvCall *call, const char *cap)
{
    GPtrArray *devs = devices_of(call);
    GPtrArray *out = g_ptr_array_new();

    for (guint i = 0; i < devs->len; i++) {
        if (!cap || nodedev_has_cap(devs->pdata[i], cap))
            g_ptr_array_add(out, devs->pdata[i]);
    }
    return out;
}

static gboolean
node_num_of_devices(SvCall *call, remote_node_num_of_devices_args *a,
                    remote_node_num_of_devices_ret *ret, GError **error)
{
    g_autoptr(GPtrArray) devs = NULL;

    if (!sv_check_flags(a->flags, 0, SV_FROM_NODEDEV, "nodeNumOfDevices", error))
        return FALSE;
    devs = devices_with_cap(call, a->cap ? *a->cap : NULL);
    ret->num = devs->len;
    return TRUE;
}

static gboolean
node_list_devices(SvCall *call, remote_node_list_devices_args *a,
                  remote_node_list_devices_ret *ret, GError **error)
{
    g_autoptr(GPtrArray) devs = NULL;
    guint n;

    if (a->maxnames < 0 || a->maxnames > REMOTE_NODE_DEVICE_LIST_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "maxnames > REMOTE_NODE_DEVICE_LIST_MAX");
        return FALSE;
    }
    if (!sv_check_flags(a->flags, 0, SV_FROM_NODEDEV, "nodeListDevices", error))
        return FALSE;
    devs = devices_with_cap(call, a->cap ? *a->cap : NULL);
    n = MIN(devs->len, (guint)a->maxnames);
    ret->names.names_len = n;
    ret->names.names_val = g_new0(char *, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        ret->names.names_val[i] = g_strdup(((NodeDev *)devs->pdata[i])->name);
    return TRUE;
}

/* Whether dev passes the capability bits of a LIST_ALL filter (none: every device). */
static gboolean
matches_filter(const NodeDev *dev, unsigned int flags)
{
    static const struct {
        unsigned int bit;
        const char *cap;
    } bits[] = {
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_SYSTEM, "system"},
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV, "pci"},
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_USB_DEV, "usb_device"},
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_USB_INTERFACE, "usb"},
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_NET, "net"},
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_STORAGE, "storage"},
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_HOST, "scsi_host"},
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_SCSI_TARGET, "scsi_target"},
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_SCSI, "scsi"},
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_FC_HOST, "fc_host"},
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_VPORTS, "vports"},
        {SV_CONNECT_LIST_NODE_DEVICES_CAP_MDEV_TYPES, "mdev_types"},
    };
    unsigned int caps = flags & ~(SV_CONNECT_LIST_NODE_DEVICES_ACTIVE |
                                  SV_CONNECT_LIST_NODE_DEVICES_INACTIVE);

    /* every device found in sysfs is active: INACTIVE alone matches none */
    if ((flags & SV_CONNECT_LIST_NODE_DEVICES_INACTIVE) &&
        !(flags & SV_CONNECT_LIST_NODE_DEVICES_ACTIVE))
        return FALSE;
    if (!caps)
        return TRUE;
    for (gsize i = 0; i < G_N_ELEMENTS(bits); i++) {
        if ((caps & bits[i].bit) && nodedev_has_cap(dev, bits[i].cap))
            return TRUE;
    }
    return FALSE;
}

static gboolean
connect_list_all_node_devices(SvCall *call, remote_connect_list_all_node_devices_args *a,
                              remote_connect_list_all_node_devices_ret *ret, GError **error)
{
    GPtrArray *devs;
    g_autoptr(GPtrArray) out = g_ptr_array_new();

    if (!sv_check_flags(a->flags, SV_CONNECT_LIST_ALL_NODE_DEVICE_FLAGS_ALL, SV_FROM_NODEDEV,
                        "nodeConnectListAllNodeDevices", error))
        return FALSE;
    devs = devices_of(call);
    for (guint i = 0; i < devs->len; i++) {
        if (matches_filter(devs->pdata[i], a->flags))
            g_ptr_array_add(out, devs->pdata[i]);
    }
    ret->ret = out->len;
    if (a->need_results) {
        ret->devices.devices_len = out->len;
        ret->devices.devices_val = g_new0(remote_nonnull_node_device, MAX(out->len, 1));
        for (guint i = 0; i < out->len; i++)
            ret->devices.devices_val[i].name = g_strdup(((NodeDev *)out->pdata[i])->name);
    }
    return TRUE;
}

/* ---------------------------------------------------------------- one device */

static gboolean
lookup_by_name(SvCall *call, remote_node_device_lookup_by_name_args *a,
               remote_node_device_lookup_by_name_ret *ret, GError **error)
{
    NodeDev *dev = find_or_fail(call, a->name, error);

    if (!dev)
        return FALSE;
    ret->dev.name = g_strdup(dev->name);
    return TRUE;
}

/* The Fibre Channel SCSI host with both names; none: libvirt's unexplained error. */
static gboolean
lookup_scsi_host_by_wwn(SvCall *call, remote_node_device_lookup_scsi_host_by_wwn_args *a,
                        remote_node_device_lookup_scsi_host_by_wwn_ret *ret, GError **error)
{
    GPtrArray *devs;

    if (!sv_check_flags(a->flags, 0, SV_FROM_NODEDEV, "nodeDeviceLookupSCSIHostByWWN", error))
        return FALSE;
    devs = devices_of(call);
    for (guint i = 0; i < devs->len; i++) {
        NodeDev *dev = devs->pdata[i];
        if (dev->cap == NODEDEV_CAP_SCSI_HOST && nodedev_has_cap(dev, "fc_host") &&
            g_strcmp0(dev->wwnn, a->wwnn) == 0 && g_strcmp0(dev->wwpn, a->wwpn) == 0) {
            ret->dev.name = g_strdup(dev->name);
            return TRUE;
        }
    }
    /* libvirt 9.0's driver fails here without reporting anything, and its dispatcher
     * sends the error it then makes up (seen from Debian's libvirtd): no domain, no
     * details, this text */
    g_propagate_error(error, sv_error_new_full(SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                                               "An error occurred, but the cause is unknown",
                                               2, NULL, NULL, NULL, 0, 0));
    return FALSE;
}

static gboolean
get_xml_desc(SvCall *call, remote_node_device_get_xml_desc_args *a,
             remote_node_device_get_xml_desc_ret *ret, GError **error)
{
    NodeDev *dev;

    if (!sv_check_flags(a->flags, 0, SV_FROM_NODEDEV, "nodeDeviceGetXMLDesc", error))
        return FALSE;
    if (!(dev = find_or_fail(call, a->name, error)))
        return FALSE;
    ret->xml = nodedev_format(dev);
    return TRUE;
}

static gboolean
get_parent(SvCall *call, remote_node_device_get_parent_args *a,
           remote_node_device_get_parent_ret *ret, GError **error)
{
    NodeDev *dev = find_or_fail(call, a->name, error);

    if (!dev)
        return FALSE;
    /* libvirt's driver fails for the computer ("no parent for this device"), but its
     * remote dispatcher answers that as success with no name, which is what clients see */
    if (!dev->parent)
        return TRUE;
    ret->parentName = g_new0(char *, 1);
    *ret->parentName = g_strdup(dev->parent);
    return TRUE;
}

static gboolean
num_of_caps(SvCall *call, remote_node_device_num_of_caps_args *a,
            remote_node_device_num_of_caps_ret *ret, GError **error)
{
    NodeDev *dev = find_or_fail(call, a->name, error);
    g_autoptr(GPtrArray) caps = NULL;

    if (!dev)
        return FALSE;
    caps = nodedev_caps(dev);
    ret->num = caps->len;
    return TRUE;
}

static gboolean
list_caps(SvCall *call, remote_node_device_list_caps_args *a,
          remote_node_device_list_caps_ret *ret, GError **error)
{
    NodeDev *dev;
    g_autoptr(GPtrArray) caps = NULL;
    guint n;

    if (a->maxnames < 0 || a->maxnames > REMOTE_NODE_DEVICE_CAPS_LIST_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC,
                     "maxnames > REMOTE_NODE_DEVICE_CAPS_LIST_MAX");
        return FALSE;
    }
    if (!(dev = find_or_fail(call, a->name, error)))
        return FALSE;
    caps = nodedev_caps(dev);
    n = MIN(caps->len, (guint)a->maxnames);
    ret->names.names_len = n;
    ret->names.names_val = g_new0(char *, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        ret->names.names_val[i] = g_strdup(caps->pdata[i]);
    return TRUE;
}

/* ---------------------------------------------------------------- events */

/* Any connection may register, read-only ones too, as in libvirt; a registration for one
 * device names it, whether it exists or not (libvirt does not look it up). */
static gboolean
event_register_any(SvCall *call, remote_connect_node_device_event_register_any_args *a,
                   remote_connect_node_device_event_register_any_ret *ret, GError **error)
{
    int id = sv_object_events_register(&nodedev_events, sv_call_get_client(call), a->eventID,
                                       a->dev ? a->dev->name : NULL, error);

    if (id < 0)
        return FALSE;
    ret->callbackID = id;
    return TRUE;
}

static gboolean
event_deregister_any(SvCall *call, remote_connect_node_device_event_deregister_any_args *a,
                     GError **error)
{
    return sv_object_events_deregister(&nodedev_events, sv_call_get_client(call), a->callbackID,
                                       error);
}

typedef struct {
    const char *name;
    int event; /* SV_NODE_DEVICE_EVENT_*, for a lifecycle event */
} EventData;

static void
send_lifecycle(SvClient *c, int callback_id, gpointer data)
{
    const EventData *e = data;
    remote_node_device_event_lifecycle_msg m = {callback_id, {(char *)e->name}, e->event, 0};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_NODE_DEVICE_EVENT_LIFECYCLE,
                         (xdrproc_t)xdr_remote_node_device_event_lifecycle_msg, &m);
}

static void
send_update(SvClient *c, int callback_id, gpointer data)
{
    const EventData *e = data;
    remote_node_device_event_update_msg m = {callback_id, {(char *)e->name}};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_NODE_DEVICE_EVENT_UPDATE,
                         (xdrproc_t)xdr_remote_node_device_event_update_msg, &m);
}

/* A device came, went or changed: libvirt's event (detail 0) to those registered. */
static void
on_change(const NodeDev *dev, NodeDevChange change, gpointer data)
{
    NodeDevDriver *drv = data;
    SvServer *srv = sv_daemon_get_server(drv->daemon);
    EventData e = {dev->name, change == NODEDEV_CHANGE_CREATED ? SV_NODE_DEVICE_EVENT_CREATED
                                                               : SV_NODE_DEVICE_EVENT_DELETED};

    g_debug("node device %s: %s", dev->name,
            change == NODEDEV_CHANGE_UPDATED ? "updated" : e.event ? "deleted" : "created");
    if (change == NODEDEV_CHANGE_UPDATED)
        sv_object_events_emit(&nodedev_events, srv, SV_NODE_DEVICE_EVENT_ID_UPDATE, dev->name,
                              send_update, &e);
    else
        sv_object_events_emit(&nodedev_events, srv, SV_NODE_DEVICE_EVENT_ID_LIFECYCLE,
                              dev->name, send_lifecycle, &e);
}

static void
on_uevent(const NodeDevUevent *ev, gpointer data)
{
    NodeDevDriver *drv = data;

    nodedev_apply_uevent(drv->devs, drv->root, ev, on_change, drv);
}

static void
on_lost(gpointer data)
{
    NodeDevDriver *drv = data;

    nodedev_resync(&drv->devs, drv->root, on_change, drv);
}

/* Follow the host's own devices through uevents, listening before enumerating so that no
 * change falls in between (a device met twice is an update). A test's sysfs tree, or a
 * host where no netlink socket can be had, is read again on demand instead. */
static void
start_monitor(NodeDevDriver *drv)
{
    g_autoptr(GError) err = NULL;

    if (*drv->root)
        return;
    if (!(drv->monitor = nodedev_monitor_new(on_uevent, on_lost, drv, &err))) {
        g_warning("%s; devices are read again at most every %d s instead", err->message,
                  (int)(NODEDEV_REFRESH_USEC / G_USEC_PER_SEC));
        return;
    }
    g_info("following device changes announced by %s", nodedev_monitor_source(drv->monitor));
    drv->devs = nodedev_enumerate(drv->root);
}

/* ---------------------------------------------------------------- daemon glue */

/* The secondary drivers' shared handlers, then the node devices' own. */
static void
install(SvRemoteHandlers *h)
{
    sv_remote_secondary_handlers(h);
    sv_connect_install(h, &nodedev_connect);
    h->node_num_of_devices = node_num_of_devices;
    h->node_list_devices = node_list_devices;
    h->connect_list_all_node_devices = connect_list_all_node_devices;
    h->node_device_lookup_by_name = lookup_by_name;
    h->node_device_lookup_scsi_host_by_wwn = lookup_scsi_host_by_wwn;
    h->node_device_get_xml_desc = get_xml_desc;
    h->node_device_get_parent = get_parent;
    h->node_device_num_of_caps = num_of_caps;
    h->node_device_list_caps = list_caps;
    h->connect_node_device_event_register_any = event_register_any;
    h->connect_node_device_event_deregister_any = event_deregister_any;
}

/* Where the host's sysfs and udev database are: ROOT when a test put a sysfs tree there
 * (ROOT/sys), else the real ones ("") whatever --root says. (transfer full) */
static char *
sysfs_root(const char *root)
{
    g_autofree char *sys = g_build_filename(root, "sys", NULL);

    if (*root && g_file_test(sys, G_FILE_TEST_IS_DIR))
        return g_strdup(root);
    return g_strdup("");
}

static gboolean
nodedev_init(SvDaemon *d, GError **error)
{
    NodeDevDriver *driver = g_new0(NodeDevDriver, 1);

    (void)error;
    driver->daemon = d;
    driver->root = sysfs_root(sv_daemon_get_root(d));
    install(&driver->handlers);
    sv_server_set_user_data(sv_daemon_get_server(d), driver);
    sv_daemon_serve_remote(d, &driver->handlers);
    /* libvirt's per-driver daemons all register libvirt-qemu: none of it here. */
    sv_qemu_serve_unsupported(sv_daemon_get_server(d), TRUE);
    sv_daemon_set_driver_data(d, driver);
    start_monitor(driver);
    return TRUE;
}

static void
nodedev_cleanup(SvDaemon *d)
{
    NodeDevDriver *driver = sv_daemon_get_driver_data(d);

    g_clear_pointer(&driver->monitor, nodedev_monitor_free);
    g_clear_pointer(&driver->devs, g_ptr_array_unref);
    g_free(driver->root);
    g_free(driver);
    sv_daemon_set_driver_data(d, NULL);
}

const SvDaemonDriver nodedev_daemon_driver = {
    .name = "virtnodedevd",
    .sock_prefix = "virtnodedevd",
    .driver_name = "nodedev",
    .family = SV_PROC_FAMILY_NODEDEV,
    .init = nodedev_init,
    .cleanup = nodedev_cleanup,
};
