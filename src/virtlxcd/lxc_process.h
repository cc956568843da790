/* lxc_process.h: running containers: start through a supervisor, status from it, the kill
 * path, and the lifecycle procedures built on them. */
#pragma once

#include "daemon/daemon.h"
#include "domain/domain_driver.h"

typedef SvKillTimeouts LxcTimeouts;

typedef struct {
    SvDaemon *daemon;
    SvDomainDriver *domains;
    LxcTimeouts timeouts;
    char *run_dir;       /* ROOT/run/libvirt/lxc: status files and supervisor sockets */
    char *log_dir;       /* ROOT/var/log/libvirt/lxc */
    char *family_run_dir; /* ROOT/run/libvirt: the secondary drivers' daemons' sockets */
    char *supervisor;    /* the virtlxcd-supervisor binary */
    char *cgroup_root;   /* "/sys/fs/cgroup" */
    char *cgroup_parent; /* every container's cgroup is PARENT/NAME.libvirt-lxc */
} LxcProcessContext;

/* Install the lifecycle handlers (create, destroy, shutdown, ...) into h. */
void lxc_process_install(LxcProcessContext *ctx, SvRemoteHandlers *h);

/* Find running containers again through their status files and supervisors, then
 * autostart domains once per host boot. Call after the definitions are loaded. */
void lxc_process_reconnect_all(LxcProcessContext *ctx);

/* CPU time of a running container's cgroup, in ns. */
guint64 lxc_process_cpu_time(SvDomainDriver *drv, SvDomainObj *obj);

/* The supervisor socket of a running container whose init runs, or NULL. */
const char *lxc_process_get_console_socket(SvDomainObj *obj);

/* Install DOMAIN_OPEN_CONSOLE (lxc_console.c). */
void lxc_console_install(LxcProcessContext *ctx, SvRemoteHandlers *h);

/* Install the tuning procedures (scheduler, memory and blkio parameters, memory) and
 * DOMAIN_INTERFACE_STATS (issue 18, LXC tuning; lxc_tune.c). */
void lxc_tune_install(LxcProcessContext *ctx, SvRemoteHandlers *h);

/* Install DOMAIN_BLOCK_STATS(_FLAGS) (issue 18, LXC tuning; lxc_stats.c). */
void lxc_stats_install(SvRemoteHandlers *h);
/* Install DOMAIN_GET_CPU_STATS (issue 18, CPU stats; lxc_cpustats.c). */
void lxc_cpustats_install(SvRemoteHandlers *h);

/* The facts of a container's run for the engine (domain/domain_run.h): its data, what its
 * end releases. */
extern const SvRunFacts lxc_run_facts;
