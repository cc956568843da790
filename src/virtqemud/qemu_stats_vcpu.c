/* qemu_stats_vcpu.c: a QEMU guest's vCPUs, CPU time, jobs and clock for clients (issue 18,
 * item 1): DOMAIN_GET_VCPUS (query-cpus-fast, then each thread's /proc entry and affinity),
 * DOMAIN_GET_VCPUS_FLAGS, DOMAIN_GET_VCPU_PIN_INFO, DOMAIN_GET_EMULATOR_PIN_INFO,
 * DOMAIN_GET_CPU_STATS, DOMAIN_GET_JOB_INFO/_STATS and DOMAIN_GET_TIME. */
#include "qemu_stats.h"

#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "domain/domain_cpustats.h"
#include "domain/domain_wire.h"
#include "qemu_agent.h"
#include "qemu_agent_calls.h"
#include "qemu_cgroup.h"
#include "qemu_coredump.h"
#include "qemu_migration.h"
#include "qemu_domain.h"
#include "util/error.h"

/* ---------------------------------------------------------------- cpu maps */

/* The number of host CPUs, as libvirt counts them (the highest present one, plus one). */
guint
qemu_stats_host_cpus(void)
{
    g_autofree char *text = NULL;
    const char *last;
    long n;

    if (g_file_get_contents("/sys/devices/system/cpu/present", &text, NULL, NULL)) {
        last = strrchr(text, '-');
        last = last ? last + 1 : (strrchr(text, ',') ? strrchr(text, ',') + 1 : text);
        return (guint)g_ascii_strtoull(last, NULL, 10) + 1;
    }
    n = sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 ? (guint)n : 1;
}

/* Set in map (maplen bytes) the CPUs of a canonical list ("0-3,6"); NULL: the first
 * host_cpus CPUs. Bits beyond the map are dropped, as libvirt copies what fits. */
void
qemu_stats_cpulist_to_map(const char *list, guint host_cpus, guint8 *map, gsize maplen)
{
    g_auto(GStrv) parts = NULL;

    memset(map, 0, maplen);
    if (!list) {
        for (guint c = 0; c < host_cpus && c / 8 < maplen; c++)
            map[c / 8] |= 1u << (c % 8);
        return;
    }
    parts = g_strsplit(list, ",", -1);
    for (char **p = parts; *p; p++) {
        char *end = NULL;
        guint64 a = g_ascii_strtoull(*p, &end, 10), b = a;

        if (end && *end == '-')
            b = g_ascii_strtoull(end + 1, NULL, 10);
        for (guint64 c = a; c <= b && c / 8 < maplen; c++)
            map[c / 8] |= 1u << (c % 8);
    }
}

/* ---------------------------------------------------------------- which definition */

/* libvirt's choice of one definition for a call's LIVE/CONFIG flags (0: the live one of a
 * running guest, else the persistent one). NULL with libvirt's error. */
static const SvDomainDef *
one_def(SvDomainObj *obj, guint flags, GError **error)
{
    gboolean active = sv_domain_obj_is_active(obj);

    if ((flags & SV_DOMAIN_AFFECT_LIVE) && (flags & SV_DOMAIN_AFFECT_CONFIG)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                     "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are "
                     "mutually exclusive");
        return NULL;
    }
    if ((flags & SV_DOMAIN_AFFECT_LIVE) && !active) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return NULL;
    }
    if ((flags & SV_DOMAIN_AFFECT_CONFIG) || !active)
        return obj->new_def ? obj->new_def : obj->def;
    return obj->def;
}

/* The host CPUs vcpu may run on (transfer none): its <vcpupin>, else <vcpu cpuset>, else
 * NULL for all of them. */
static const char *
vcpu_cpuset(const SvDomainDef *def, guint vcpu)
{
    for (guint i = 0; i < def->cputune.vcpupins->len; i++) {
        const SvDomainVcpuPinDef *p = def->cputune.vcpupins->pdata[i];
        if (p->vcpu == vcpu)
            return p->cpuset;
    }
    return def->vcpu_cpuset;
}

/* ---------------------------------------------------------------- vcpus */

static gboolean
domain_get_vcpus_flags(SvCall *call, remote_domain_get_vcpus_flags_args *a,
                       remote_domain_get_vcpus_flags_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const SvDomainDef *def;
    SvDomainObj *obj;

    if (!sv_domain_driver_check_flags(drv, a->flags,
                                      SV_DOMAIN_VCPU_LIVE | SV_DOMAIN_VCPU_CONFIG |
                                          SV_DOMAIN_VCPU_MAXIMUM | SV_DOMAIN_VCPU_GUEST,
                                      "DomainGetVcpusFlags", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)))
        return FALSE;
    if (a->flags & SV_DOMAIN_VCPU_GUEST) {
        if (!sv_domain_obj_is_active(obj)) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                         "vCPU count provided by the guest agent can only be requested for "
                         "live domains");
            return FALSE;
        }
        return qemu_agent_guest_vcpu_count(call, obj, (a->flags & SV_DOMAIN_VCPU_MAXIMUM) != 0,
                                           error);
    }
    if (!(def = one_def(obj, a->flags, error)))
        return FALSE;
    ret->num = (int)((a->flags & SV_DOMAIN_VCPU_MAXIMUM) ? def->vcpus : def->vcpus_current);
    return TRUE;
}

/* A thread's CPU time in ns and the CPU it last ran on, from /proc/PID/task/TID/stat. */
void
qemu_stats_thread_stat(pid_t pid, pid_t tid, guint64 *out_ns, int *out_cpu)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/stat", (int)pid, (int)tid);
    g_autofree char *text = NULL;
    g_auto(GStrv) f = NULL;
    const char *rest;
    long hz = sysconf(_SC_CLK_TCK);

    *out_ns = 0;
    *out_cpu = 0;
    /* Fields after the command name in parentheses (which may hold spaces): state is 3. */
    if (!g_file_get_contents(path, &text, NULL, NULL) || !(rest = strrchr(text, ')')))
        return;
    f = g_strsplit(rest + 2, " ", -1);
    if (g_strv_length(f) < 37 || hz <= 0)
        return;
    *out_ns = (g_ascii_strtoull(f[11], NULL, 10) + g_ascii_strtoull(f[12], NULL, 10)) *
              (G_GUINT64_CONSTANT(1000000000) / (guint64)hz);
    *out_cpu = (int)g_ascii_strtoll(f[36], NULL, 10);
}

typedef struct {
    SvCall *call;
    gpointer run;
    int maxinfo;
    int maplen;
} VcpusWait;

static void
vcpus_answer(VcpusWait *w, SvDomainObj *obj, JsonNode *ret)
{
    JsonArray *arr = ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    QemuDomain *qd = qemu_domain_of(obj);
    pid_t pid = qd->proc ? sv_process_get_pid(qd->proc) : 0;
    guint n = MIN((guint)w->maxinfo, arr ? json_array_get_length(arr) : 0);
    remote_domain_get_vcpus_ret r = {{0}, {0}};
    g_autofree remote_vcpu_info *info = g_new0(remote_vcpu_info, MAX(n, 1));
    g_autofree char *maps = g_malloc0(MAX((gsize)n * (gsize)w->maplen, 1));

    for (guint i = 0; i < n; i++) {
        JsonObject *t = qemu_json_array_object(arr, i);
        pid_t tid = t && json_object_has_member(t, "thread-id")
                        ? (pid_t)json_object_get_int_member(t, "thread-id") : 0;
        cpu_set_t set;

        info[i].number = t && json_object_has_member(t, "cpu-index")
                             ? (u_int)json_object_get_int_member(t, "cpu-index") : i;
        info[i].state = SV_VCPU_RUNNING;
        qemu_stats_thread_stat(pid, tid, &info[i].cpu_time, &info[i].cpu);
        CPU_ZERO(&set);
        if (tid > 0 && sched_getaffinity(tid, sizeof(set), &set) == 0) {
            for (int c = 0; c < w->maplen * 8 && c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, &set))
                    maps[i * w->maplen + c / 8] |= (char)(1u << (c % 8));
        }
    }
    r.info.info_len = n;
    r.info.info_val = info;
    r.cpumaps.cpumaps_len = n * (u_int)w->maplen;
    r.cpumaps.cpumaps_val = maps;
    sv_call_reply(w->call, &r);
}

static void
cpus_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    g_autofree VcpusWait *w = data;
    SvDomainObj *obj = qemu_domain_find(w->run);

    (void)mon;
    if (error)
        sv_call_fail(w->call, g_error_copy(error));
    else if (!obj)
        sv_call_fail(w->call, g_error_new(sv_error_quark(SV_FROM_QEMU), SV_ERR_OPERATION_INVALID,
                                          "cannot retrieve vcpu information for inactive "
                                          "domain"));
    else
        vcpus_answer(w, obj, ret);
}

static gboolean
domain_get_vcpus(SvCall *call, remote_domain_get_vcpus_args *a, remote_domain_get_vcpus_ret *ret,
                 GError **error)
{
    SvDomainObj *obj = sv_domain_driver_lookup(sv_domain_driver_of(call), &a->dom, error);
    QemuDomain *qd;
    VcpusWait *w;

    (void)ret;
    if (a->maxinfo > REMOTE_VCPUINFO_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "maxinfo > REMOTE_VCPUINFO_MAX");
        return FALSE;
    }
    if (a->maxinfo < 0 || a->maplen < 0 ||
        (gint64)a->maxinfo * a->maplen > REMOTE_CPUMAPS_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "maxinfo * maplen > REMOTE_CPUMAPS_MAX");
        return FALSE;
    }
    if (!obj)
        return FALSE;
    qd = qemu_domain_of(obj);
    if (!sv_domain_obj_is_active(obj) || !qd || !qd->mon || sv_domain_run_in_start(obj)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "cannot retrieve vcpu information for inactive domain");
        return FALSE;
    }
    w = g_new0(VcpusWait, 1);
    w->call = sv_call_defer(call);
    w->run = sv_domain_obj_run_key(obj);
    w->maxinfo = a->maxinfo;
    w->maplen = a->maplen;
    qemu_monitor_command(qd->mon, "query-cpus-fast", NULL, cpus_done, w);
    return TRUE;
}

static gboolean
domain_get_vcpu_pin_info(SvCall *call, remote_domain_get_vcpu_pin_info_args *a,
                         remote_domain_get_vcpu_pin_info_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const SvDomainDef *def;
    SvDomainObj *obj;
    guint hostcpus = qemu_stats_host_cpus(), n;

    if (a->ncpumaps > REMOTE_VCPUINFO_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "ncpumaps > REMOTE_VCPUINFO_MAX");
        return FALSE;
    }
    if (a->ncpumaps < 0 || a->maplen < 0 ||
        (gint64)a->ncpumaps * a->maplen > REMOTE_CPUMAPS_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "maxinfo * maplen > REMOTE_CPUMAPS_MAX");
        return FALSE;
    }
    if (!sv_domain_driver_check_flags(drv, a->flags,
                                      SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG,
                                      "DomainGetVcpuPinInfo", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)) ||
        !(def = one_def(obj, a->flags, error)))
        return FALSE;
    n = MIN((guint)a->ncpumaps, def->vcpus);
    ret->cpumaps.cpumaps_len = n * (u_int)a->maplen;
    ret->cpumaps.cpumaps_val = g_malloc0(MAX(ret->cpumaps.cpumaps_len, 1));
    for (guint v = 0; v < n; v++)
        qemu_stats_cpulist_to_map(vcpu_cpuset(def, v), hostcpus,
                                  (guint8 *)ret->cpumaps.cpumaps_val + v * (gsize)a->maplen,
                                  (gsize)a->maplen);
    ret->num = (int)n;
    return TRUE;
}

static gboolean
domain_get_emulator_pin_info(SvCall *call, remote_domain_get_emulator_pin_info_args *a,
                             remote_domain_get_emulator_pin_info_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const SvDomainDef *def;
    SvDomainObj *obj;

    if (a->maplen < 0 || a->maplen > REMOTE_CPUMAPS_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "maplen > REMOTE_CPUMAPS_MAX");
        return FALSE;
    }
    if (!sv_domain_driver_check_flags(drv, a->flags,
                                      SV_DOMAIN_AFFECT_LIVE | SV_DOMAIN_AFFECT_CONFIG,
                                      "DomainGetEmulatorPinInfo", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)) ||
        !(def = one_def(obj, a->flags, error)))
        return FALSE;
    ret->cpumaps.cpumaps_len = (u_int)a->maplen;
    ret->cpumaps.cpumaps_val = g_malloc0(MAX((gsize)a->maplen, 1));
    qemu_stats_cpulist_to_map(def->cputune.emulatorpin ? def->cputune.emulatorpin
                                                       : def->vcpu_cpuset,
                              qemu_stats_host_cpus(), (guint8 *)ret->cpumaps.cpumaps_val,
                              (gsize)a->maplen);
    ret->ret = 1;
    return TRUE;
}

/* ---------------------------------------------------------------- cpu time */

/* QEMU's user and system time in ns, from /proc/PID/stat. */
void
qemu_stats_process_times(pid_t pid, guint64 *out_user, guint64 *out_sys)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    g_auto(GStrv) f = NULL;
    const char *rest;
    long hz = sysconf(_SC_CLK_TCK);
    guint64 tick = hz > 0 ? G_GUINT64_CONSTANT(1000000000) / (guint64)hz : 0;

    *out_user = *out_sys = 0;
    if (!g_file_get_contents(path, &text, NULL, NULL) || !(rest = strrchr(text, ')')))
        return;
    f = g_strsplit(rest + 2, " ", -1);
    if (g_strv_length(f) < 13)
        return;
    *out_user = g_ascii_strtoull(f[11], NULL, 10) * tick;
    *out_sys = g_ascii_strtoull(f[12], NULL, 10) * tick;
}

static gboolean
domain_get_cpu_stats(SvCall *call, remote_domain_get_cpu_stats_args *a,
                     remote_domain_get_cpu_stats_ret *ret, GError **error)
{
    SvDomainObj *obj;
    QemuDomain *qd;
    guint64 total = 0, user = 0, sys = 0;

    if (!sv_domain_cpu_stats_check_args(a, error))
        return FALSE;
    /* VIR_TYPED_PARAM_STRING_OKAY (4) is the client's, as libvirt accepts it. */
    if (!sv_domain_driver_check_flags(sv_domain_driver_of(call), a->flags, 4,
                                      "DomainGetCPUStats", error) ||
        !(obj = sv_domain_driver_lookup(sv_domain_driver_of(call), &a->dom, error)) ||
        !sv_domain_driver_check_active(obj, error))
        return FALSE;
    if (a->start_cpu != -1) {
        /* What Debian's libvirtd 9.0 answers on this project's hosts (its cgroup backend
         * there is v2). Not read: a v1 host's cpuacct.usage_percpu, which libvirt serves. */
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_OPERATION_UNSUPPORTED,
                     "operation '%s' not supported for backend '%s'", "getCpuacctPercpuUsage",
                     "cgroup V2");
        return FALSE;
    }
    if (a->nparams > 0) {
        /* The guest's cgroup, as libvirt's cpuacct; else QEMU's own times. */
        qd = qemu_domain_of(obj);
        if (!qemu_cgroup_cpu_times(qemu_ctx_of(obj), obj->def->name, &total, &user, &sys)) {
            qemu_stats_process_times(qd && qd->proc ? sv_process_get_pid(qd->proc) : 0, &user,
                                     &sys);
            total = user + sys;
        }
    }
    sv_domain_cpu_stats_total(a, ret, total, user, sys);
    return TRUE;
}

/* ---------------------------------------------------------------- jobs and time */

/* The one job a guest runs long enough to be seen is a client's dump (qemu_coredump.c):
 * its progress; else type NONE. */
static gboolean
domain_get_job_info(SvCall *call, remote_domain_get_job_info_args *a,
                    remote_domain_get_job_info_ret *ret, GError **error)
{
    SvDomainObj *obj = sv_domain_driver_lookup(sv_domain_driver_of(call), &a->dom, error);

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    if (!qemu_migration_job_query(call, obj, FALSE))
        qemu_coredump_job_info(call, obj, ret);
    return TRUE;
}

static gboolean
domain_get_job_stats(SvCall *call, remote_domain_get_job_stats_args *a,
                     remote_domain_get_job_stats_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;

    if (!sv_domain_driver_check_flags(drv, a->flags,
                                      SV_DOMAIN_JOB_STATS_COMPLETED |
                                          SV_DOMAIN_JOB_STATS_KEEP_COMPLETED,
                                      "DomainGetJobStats", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)))
        return FALSE;
    /* The last completed job's statistics exist for inactive guests too: none here. */
    if (!(a->flags & SV_DOMAIN_JOB_STATS_COMPLETED) && !sv_domain_driver_check_active(obj, error))
        return FALSE;
    if ((a->flags & SV_DOMAIN_JOB_STATS_COMPLETED) || !qemu_migration_job_query(call, obj, TRUE))
        qemu_coredump_job_stats(call, obj, a->flags, ret);
    return TRUE;
}

/* guest-get-time's answer: nanoseconds since the epoch, or libvirt's errors. */
static void
get_time_done(JsonObject *reply, const GError *error, gpointer data)
{
    SvCall *call = data;
    JsonNode *n = reply ? json_object_get_member(reply, "return") : NULL;
    remote_domain_get_time_ret r = {0, 0};
    GError *e = NULL;

    if (error) {
        sv_call_fail(call, g_error_copy(error));
    } else if ((e = qemu_agent_reply_error(reply, "guest-get-time"))) {
        sv_call_fail(call, e);
    } else if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
               json_node_get_int(n) < 0) {
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "malformed return value");
        sv_call_fail(call, e);
    } else {
        r.seconds = json_node_get_int(n) / G_GINT64_CONSTANT(1000000000);
        r.nseconds = json_node_get_int(n) % G_GINT64_CONSTANT(1000000000);
        sv_call_reply(call, &r);
    }
}

/* libvirt's qemuDomainGetTime: the guest's clock from its agent (guest-get-time). */
static gboolean
domain_get_time(SvCall *call, remote_domain_get_time_args *a, remote_domain_get_time_ret *ret,
                GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;
    QemuAgent *agent;
    g_autoptr(JsonNode) cmd = json_from_string("{\"execute\":\"guest-get-time\"}", NULL);

    (void)ret;
    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainGetTime", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)) ||
        !sv_domain_driver_check_active(obj, error))
        return FALSE;
    if (!(agent = qemu_agent_of_running(obj, error)))
        return FALSE;
    qemu_agent_command(agent, cmd, QEMU_AGENT_TIMEOUT_DEFAULT, get_time_done,
                       sv_call_defer(call));
    return TRUE;
}

/* The state of the guest's monitor, as libvirt reports its own: OCCUPIED since the oldest
 * command still waiting for QEMU's reply was sent (ms), ERROR when the monitor broke while
 * the guest is still there, else OK. */
static void
control_info(SvDomainDriver *drv, SvDomainObj *obj, remote_domain_get_control_info_ret *ret)
{
    QemuDomain *qd = qemu_domain_of(obj);
    gint64 since;

    (void)drv;
    if (!qd || !qd->mon)
        return;
    if (qemu_monitor_is_closed(qd->mon)) {
        ret->state = SV_DOMAIN_CONTROL_ERROR;
        ret->details = SV_DOMAIN_CONTROL_ERROR_REASON_MONITOR;
    } else if ((since = qemu_monitor_busy_since(qd->mon)) > 0) {
        ret->state = SV_DOMAIN_CONTROL_OCCUPIED;
        ret->stateTime = (guint64)MAX(g_get_real_time() - since, 0) / 1000;
    }
}

void
qemu_stats_vcpu_install(SvDomainDriver *drv, SvRemoteHandlers *h)
{
    /* DOMAIN_GET_CONTROL_INFO is the shared driver's, with the monitor's state from here */
    drv->control_info = control_info;
    h->domain_get_vcpus = domain_get_vcpus;
    h->domain_get_vcpus_flags = domain_get_vcpus_flags;
    h->domain_get_vcpu_pin_info = domain_get_vcpu_pin_info;
    h->domain_get_emulator_pin_info = domain_get_emulator_pin_info;
    h->domain_get_cpu_stats = domain_get_cpu_stats;
    h->domain_get_job_info = domain_get_job_info;
    h->domain_get_job_stats = domain_get_job_stats;
    h->domain_get_time = domain_get_time;
}
