/* lxc_start.c: starting a container: what can be refused before anything runs, the
 * supervisor spawned and held before exec, its record written durably, then its release.
 *
 * The order is what makes a restarted daemon find every container of ours: no supervisor
 * runs before the status file naming it (pid, start time, "starting") is on disk. A start
 * whose record cannot be written fails, and its held supervisor goes without having run
 * anything; a daemon that dies before the release takes the held child with it (it sees
 * its gate close and exits). */
#include "lxc_domain.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lxc_spec.h"
#include "domain/domain_netport.h"
#include "programs/backend.h"
#include "sv-config.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/fileio.h"
#include "util/netdev.h"

#define SPEC_MAX 65536 /* the spec goes through a pipe before the supervisor reads it */

/* Init was not running in time: the supervisor stops what it started. */
static void
start_timed_out(SvDomainObj *obj, GError *error)
{
    sv_domain_run_start_failed(obj, error);
    lxc_domain_stop_supervisor(lxc_domain_of(obj));
}

/* A listening socket for the supervisor, and our control connection to it, queued in its
 * backlog before the supervisor even runs. */
static int
supervisor_socket(const char *path, int *ret_control, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_auto(SvFd) fd = -1;

    strcpy(sa.sun_path, path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Failed to listen on '%s'", path);
        return -1;
    }
    chmod(path, 0600);
    *ret_control = lxc_monitor_connect(path, "control", error);
    if (*ret_control < 0)
        return -1;
    return g_steal_fd(&fd);
}

/* The spec, readable from the returned pipe end (it fits the pipe's buffer). */
static int
spec_pipe(const char *text, GError **error)
{
    int fds[2];
    gsize len = strlen(text);

    if (len > SPEC_MAX) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "the container's configuration is too large (%zu bytes)", len);
        return -1;
    }
    if (pipe2(fds, O_CLOEXEC) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot create a pipe");
        return -1;
    }
    fcntl(fds[1], F_SETPIPE_SZ, SPEC_MAX);
    if (write(fds[1], text, len) != (ssize_t)len) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot hand over the container spec");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    close(fds[1]);
    return fds[0];
}

static gboolean
target_dev_taken(SvDomainList *list, const char *name)
{
    g_autoptr(GPtrArray) objs = sv_domain_list_filter(list, SV_CONNECT_LIST_DOMAINS_ACTIVE);

    if (sv_netdev_exists(name))
        return TRUE;
    for (guint j = 0; j < objs->len; j++) {
        SvDomainDef *d = ((SvDomainObj *)objs->pdata[j])->def;
        for (guint k = 0; k < d->interfaces->len; k++) {
            const char *t = ((SvDomainNetDef *)d->interfaces->pdata[k])->target_dev;
            if (t && g_str_equal(t, name))
                return TRUE;
        }
    }
    return FALSE;
}

char *
lxc_free_link_name(SvDomainList *list, guint *next)
{
    for (;;) {
        g_autofree char *name = g_strdup_printf("veth%u", (*next)++);
        if (!target_dev_taken(list, name))
            return g_steal_pointer(&name);
    }
}

void
lxc_complete_interface(SvDomainList *list, SvDomainNetDef *n, guint *next)
{
    if (!n->mac)
        n->mac = sv_domain_net_generate_mac();
    if (!n->target_dev)
        n->target_dev = lxc_free_link_name(list, next);
}

/* What libvirt fills in at start: MACs and host-side link names that were not given (none
 * taken by another container of list). */
static void
complete_interfaces(SvDomainList *list, SvDomainDef *def)
{
    guint next = 0;

    for (guint i = 0; i < def->interfaces->len; i++)
        lxc_complete_interface(list, def->interfaces->pdata[i], &next);
}

typedef struct {
    LxcSpec *spec;
    char *socket_path;
    SvCgroup *cgroup;
} StartPlan;

static void
start_plan_clear(StartPlan *p)
{
    lxc_spec_free(p->spec);
    g_free(p->socket_path);
    sv_cgroup_free(p->cgroup);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(StartPlan, start_plan_clear)

/* With <idmap>, the container's root is an unprivileged uid on the host, which has to own
 * the root filesystem (the container makes its mount points there as that uid). A root
 * that cannot be looked at is the supervisor's to report, as without a map. */
static gboolean
check_root_owner(const LxcSpec *spec, GError **error)
{
    guint uid = lxc_spec_idmap_root(spec->uidmap);
    struct stat st;

    if (!spec->uidmap->len || stat(spec->root, &st) < 0 || st.st_uid == uid)
        return TRUE;
    sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                 "The root filesystem '%s' must be owned by uid %u, the container's root "
                 "user on the host (<idmap>), not by uid %u",
                 spec->root, uid, (guint)st.st_uid);
    return FALSE;
}

/* Never a second container for a domain whose container lives: one a restarted daemon
 * could not take back (its status file was set aside) still has its cgroup. */
static gboolean
check_cgroup_free(SvCgroup *cg, const char *name, GError **error)
{
    g_autoptr(GArray) pids = sv_cgroup_get_pids(cg);

    if (!pids || pids->len == 0)
        return TRUE;
    sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID,
                 "a container of domain '%s' still runs outside the daemon's control: its "
                 "cgroup %s holds process %d", name, sv_cgroup_get_path(cg),
                 (int)g_array_index(pids, pid_t, 0));
    return FALSE;
}

/* The <cputune> and <memtune> of live in the container's cgroup, made now for it (the
 * supervisor then finds it made), before anything of the container runs; nothing is left
 * when the kernel refuses a value. */
static gboolean
prepare_tuning(SvCgroup *cg, const SvDomainDef *live, GError **error)
{
    if (!lxc_tune_needed(live))
        return TRUE;
    if (sv_cgroup_create(cg, error) && lxc_tune_apply(cg, live, error))
        return TRUE;
    sv_cgroup_remove(cg, NULL);
    return FALSE;
}

/* Everything that can be refused before anything is created, for live, the definition
 * obj is to run on. */
static gboolean
plan_start(SvDomainObj *obj, SvDomainDef *live, StartPlan *p, GError **error)
{
    const LxcProcessContext *ctx = lxc_ctx_of(obj);
    LxcSpecContext sctx = {ctx->cgroup_root, ctx->cgroup_parent};
    struct sockaddr_un sa;

    complete_interfaces(obj->list, live);
    p->spec = lxc_spec_new_from_def(live, &sctx, error);
    if (!p->spec || !check_root_owner(p->spec, error))
        return FALSE;
    p->socket_path = g_strdup_printf("%s/%s.sock", ctx->run_dir, live->name);
    if (strlen(p->socket_path) >= sizeof(sa.sun_path)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "supervisor socket path '%s' is %zu bytes; at most %zu fit in a UNIX "
                     "socket address (use a shorter name or root directory)",
                     p->socket_path, strlen(p->socket_path), sizeof(sa.sun_path) - 1);
        return FALSE;
    }
    p->cgroup = sv_cgroup_new(ctx->cgroup_root, p->spec->cgroup_path, error);
    return p->cgroup && check_cgroup_free(p->cgroup, live->name, error) &&
           prepare_tuning(p->cgroup, live, error);
}

/* The supervisor, held before exec, with our control connection queued on its socket. */
static SvProcess *
spawn_supervisor(SvDomainObj *obj, LxcDomain *ld, const LxcSpec *spec, GError **error)
{
    const LxcProcessContext *ctx = lxc_ctx_of(obj);
    g_autofree char *text = lxc_spec_format(spec);
    g_auto(SvFd) listen_fd = -1;
    g_auto(SvFd) control = -1;
    g_auto(SvFd) spec_fd = -1;
    g_autofree char *fd_arg = NULL;
    const char *argv[10];
    SvSpawnOptions o = {0};
    SvProcess *proc;
    int n = 0;

    if (!sv_mkdir_p(ctx->run_dir, 0755, error) ||
        (listen_fd = supervisor_socket(ld->socket_path, &control, error)) < 0 ||
        (spec_fd = spec_pipe(text, error)) < 0)
        return NULL;
    fd_arg = g_strdup_printf("%d", listen_fd);
    argv[n++] = ctx->supervisor;
    argv[n++] = "--name";
    argv[n++] = obj->def->name;
    argv[n++] = "--listen-fd";
    argv[n++] = fd_arg;
    argv[n++] = "--socket";
    argv[n++] = ld->socket_path;
    if (sv_daemon_is_verbose(ctx->daemon))
        argv[n++] = "--verbose";
    argv[n] = NULL;
    o.argv = argv;
    o.stdin_fd = spec_fd;
    o.stdout_fd = ld->log_fd;
    o.stderr_fd = ld->log_fd;
    o.keep_fds = &listen_fd;
    o.n_keep_fds = 1;
    o.new_session = TRUE; /* nothing aimed at the daemon's process group reaches it */
    o.hold_exec = TRUE;
    proc = sv_process_spawn(&o, error);
    if (proc) {
        ld->supervisor = proc;
        ld->held = TRUE;
        lxc_domain_watch_supervisor(obj, g_steal_fd(&control));
    }
    return proc;
}

/* The record naming the held supervisor is on disk (or could not be written): the engine
 * lets it run, or the start fails. Either way its exit, if any, ends the run. */
static SvProcess *
record_held(SvDomainObj *obj)
{
    LxcDomain *ld = lxc_domain_of(obj);

    return ld->held ? ld->supervisor : NULL;
}

static void
record_abandon(SvDomainObj *obj, const GError *error)
{
    GError *cause = NULL;

    if (error) {
        sv_error_set(&cause, SV_FROM_LXC, SV_ERR_OPERATION_FAILED,
                     "guest failed to start: cannot record the container's status: %s",
                     error->message);
        sv_domain_run_start_failed(obj, cause);
    }
    lxc_domain_stop_supervisor(lxc_domain_of(obj)); /* still held: it runs nothing */
}

/* It has exited (exec failed): its exit ends the run with this error. */
static void
record_release_failed(SvDomainObj *obj, GError *error)
{
    SvDomainRun *run = sv_domain_run_of(obj);

    lxc_domain_of(obj)->held = FALSE;
    g_clear_error(&run->start_error);
    run->start_error = g_error_new(SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                                   "guest failed to start: %s", error->message);
    g_error_free(error);
}

static void
record_released(SvDomainObj *obj)
{
    lxc_domain_of(obj)->held = FALSE;
    sv_domain_run_arm_start_timer(obj, lxc_ctx_of(obj)->timeouts.start_timeout_ms,
                                  "guest failed to start: init was not running after",
                                  start_timed_out);
}

static const SvRunReleaseFacts record_facts = {
    .held = record_held,
    .abandon = record_abandon,
    .release_failed = record_release_failed,
    .released = record_released,
};

/* The run begins: the daemon held, who asked and the call waiting for the container
 * recorded, STARTING (written with the record of its supervisor). From here every end of
 * the start goes through the engine's teardown. */
static LxcDomain *
start_begin(SvDomainObj *obj, SvCall *call, guint flags)
{
    LxcDomain *ld = lxc_domain_new(obj);

    sv_domain_driver_hold(ld->run.drv, TRUE);
    if (call)
        sv_domain_driver_set_cause_call(obj, call);
    else
        sv_domain_obj_set_cause(obj, "the daemon (autostart)");
    sv_domain_run_take_start(obj, call, flags);
    sv_domain_run_change(obj, SV_RUN_STARTING, SV_STOP_NONE);
    return ld;
}

/* A start that failed before its supervisor existed (error: transfer full) ends as every
 * run does, in the engine's teardown: the socket goes (lxc_domain_release), SHUTOFF/FAILED
 * with no event, the definition back, the call failed with the error. Nothing ran, so the
 * guest log says only that the start began. */
static void
start_abort(SvDomainObj *obj, GError *error)
{
    g_prefix_error(&error, "guest failed to start: ");
    sv_domain_run_start_failed(obj, error);
    sv_domain_run_teardown(obj, &(SvRunEnd){.never_ran = TRUE});
}

/* The supervisor spawned for obj's live definition (its interfaces' ports, if any, given
 * already), then recorded and let go; a failure ends the start. */
static void
start_spawn(SvDomainObj *obj, const LxcSpec *spec)
{
    LxcDomain *ld = lxc_domain_of(obj);
    GError *local = NULL;

    spawn_supervisor(obj, ld, spec, &local);
    if (!ld->supervisor) {
        start_abort(obj, local);
        return;
    }
    /* libvirt's LXC driver names a running container by its controller's pid. STARTING and
     * this state are written once, with the supervisor's record below. */
    sv_domain_list_set_id(obj->list, obj, (int)sv_process_get_pid(ld->supervisor));
    sv_domain_obj_set_state(obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_STARTING_UP);
    sv_domain_run_record_then_release(obj, &record_facts);
}

/* The ports of the container's interfaces of type network given (or refused): the spec is
 * made again with their bridges, and the start goes on. */
static void
ports_ready(SvNetportWork *done, const GError *error, gpointer run)
{
    g_autoptr(SvNetportWork) work = done;
    SvDomainObj *obj = lxc_domain_find_run(run);
    const LxcProcessContext *ctx;
    LxcSpecContext sctx;
    g_autoptr(LxcSpec) spec = NULL;
    GError *local = NULL;

    if (!obj || !sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error) {
        if (!error)
            sv_netport_work_undo(work); /* the start ended meanwhile: nothing owns them */
        return;
    }
    if (error) {
        start_abort(obj, g_error_copy(error));
        return;
    }
    sv_netport_apply(work, obj->def);
    ctx = lxc_ctx_of(obj);
    sctx = (LxcSpecContext){ctx->cgroup_root, ctx->cgroup_parent};
    spec = lxc_spec_new_from_def(obj->def, &sctx, &local);
    if (!spec) {
        start_abort(obj, local);
        return;
    }
    start_spawn(obj, spec);
}

/* Refused (FALSE, error set) when the container cannot run; otherwise the start is under
 * way, or has failed already, and its call (if any) is answered when it ends. Interfaces
 * of type network get their ports from the network daemon first (domain_netport.h). */
gboolean
lxc_start_container(SvDomainObj *obj, SvCall *call, guint flags, GError **error)
{
    g_autoptr(SvDomainDef) live = NULL;
    g_auto(StartPlan) plan = {0};
    GError *local = NULL;
    SvBackendIdentity id;
    LxcDomain *ld;

    if (sv_domain_obj_is_active(obj)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID, "Domain is already running");
        return FALSE;
    }
    live = sv_domain_def_copy(obj->def);
    if (!plan_start(obj, live, &plan, error))
        return FALSE;
    sv_domain_obj_run_on_live(obj, g_steal_pointer(&live));
    ld = start_begin(obj, call, flags);
    ld->socket_path = g_steal_pointer(&plan.socket_path);
    ld->cgroup = g_steal_pointer(&plan.cgroup);
    ld->log_fd = lxc_domain_open_log(obj, &local);
    if (ld->log_fd < 0) {
        start_abort(obj, local);
        return TRUE;
    }
    sv_guest_log_printf(ld->log_fd, "starting up splitvirt version: %s, hostname: %s",
                        SV_VERSION, g_get_host_name());
    if (!sv_netport_pending(obj->def)) {
        start_spawn(obj, plan.spec);
        return TRUE;
    }
    if (call)
        sv_backend_identity_of_client(&id, sv_call_get_client(call));
    else
        sv_backend_identity_of_daemon(&id);
    sv_netport_allocate(obj->def, -1, lxc_ctx_of(obj)->family_run_dir, &id, ports_ready,
                        sv_domain_obj_run_key(obj));
    return TRUE;
}
