/* lxc_container.h: the container's first process, between clone() and exec(): it turns the
 * fresh namespaces it was born in into a container (its own root and /dev, /proc, /sys, the
 * hostname, the console as its terminal) and execs init.
 *
 * It runs in a child cloned from the supervisor, so it only makes async-signal-safe calls
 * on data the parent prepared in an LxcChildPlan, and reports a failure as one fixed-size
 * LxcChildError written to a close-on-exec pipe: end of file on that pipe means init runs.
 *
 * In a user namespace (<idmap>) it does all of that as the container's root, which is an
 * unprivileged uid on the host: the root filesystem, the paths to it and to every mounted
 * source, and the console pty must be accessible to that uid, and there is no mknod (the
 * device nodes are bind mounts of the host's anyway). */
#pragma once

#include <glib.h>

typedef struct {
    const char *source; /* host directory */
    const char *target; /* absolute inside the container: looked up with its root as "/" */
    gboolean readonly;
} LxcChildMount;

typedef struct {
    int sync_fd;  /* read end: one byte arrives once the parent has put us into our cgroup
                   * and network links; end of file means the parent gave up */
    int error_fd; /* write end, close-on-exec */
    gboolean userns; /* born in its own user namespace: once released (its uid and gid maps
                      * written), it becomes uid and gid 0 there before anything else */
    const char *root;
    const LxcChildMount *mounts;
    guint n_mounts;
    const char *console;        /* the console pty's slave, as seen from the old root
                                 * after pivot_root ("/.oldroot/dev/pts/3") */
    const char *hostname;
    const char *const *ifaces;  /* links to bring up inside: "lo", "eth0", ...; NULL-ended */
    const char *init;
    char *const *argv;
    char *const *envp;
} LxcChildPlan;

typedef struct {
    int err;        /* errno of the step that failed */
    char what[480]; /* which step, for the message ("cannot mount /proc") */
} LxcChildError;

/* The old root's mount point inside the new one, while both are visible. */
#define LXC_CHILD_OLDROOT "/.oldroot"

/* Never returns: execs init or exits with status 1 after reporting. */
G_GNUC_NORETURN void lxc_container_child(const LxcChildPlan *plan);
