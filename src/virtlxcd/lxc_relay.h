/* lxc_relay.h: the supervisor's side of its socket (lxc_proto.h): the daemon's control
 * connection, which receives status messages, and console connections, relayed to and
 * from the console pty whose master the supervisor owns for the container's whole life. */
#pragma once

#include <glib.h>

#include "lxc_proto.h"

typedef struct LxcRelay LxcRelay;

/* Take the listening socket (transfer full) and open the console pty. `done` runs once a
 * final status (lxc_relay_set_final) has reached a daemon and that daemon has closed its
 * control connection. `socket_path` is unlinked when the relay is freed. */
LxcRelay *lxc_relay_new(int listen_fd, const char *socket_path, void (*done)(gpointer data),
                        gpointer data, GError **error);
void lxc_relay_free(LxcRelay *r);

/* The host path of the console pty's slave ("/dev/pts/3"). */
const char *lxc_relay_get_pty_path(LxcRelay *r);

/* The state a daemon learns on connecting; also sent at once to the connected one. The
 * message is copied; NULL means there is nothing to say (init is being started). */
void lxc_relay_set_status(LxcRelay *r, const LxcMsg *msg);

/* A message for the connected daemon only, if any (REBOOTED). */
void lxc_relay_send(LxcRelay *r, const LxcMsg *msg);

/* End every console connection (the container is gone). */
void lxc_relay_close_consoles(LxcRelay *r);

/* The status set last is final: see `done`. */
void lxc_relay_set_final(LxcRelay *r);

/* Whether a daemon is connected (a control connection is open). */
gboolean lxc_relay_has_control(LxcRelay *r);
