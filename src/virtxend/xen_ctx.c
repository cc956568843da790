/* xen_ctx.c: libxl's context wired into GLib.
 *
 * libxl calls our hooks (fd and timeout registration, event and completion callbacks)
 * from inside its own functions, possibly from inside the call that started an
 * operation. The hooks therefore only register sources or queue what happened; the queue
 * is drained from an idle source, so the daemon's handlers always run at the top of the
 * loop, where calling libxl again is safe. libxl_osevent_occurred_* is only ever called
 * from a source's dispatch, never from within libxl, as libxl_event.h requires. */
#include "xen_ctx.h"

#include <poll.h>
#include <sys/time.h>
#include <xentoollog.h>

#include "util/error.h"

G_STATIC_ASSERT(G_IO_IN == POLLIN && G_IO_OUT == POLLOUT && G_IO_PRI == POLLPRI &&
                G_IO_ERR == POLLERR && G_IO_HUP == POLLHUP && G_IO_NVAL == POLLNVAL);

/* xentoollog's logger; the vtable must come first. */
typedef struct {
    xentoollog_logger vtable;
} XenLogger;

typedef struct {
    GSource source;
    XenCtx *x;
    gpointer tag;
    int fd;
    short events;
    void *for_libxl;
} XenFdSource;

typedef struct {
    XenCtx *x;
    guint id;
    void *for_libxl;
} XenTimeout;

typedef struct {
    libxl_asyncop_how how; /* first: the how handed out is this record */
    XenCtx *x;
    XenAoFunc done;
    gpointer data;
} XenAo;

/* Something libxl reported, waiting for the loop. */
typedef struct {
    libxl_event *event; /* or NULL for a completion */
    XenAo *ao;
    int rc;
} XenPending;

struct XenCtx {
    libxl_ctx *ctx;
    XenLogger logger;
    libxl_osevent_hooks os_hooks;
    libxl_event_hooks ev_hooks;
    libxl_childproc_hooks child_hooks;
    XenEventFunc on_event;
    gpointer user;
    GList *fds;      /* of XenFdSource, registered */
    GList *timeouts; /* of XenTimeout, armed */
    GList *aos;      /* of XenAo, started and not reported */
    GQueue pending;  /* of XenPending */
    guint drain_id;
};

/* ---------------------------------------------------------------- logging */

static void
logger_vmessage(xentoollog_logger *lg, xentoollog_level level, int errnoval, const char *context,
                const char *format, va_list al)
{
    g_autofree char *msg = g_strdup_vprintf(format, al);

    (void)lg;
    /* libxl reports what we report again as errors; its own view is debugging detail,
     * except for what it considers errors. */
    if (level >= XTL_ERROR)
        g_message("libxl: %s%s%s%s%s", context ? context : "", context ? ": " : "", msg,
                  errnoval >= 0 ? ": " : "", errnoval >= 0 ? g_strerror(errnoval) : "");
    else
        g_debug("libxl: %s%s%s", context ? context : "", context ? ": " : "", msg);
}

static void
logger_destroy(xentoollog_logger *lg)
{
    (void)lg; /* embedded in XenCtx */
}

/* ---------------------------------------------------------------- the queue */

static gboolean drain(gpointer data);

static void
queue(XenCtx *x, XenPending *p)
{
    g_queue_push_tail(&x->pending, p);
    if (!x->drain_id)
        x->drain_id = g_idle_add_full(G_PRIORITY_DEFAULT, drain, x, NULL);
}

static gboolean
drain(gpointer data)
{
    XenCtx *x = data;
    XenPending *p;

    x->drain_id = 0;
    /* Handlers may queue more (their own libxl calls): those run in this pass too. */
    while ((p = g_queue_pop_head(&x->pending))) {
        if (p->event) {
            x->on_event(p->event, x->user);
            libxl_event_free(x->ctx, p->event);
        } else {
            p->ao->done(p->rc, p->ao->data);
            g_free(p->ao);
        }
        g_free(p);
    }
    return G_SOURCE_REMOVE;
}

static void
on_event_occurs(void *user, libxl_event *event)
{
    XenCtx *x = user;
    XenPending *p = g_new0(XenPending, 1);

    p->event = event;
    queue(x, p);
}

static void
on_disaster(void *user, libxl_event_type type, const char *msg, int errnoval)
{
    (void)user;
    /* libxl may not be called from here; events of this type may be lost from now on. */
    g_critical("libxl cannot report events (type %d): %s: %s", (int)type, msg,
               g_strerror(errnoval));
}

static void
on_ao_done(libxl_ctx *ctx, int rc, void *for_callback)
{
    XenAo *ao = for_callback;
    XenPending *p = g_new0(XenPending, 1);

    (void)ctx;
    ao->x->aos = g_list_remove(ao->x->aos, ao);
    p->ao = ao;
    p->rc = rc;
    queue(ao->x, p);
}

const libxl_asyncop_how *
xen_ctx_ao(XenCtx *x, XenAoFunc done, gpointer data)
{
    XenAo *ao = g_new0(XenAo, 1);

    ao->how.callback = on_ao_done;
    ao->how.u.for_callback = ao;
    ao->x = x;
    ao->done = done;
    ao->data = data;
    x->aos = g_list_prepend(x->aos, ao);
    return &ao->how;
}

void
xen_ctx_ao_cancel(XenCtx *x, const libxl_asyncop_how *how)
{
    XenAo *ao = (XenAo *)how;

    g_return_if_fail(g_list_find(x->aos, ao));
    x->aos = g_list_remove(x->aos, ao);
    g_free(ao);
}

/* ---------------------------------------------------------------- fds */

static gboolean
fd_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    XenFdSource *fs = (XenFdSource *)source;
    GIOCondition revents = g_source_query_unix_fd(source, fs->tag);

    (void)callback;
    (void)data;
    /* libxl may deregister this very source from inside the call: nothing of it is
     * touched afterwards (GLib holds a reference until dispatch returns). */
    if (revents && fs->events)
        libxl_osevent_occurred_fd(fs->x->ctx, fs->for_libxl, fs->fd, fs->events,
                                  (short)revents);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs fd_source_funcs = {.dispatch = fd_dispatch};

static int
fd_register(void *user, int fd, void **for_app_out, short events, void *for_libxl)
{
    XenCtx *x = user;
    XenFdSource *fs = (XenFdSource *)g_source_new(&fd_source_funcs, sizeof(XenFdSource));

    fs->x = x;
    fs->fd = fd;
    fs->events = events;
    fs->for_libxl = for_libxl;
    fs->tag = g_source_add_unix_fd(&fs->source, fd, (GIOCondition)events);
    g_source_set_name(&fs->source, "libxl fd");
    g_source_attach(&fs->source, NULL);
    x->fds = g_list_prepend(x->fds, fs);
    *for_app_out = fs;
    return 0;
}

static int
fd_modify(void *user, int fd, void **for_app_update, short events)
{
    XenFdSource *fs = *for_app_update;

    (void)user;
    (void)fd;
    fs->events = events;
    g_source_modify_unix_fd(&fs->source, fs->tag, (GIOCondition)events);
    return 0;
}

static void
fd_source_drop(XenFdSource *fs)
{
    fs->x->fds = g_list_remove(fs->x->fds, fs);
    g_source_destroy(&fs->source);
    g_source_unref(&fs->source);
}

static void
fd_deregister(void *user, int fd, void *for_app)
{
    (void)user;
    (void)fd;
    fd_source_drop(for_app);
}

/* ---------------------------------------------------------------- timeouts */

static gboolean
timeout_fire(gpointer data)
{
    XenTimeout *t = data;
    XenCtx *x = t->x;
    void *for_libxl = t->for_libxl;

    /* Deregistered by firing: libxl registers again if it wants another. */
    x->timeouts = g_list_remove(x->timeouts, t);
    g_free(t);
    libxl_osevent_occurred_timeout(x->ctx, for_libxl);
    return G_SOURCE_REMOVE;
}

/* Milliseconds from now until the wall-clock time abs (libxl's clock), at least 0. */
static guint
ms_until(struct timeval abs)
{
    struct timeval now;
    gint64 ms;

    gettimeofday(&now, NULL);
    ms = ((gint64)abs.tv_sec - now.tv_sec) * 1000 + ((gint64)abs.tv_usec - now.tv_usec) / 1000;
    return ms > 0 ? (guint)MIN(ms, G_MAXINT) : 0;
}

static int
timeout_register(void *user, void **for_app_out, struct timeval abs, void *for_libxl)
{
    XenCtx *x = user;
    XenTimeout *t = g_new0(XenTimeout, 1);

    t->x = x;
    t->for_libxl = for_libxl;
    t->id = g_timeout_add(ms_until(abs), timeout_fire, t);
    x->timeouts = g_list_prepend(x->timeouts, t);
    *for_app_out = t;
    return 0;
}

static int
timeout_modify(void *user, void **for_app_update, struct timeval abs)
{
    XenTimeout *t = *for_app_update;

    (void)user;
    (void)abs; /* always {0,0}: now */
    g_source_remove(t->id);
    t->id = g_timeout_add(0, timeout_fire, t);
    return 0;
}

static void
timeout_drop(XenTimeout *t)
{
    t->x->timeouts = g_list_remove(t->x->timeouts, t);
    g_source_remove(t->id);
    g_free(t);
}

static void
timeout_deregister(void *user, void *for_app)
{
    (void)user;
    timeout_drop(for_app); /* libxl documents that it never calls this */
}

/* ---------------------------------------------------------------- context */

XenCtx *
xen_ctx_new(XenEventFunc on_event, gpointer user, GError **error)
{
    g_autoptr(XenCtx) x = g_new0(XenCtx, 1);
    int rc;

    x->on_event = on_event;
    x->user = user;
    g_queue_init(&x->pending);
    x->logger.vtable.vmessage = logger_vmessage;
    x->logger.vtable.destroy = logger_destroy;
    rc = libxl_ctx_alloc(&x->ctx, LIBXL_VERSION, 0, &x->logger.vtable);
    if (rc != 0) {
        x->ctx = NULL;
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "cannot initialize libxenlight (error %d)", rc);
        return NULL;
    }
    x->os_hooks = (libxl_osevent_hooks){
        .fd_register = fd_register,
        .fd_modify = fd_modify,
        .fd_deregister = fd_deregister,
        .timeout_register = timeout_register,
        .timeout_modify = timeout_modify,
        .timeout_deregister = timeout_deregister,
    };
    libxl_osevent_register_hooks(x->ctx, &x->os_hooks, x);
    x->ev_hooks = (libxl_event_hooks){
        .event_occurs_mask = LIBXL_EVENTMASK_ALL,
        .event_occurs = on_event_occurs,
        .disaster = on_disaster,
    };
    libxl_event_register_callbacks(x->ctx, &x->ev_hooks, x);
    /* As libvirt: libxl reaps only its own children (device models, scripts). */
    x->child_hooks.chldowner = libxl_sigchld_owner_libxl_always_selective_reap;
    libxl_childproc_setmode(x->ctx, &x->child_hooks, x);
    return g_steal_pointer(&x);
}

libxl_ctx *
xen_ctx_get(XenCtx *x)
{
    return x->ctx;
}

void
xen_ctx_free(XenCtx *x)
{
    XenPending *p;

    if (!x)
        return;
    if (x->drain_id)
        g_source_remove(x->drain_id);
    /* libxl deregisters its fds here, and may still report things; whatever remains
     * afterwards is dropped. Events need no context to be freed. */
    libxl_ctx_free(x->ctx);
    while ((p = g_queue_pop_head(&x->pending))) {
        if (p->event)
            libxl_event_free(NULL, p->event);
        g_free(p->ao);
        g_free(p);
    }
    g_list_free_full(g_steal_pointer(&x->aos), g_free);
    while (x->fds)
        fd_source_drop(x->fds->data);
    while (x->timeouts)
        timeout_drop(x->timeouts->data);
    g_free(x);
}
