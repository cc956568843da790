/* xen_ctx.h: libxl's context on the daemon's GMainLoop. Its log goes to GLib's; its fds
 * and timeouts are GSources (libxl_osevent_register_hooks); its domain events and the
 * completions of asynchronous calls reach the daemon from the loop, in the order libxl
 * reported them, and never from inside a libxl call. */
#pragma once

#include <glib.h>
#include <libxl.h>

typedef struct XenCtx XenCtx;

/* A libxl event (DOMAIN_SHUTDOWN, DOMAIN_DEATH, ...); freed after the call (transfer none). */
typedef void (*XenEventFunc)(const libxl_event *event, gpointer user);

/* An asynchronous libxl call ended with libxl's rc (0 is success, ERROR_* otherwise). */
typedef void (*XenAoFunc)(int rc, gpointer data);

/* Allocate libxl's context. Fails (OPERATION_FAILED, LIBXL) where libxl cannot reach a
 * hypervisor: no Xen, or not its control domain. (transfer full) */
XenCtx *xen_ctx_new(XenEventFunc on_event, gpointer user, GError **error);

/* Free the context; completions still pending are dropped without being called. */
void xen_ctx_free(XenCtx *x);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XenCtx, xen_ctx_free)

/* (transfer none) */
libxl_ctx *xen_ctx_get(XenCtx *x);

/* The ao_how for one asynchronous call: `done` runs from the loop when libxl reports the
 * end. When the call returns nonzero, libxl will never report it: pass the how to
 * xen_ctx_ao_cancel(). (transfer none: XenCtx owns it until done runs or it is cancelled) */
const libxl_asyncop_how *xen_ctx_ao(XenCtx *x, XenAoFunc done, gpointer data);
void xen_ctx_ao_cancel(XenCtx *x, const libxl_asyncop_how *how);
