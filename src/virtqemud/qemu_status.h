/* qemu_status.h: status files, ROOT/run/libvirt/qemu/NAME.xml: what a restarted daemon
 * needs to find a running guest again, written durably on every change, and read back
 * as hostile input. */
#pragma once

#include <libxml/tree.h>
#include <sys/types.h>

#include "domain/domain_driver.h"

/* Write obj's status file, or remove it once the guest is gone (no process, or shut
 * off). Written off the loop by the definitions' store, in order, atomically; done
 * (may be NULL) runs on the loop once the file is on disk, error set if it is not. */
void qemu_status_save(SvDomainObj *obj);
void qemu_status_save_then(SvDomainObj *obj, SvStoreDoneFunc done, gpointer data);

typedef enum {
    QEMU_KILL_NONE,
    QEMU_KILL_GRACEFUL,
    QEMU_KILL_FORCED,
    QEMU_KILL_LAST
} QemuKillMode;

const char *qemu_kill_mode_to_string(int mode);
int qemu_kill_mode_from_string(const char *s);

/* A status file as read back, every field checked. */
typedef struct {
    SvDomainDef *def; /* the live definition */
    int id;
    int state;
    int reason;
    gint64 state_time;
    pid_t pid;
    guint64 start_time;
    char *monitor;
    char *emulator;   /* what the process must be running */
    gboolean destroying, fake_reboot, crash_destroy, crash_restart, autodestroy, starting;
    QemuKillMode kill_mode; /* the kill request under way, if any */
    gint64 kill_deadline;   /* its SIGTERM wait ends (g_get_monotonic_time()) */
    xmlDocPtr doc;          /* for the security label (qemu_security_label_from_status) */
} QemuStatus;

void qemu_status_free(QemuStatus *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuStatus, qemu_status_free)

/* Read and check a status file before anything it names is touched: its name is its
 * domain's, the monitor socket is the one the daemon makes for that guest in its
 * library directory, pty paths are /dev/pts/N, the emulator is an allowed one, relabelled files
 * are files the definition names, numbers are in range. NULL with an error saying what
 * is wrong otherwise. */
QemuStatus *qemu_status_load(const char *path, GError **error);
