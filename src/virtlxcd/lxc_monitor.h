/* lxc_monitor.h: the daemon's connections to a container's supervisor (lxc_proto.h): the
 * control connection, read on the daemon's loop, and the connecting of console ones. */
#pragma once

#include <glib.h>

#include "lxc_proto.h"

typedef struct LxcMonitor LxcMonitor;

typedef struct {
    /* One status message (transfer none). */
    void (*message)(LxcMonitor *mon, const LxcMsg *msg, gpointer user);
    /* The connection closed or broke; no callback follows. */
    void (*eof)(LxcMonitor *mon, gpointer user);
} LxcMonitorCallbacks;

/* Connect to the supervisor's socket without blocking and say what the connection is for
 * ("control" or "console"). Returns the descriptor. */
int lxc_monitor_connect(const char *path, const char *kind, GError **error);

/* Read status messages from a control connection (transfer full of fd). */
LxcMonitor *lxc_monitor_new(int fd, const LxcMonitorCallbacks *cb, gpointer user);

/* Close the connection (to a supervisor that reported EXITED or FAILED, this is the
 * acknowledgement that lets it exit). Safe from inside a callback. */
void lxc_monitor_free(LxcMonitor *mon);
