/* net_runtime.c: a network's data plane (net_runtime.h), in libvirt 9.0's order
 * (networkStartNetworkVirtual): route check, bridge, firewall, addresses and up, routes,
 * IP forwarding, dnsmasq, bandwidth. dnsmasq daemonizes as libvirt runs it; the runtime
 * then holds it by a pidfd read from its pid file, restarts it when it dies, and ends it
 * at stop. A firewall reload or a table of ours deleted by someone else (net_firewall.h's
 * watch) puts the running networks' rules back. Blocking steps run in GTask workers, each
 * on a copy of the definition; the runtime's table of running networks is touched on the
 * main loop only. */
#include "net_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "net_bridge.h"
#include "net_dnsmasq.h"
#include "net_firewall.h"
#include "util/command.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/fileio.h"
#include "util/netdev_bandwidth.h"
#include "util/process.h"

#define LEASESHELPER_NAME "virtnetworkd-leaseshelper"
#define DNSMASQ_KILL_MS 5000
/* A dnsmasq that keeps dying is restarted at most this often in RESTART_WINDOW_S. */
#define RESTART_MAX 5
#define RESTART_WINDOW_S 60

struct SvNetRuntime {
    char *pid_dir;      /* ROOT/run/libvirt/network */
    char *dnsmasq_dir;  /* ROOT/var/lib/libvirt/dnsmasq */
    char *helper;
    char *dnsmasq;
    GHashTable *nets;   /* name -> NetRun */
    SvNetFirewallWatch *fw_watch; /* NULL when nft cannot be watched */
};

/* A network this runtime started or took over. */
typedef struct {
    SvNetRuntime *rt;
    SvNetworkDef *def;
    SvProcess *dnsmasq;     /* NULL while not running */
    gboolean busy;          /* a start or stop is under way */
    gboolean stopping;
    gboolean replacing;     /* dnsmasq ended on purpose, for one with a new configuration */
    guint restart_source;
    guint restarts;
    gint64 window_start;
} NetRun;

/* A worker's input: its own copy of the definition, read-only paths of the runtime, and
 * the blocking step it runs. */
typedef struct Job Job;
typedef gboolean (*JobStep)(Job *job, GError **error);
struct Job {
    SvNetRuntime *rt;
    SvNetworkDef *def;
    JobStep step;
    pid_t pid;              /* dnsmasq's once launched */
};

static void
job_free(Job *job)
{
    sv_network_def_free(job->def);
    g_free(job);
}

static Job *
job_new(SvNetRuntime *rt, const SvNetworkDef *def)
{
    Job *job = g_new0(Job, 1);

    job->rt = rt;
    job->def = sv_network_def_copy(def);
    return job;
}

static void
job_thread(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
    Job *job = data;
    GError *error = NULL;

    (void)src;
    (void)cancel;
    if (job->step(job, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

/* Run step on a worker with a copy of def; cb gets the task (its data: the job). */
static void
job_run(SvNetRuntime *rt, const SvNetworkDef *def, JobStep step, pid_t pid,
        GAsyncReadyCallback cb, gpointer data)
{
    GTask *task = g_task_new(NULL, NULL, cb, data);
    Job *job = job_new(rt, def);

    job->step = step;
    job->pid = pid;
    g_task_set_task_data(task, job, (GDestroyNotify)job_free);
    g_task_run_in_thread(task, job_thread);
    g_object_unref(task);
}

static void
netrun_free(NetRun *run)
{
    if (run->restart_source)
        g_source_remove(run->restart_source);
    sv_process_free_later(run->dnsmasq);
    sv_network_def_free(run->def);
    g_free(run);
}

static void firewall_lost(const char *table, gpointer data);

SvNetRuntime *
sv_net_runtime_new(const char *root, GError **error)
{
    SvNetRuntime *rt = g_new0(SvNetRuntime, 1);
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
    const char *r = root ? root : "";

    (void)error;
    rt->pid_dir = g_strconcat(r, "/run/libvirt/network", NULL);
    rt->dnsmasq_dir = g_strconcat(r, "/var/lib/libvirt/dnsmasq", NULL);
    rt->helper = dir ? g_build_filename(dir, LEASESHELPER_NAME, NULL) : NULL;
    if (!rt->helper || !g_file_test(rt->helper, G_FILE_TEST_IS_EXECUTABLE)) {
        g_free(rt->helper);
        rt->helper = g_build_filename(SV_LIBEXECDIR, LEASESHELPER_NAME, NULL);
    }
    rt->dnsmasq = g_find_program_in_path("dnsmasq"); /* NULL: networks needing it fail */
    rt->nets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)netrun_free);
    {
        /* without the watch the networks work, but a firewall reload loses their rules until
         * they restart, as libvirt's without firewalld: worth a warning, not a failure */
        g_autoptr(GError) werr = NULL;
        if (!(rt->fw_watch = sv_net_firewall_watch_new(firewall_lost, rt, &werr)))
            g_warning("firewall reloads will not be followed: %s", werr->message);
    }
    return rt;
}

void
sv_net_runtime_free(SvNetRuntime *rt)
{
    if (!rt)
        return;
    /* running networks stay up, their dnsmasqs too: a restarted daemon takes them over */
    sv_net_firewall_watch_free(rt->fw_watch);
    g_hash_table_destroy(rt->nets);
    g_free(rt->pid_dir);
    g_free(rt->dnsmasq_dir);
    g_free(rt->helper);
    g_free(rt->dnsmasq);
    g_free(rt);
}

void
sv_net_runtime_set_leaseshelper(SvNetRuntime *rt, const char *path)
{
    g_free(rt->helper);
    rt->helper = g_strdup(path);
}

/* ------------------------------------------------------------ file names */

static char *
dnsmasq_file(SvNetRuntime *rt, const char *base, const char *suffix)
{
    return g_strdup_printf("%s/%s.%s", rt->dnsmasq_dir, base, suffix);
}

static char *
pid_file(SvNetRuntime *rt, const SvNetworkDef *def)
{
    return g_strdup_printf("%s/%s.pid", rt->pid_dir, def->name);
}

/* Networks with a bridge of their own (libvirt's "virtual" forward modes). */
static gboolean
is_virtual(const SvNetworkDef *def)
{
    return def->forward.type == SV_NETWORK_FORWARD_NONE ||
           def->forward.type == SV_NETWORK_FORWARD_NAT ||
           def->forward.type == SV_NETWORK_FORWARD_ROUTE ||
           def->forward.type == SV_NETWORK_FORWARD_OPEN;
}

static gboolean
has_firewall(const SvNetworkDef *def)
{
    return def->forward.type != SV_NETWORK_FORWARD_OPEN;
}

/* ------------------------------------------------------------ dnsmasq (workers) */

/* Write the network's three dnsmasq files as libvirt does (configuration 0600, hosts files
 * 0644, each replaced whole). */
static gboolean
dnsmasq_write_files(SvNetRuntime *rt, const SvNetworkDef *def, gboolean conf_too,
                    GError **error)
{
    g_autofree char *conf_path = dnsmasq_file(rt, def->name, "conf");
    g_autofree char *hosts_path = dnsmasq_file(rt, def->name, "hostsfile");
    g_autofree char *addn_path = dnsmasq_file(rt, def->name, "addnhosts");
    g_autofree char *pid_path = pid_file(rt, def);
    SvNetDnsmasqPaths paths = {pid_path, hosts_path, addn_path};
    g_autofree char *conf = NULL;
    g_autofree char *hosts = sv_net_dnsmasq_hostsfile(def);
    g_autofree char *addn = sv_net_dnsmasq_addnhosts(def);

    if (!sv_mkdir_p(rt->pid_dir, 0755, error) || !sv_mkdir_p(rt->dnsmasq_dir, 0755, error))
        return FALSE;
    if (conf_too && (!(conf = sv_net_dnsmasq_conf(def, &paths, error)) ||
                     !sv_file_write_atomic(conf_path, conf, strlen(conf), 0600, error)))
        return FALSE;
    return sv_file_write_atomic(hosts_path, hosts, strlen(hosts), 0644, error) &&
           sv_file_write_atomic(addn_path, addn, strlen(addn), 0644, error);
}

/* The pid in a pid file, 0 when none. */
static pid_t
read_pid(const char *path)
{
    g_autofree char *text = NULL;
    gint64 v;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    v = g_ascii_strtoll(g_strstrip(text), NULL, 10);
    return v > 1 && v < G_MAXINT ? (pid_t)v : 0;
}

/* Run dnsmasq as libvirt does; it daemonizes once its pid file is written, so its first
 * process ending says it is up (or failed, with its reason on stderr). */
static gboolean
dnsmasq_launch(SvNetRuntime *rt, const SvNetworkDef *def, pid_t *ret_pid, GError **error)
{
    g_autofree char *conf_path = dnsmasq_file(rt, def->name, "conf");
    g_autofree char *pid_path = pid_file(rt, def);
    g_autofree char *conf_arg = g_strconcat("--conf-file=", conf_path, NULL);
    g_autofree char *script_arg = g_strconcat("--dhcp-script=", rt->helper, NULL);
    g_autofree char *br_env = g_strconcat("VIR_BRIDGE_NAME=", def->bridge.name, NULL);
    g_autofree char *dir_env = g_strconcat("SV_DNSMASQ_STATE_DIR=", rt->dnsmasq_dir, NULL);
    const char *argv[] = {rt->dnsmasq, conf_arg, "--leasefile-ro", script_arg, NULL};
    const char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", br_env, dir_env,
                          NULL};
    g_autofree char *err = NULL;
    int status = 0;

    if (!rt->dnsmasq) {
        sv_error_set_errno(error, SV_FROM_NETWORK, ENOENT,
                           "Unable to find 'dnsmasq' binary in $PATH");
        return FALSE;
    }
    unlink(pid_path);
    if (!sv_process_run_sync(argv, envp, NULL, &err, &status, error))
        return FALSE;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* libvirt's message shows the environment it added before the program */
        const char *shown[] = {br_env, rt->dnsmasq, conf_arg, "--leasefile-ro", script_arg,
                               NULL};
        sv_command_error(shown, status, err, error);
        return FALSE;
    }
    if (!(*ret_pid = read_pid(pid_path))) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                     "dnsmasq of network '%s' wrote no pid file %s", def->name, pid_path);
        return FALSE;
    }
    return TRUE;
}

/* End a dnsmasq that is no SvProcess of ours (a worker undoing a failed start, or a stop
 * after a restart that found none to take over): SIGTERM, then SIGKILL after a while. */
static void
dnsmasq_end_pid(pid_t pid)
{
    for (int i = 0; i < DNSMASQ_KILL_MS / 50 && kill(pid, i ? 0 : SIGTERM) == 0; i++)
        g_usleep(50 * 1000);
    kill(pid, SIGKILL);
}

/* Whether pid runs dnsmasq on this network's configuration (read from /proc). */
static gboolean
dnsmasq_is_ours(SvNetRuntime *rt, const SvNetworkDef *def, pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    g_autofree char *conf_path = dnsmasq_file(rt, def->name, "conf");
    g_autofree char *want = g_strconcat("--conf-file=", conf_path, NULL);
    g_autofree char *text = NULL;
    gsize len = 0;

    if (pid <= 0 || !g_file_get_contents(path, &text, &len, NULL))
        return FALSE;
    for (gsize at = 0; at < len; at += strlen(text + at) + 1)
        if (g_str_equal(text + at, want))
            return TRUE;
    return FALSE;
}

/* ------------------------------------------------------------ start and stop (workers) */

/* Undo a start or do a stop: libvirt's order (bandwidth, dnsmasq, down, firewall,
 * delete). The pid file goes too (libvirt leaves it behind). */
static void
teardown(Job *job, gboolean firewall)
{
    const SvNetworkDef *def = job->def;
    g_autofree char *pid_path = pid_file(job->rt, def);

    if (!is_virtual(def))
        return;
    if (def->bandwidth && sv_net_bridge_exists(def))
        sv_netdev_bandwidth_clear(def->bridge.name, NULL);
    if (job->pid > 0)
        dnsmasq_end_pid(job->pid);
    if (firewall && has_firewall(def))
        sv_net_firewall_remove(def);
    sv_net_bridge_destroy(def);
    unlink(pid_path);
}

static gboolean
start_steps(Job *job, gboolean *fw, GError **error)
{
    const SvNetworkDef *def = job->def;
    g_autofree char *routes = NULL;

    g_file_get_contents("/proc/net/route", &routes, NULL, NULL);
    if (!sv_net_bridge_check_routes(def, routes, error) || !sv_net_bridge_create(def, error))
        return FALSE;
    if (has_firewall(def) && !sv_net_firewall_add(def, error))
        return FALSE;
    *fw = TRUE;
    if (!sv_net_bridge_start(def, error))
        return FALSE;
    if (sv_net_dnsmasq_needed(def) && (!dnsmasq_write_files(job->rt, def, TRUE, error) ||
                                       !dnsmasq_launch(job->rt, def, &job->pid, error)))
        return FALSE;
    /* last, as libvirt sets it: its classes are the network's bridge's (hierarchical) */
    return !def->bandwidth ||
           sv_netdev_bandwidth_set_classes(def->bridge.name, def->bandwidth, TRUE, TRUE, error);
}

static gboolean
start_step(Job *job, GError **error)
{
    gboolean fw = FALSE;

    if (!is_virtual(job->def)) {
        /* a host bridge (forward mode bridge) gets libvirt's MAC table setting; the other
         * modes have nothing of the network's own to set up */
        return job->def->forward.type != SV_NETWORK_FORWARD_BRIDGE ||
               sv_net_bridge_mac_table(job->def, error);
    }
    if (start_steps(job, &fw, error))
        return TRUE;
    teardown(job, fw);
    job->pid = 0;
    return FALSE;
}

static gboolean
stop_step(Job *job, GError **error)
{
    (void)error;
    if (job->pid == 0) {
        /* not held by a pidfd (no takeover after a restart): trust the pid file only for
         * a dnsmasq running this network's configuration */
        g_autofree char *pid_path = pid_file(job->rt, job->def);
        pid_t pid = read_pid(pid_path);
        if (dnsmasq_is_ours(job->rt, job->def, pid))
            job->pid = pid;
    } else {
        job->pid = 0; /* the main loop ended it already */
    }
    teardown(job, TRUE);
    return TRUE;
}

/* ------------------------------------------------------------ supervision (main loop) */

static void dnsmasq_schedule_restart(NetRun *run);
static gboolean restart_now(gpointer data);

static void
dnsmasq_exited(SvProcess *proc, const SvProcessExit *how, gpointer data)
{
    NetRun *run = data;

    (void)how;
    if (run->dnsmasq != proc)
        return;
    sv_process_free_later(g_steal_pointer(&run->dnsmasq));
    if (run->replacing && !run->stopping) {
        run->replacing = FALSE;
        g_clear_handle_id(&run->restart_source, g_source_remove);
        restart_now(run);
    } else if (!run->stopping) {
        g_warning("dnsmasq of network '%s' (pid %d) ended; restarting it", run->def->name,
                  (int)sv_process_get_pid(proc));
        dnsmasq_schedule_restart(run);
    }
}

/* Hold dnsmasq pid by a pidfd; when that fails (it died already), restart it. */
static void
dnsmasq_hold(NetRun *run, pid_t pid)
{
    g_autoptr(GError) error = NULL;
    SvProcess *proc = pid > 0 ? sv_process_attach(pid, sv_process_read_start_time(pid), &error)
                              : NULL;

    if (!proc) {
        if (pid > 0)
            g_warning("dnsmasq of network '%s' is gone: %s", run->def->name, error->message);
        dnsmasq_schedule_restart(run);
        return;
    }
    run->dnsmasq = proc;
    sv_process_set_exit_func(proc, dnsmasq_exited, run);
}

static gboolean
restart_step(Job *job, GError **error)
{
    return dnsmasq_write_files(job->rt, job->def, TRUE, error) &&
           dnsmasq_launch(job->rt, job->def, &job->pid, error);
}

static void
restart_done(GObject *src, GAsyncResult *res, gpointer data)
{
    (void)src;
    g_autofree char *name = data;
    Job *job = g_task_get_task_data(G_TASK(res));
    g_autoptr(GError) error = NULL;
    NetRun *run = g_hash_table_lookup(job->rt->nets, name);
    gboolean ok = g_task_propagate_boolean(G_TASK(res), &error);

    if (!run || run->stopping) {
        /* stopped meanwhile: the stop found no dnsmasq to end, this one must not stay */
        if (ok)
            kill(job->pid, SIGTERM);
        return;
    }
    if (!ok) {
        g_warning("cannot restart dnsmasq of network '%s': %s", name, error->message);
        dnsmasq_schedule_restart(run);
        return;
    }
    dnsmasq_hold(run, job->pid);
}

static gboolean
restart_now(gpointer data)
{
    NetRun *run = data;

    run->restart_source = 0;
    job_run(run->rt, run->def, restart_step, 0, restart_done, g_strdup(run->def->name));
    return G_SOURCE_REMOVE;
}

/* Restart after a second, at most RESTART_MAX times a RESTART_WINDOW_S: a dnsmasq that
 * cannot live is left dead (and logged) rather than respawned forever. */
static void
dnsmasq_schedule_restart(NetRun *run)
{
    gint64 now = g_get_monotonic_time();

    if (run->restart_source || run->stopping)
        return;
    if (now - run->window_start > RESTART_WINDOW_S * G_USEC_PER_SEC) {
        run->window_start = now;
        run->restarts = 0;
    }
    if (++run->restarts > RESTART_MAX) {
        g_warning("dnsmasq of network '%s' keeps dying; not restarting it again",
                  run->def->name);
        return;
    }
    run->restart_source = g_timeout_add_seconds(1, restart_now, run);
}

/* ------------------------------------------------------------ firewall reloads */

static gboolean
firewall_readd_step(Job *job, GError **error)
{
    return sv_net_firewall_add(job->def, error);
}

static void
firewall_readd_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Job *job = g_task_get_task_data(G_TASK(res));
    g_autoptr(GError) error = NULL;

    (void)src;
    (void)data;
    if (!g_task_propagate_boolean(G_TASK(res), &error))
        g_warning("cannot restore the firewall rules of network '%s': %s", job->def->name,
                  error->message);
}

/* Someone removed a table of ours (table) or reloaded the whole firewall (NULL): put back
 * the rules of each running network concerned. A network starting or stopping is left
 * alone: its start adds its rules after this, its stop removes them (which is also how our
 * own removals arrive here). */
static void
firewall_lost(const char *table, gpointer data)
{
    SvNetRuntime *rt = data;
    GHashTableIter it;
    NetRun *run;

    g_hash_table_iter_init(&it, rt->nets);
    while (g_hash_table_iter_next(&it, NULL, (gpointer *)&run)) {
        g_autofree char *name = NULL;

        if (run->busy || run->stopping || !is_virtual(run->def) || !has_firewall(run->def))
            continue;
        name = sv_net_firewall_table_name(run->def);
        if (table && g_strcmp0(table, name) != 0)
            continue;
        g_message("network '%s': firewall table %s is gone, adding its rules again",
                  run->def->name, name);
        job_run(rt, run->def, firewall_readd_step, 0, firewall_readd_done, NULL);
    }
}

/* ------------------------------------------------------------ the API */

/* The outer task of a start or stop: the caller's callback, our worker's job. */
typedef struct {
    SvNetRuntime *rt;
    GTask *outer;
    char *name;
} Op;

static void
op_free(Op *op)
{
    g_clear_object(&op->outer);
    g_free(op->name);
    g_free(op);
}

static Op *
op_new(SvNetRuntime *rt, const SvNetworkDef *def, gpointer tag, GAsyncReadyCallback cb,
       gpointer data)
{
    Op *op = g_new0(Op, 1);

    op->rt = rt;
    op->name = g_strdup(def->name);
    op->outer = g_task_new(NULL, NULL, cb, data);
    g_task_set_source_tag(op->outer, tag);
    return op;
}

/* Fail op at once with OPERATION_INVALID. */
static void G_GNUC_PRINTF(2, 3)
op_fail(Op *op, const char *fmt, ...)
{
    GError *error = NULL;
    g_autofree char *detail = NULL;
    va_list ap;

    va_start(ap, fmt);
    detail = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    sv_error_set(&error, SV_FROM_NETWORK, SV_ERR_OPERATION_INVALID, "%s", detail);
    g_task_return_error(op->outer, error);
    op_free(op);
}

static void
start_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Op *op = data;
    Job *job = g_task_get_task_data(G_TASK(res));
    NetRun *run = g_hash_table_lookup(op->rt->nets, op->name);
    GError *error = NULL;

    (void)src;
    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        g_hash_table_remove(op->rt->nets, op->name);
        g_task_return_error(op->outer, error);
    } else {
        run->busy = FALSE;
        if (job->pid > 0)
            dnsmasq_hold(run, job->pid);
        g_task_return_boolean(op->outer, TRUE);
    }
    op_free(op);
}

void
sv_net_runtime_start(SvNetRuntime *rt, const SvNetworkDef *def, GAsyncReadyCallback cb,
                     gpointer data)
{
    Op *op = op_new(rt, def, sv_net_runtime_start, cb, data);
    NetRun *run;

    if (g_hash_table_contains(rt->nets, def->name)) {
        op_fail(op, "network '%s' is already active", def->name);
        return;
    }
    run = g_new0(NetRun, 1);
    run->rt = rt;
    run->def = sv_network_def_copy(def);
    run->busy = TRUE;
    g_hash_table_insert(rt->nets, g_strdup(def->name), run);
    job_run(rt, def, start_step, 0, start_done, op);
}

gboolean
sv_net_runtime_start_finish(SvNetRuntime *rt, GAsyncResult *res, GError **error)
{
    (void)rt;
    return g_task_propagate_boolean(G_TASK(res), error);
}

static void
stop_done(GObject *src, GAsyncResult *res, gpointer data)
{
    Op *op = data;

    (void)src;
    g_task_propagate_boolean(G_TASK(res), NULL);
    g_hash_table_remove(op->rt->nets, op->name);
    g_task_return_boolean(op->outer, TRUE);
    op_free(op);
}

static void
stop_teardown(Op *op, const SvNetworkDef *def, gboolean dnsmasq_ended)
{
    job_run(op->rt, def, stop_step, dnsmasq_ended ? -1 : 0, stop_done, op);
}

static void
stop_dnsmasq_killed(SvProcess *proc, const GError *error, gpointer data)
{
    Op *op = data;
    NetRun *run = g_hash_table_lookup(op->rt->nets, op->name);

    (void)proc;
    if (error)
        g_warning("cannot end dnsmasq of network '%s': %s", op->name, error->message);
    if (run && run->dnsmasq == proc)
        sv_process_free_later(g_steal_pointer(&run->dnsmasq));
    if (run)
        stop_teardown(op, run->def, TRUE);
}

void
sv_net_runtime_stop(SvNetRuntime *rt, const SvNetworkDef *def, GAsyncReadyCallback cb,
                    gpointer data)
{
    Op *op = op_new(rt, def, sv_net_runtime_stop, cb, data);
    NetRun *run = g_hash_table_lookup(rt->nets, def->name);

    if (run && run->busy) {
        op_fail(op, "network '%s' is being started or stopped", def->name);
        return;
    }
    if (!run) {
        /* never started or taken over here: undo what the definition says exists */
        run = g_new0(NetRun, 1);
        run->rt = rt;
        run->def = sv_network_def_copy(def);
        g_hash_table_insert(rt->nets, g_strdup(def->name), run);
    }
    run->busy = run->stopping = TRUE;
    if (run->restart_source) {
        g_source_remove(run->restart_source);
        run->restart_source = 0;
    }
    if (run->dnsmasq && sv_process_is_alive(run->dnsmasq)) {
        sv_process_kill(run->dnsmasq, FALSE, DNSMASQ_KILL_MS, DNSMASQ_KILL_MS,
                        stop_dnsmasq_killed, op);
        return;
    }
    stop_teardown(op, run->def, FALSE);
}

gboolean
sv_net_runtime_stop_finish(SvNetRuntime *rt, GAsyncResult *res, GError **error)
{
    (void)rt;
    return g_task_propagate_boolean(G_TASK(res), error);
}

gboolean
sv_net_runtime_reattach(SvNetRuntime *rt, const SvNetworkDef *def, GError **error)
{
    NetRun *run;
    g_autofree char *pid_path = pid_file(rt, def);
    pid_t pid;

    if (is_virtual(def) && !sv_net_bridge_exists(def)) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                     "network '%s' has lost its bridge '%s'", def->name,
                     def->bridge.name ? def->bridge.name : "");
        return FALSE;
    }
    if (is_virtual(def) && has_firewall(def) && !sv_net_firewall_add(def, error))
        return FALSE;
    g_hash_table_remove(rt->nets, def->name);
    run = g_new0(NetRun, 1);
    run->rt = rt;
    run->def = sv_network_def_copy(def);
    g_hash_table_insert(rt->nets, g_strdup(def->name), run);
    if (!is_virtual(def) || !sv_net_dnsmasq_needed(def))
        return TRUE;
    pid = read_pid(pid_path);
    /* a pid file naming anything but this network's dnsmasq is not trusted: start anew */
    dnsmasq_hold(run, dnsmasq_is_ours(rt, def, pid) ? pid : 0);
    return TRUE;
}

gboolean
sv_net_runtime_reload(SvNetRuntime *rt, const SvNetworkDef *def, gboolean restart,
                      GError **error)
{
    NetRun *run = g_hash_table_lookup(rt->nets, def->name);

    if (!is_virtual(def) || !def->ips || def->ips->len == 0)
        return TRUE;
    if (run) {
        sv_network_def_free(run->def);
        run->def = sv_network_def_copy(def);
    }
    if (restart && run && !run->stopping) {
        /* libvirt's networkRestartDhcpDaemon: this dnsmasq ends, one reading the new
         * configuration starts (at once, as the exit is seen; not counted as a death) */
        if (run->dnsmasq && sv_process_is_alive(run->dnsmasq)) {
            run->replacing = TRUE;
            return sv_process_signal(run->dnsmasq, SIGTERM, error);
        }
        if (sv_net_dnsmasq_needed(def) && !run->restart_source)
            restart_now(run);
        return TRUE;
    }
    /* the hosts files only, as libvirt's networkRefreshDhcpDaemon */
    if (!dnsmasq_write_files(rt, def, FALSE, error))
        return FALSE;
    if (run && run->dnsmasq && sv_process_is_alive(run->dnsmasq))
        return sv_process_signal(run->dnsmasq, SIGHUP, error);
    if (run && !run->stopping && sv_net_dnsmasq_needed(def))
        dnsmasq_schedule_restart(run);
    return TRUE;
}

GPtrArray *
sv_net_runtime_leases(SvNetRuntime *rt, const SvNetworkDef *def, const char *mac,
                      GError **error)
{
    g_autofree char *path = dnsmasq_file(rt, def->bridge.name ? def->bridge.name : "", "status");
    g_autofree char *text = NULL;
    g_auto(SvFd) fd = -1;
    struct stat st;
    ssize_t n = 0;
    int err;

    /* only networks that run dnsmasq have the file: none is no lease, not an error */
    if (!def->bridge.name || ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == ENOENT))
        return g_ptr_array_new_with_free_func((GDestroyNotify)sv_net_lease_free);
    /* its size is checked before it is read (libvirt's limit) */
    if (fd < 0 || fstat(fd, &st) < 0) {
        err = errno;
    } else if (st.st_size > SV_NET_LEASES_FILE_MAX) {
        err = EFBIG;
    } else {
        text = g_malloc(st.st_size + 1);
        n = read(fd, text, st.st_size);
        err = n < 0 ? errno : (n != st.st_size ? EIO : 0);
    }
    if (err) {
        sv_error_set_errno(error, SV_FROM_NETWORK, err, "Unable to read leases file: %s", path);
        return NULL;
    }
    text[n] = '\0';
    return sv_net_leases_from_status(text, path, def, mac, g_get_real_time() / G_USEC_PER_SEC,
                                     error);
}

gboolean
sv_net_runtime_port_mac(SvNetRuntime *rt, const SvNetworkDef *def, const char *owner,
                        const char *mac, gboolean added, GError **error)
{
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    g_autofree char *next = NULL;

    if (!def->bridge.name || !owner || !mac)
        return TRUE;
    path = dnsmasq_file(rt, def->bridge.name, "macs");
    if (!g_file_get_contents(path, &text, NULL, NULL))
        text = g_strdup("");
    if (!(next = sv_net_macs_update(text, owner, mac, added, error)))
        return FALSE;
    return sv_mkdir_p(rt->dnsmasq_dir, 0755, error) &&
           sv_file_write_atomic(path, next, strlen(next), 0644, error);
}

void
sv_net_runtime_remove_files(SvNetRuntime *rt, const SvNetworkDef *def)
{
    static const char *const by_name[] = {"conf", "hostsfile", "addnhosts", "leases"};
    static const char *const by_bridge[] = {"status", "macs"};

    for (guint i = 0; i < G_N_ELEMENTS(by_name); i++) {
        g_autofree char *path = dnsmasq_file(rt, def->name, by_name[i]);
        unlink(path);
    }
    for (guint i = 0; def->bridge.name && i < G_N_ELEMENTS(by_bridge); i++) {
        g_autofree char *path = dnsmasq_file(rt, def->bridge.name, by_bridge[i]);
        unlink(path);
    }
}
