/* qemu_monitor.h: an asynchronous QMP client on the daemon's loop. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

typedef struct QemuMonitor QemuMonitor;

typedef struct {
    /* The capabilities handshake finished: commands may flow. */
    void (*ready)(QemuMonitor *mon, gpointer user);
    /* An asynchronous event; data may be NULL. */
    void (*event)(QemuMonitor *mon, const char *name, JsonObject *data, gpointer user);
    /* The socket closed or broke; no further callbacks follow. */
    void (*eof)(QemuMonitor *mon, gpointer user);
} QemuMonitorCallbacks;

/* Take a connected socket (transfer full). */
QemuMonitor *qemu_monitor_new(int fd, const QemuMonitorCallbacks *cb, gpointer user);
void qemu_monitor_free(QemuMonitor *mon);

/* The reply to one command: `ret` is the "return" member, or NULL with error set. */
typedef void (*QemuMonitorReplyFunc)(QemuMonitor *mon, JsonNode *ret, const GError *error,
                                     gpointer data);

/* Send `cmd` with optional arguments (transfer full); cb may be NULL. Commands
 * issued before the handshake wait for it. */
void qemu_monitor_command(QemuMonitor *mon, const char *cmd, JsonObject *args,
                          QemuMonitorReplyFunc cb, gpointer data);

/* A whole reply of QEMU (its "return" or "error", and "id"), or NULL with error set. */
typedef void (*QemuMonitorMessageFunc)(QemuMonitor *mon, JsonObject *reply, const GError *error,
                                       gpointer data);

/* Send a client's own command (qemu-monitor-command; transfer none), with fd (transfer full;
 * -1: none) passed along (SCM_RIGHTS); cb gets QEMU's whole reply. An object with "execute"
 * gets our "id" member added (the caller refuses one that has its own); anything else goes as
 * it is, and QEMU's answer without an id is taken as its reply (QEMU answers in order). */
void qemu_monitor_passthrough(QemuMonitor *mon, JsonNode *cmd, int fd, QemuMonitorMessageFunc cb,
                              gpointer data);

/* The timestamp QEMU gave the event being dispatched (valid in the event callback). */
void qemu_monitor_event_time(QemuMonitor *mon, gint64 *seconds, guint *micros);

/* Read and dispatch whatever the socket holds now, to its end if the peer is
 * gone: used when the process is seen to exit, so no event is lost. */
void qemu_monitor_drain(QemuMonitor *mon);

gboolean qemu_monitor_is_closed(QemuMonitor *mon);

/* When the oldest command still waiting for its reply was issued (g_get_real_time(), in
 * µs), or 0 when none waits: the monitor is occupied since then. */
gint64 qemu_monitor_busy_since(QemuMonitor *mon);

/* Connect to a monitor socket path without blocking (it must be listening). */
int qemu_monitor_connect(const char *path, GError **error);

/* QMP members read without trusting their type (QEMU's output is input): a string member,
 * or NULL when absent or of another type; a boolean, or otherwise; an array's object
 * element, or NULL. obj may be NULL. */
const char *qemu_json_string(JsonObject *obj, const char *name);
gboolean qemu_json_bool(JsonObject *obj, const char *name, gboolean otherwise);
JsonObject *qemu_json_array_object(JsonArray *a, guint i);

/* A QMP command with one string argument, {"execute": cmd, "arguments": {key: value}}
 * (transfer full). */
/* The error of a passed-through command's reply (qemu_monitor_passthrough), worded as
 * libvirt's ("unable to execute QEMU command 'CMD': DESC"), or the transport's error (copied),
 * or NULL when QEMU did it. (transfer full) */
GError *qemu_monitor_reply_error(const char *cmd, JsonObject *reply, const GError *error);

JsonObject *qemu_json_command1(const char *cmd, const char *key, const char *value);
