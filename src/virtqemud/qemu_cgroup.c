/* qemu_cgroup.c: a QEMU guest's own cgroup, its tuning and its CPU affinity (qemu_cgroup.h). */
#include "qemu_cgroup.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/sysinfo.h>

#include <string.h>

#include "domain/domain_cgroup.h"
#include "util/cgroup.h"
#include "util/error.h"

static char *
cgroup_path(QemuProcessContext *ctx, const char *name)
{
    g_autofree char *leaf = g_strconcat(name, ".libvirt-qemu", NULL);

    return g_build_filename(ctx->cgroup_parent, leaf, NULL);
}

/* libvirt's virDomainCgroupSetupMemtune and friends: only what the definition sets. */
static gboolean
apply_tuning(SvCgroup *cg, const SvDomainDef *def, GError **error)
{
    if (def->cputune.shares_specified &&
        !sv_cgroup_set_cpu_shares(cg, def->cputune.shares, error))
        return FALSE;
    if ((def->cputune.global_period || def->cputune.global_quota) &&
        !sv_cgroup_set_cpu_bandwidth(cg, NULL, def->cputune.global_period,
                                     def->cputune.global_quota, error))
        return FALSE;
    if (!sv_domain_cgroup_apply_memtune(cg, def, error))
        return FALSE;
    return sv_domain_cgroup_apply_blkio(cg, def, error);
}

/* Set the CPU affinity of task `tid` to the canonical host CPU list `cpus` ("0-3,8"), or to
 * every CPU the host has when NULL. */
static gboolean
set_affinity(pid_t tid, const char *cpus, GError **error)
{
    g_auto(GStrv) ranges = g_strsplit(cpus ? cpus : "", ",", -1);
    guint max = cpus ? 0 : (guint)MAX(get_nprocs_conf(), 1) - 1;
    cpu_set_t *set;
    gsize size;
    int rc;

    for (guint i = 0; cpus && ranges[i]; i++) {
        const char *dash = strchr(ranges[i], '-');
        max = MAX(max, (guint)strtoul(dash ? dash + 1 : ranges[i], NULL, 10));
    }
    set = CPU_ALLOC(max + 1);
    size = CPU_ALLOC_SIZE(max + 1);
    CPU_ZERO_S(size, set);
    for (guint i = 0; cpus && ranges[i]; i++) {
        const char *dash = strchr(ranges[i], '-');
        guint lo = (guint)strtoul(ranges[i], NULL, 10);
        guint hi = dash ? (guint)strtoul(dash + 1, NULL, 10) : lo;

        for (guint cpu = lo; cpu <= hi; cpu++)
            CPU_SET_S(cpu, size, set);
    }
    for (guint cpu = 0; !cpus && cpu <= max; cpu++)
        CPU_SET_S(cpu, size, set);
    rc = sched_setaffinity(tid, size, set);
    CPU_FREE(set);
    if (rc < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot set CPU affinity on process %d",
                           (int)tid);
        return FALSE;
    }
    return TRUE;
}

static gboolean needs_thread_cgroups(const SvDomainDef *def);

/* Whether the definition asks for what only a cgroup of the guest's own gives: CPU shares or
 * bandwidth, memory or block I/O tuning. */
static gboolean
needs_cgroup(const SvDomainDef *def)
{
    const SvDomainMemtuneDef *mt = &def->memtune;

    return def->cputune.shares_specified || needs_thread_cgroups(def) ||
           def->cputune.global_period || def->cputune.global_quota ||
           mt->hard_limit < SV_DOMAIN_MEMORY_UNLIMITED ||
           mt->soft_limit < SV_DOMAIN_MEMORY_UNLIMITED ||
           mt->swap_hard_limit < SV_DOMAIN_MEMORY_UNLIMITED || def->blkio_weight ||
           def->blkio_devices->len;
}

gboolean
qemu_cgroup_setup(QemuProcessContext *ctx, const SvDomainDef *def, pid_t pid, GError **error)
{
    g_autofree char *path = cgroup_path(ctx, def->name);
    g_autoptr(GError) local = NULL;
    g_autoptr(SvCgroup) cg = sv_cgroup_new(ctx->cgroup_root, path, &local);
    /* libvirt's initial affinity: the emulator's, else the guest's; the threads QEMU starts
     * inherit it, and the vCPU and I/O threads get theirs once QEMU names them. */
    const char *initial = def->cputune.emulatorpin ? def->cputune.emulatorpin
                                                   : def->vcpu_cpuset;

    if (initial && !set_affinity(pid, initial, error))
        return FALSE;
    if (cg && sv_cgroup_create(cg, &local) && apply_tuning(cg, def, &local) &&
        sv_cgroup_add_process(cg, pid, &local))
        return TRUE;
    if (cg)
        sv_cgroup_remove(cg, NULL);
    /* As libvirt where cgroups cannot be had (none mounted, a read-only hierarchy in a
     * sandbox or a container): the guest runs in the daemon's, unless its definition asks
     * for what only a cgroup of its own gives. */
    if (!needs_cgroup(def)) {
        g_debug("guest %s runs without a cgroup of its own: %s", def->name, local->message);
        return TRUE;
    }
    g_propagate_prefixed_error(error, g_steal_pointer(&local), "guest cgroup %s: ", path);
    return FALSE;
}

void
qemu_cgroup_remove(QemuProcessContext *ctx, const char *name)
{
    g_autofree char *path = cgroup_path(ctx, name);
    SvCgroup *cg = sv_cgroup_new(ctx->cgroup_root, path, NULL);

    if (cg && sv_cgroup_exists(cg))
        sv_cgroup_remove_when_empty(cg, name);
    else
        sv_cgroup_free(cg);
}

static gboolean
needs_thread_cgroups(const SvDomainDef *def)
{
    const SvDomainCputuneDef *ct = &def->cputune;

    return ct->period || ct->quota || ct->emulator_period || ct->emulator_quota ||
           ct->iothread_period || ct->iothread_quota;
}

void
qemu_cgroup_remove_unowned(QemuProcessContext *ctx, gboolean (*owned)(const char *name,
                                                                      gpointer data),
                           gpointer data)
{
    static const char *const controllers[] = {"memory", "cpu", "pids", "blkio", "freezer"};
    g_autoptr(SvCgroup) parent = sv_cgroup_new(ctx->cgroup_root, ctx->cgroup_parent, NULL);
    g_autoptr(GDir) dir = NULL;
    const char *entry;

    /* The guests' names are the same in every hierarchy: one that has the parent says. */
    for (guint i = 0; parent && !dir && i < G_N_ELEMENTS(controllers); i++) {
        const char *path = sv_cgroup_get_dir(parent, controllers[i]);

        dir = path ? g_dir_open(path, 0, NULL) : NULL;
    }
    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *name = NULL;

        if (!g_str_has_suffix(entry, ".libvirt-qemu"))
            continue;
        name = g_strndup(entry, strlen(entry) - strlen(".libvirt-qemu"));
        if (!owned(name, data))
            qemu_cgroup_remove(ctx, name);
    }
}

gboolean
qemu_threads_need_setup(const SvDomainDef *def)
{
    return def->cputune.vcpupins->len || def->cputune.emulatorpin || needs_thread_cgroups(def);
}

/* The guest's cgroup again, for its per-thread children. */
static SvCgroup *
guest_cgroup(QemuProcessContext *ctx, const SvDomainDef *def, GError **error)
{
    g_autofree char *path = cgroup_path(ctx, def->name);

    return sv_cgroup_new(ctx->cgroup_root, path, error);
}

gboolean
qemu_threads_place_emulator(QemuProcessContext *ctx, const SvDomainDef *def, pid_t pid,
                            GError **error)
{
    const SvDomainCputuneDef *ct = &def->cputune;
    g_autoptr(SvCgroup) cg = NULL;
    g_autofree char *tasks = g_strdup_printf("/proc/%d/task", (int)pid);
    g_autoptr(GDir) dir = NULL;
    const char *tid;

    if (!needs_thread_cgroups(def))
        return TRUE;
    if (!(cg = guest_cgroup(ctx, def, error)))
        return FALSE;
    /* Every thread first, as libvirt: the vCPU and I/O threads move on from there. */
    if (!(dir = g_dir_open(tasks, 0, NULL))) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "cannot list %s", tasks);
        return FALSE;
    }
    while ((tid = g_dir_read_name(dir))) {
        if (!sv_cgroup_cpu_child_add_thread(cg, "emulator", atoi(tid), error))
            return FALSE;
    }
    return sv_cgroup_cpu_child_set_bandwidth(cg, "emulator", ct->emulator_period,
                                             ct->emulator_quota, error);
}

gboolean
qemu_threads_place(QemuProcessContext *ctx, const SvDomainDef *def, const char *kind,
                   guint index, pid_t tid, GError **error)
{
    gboolean vcpu = g_str_equal(kind, "vcpu");
    g_autoptr(SvCgroup) cg = NULL;
    g_autofree char *child = g_strdup_printf("%s%u", kind, index);

    if (!(vcpu ? qemu_affinity_pin_vcpu(def, index, tid, error)
               : qemu_affinity_pin_iothread(def, tid, error)))
        return FALSE;
    if (!needs_thread_cgroups(def))
        return TRUE;
    if (!(cg = guest_cgroup(ctx, def, error)) ||
        !sv_cgroup_cpu_child_add_thread(cg, child, tid, error))
        return FALSE;
    return vcpu ? sv_cgroup_cpu_child_set_bandwidth(cg, child, def->cputune.period,
                                                    def->cputune.quota, error)
                : sv_cgroup_cpu_child_set_bandwidth(cg, child, def->cputune.iothread_period,
                                                    def->cputune.iothread_quota, error);
}

gboolean
qemu_affinity_pin_vcpu(const SvDomainDef *def, guint vcpu, pid_t tid, GError **error)
{
    const char *cpus = def->vcpu_cpuset;

    for (guint i = 0; i < def->cputune.vcpupins->len; i++) {
        const SvDomainVcpuPinDef *pin = def->cputune.vcpupins->pdata[i];

        if (pin->vcpu == vcpu)
            cpus = pin->cpuset;
    }
    return set_affinity(tid, cpus, error);
}

gboolean
qemu_affinity_pin_iothread(const SvDomainDef *def, pid_t tid, GError **error)
{
    return set_affinity(tid, def->vcpu_cpuset, error);
}

/* issue 18, metadata and tuning: a running guest's cgroup for live tuning. */
SvCgroup *
qemu_cgroup_open(QemuProcessContext *ctx, const char *name)
{
    g_autofree char *path = cgroup_path(ctx, name);
    SvCgroup *cg = sv_cgroup_new(ctx->cgroup_root, path, NULL);

    if (cg && !sv_cgroup_exists(cg))
        g_clear_pointer(&cg, sv_cgroup_free);
    return cg;
}

gboolean
qemu_cgroup_cpu_times(QemuProcessContext *ctx, const char *name, guint64 *out_total,
                      guint64 *out_user, guint64 *out_sys)
{
    g_autoptr(SvCgroup) cg = qemu_cgroup_open(ctx, name);

    return cg && sv_cgroup_get_cpu_times(cg, out_total, out_user, out_sys);
}
