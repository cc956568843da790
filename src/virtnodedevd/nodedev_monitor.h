/* nodedev_monitor.h: the host's device changes as they happen (uevents through libudev),
 * watched on the loop. */
#pragma once

#include "nodedev.h"

typedef struct NodeDevMonitor NodeDevMonitor;

/* Called for each uevent received; ev is valid during the call only. */
typedef void (*NodeDevUeventFunc)(const NodeDevUevent *ev, gpointer data);
/* Called when uevents were lost (the socket's buffer overran): the caller reads again. */
typedef void (*NodeDevLostFunc)(gpointer data);

/* Listen for the host's device changes: on udev's multicast group when udevd runs (as
 * libvirt does), else on the kernel's (see nodedev_monitor.c). Start listening before
 * enumerating, so that no change falls between the two. NULL with an error when no
 * netlink socket can be had. (transfer full) */
NodeDevMonitor *nodedev_monitor_new(NodeDevUeventFunc on_uevent, NodeDevLostFunc on_lost,
                                    gpointer data, GError **error);

/* "udev" or "kernel": whose announcements are listened to. */
const char *nodedev_monitor_source(const NodeDevMonitor *m);

void nodedev_monitor_free(NodeDevMonitor *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NodeDevMonitor, nodedev_monitor_free)
