/* nodedev_monitor.c: uevents from a netlink socket through libudev, its descriptor watched
 * on the loop (libudev's socket is non-blocking: each wake-up reads what is queued).
 *
 * Which announcements: libvirt 9.0 listens on udev's group only, where udevd re-sends each
 * uevent once its rules have run and its database (ROOT/run/udev/data, which nodedev.c
 * reads for disks' and USB devices' names) is written. Where no udevd runs (containers,
 * these test machines: no /run/udev/control, the file libudev itself looks for), nothing is
 * ever sent on that group, and libvirtd's list stays what it found at start-up until it is
 * restarted: a hot-plugged or removed device is not seen, and no event comes. This daemon
 * then listens to the kernel's own uevents instead, a deliberate difference: the lists
 * stay true to sysfs and clients get the lifecycle events libvirt would send with udevd,
 * while nothing else changes (udev's database does not exist there either, so a device
 * reads the same from a kernel uevent as at enumeration). With udevd running it uses udev's
 * group like libvirt, never racing udevd's database. */
#include "nodedev_monitor.h"

#include <errno.h>
#include <glib-unix.h>
#include <libudev.h>
#include <unistd.h>

#include "util/error.h"

struct NodeDevMonitor {
    struct udev *udev;
    struct udev_monitor *mon;
    guint watch;
    const char *source;
    NodeDevUeventFunc on_uevent;
    NodeDevLostFunc on_lost;
    gpointer data;
};

/* libvirt's receive buffer (udevd's too): a burst of "add" uevents must not overflow. */
#define MONITOR_RCVBUF (128 * 1024 * 1024)

static void
deliver(NodeDevMonitor *m, struct udev_device *d)
{
    const char *old = udev_device_get_property_value(d, "DEVPATH_OLD");
    g_autofree char *syspath_old = old ? g_strconcat("/sys", old, NULL) : NULL;
    NodeDevUevent ev = {
        .action = udev_device_get_action(d),
        .subsystem = udev_device_get_subsystem(d),
        .syspath = udev_device_get_syspath(d),
        .syspath_old = syspath_old,
    };

    if (ev.action && ev.syspath)
        m->on_uevent(&ev, m->data);
}

static gboolean
on_readable(int fd, GIOCondition cond, gpointer data)
{
    NodeDevMonitor *m = data;
    struct udev_device *d;

    (void)fd;
    (void)cond;
    for (;;) {
        errno = 0;
        if (!(d = udev_monitor_receive_device(m->mon)))
            break;
        deliver(m, d);
        udev_device_unref(d);
    }
    if (errno == ENOBUFS) {
        g_warning("node device uevents were lost (receive buffer full): reading sysfs again");
        m->on_lost(m->data);
    }
    return G_SOURCE_CONTINUE;
}

NodeDevMonitor *
nodedev_monitor_new(NodeDevUeventFunc on_uevent, NodeDevLostFunc on_lost, gpointer data,
                    GError **error)
{
    g_autoptr(NodeDevMonitor) m = g_new0(NodeDevMonitor, 1);
    int rc;

    m->on_uevent = on_uevent;
    m->on_lost = on_lost;
    m->data = data;
    /* libudev's own test for a running udevd */
    m->source = access("/run/udev/control", F_OK) == 0 ? "udev" : "kernel";
    if (!(m->udev = udev_new()) || !(m->mon = udev_monitor_new_from_netlink(m->udev, m->source))) {
        sv_error_set(error, SV_FROM_NODEDEV, SV_ERR_INTERNAL_ERROR,
                     "cannot listen for %s device events: %s", m->source, g_strerror(errno));
        return NULL;
    }
    if ((rc = udev_monitor_enable_receiving(m->mon)) < 0) {
        sv_error_set(error, SV_FROM_NODEDEV, SV_ERR_INTERNAL_ERROR,
                     "cannot listen for %s device events: %s", m->source, g_strerror(-rc));
        return NULL;
    }
    if (geteuid() == 0)
        udev_monitor_set_receive_buffer_size(m->mon, MONITOR_RCVBUF);
    m->watch = g_unix_fd_add(udev_monitor_get_fd(m->mon), G_IO_IN, on_readable, m);
    return g_steal_pointer(&m);
}

const char *
nodedev_monitor_source(const NodeDevMonitor *m)
{
    return m->source;
}

void
nodedev_monitor_free(NodeDevMonitor *m)
{
    if (!m)
        return;
    if (m->watch)
        g_source_remove(m->watch);
    if (m->mon)
        udev_monitor_unref(m->mon);
    if (m->udev)
        udev_unref(m->udev);
    g_free(m);
}
