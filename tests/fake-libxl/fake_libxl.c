/* fake_libxl.c: the libxl calls virtxend makes, faked for LD_PRELOAD, so the Xen
 * lifecycle can be tested on hosts without Xen.
 *
 * The fake "hypervisor" lives in the directory $SV_FAKE_LIBXL_DIR, so it outlives the
 * daemon (a SIGKILLed daemon finds its domains again):
 *   domains/DOMID   "UUID STATE SHUTDOWN_REASON NAME", STATE running|paused|shutdown;
 *   next-domid      the next domain id;
 *   calls           one line per call made: "create NAME DOMID type=pv ...", "shutdown
 *                   DOMID", "destroy DOMID", "pause DOMID", ...;
 *   ignore-shutdown if present, guests ignore shutdown and reboot requests;
 *   fail-create     if present, creates fail;
 *   fail-destroy    if present when a destroy is asked, it completes with ERROR_FAIL and
 *                   the domain stays as it was;
 *   create-delay-ms if present, the milliseconds a create takes to complete (the domain
 *                   exists from the call on, paused, as libxl makes it before it returns);
 *   ctl             a FIFO the test writes "poweroff|reboot|crash|destroy DOMID" lines to,
 *                   as if the guest (or `xl destroy`) did it; watched through the
 *                   application's fd hook.
 * Without $SV_FAKE_LIBXL_DIR, libxl_ctx_alloc fails as on a host without Xen. Guests react
 * and asynchronous calls complete after $SV_FAKE_LIBXL_DELAY_MS (50), through the
 * application's timeout hook; events and completions are delivered as libxl delivers
 * them, from inside libxl_osevent_occurred_*. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <glib.h>
#include <libxl.h>
#include <libxl_utils.h>

typedef enum {
    ACT_CREATE,
    ACT_GUEST_SHUTDOWN,
    ACT_DESTROY,
    ACT_REPORT_SHUTDOWN, /* what libxl's first look at a watched domain finds */
    ACT_REPORT_DEATH,
} ActKind;

typedef struct {
    ActKind kind;
    guint32 domid;
    int reason;                /* ACT_*SHUTDOWN: libxl_shutdown_reason */
    gboolean fail;             /* ACT_DESTROY: completes with ERROR_FAIL, changes nothing */
    libxl_asyncop_how how;     /* completion of create and destroy */
    gboolean has_how;
    char *name;                /* ACT_CREATE */
    guint8 uuid[16];           /* ACT_CREATE */
    void *for_app;             /* the application's timeout registration */
} Action;

typedef struct {
    guint32 domid;
    libxl_ev_user user;
} DeathGen;

struct libxl__ctx {
    char *dir;
    guint delay_ms;
    const libxl_osevent_hooks *os;
    void *os_user;
    const libxl_event_hooks *ev;
    void *ev_user;
    GList *actions; /* of Action, armed */
    GList *gens;    /* of DeathGen */
    int ctl_fd;
    void *ctl_reg;
    GString *ctl_buf;
    libxl_version_info version;
};

/* ---------------------------------------------------------------- the state directory */

static char *
path_of(libxl_ctx *ctx, const char *name)
{
    return g_build_filename(ctx->dir, name, NULL);
}

static void
log_call(libxl_ctx *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
log_call(libxl_ctx *ctx, const char *fmt, ...)
{
    g_autofree char *path = path_of(ctx, "calls");
    g_autofree char *line = NULL;
    va_list ap;
    FILE *f;

    va_start(ap, fmt);
    line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    f = fopen(path, "a");
    if (f) {
        fprintf(f, "%s\n", line);
        fclose(f);
    }
}

static gboolean
flag_file(libxl_ctx *ctx, const char *name)
{
    g_autofree char *path = path_of(ctx, name);

    return g_file_test(path, G_FILE_TEST_EXISTS);
}

typedef struct {
    guint8 uuid[16];
    char state[16];
    int reason;
    char name[256];
} Dom;

static char *
dom_path(libxl_ctx *ctx, guint32 domid)
{
    return g_strdup_printf("%s/domains/%u", ctx->dir, domid);
}

static gboolean
dom_read(libxl_ctx *ctx, guint32 domid, Dom *d)
{
    g_autofree char *path = dom_path(ctx, domid);
    g_autofree char *text = NULL;
    char uuid[40];
    libxl_uuid u;

    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        sscanf(text, "%39s %15s %d %255s", uuid, d->state, &d->reason, d->name) != 4 ||
        libxl_uuid_from_string(&u, uuid) != 0)
        return FALSE;
    memcpy(d->uuid, libxl_uuid_bytearray(&u), 16);
    return TRUE;
}

static void
dom_write(libxl_ctx *ctx, guint32 domid, const Dom *d)
{
    g_autofree char *path = dom_path(ctx, domid);
    g_autofree char *text = NULL;
    char uuid[40];

    g_snprintf(uuid, sizeof(uuid), LIBXL_UUID_FMT, LIBXL__UUID_BYTES(d->uuid));
    text = g_strdup_printf("%s %s %d %s\n", uuid, d->state, d->reason, d->name);
    g_file_set_contents(path, text, -1, NULL);
}

static void
dom_remove(libxl_ctx *ctx, guint32 domid)
{
    g_autofree char *path = dom_path(ctx, domid);

    unlink(path);
}

static guint32
next_domid(libxl_ctx *ctx)
{
    g_autofree char *path = path_of(ctx, "next-domid");
    g_autofree char *text = NULL;
    g_autofree char *next = NULL;
    guint32 id = 1;

    if (g_file_get_contents(path, &text, NULL, NULL))
        id = (guint32)g_ascii_strtoull(text, NULL, 10);
    next = g_strdup_printf("%u\n", id + 1);
    g_file_set_contents(path, next, -1, NULL);
    return id;
}

/* ---------------------------------------------------------------- events and timers */

static DeathGen *
gen_for(libxl_ctx *ctx, guint32 domid)
{
    for (GList *l = ctx->gens; l; l = l->next) {
        DeathGen *g = l->data;
        if (g->domid == domid)
            return g;
    }
    return NULL;
}

/* An event to the application, if it watches the domain. */
static void
deliver(libxl_ctx *ctx, guint32 domid, libxl_event_type type, int reason)
{
    DeathGen *g = gen_for(ctx, domid);
    libxl_event *ev;

    if (!g || !ctx->ev)
        return;
    ev = calloc(1, sizeof(*ev));
    ev->domid = domid;
    ev->for_user = g->user;
    ev->type = type;
    if (type == LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN)
        ev->u.domain_shutdown.shutdown_reason = (uint8_t)reason;
    ctx->ev->event_occurs(ctx->ev_user, ev);
}

static void
arm(libxl_ctx *ctx, Action *a, guint delay_ms)
{
    struct timeval now, abs;

    gettimeofday(&now, NULL);
    abs.tv_sec = now.tv_sec + (time_t)(delay_ms / 1000);
    abs.tv_usec = now.tv_usec + (suseconds_t)(delay_ms % 1000) * 1000;
    if (abs.tv_usec >= 1000000) {
        abs.tv_sec++;
        abs.tv_usec -= 1000000;
    }
    ctx->actions = g_list_append(ctx->actions, a);
    ctx->os->timeout_register(ctx->os_user, &a->for_app, abs, a);
}

static Action *
action_new(ActKind kind, guint32 domid, int reason)
{
    Action *a = g_new0(Action, 1);

    a->kind = kind;
    a->domid = domid;
    a->reason = reason;
    return a;
}

static void
action_free(Action *a)
{
    g_free(a->name);
    g_free(a);
}

/* The guest shut itself down (or crashed): Xen keeps it until the toolstack destroys it. */
static void
guest_shutdown(libxl_ctx *ctx, guint32 domid, int reason)
{
    Dom d;

    if (!dom_read(ctx, domid, &d) || g_str_equal(d.state, "shutdown"))
        return;
    g_strlcpy(d.state, "shutdown", sizeof(d.state));
    d.reason = reason;
    dom_write(ctx, domid, &d);
    deliver(ctx, domid, LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, reason);
}

static void
domain_gone(libxl_ctx *ctx, guint32 domid)
{
    Dom d;

    if (!dom_read(ctx, domid, &d))
        return;
    dom_remove(ctx, domid);
    deliver(ctx, domid, LIBXL_EVENT_TYPE_DOMAIN_DEATH, 0);
}

static void
run_action(libxl_ctx *ctx, Action *a)
{
    int rc = 0;

    switch (a->kind) {
    case ACT_CREATE: {
        Dom d;
        /* Made at the call; gone meanwhile (destroyed by someone): the create fails. */
        if (a->domid == 0 || !dom_read(ctx, a->domid, &d))
            rc = ERROR_FAIL;
        else
            log_call(ctx, "created %s %u", a->name, a->domid);
        break;
    }
    case ACT_GUEST_SHUTDOWN:
        guest_shutdown(ctx, a->domid, a->reason);
        break;
    case ACT_DESTROY:
        if (a->fail)
            rc = ERROR_FAIL;
        else
            domain_gone(ctx, a->domid);
        break;
    case ACT_REPORT_SHUTDOWN:
        deliver(ctx, a->domid, LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN, a->reason);
        break;
    case ACT_REPORT_DEATH:
        deliver(ctx, a->domid, LIBXL_EVENT_TYPE_DOMAIN_DEATH, 0);
        break;
    }
    if (a->has_how)
        a->how.callback(ctx, rc, a->how.u.for_callback);
}

void
libxl_osevent_occurred_timeout(libxl_ctx *ctx, void *for_libxl)
{
    Action *a = for_libxl;

    ctx->actions = g_list_remove(ctx->actions, a);
    run_action(ctx, a);
    action_free(a);
}

/* Lines from the test on the ctl FIFO. */
static void
ctl_command(libxl_ctx *ctx, const char *line)
{
    char verb[32];
    unsigned int domid;

    if (sscanf(line, "%31s %u", verb, &domid) != 2)
        return;
    log_call(ctx, "ctl %s %u", verb, domid);
    if (g_str_equal(verb, "poweroff"))
        guest_shutdown(ctx, domid, LIBXL_SHUTDOWN_REASON_POWEROFF);
    else if (g_str_equal(verb, "reboot"))
        guest_shutdown(ctx, domid, LIBXL_SHUTDOWN_REASON_REBOOT);
    else if (g_str_equal(verb, "crash"))
        guest_shutdown(ctx, domid, LIBXL_SHUTDOWN_REASON_CRASH);
    else if (g_str_equal(verb, "destroy"))
        domain_gone(ctx, domid);
}

void
libxl_osevent_occurred_fd(libxl_ctx *ctx, void *for_libxl, int fd, short events, short revents)
{
    char buf[256];
    ssize_t n;
    char *nl;

    (void)for_libxl;
    (void)events;
    (void)revents;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        g_string_append_len(ctx->ctl_buf, buf, n);
    while ((nl = strchr(ctx->ctl_buf->str, '\n'))) {
        g_autofree char *line = g_strndup(ctx->ctl_buf->str, nl - ctx->ctl_buf->str);
        g_string_erase(ctx->ctl_buf, 0, nl - ctx->ctl_buf->str + 1);
        ctl_command(ctx, line);
    }
}

/* ---------------------------------------------------------------- context */

int
libxl_ctx_alloc(libxl_ctx **pctx, int version, unsigned flags, xentoollog_logger *lg)
{
    const char *dir = g_getenv("SV_FAKE_LIBXL_DIR");
    const char *delay = g_getenv("SV_FAKE_LIBXL_DELAY_MS");
    libxl_ctx *ctx;
    g_autofree char *domains = NULL;
    g_autofree char *ctl = NULL;

    (void)version;
    (void)flags;
    (void)lg;
    *pctx = NULL;
    if (!dir)
        return ERROR_FAIL;
    ctx = g_new0(libxl_ctx, 1);
    ctx->dir = g_strdup(dir);
    ctx->delay_ms = delay ? (guint)g_ascii_strtoull(delay, NULL, 10) : 50;
    ctx->ctl_fd = -1;
    ctx->ctl_buf = g_string_new(NULL);
    ctx->version.xen_version_major = 4;
    ctx->version.xen_version_minor = 17;
    ctx->version.xen_version_extra = (char *)".2";
    domains = path_of(ctx, "domains");
    g_mkdir_with_parents(domains, 0755);
    ctl = path_of(ctx, "ctl");
    if (mkfifo(ctl, 0600) < 0 && errno != EEXIST)
        g_warning("fake libxl: mkfifo %s: %s", ctl, g_strerror(errno));
    /* Read-write, so the FIFO never reports end of file between writers. */
    ctx->ctl_fd = open(ctl, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    log_call(ctx, "ctx_alloc");
    *pctx = ctx;
    return 0;
}

int
libxl_ctx_free(libxl_ctx *ctx)
{
    if (!ctx)
        return 0;
    if (ctx->ctl_reg)
        ctx->os->fd_deregister(ctx->os_user, ctx->ctl_fd, ctx->ctl_reg);
    if (ctx->ctl_fd >= 0)
        close(ctx->ctl_fd);
    /* Armed timeouts are the application's to drop; their actions die here. */
    g_list_free_full(ctx->actions, (GDestroyNotify)action_free);
    g_list_free_full(ctx->gens, g_free);
    g_string_free(ctx->ctl_buf, TRUE);
    log_call(ctx, "ctx_free");
    g_free(ctx->dir);
    g_free(ctx);
    return 0;
}

void
libxl_osevent_register_hooks(libxl_ctx *ctx, const libxl_osevent_hooks *hooks, void *user)
{
    ctx->os = hooks;
    ctx->os_user = user;
    if (ctx->ctl_fd >= 0)
        hooks->fd_register(user, ctx->ctl_fd, &ctx->ctl_reg, POLLIN, ctx);
}

void
libxl_event_register_callbacks(libxl_ctx *ctx, const libxl_event_hooks *hooks, void *user)
{
    ctx->ev = hooks;
    ctx->ev_user = user;
}

void
libxl_childproc_setmode(libxl_ctx *ctx, const libxl_childproc_hooks *hooks, void *user)
{
    (void)ctx;
    (void)hooks;
    (void)user;
}

void
libxl_event_free(libxl_ctx *ctx, libxl_event *event)
{
    (void)ctx;
    free(event);
}

const libxl_version_info *
libxl_get_version_info(libxl_ctx *ctx)
{
    return &ctx->version;
}

int
libxl_get_max_cpus(libxl_ctx *ctx)
{
    (void)ctx;
    return 64;
}

/* ---------------------------------------------------------------- domains */

static guint
create_delay(libxl_ctx *ctx)
{
    g_autofree char *path = path_of(ctx, "create-delay-ms");
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return ctx->delay_ms;
    return (guint)g_ascii_strtoull(text, NULL, 10);
}

int
libxl_domain_create_new(libxl_ctx *ctx, libxl_domain_config *d_config, uint32_t *domid,
                        const libxl_asyncop_how *ao_how,
                        const libxl_asyncprogress_how *aop_console_how)
{
    const libxl_domain_build_info *b = &d_config->b_info;
    Action *a = action_new(ACT_CREATE, 0, 0);

    (void)aop_console_how;
    /* What the driver built, for the tests to check. */
    log_call(ctx,
             "create %s type=%s maxmem=%" PRIu64 " mem=%" PRIu64 " vcpus=%d disks=%d nics=%d "
             "kernel=%s",
             d_config->c_info.name, libxl_domain_type_to_string(d_config->c_info.type),
             b->max_memkb, b->target_memkb, b->max_vcpus, d_config->num_disks,
             d_config->num_nics, b->kernel ? b->kernel : "-");
    a->name = g_strdup(d_config->c_info.name);
    memcpy(a->uuid, libxl_uuid_bytearray(&d_config->c_info.uuid), 16);
    if (!flag_file(ctx, "fail-create")) {
        Dom d;

        memset(&d, 0, sizeof(d));
        memcpy(d.uuid, a->uuid, 16);
        g_strlcpy(d.state, "paused", sizeof(d.state));
        d.reason = -1;
        g_strlcpy(d.name, a->name, sizeof(d.name));
        a->domid = next_domid(ctx);
        dom_write(ctx, a->domid, &d);
        *domid = a->domid;
    }
    if (ao_how) {
        a->how = *ao_how;
        a->has_how = TRUE;
    }
    arm(ctx, a, create_delay(ctx));
    return 0;
}

static gboolean
exists(libxl_ctx *ctx, guint32 domid, Dom *d)
{
    return dom_read(ctx, domid, d);
}

int
libxl_domain_destroy(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    Dom d;
    Action *a;

    log_call(ctx, "destroy %u", domid);
    if (!exists(ctx, domid, &d))
        return ERROR_INVAL;
    a = action_new(ACT_DESTROY, domid, 0);
    a->fail = flag_file(ctx, "fail-destroy");
    if (ao_how) {
        a->how = *ao_how;
        a->has_how = TRUE;
    }
    arm(ctx, a, ctx->delay_ms);
    return 0;
}

static int
request(libxl_ctx *ctx, uint32_t domid, const char *what, int reason)
{
    Dom d;

    log_call(ctx, "%s %u", what, domid);
    if (!exists(ctx, domid, &d) || g_str_equal(d.state, "shutdown"))
        return ERROR_INVAL;
    if (!flag_file(ctx, "ignore-shutdown"))
        arm(ctx, action_new(ACT_GUEST_SHUTDOWN, domid, reason), ctx->delay_ms);
    return 0;
}

int
libxl_domain_shutdown(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    (void)ao_how;
    return request(ctx, domid, "shutdown", LIBXL_SHUTDOWN_REASON_POWEROFF);
}

int
libxl_domain_reboot(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    (void)ao_how;
    return request(ctx, domid, "reboot", LIBXL_SHUTDOWN_REASON_REBOOT);
}

static int
set_paused(libxl_ctx *ctx, uint32_t domid, gboolean paused)
{
    Dom d;

    log_call(ctx, "%s %u", paused ? "pause" : "unpause", domid);
    if (!exists(ctx, domid, &d) || g_str_equal(d.state, "shutdown"))
        return ERROR_INVAL;
    g_strlcpy(d.state, paused ? "paused" : "running", sizeof(d.state));
    dom_write(ctx, domid, &d);
    return 0;
}

int
libxl_domain_pause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    (void)ao_how;
    return set_paused(ctx, domid, TRUE);
}

int
libxl_domain_unpause(libxl_ctx *ctx, uint32_t domid, const libxl_asyncop_how *ao_how)
{
    (void)ao_how;
    return set_paused(ctx, domid, FALSE);
}

int
libxl_evenable_domain_death(libxl_ctx *ctx, uint32_t domid, libxl_ev_user user,
                            libxl_evgen_domain_death **evgen_out)
{
    DeathGen *g = g_new0(DeathGen, 1);
    Dom d;

    log_call(ctx, "evenable %u", domid);
    g->domid = domid;
    g->user = user;
    ctx->gens = g_list_prepend(ctx->gens, g);
    *evgen_out = (libxl_evgen_domain_death *)g;
    /* As libxl's first look at the domain: what already happened is reported. */
    if (!exists(ctx, domid, &d))
        arm(ctx, action_new(ACT_REPORT_DEATH, domid, 0), 0);
    else if (g_str_equal(d.state, "shutdown"))
        arm(ctx, action_new(ACT_REPORT_SHUTDOWN, domid, d.reason), 0);
    return 0;
}

void
libxl_evdisable_domain_death(libxl_ctx *ctx, libxl_evgen_domain_death *evgen)
{
    DeathGen *g = (DeathGen *)evgen;

    log_call(ctx, "evdisable %u", g->domid);
    ctx->gens = g_list_remove(ctx->gens, g);
    g_free(g);
}

static void
fill_info(guint32 domid, const Dom *d, libxl_dominfo *info)
{
    memcpy(libxl_uuid_bytearray(&info->uuid), d->uuid, 16);
    info->domid = domid;
    info->running = g_str_equal(d->state, "running");
    info->paused = g_str_equal(d->state, "paused");
    info->shutdown = g_str_equal(d->state, "shutdown");
    info->shutdown_reason = d->reason;
    info->cpu_time = 1000000000ull * domid;
}

libxl_dominfo *
libxl_list_domain(libxl_ctx *ctx, int *nb_domain_out)
{
    g_autofree char *dir_path = path_of(ctx, "domains");
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint32));
    libxl_dominfo *list;
    const char *e;
    int n = 0;

    log_call(ctx, "list");
    while (dir && (e = g_dir_read_name(dir))) {
        guint32 id = (guint32)g_ascii_strtoull(e, NULL, 10);
        g_array_append_val(ids, id);
    }
    list = calloc(ids->len + 1, sizeof(libxl_dominfo));
    for (guint i = 0; i < ids->len; i++) {
        Dom d;
        guint32 id = g_array_index(ids, guint32, i);

        if (dom_read(ctx, id, &d))
            fill_info(id, &d, &list[n++]);
    }
    g_array_unref(ids);
    *nb_domain_out = n;
    return list;
}

void
libxl_dominfo_list_free(libxl_dominfo *list, int nb_domain)
{
    (void)nb_domain;
    free(list);
}

char *
libxl_domid_to_name(libxl_ctx *ctx, uint32_t domid)
{
    Dom d;

    return dom_read(ctx, domid, &d) ? strdup(d.name) : NULL;
}

int
libxl_domain_info(libxl_ctx *ctx, libxl_dominfo *info_r, uint32_t domid)
{
    Dom d;

    if (!dom_read(ctx, domid, &d))
        return ERROR_DOMAIN_NOTFOUND;
    fill_info(domid, &d, info_r);
    return 0;
}
