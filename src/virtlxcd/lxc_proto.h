/* lxc_proto.h: the protocol between virtlxcd and a container's supervisor.
 *
 * The supervisor listens on a unix socket, ROOT/run/libvirt/lxc/NAME.sock. Every
 * connection opens with one line from the daemon saying what it is for:
 *
 *   "control\n"  status. The supervisor answers with SUPERVISOR, then its current state as
 *                one message (nothing while the container is still being built), then one
 *                message at every change:
 *       SUPERVISOR <protocol version> <supervisor pid>
 *       RUNNING <init pid> <init start time> <console pty>    init runs
 *       REBOOTED <init pid> <init start time>                 init rebooted in place
 *       EXITED <exited|signaled> <status or signal>           the container is gone
 *       FAILED <text>                                          building it failed
 *                After EXITED or FAILED everything of the container is gone (processes,
 *                mounts, cgroup, links) and the supervisor exits once the daemon closes the
 *                connection: the close is the acknowledgement, so a daemon that was down
 *                when the container ended still learns how it ended. A newer control
 *                connection replaces an older one.
 *   "console\n"  from then on raw bytes both ways: what the container writes to its
 *                console, and input for it. Any number at once (libvirt's LXC driver has no
 *                exclusive console access); they close when the container is gone.
 *
 * Messages are single lines of space-separated fields; the free text of FAILED is C-escaped
 * (g_strescape) so it holds no newline. The times are field 22 of /proc/PID/stat, checked
 * before a PID is ever signalled. Parsing is pure: bytes in, messages out, no sockets. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#define LXC_PROTO_VERSION 1
#define LXC_PROTO_LINE_MAX 4096

typedef enum {
    LXC_MSG_SUPERVISOR,
    LXC_MSG_RUNNING,
    LXC_MSG_REBOOTED,
    LXC_MSG_EXITED,
    LXC_MSG_FAILED,
    LXC_MSG_LAST
} LxcMsgType;

const char *lxc_msg_type_to_string(int v);
int lxc_msg_type_from_string(const char *s);

typedef struct {
    LxcMsgType type;
    int version;        /* SUPERVISOR */
    pid_t pid;          /* SUPERVISOR: the supervisor; RUNNING, REBOOTED: init */
    guint64 start_time; /* RUNNING, REBOOTED */
    char *pty;          /* RUNNING */
    gboolean signaled;  /* EXITED */
    int code;           /* EXITED: exit status, or the signal that ended init */
    char *text;         /* FAILED */
} LxcMsg;

/* Free the strings of a message and zero it. */
void lxc_msg_clear(LxcMsg *msg);

/* One line, with its newline. (transfer full) */
char *lxc_msg_format(const LxcMsg *msg);

/* Parse one line (without its newline) into *out, which the caller clears. */
gboolean lxc_msg_parse(const char *line, LxcMsg *out, GError **error);

/* Splits a byte stream into lines. */
typedef struct LxcLineReader LxcLineReader;

LxcLineReader *lxc_line_reader_new(void);
void lxc_line_reader_free(LxcLineReader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LxcLineReader, lxc_line_reader_free)

/* Feed bytes; each complete line (without "\n") is appended to `out` (transfer full).
 * Returns FALSE when a line grows past LXC_PROTO_LINE_MAX: the peer is broken. */
gboolean lxc_line_reader_feed(LxcLineReader *r, const char *data, gsize len, GPtrArray *out);

/* Feed bytes only up to the end of the first line, which goes to *line (NULL while there
 * is none yet); returns how many bytes were consumed, so the caller can treat the rest as
 * raw data (a console connection after its "console" line). -1 for a line too long. */
gssize lxc_line_reader_feed_one(LxcLineReader *r, const char *data, gsize len, char **line);
