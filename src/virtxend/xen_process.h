/* xen_process.h: running Xen guests through libxl: start, shutdown, reboot, pause, resume,
 * destroy (GRACEFUL too), libxl's domain events, status files and reconnect. */
#pragma once

#include <libxl.h>

#include "daemon/daemon.h"
#include "domain/domain_driver.h"
#include "xen_ctx.h"

typedef struct {
    SvDaemon *daemon;
    SvDomainDriver *domains;
    XenCtx *xen;                /* NULL where there is no hypervisor (transfer none) */
    guint graceful_timeout_ms;  /* shutdown request to failing a GRACEFUL destroy */
    char *run_dir;              /* ROOT/run/libvirt/libxl: status files */
} XenProcessContext;

/* Install the lifecycle handlers (create, destroy, shutdown, ...) into h. */
void xen_process_install(XenProcessContext *ctx, SvRemoteHandlers *h);

/* Fail (OPERATION_FAILED, LIBXL) when drv's host has no usable hypervisor. */
gboolean xen_process_check_available(SvDomainDriver *drv, GError **error);

/* libxl's domain events, for xen_ctx_new() (user: the XenProcessContext). */
void xen_process_on_event(const libxl_event *event, gpointer user);

/* Find running guests again from their status files and libxl's domain list, then
 * autostart domains once per host boot. Call after the definitions are loaded. */
void xen_process_reconnect_all(XenProcessContext *ctx);

/* Stop watching the guests (they keep running); call before freeing the libxl context. */
void xen_process_shutdown(XenProcessContext *ctx);

/* CPU time a running guest has used, in ns (libxl_domain_info). */
guint64 xen_process_cpu_time(SvDomainDriver *drv, SvDomainObj *obj);

/* The facts of a Xen guest's run for the engine (domain/domain_run.h): its data, what its
 * end releases. */
extern const SvRunFacts xen_run_facts;
