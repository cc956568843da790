/* guest_log.h: a guest's log file, DIR/NAME.log (ROOT/var/log/libvirt/DRIVER/NAME.log):
 * what the guest's processes print, with the daemon's own lines between, each stamped with
 * the UTC time as libvirt stamps them ("2024-01-31 12:34:56.789+0000: text"). */
#pragma once

#include <glib.h>

/* The log's path, DIR/NAME.log. (transfer full) */
char *sv_guest_log_path(const char *dir, const char *name);

/* Open DIR/NAME.log for appending (created 0600, close-on-exec), making DIR (0700) first.
 * On failure -1, and error set: the directory's error, or a SYSTEM_ERROR in error domain
 * `from` reading "<what> '<path>': <errno text>" (each driver words it as libvirt's does). */
int sv_guest_log_open(const char *dir, const char *name, int from, const char *what,
                      GError **error);

/* Append one timestamped line to the log open at fd; nothing when fd is -1. A failed write
 * is a debug message only: the log never stops a guest. */
void sv_guest_log_printf(int fd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
