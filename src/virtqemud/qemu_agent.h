/* qemu_agent.h: the QEMU guest agent's channel (issue 18 item 3). */
#pragma once

#include <json-glib/json-glib.h>

#include "domain/domain_driver.h"

typedef struct QemuAgent QemuAgent;

/* A command's end: the agent's whole reply (an object with "return" or "error"), or an
 * error (libvirt's: AGENT_UNRESPONSIVE when the agent does not answer in time or is gone).
 * Called on the loop, never inside qemu_agent_command(). */
typedef void (*QemuAgentReplyFunc)(JsonObject *reply, const GError *error, gpointer data);

/* libvirt's timeouts of an agent command (virDomainQemuAgentCommandTimeoutValues). */
#define QEMU_AGENT_TIMEOUT_BLOCK (-2)
#define QEMU_AGENT_TIMEOUT_DEFAULT (-1)
#define QEMU_AGENT_WAIT_SECONDS 5      /* the default, and the handshake's */
#define QEMU_AGENT_SHUTDOWN_SECONDS 60 /* VIR_DOMAIN_QEMU_AGENT_COMMAND_SHUTDOWN */

/* Connect to the agent channel's socket (QEMU listens on it). */
QemuAgent *qemu_agent_open(const char *path, GError **error);
/* Close it; commands under way end on the loop afterwards: with "Guest agent disappeared
 * while executing command", or successfully when they await an event (a shutdown's). */
void qemu_agent_free(QemuAgent *agent);
/* FALSE once QEMU has closed the socket. */
gboolean qemu_agent_connected(QemuAgent *agent);

/* Send `cmd` (an object with "execute", transfer none) after a guest-sync handshake with a
 * fresh id, one command at a time; `seconds` as libvirt's: BLOCK waits for ever, DEFAULT
 * is QEMU_AGENT_WAIT_SECONDS, else that many seconds. */
void qemu_agent_command(QemuAgent *agent, JsonNode *cmd, int seconds, QemuAgentReplyFunc cb,
                        gpointer data);

/* guest-shutdown (mode powerdown or reboot): the agent sends no reply when it works, so it
 * ends with QEMU's SHUTDOWN (RESET for a reboot) event, given to qemu_agent_notify_event(),
 * or the agent's going away (cb's reply and error both NULL), an error reply, or the
 * timeout (60 s). */
void qemu_agent_shutdown(QemuAgent *agent, gboolean reboot, QemuAgentReplyFunc cb,
                         gpointer data);
/* A QEMU event (SHUTDOWN, RESET) that a command under way may await. */
void qemu_agent_notify_event(QemuAgent *agent, const char *event);

/* libvirt's error for an agent's "error" reply to `cmd` ("unable to execute QEMU agent
 * command '...': DESC"), or NULL when the reply has none. (transfer full) */
GError *qemu_agent_reply_error(JsonObject *reply, const char *cmd);

/* DOMAIN_GET_HOSTNAME (issue 18 item 3). */
void qemu_agent_install(SvRemoteHandlers *h);

/* QEMU's VSERPORT_CHANGE for the guest `obj` (issue 18 item 3): for the agent's channel,
 * connect to or close the agent and send AGENT_LIFECYCLE (reason channel). */
void qemu_agent_port_changed(SvDomainObj *obj, JsonObject *data);

/* After a daemon restart, once query-chardev has refreshed the channels' state: connect
 * to the agent when the guest has its port open, as libvirt's reconnect does (no event). */
void qemu_agent_reconnect(SvDomainObj *obj);

/* The guest's agent when it is connected, else NULL and libvirt's error: "QEMU guest agent
 * is not connected" (AGENT_UNRESPONSIVE) with the channel, "QEMU guest agent is not
 * configured" (ARGUMENT_UNSUPPORTED) without. */
QemuAgent *qemu_agent_of(SvDomainObj *obj, GError **error);

/* The agent of obj when obj runs (libvirt's "domain is not running" for a paused or
 * shut-down guest first), else as qemu_agent_of. (transfer none) */
QemuAgent *qemu_agent_of_running(SvDomainObj *obj, GError **error);
