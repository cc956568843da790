/* cgroup.c: one guest's cgroup (a container's, a QEMU guest's) on cgroup v1 or v2. */
#include "util/cgroup.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/pidfd.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/conffile.h"
#include "util/error.h"
#include "util/fd.h"

/* The v1 controllers a guest joins, in the order they are created. cpuset is left
 * out: a new v1 cpuset cgroup needs cpus and mems copied in before it takes a process. */
static const char *const v1_controllers[] = {"memory", "pids", "freezer", "cpu", "cpuacct", "blkio",
                                             "devices"};
/* The v2 controllers enabled for it (when the kernel offers them). */
static const char *const v2_controllers[] = {"memory", "pids", "cpu", "io"};

static const char *const version_names[SV_CGROUP_VERSION_LAST] = {"v1", "v2"};

const char *
sv_cgroup_version_to_string(int v)
{
    return v >= 0 && v < SV_CGROUP_VERSION_LAST ? version_names[v] : NULL;
}

int
sv_cgroup_version_from_string(const char *s)
{
    for (int i = 0; s && i < SV_CGROUP_VERSION_LAST; i++) {
        if (g_str_equal(s, version_names[i]))
            return i;
    }
    return -1;
}

typedef struct {
    GPtrArray *controllers; /* "memory", or "cpu" and "cpuacct" when co-mounted; empty on v2 */
    char *mount;            /* the hierarchy's root directory */
    char *dir;              /* mount/path */
    dev_t dev;              /* the mount directory's identity (symlinks followed) */
    ino_t ino;
} Hierarchy;

struct SvCgroup {
    SvCgroupVersion version;
    char *path;
    GPtrArray *hier; /* Hierarchy, one per distinct mount */
};

static void
hierarchy_free(gpointer p)
{
    Hierarchy *h = p;

    g_ptr_array_unref(h->controllers);
    g_free(h->mount);
    g_free(h->dir);
    g_free(h);
}

char *
sv_cgroup_default_parent(const char *root)
{
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, root ? root : "", -1);

    return g_strdup_printf("splitvirt-%.12s", sum);
}

/* A controller mounted together with another one ("cpu,cpuacct", reached through two
 * symlinks) joins that hierarchy: its directory is created and filled only once. The same
 * directory is told by its device and inode (one stat, where comparing real paths took a
 * readlink per path component of every hierarchy, for each cgroup opened: bulk stats open
 * one per guest). */
static void
add_hierarchy(SvCgroup *cg, const char *controller, const char *mount)
{
    struct stat st;
    gboolean known = stat(mount, &st) == 0;
    Hierarchy *h;

    for (guint i = 0; known && i < cg->hier->len; i++) {
        h = cg->hier->pdata[i];
        if (h->dev == st.st_dev && h->ino == st.st_ino) {
            g_ptr_array_add(h->controllers, g_strdup(controller));
            return;
        }
    }
    h = g_new0(Hierarchy, 1);
    h->controllers = g_ptr_array_new_with_free_func(g_free);
    if (*controller)
        g_ptr_array_add(h->controllers, g_strdup(controller));
    h->mount = g_strdup(mount);
    h->dir = g_build_filename(mount, cg->path, NULL);
    if (known) {
        h->dev = st.st_dev;
        h->ino = st.st_ino;
    }
    g_ptr_array_add(cg->hier, h);
}

SvCgroup *
sv_cgroup_new(const char *mount_root, const char *path, GError **error)
{
    g_autofree char *unified = g_build_filename(mount_root, "cgroup.controllers", NULL);
    SvCgroup *cg;

    g_return_val_if_fail(path && *path && !g_path_is_absolute(path), NULL);
    cg = g_new0(SvCgroup, 1);
    cg->path = g_strdup(path);
    cg->hier = g_ptr_array_new_with_free_func(hierarchy_free);
    if (g_file_test(unified, G_FILE_TEST_EXISTS)) {
        cg->version = SV_CGROUP_V2;
        add_hierarchy(cg, "", mount_root);
        return cg;
    }
    cg->version = SV_CGROUP_V1;
    for (gsize i = 0; i < G_N_ELEMENTS(v1_controllers); i++) {
        g_autofree char *mount = g_build_filename(mount_root, v1_controllers[i], NULL);
        g_autofree char *procs = g_build_filename(mount, "cgroup.procs", NULL);

        if (g_file_test(procs, G_FILE_TEST_EXISTS))
            add_hierarchy(cg, v1_controllers[i], mount);
    }
    if (cg->hier->len == 0) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INTERNAL_ERROR,
                     "no usable cgroup hierarchy under '%s' (neither cgroup v2 nor any of the "
                     "v1 controllers memory, pids, freezer, cpu, cpuacct, blkio, devices)",
                     mount_root);
        sv_cgroup_free(cg);
        return NULL;
    }
    return cg;
}

void
sv_cgroup_free(SvCgroup *cg)
{
    if (!cg)
        return;
    g_ptr_array_unref(cg->hier);
    g_free(cg->path);
    g_free(cg);
}

SvCgroupVersion
sv_cgroup_get_version(SvCgroup *cg)
{
    return cg->version;
}

const char *
sv_cgroup_get_path(SvCgroup *cg)
{
    return cg->path;
}

static Hierarchy *
find_hierarchy(SvCgroup *cg, const char *controller)
{
    if (cg->version == SV_CGROUP_V2)
        return cg->hier->pdata[0];
    for (guint i = 0; i < cg->hier->len; i++) {
        Hierarchy *h = cg->hier->pdata[i];
        for (guint j = 0; j < h->controllers->len; j++) {
            if (g_str_equal(h->controllers->pdata[j], controller))
                return h;
        }
    }
    return NULL;
}

const char *
sv_cgroup_get_dir(SvCgroup *cg, const char *controller)
{
    Hierarchy *h = find_hierarchy(cg, controller);

    return h ? h->dir : NULL;
}

/* Write one line to an existing cgroupfs file (never created: a missing file is an error).
 * cgroupfs ignores the file position and strips the newline; in a fake tree (tests) the
 * appended lines record every write in order. */
static gboolean
write_file(const char *dir, const char *file, const char *text, GError **error)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autofree char *line = g_strconcat(text, "\n", NULL);
    g_auto(SvFd) fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    gsize len = strlen(line);

    if (fd < 0 || write(fd, line, len) != (ssize_t)len) {
        sv_error_set_errno(error, SV_FROM_CGROUP, errno, "Unable to write to '%s'", path);
        return FALSE;
    }
    return TRUE;
}

static char *
read_file(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return text;
}

static gboolean
make_dir(const char *path, GError **error)
{
    if (g_mkdir_with_parents(path, 0755) < 0) {
        sv_error_set_errno(error, SV_FROM_CGROUP, errno, "Unable to create cgroup '%s'", path);
        return FALSE;
    }
    return TRUE;
}

/* Enable the offered controllers for the children of dir. */
static gboolean
enable_below(const char *dir, char **offered, GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(v2_controllers); i++) {
        g_autofree char *word = g_strconcat("+", v2_controllers[i], NULL);
        if (g_strv_contains((const char *const *)offered, v2_controllers[i]) &&
            !write_file(dir, "cgroup.subtree_control", word, error))
            return FALSE;
    }
    return TRUE;
}

/* v2: a cgroup has a controller only when its parent enabled it for its children, so every
 * directory from the root down to the container's parent enables them. */
static gboolean
enable_v2_controllers(SvCgroup *cg, GError **error)
{
    Hierarchy *h = cg->hier->pdata[0];
    g_autofree char *text = read_file(h->mount, "cgroup.controllers");
    g_auto(GStrv) offered = g_strsplit_set(text ? text : "", " \n", -1);
    g_auto(GStrv) parts = g_strsplit(cg->path, "/", -1);
    g_autofree char *dir = g_strdup(h->mount);

    for (guint level = 0; parts[level] && parts[level + 1]; level++) {
        char *next;

        if (!*parts[level])
            continue;
        if (!enable_below(dir, offered, error))
            return FALSE;
        next = g_build_filename(dir, parts[level], NULL);
        g_free(dir);
        dir = next;
        if (!make_dir(dir, error))
            return FALSE;
    }
    return enable_below(dir, offered, error);
}

gboolean
sv_cgroup_create(SvCgroup *cg, GError **error)
{
    if (cg->version == SV_CGROUP_V2 && !enable_v2_controllers(cg, error))
        return FALSE;
    for (guint i = 0; i < cg->hier->len; i++) {
        Hierarchy *h = cg->hier->pdata[i];
        if (!make_dir(h->dir, error))
            return FALSE;
    }
    return TRUE;
}

static Hierarchy *
need_controller(SvCgroup *cg, const char *controller, GError **error)
{
    Hierarchy *h = find_hierarchy(cg, controller);

    if (!h)
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INTERNAL_ERROR,
                     "Unable to find '%s' cgroups controller mount", controller);
    return h;
}

gboolean
sv_cgroup_set_memory_limit(SvCgroup *cg, guint64 bytes, GError **error)
{
    Hierarchy *h = need_controller(cg, "memory", error);
    g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, bytes);

    if (!h)
        return FALSE;
    return write_file(h->dir, cg->version == SV_CGROUP_V2 ? "memory.max" : "memory.limit_in_bytes",
                      text, error);
}

/* One value in the controller's file, the v1 or the v2 one. */
static gboolean
set_value(SvCgroup *cg, const char *controller, const char *v1_file, const char *v2_file,
          const char *value, GError **error)
{
    Hierarchy *h = need_controller(cg, controller, error);

    if (!h)
        return FALSE;
    return write_file(h->dir, cg->version == SV_CGROUP_V2 ? v2_file : v1_file, value, error);
}

gboolean
sv_cgroup_set_cpu_shares(SvCgroup *cg, guint64 shares, GError **error)
{
    g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, shares);

    return set_value(cg, "cpu", "cpu.shares", "cpu.weight", text, error);
}

gboolean
sv_cgroup_set_memory_soft_limit(SvCgroup *cg, guint64 bytes, GError **error)
{
    g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, bytes);

    return set_value(cg, "memory", "memory.soft_limit_in_bytes", "memory.high", text, error);
}

/* v1 writes "no limit" as the largest page-aligned long, 9223372036854771712. */
#define V1_MEMORY_UNLIMITED G_GUINT64_CONSTANT(9223372036854771712)

gboolean
sv_cgroup_get_memory_limits(SvCgroup *cg, guint64 out_bytes[3], GError **error)
{
    static const char *const files[2][3] = {
        {"memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes"},
        {"memory.max", "memory.high", "memory.swap.max"},
    };
    Hierarchy *h = need_controller(cg, "memory", error);

    for (int i = 0; h && i < 3; i++) {
        g_autofree char *text = read_file(h->dir, files[cg->version == SV_CGROUP_V2][i]);
        char *end = NULL;

        if (text && g_str_has_prefix(text, "max")) {
            out_bytes[i] = G_MAXUINT64;
            continue;
        }
        if (text)
            out_bytes[i] = g_ascii_strtoull(text, &end, 10);
        if (!text || end == text) {
            sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INTERNAL_ERROR, "Unable to read '%s/%s'",
                         h->dir, files[cg->version == SV_CGROUP_V2][i]);
            return FALSE;
        }
        if (out_bytes[i] >= V1_MEMORY_UNLIMITED)
            out_bytes[i] = G_MAXUINT64;
    }
    return h != NULL;
}

gboolean
sv_cgroup_set_memory_swap_limit(SvCgroup *cg, guint64 bytes, GError **error)
{
    g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, bytes);

    return set_value(cg, "memory", "memory.memsw.limit_in_bytes", "memory.swap.max", text,
                     error);
}

/* The weight file the kernel offers: the CFQ/generic one, else BFQ's; none without a
 * weight-aware I/O scheduler. */
static const char *
blkio_weight_file(SvCgroup *cg, Hierarchy *h, GError **error)
{
    const char *files[] = {cg->version == SV_CGROUP_V2 ? "io.weight" : "blkio.weight",
                           cg->version == SV_CGROUP_V2 ? "io.bfq.weight" : "blkio.bfq.weight"};

    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(h->dir, files[i], NULL);

        if (g_file_test(path, G_FILE_TEST_EXISTS))
            return files[i];
    }
    sv_error_set(error, SV_FROM_CGROUP, SV_ERR_OPERATION_INVALID,
                 "Unable to set I/O weights in '%s': the host offers neither %s nor %s (no "
                 "weight-aware I/O scheduler such as bfq)",
                 h->dir, files[0], files[1]);
    return NULL;
}

gboolean
sv_cgroup_set_blkio_weight(SvCgroup *cg, guint weight, GError **error)
{
    Hierarchy *h = need_controller(cg, cg->version == SV_CGROUP_V2 ? "io" : "blkio", error);
    const char *file;
    g_autofree char *text = NULL;

    if (!h || !(file = blkio_weight_file(cg, h, error)))
        return FALSE;
    text = g_str_equal(file, "io.weight") ? g_strdup_printf("default %u", weight)
                                          : g_strdup_printf("%u", weight);
    return write_file(h->dir, file, text, error);
}

static gboolean
block_device(const char *path, struct stat *st, GError **error)
{
    if (stat(path, st) < 0) {
        sv_error_set_errno(error, SV_FROM_CGROUP, errno, "Unable to stat '%s'", path);
        return FALSE;
    }
    if (!S_ISBLK(st->st_mode)) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INTERNAL_ERROR,
                     "Path '%s' must be a block device", path);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_cgroup_set_blkio_device_weight(SvCgroup *cg, const char *path, guint weight,
                                  GError **error)
{
    Hierarchy *h = need_controller(cg, cg->version == SV_CGROUP_V2 ? "io" : "blkio", error);
    struct stat st;
    g_autofree char *text = NULL;
    g_autofree char *file = NULL;
    const char *weight_file;

    if (!h || !(weight_file = blkio_weight_file(cg, h, error)) || !block_device(path, &st, error))
        return FALSE;
    text = g_strdup_printf("%u:%u %u", major(st.st_rdev), minor(st.st_rdev), weight);
    file = g_strconcat(weight_file, cg->version == SV_CGROUP_V2 ? "" : "_device",
                       NULL);
    return write_file(h->dir, file, text, error);
}

/* The cpu hierarchy's directory of child `child`, v1 only. */
static char *
cpu_child_dir(SvCgroup *cg, const char *child, GError **error)
{
    Hierarchy *h;

    if (cg->version == SV_CGROUP_V2) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_OPERATION_UNSUPPORTED,
                     "per-thread cgroups (vCPU and emulator bandwidth) need cgroup v1 here: "
                     "cgroup v2's threaded cgroups are not supported yet");
        return NULL;
    }
    h = need_controller(cg, "cpu", error);
    return h ? g_build_filename(h->dir, child, NULL) : NULL;
}

gboolean
sv_cgroup_cpu_child_add_thread(SvCgroup *cg, const char *child, pid_t tid, GError **error)
{
    g_autofree char *dir = cpu_child_dir(cg, child, error);
    g_autofree char *text = g_strdup_printf("%d", (int)tid);

    return dir && make_dir(dir, error) && write_file(dir, "tasks", text, error);
}

gboolean
sv_cgroup_cpu_child_set_bandwidth(SvCgroup *cg, const char *child, guint64 period,
                                  gint64 quota, GError **error)
{
    g_autofree char *dir = cpu_child_dir(cg, child, error);
    g_autofree char *p = g_strdup_printf("%" G_GUINT64_FORMAT, period);
    g_autofree char *q = g_strdup_printf("%" G_GINT64_FORMAT, quota);

    if (!dir || !make_dir(dir, error))
        return FALSE;
    return (!period || write_file(dir, "cpu.cfs_period_us", p, error)) &&
           (!quota || write_file(dir, "cpu.cfs_quota_us", q, error));
}

gboolean
sv_cgroup_load_config(SvConfFile *conf, const char *root, char **out_mount_root,
                      char **out_parent, GError **error)
{
    g_autofree char *mount_root = g_strdup(SV_CGROUP_DEFAULT_MOUNT);
    g_autofree char *parent = sv_cgroup_default_parent(root);

    if (!sv_conf_file_get_string(conf, "cgroup_root", &mount_root, error) ||
        !sv_conf_file_get_string(conf, "cgroup_parent", &parent, error))
        return FALSE;
    if (!*parent || g_path_is_absolute(parent) || strstr(parent, "..")) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                     "cgroup_parent must be a relative path below the cgroup root, not '%s'",
                     parent);
        return FALSE;
    }
    *out_mount_root = g_steal_pointer(&mount_root);
    *out_parent = g_steal_pointer(&parent);
    return TRUE;
}

gboolean
sv_cgroup_restrict_devices(SvCgroup *cg, const char *const *allowed, GError **error)
{
    Hierarchy *h = cg->version == SV_CGROUP_V1 ? find_hierarchy(cg, "devices") : NULL;

    if (!h)
        return TRUE;
    if (!write_file(h->dir, "devices.deny", "a", error))
        return FALSE;
    for (gsize i = 0; allowed[i]; i++) {
        if (!write_file(h->dir, "devices.allow", allowed[i], error))
            return FALSE;
    }
    return TRUE;
}

gboolean
sv_cgroup_change_device(SvCgroup *cg, gboolean allow, const char *rule, GError **error)
{
    Hierarchy *h = cg->version == SV_CGROUP_V1 ? find_hierarchy(cg, "devices") : NULL;

    if (!h)
        return TRUE;
    return write_file(h->dir, allow ? "devices.allow" : "devices.deny", rule, error);
}

gboolean
sv_cgroup_add_process(SvCgroup *cg, pid_t pid, GError **error)
{
    g_autofree char *text = g_strdup_printf("%d", (int)pid);

    for (guint i = 0; i < cg->hier->len; i++) {
        Hierarchy *h = cg->hier->pdata[i];
        if (!write_file(h->dir, "cgroup.procs", text, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
sv_cgroup_set_frozen(SvCgroup *cg, gboolean frozen, GError **error)
{
    Hierarchy *h = need_controller(cg, "freezer", error);

    if (!h)
        return FALSE;
    if (cg->version == SV_CGROUP_V2)
        return write_file(h->dir, "cgroup.freeze", frozen ? "1" : "0", error);
    return write_file(h->dir, "freezer.state", frozen ? "FROZEN" : "THAWED", error);
}

gboolean
sv_cgroup_is_frozen(SvCgroup *cg)
{
    Hierarchy *h = find_hierarchy(cg, "freezer");
    g_autofree char *text = NULL;
    const char *state;

    if (!h)
        return FALSE;
    text = read_file(h->dir, cg->version == SV_CGROUP_V2 ? "cgroup.freeze" : "freezer.state");
    if (!text)
        return FALSE;
    g_strstrip(text);
    /* The last line: the file's one line, or the last write in a fake tree. */
    state = strrchr(text, '\n') ? strrchr(text, '\n') + 1 : text;
    /* v1 says FREEZING until every task has stopped: it is on its way, so it counts. */
    return cg->version == SV_CGROUP_V2 ? g_str_equal(state, "1") : !g_str_equal(state, "THAWED");
}

static gint
cmp_pid(gconstpointer a, gconstpointer b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

    return x < y ? -1 : x > y;
}

GArray *
sv_cgroup_get_pids(SvCgroup *cg)
{
    GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
    GArray *out = g_array_new(FALSE, FALSE, sizeof(pid_t));

    for (guint i = 0; i < cg->hier->len; i++) {
        Hierarchy *h = cg->hier->pdata[i];
        g_autofree char *text = read_file(h->dir, "cgroup.procs");
        g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

        for (guint j = 0; lines[j]; j++) {
            char *end;
            gint64 v = g_ascii_strtoll(lines[j], &end, 10);
            pid_t pid = (pid_t)v;
            if (end != lines[j] && v > 0 && v <= G_MAXINT)
                g_array_append_val(pids, pid);
        }
    }
    g_array_sort(pids, cmp_pid);
    for (guint i = 0; i < pids->len; i++) {
        pid_t p = g_array_index(pids, pid_t, i);
        if (out->len == 0 || g_array_index(out, pid_t, out->len - 1) != p)
            g_array_append_val(out, p);
    }
    g_array_unref(pids);
    return out;
}

guint
sv_cgroup_kill_all(SvCgroup *cg, int sig)
{
    g_autoptr(GArray) pids = NULL;
    gboolean was_frozen, froze;
    guint n = 0;

    if (cg->version == SV_CGROUP_V2 && sig == SIGKILL) {
        Hierarchy *h = cg->hier->pdata[0];
        g_autofree char *kill_file = g_build_filename(h->dir, "cgroup.kill", NULL);
        if (g_file_test(kill_file, G_FILE_TEST_EXISTS)) {
            pids = sv_cgroup_get_pids(cg);
            if (write_file(h->dir, "cgroup.kill", "1", NULL))
                return pids->len;
            g_clear_pointer(&pids, g_array_unref);
        }
    }
    was_frozen = sv_cgroup_is_frozen(cg);
    froze = was_frozen || sv_cgroup_set_frozen(cg, TRUE, NULL);
    pids = sv_cgroup_get_pids(cg);
    for (guint i = 0; i < pids->len; i++) {
        if (kill(g_array_index(pids, pid_t, i), sig) == 0)
            n++;
    }
    /* Thawed even if it was frozen before: a frozen v1 task sits on its signal. */
    if (froze)
        sv_cgroup_set_frozen(cg, FALSE, NULL);
    return n;
}

gboolean
sv_cgroup_remove(SvCgroup *cg, GError **error)
{
    gboolean ok = TRUE;

    for (guint i = 0; i < cg->hier->len; i++) {
        Hierarchy *h = cg->hier->pdata[i];
        g_autofree char *dir = g_strdup(h->dir);
        g_autoptr(GDir) children = g_dir_open(dir, 0, NULL);
        const char *name;

        /* Child cgroups first (a guest's per-thread ones): cgroupfs lists them as
         * directories. */
        while (children && (name = g_dir_read_name(children))) {
            g_autofree char *child = g_build_filename(dir, name, NULL);

            if (g_file_test(child, G_FILE_TEST_IS_DIR))
                rmdir(child);
        }
        if (rmdir(dir) < 0 && errno != ENOENT) {
            if (ok)
                sv_error_set_errno(error, SV_FROM_CGROUP, errno, "Unable to remove cgroup '%s'",
                                   dir);
            ok = FALSE;
            continue;
        }
        /* Parents go too once empty; another container still in one keeps it. */
        for (;;) {
            char *parent = g_path_get_dirname(dir);
            g_free(dir);
            dir = parent;
            if (strlen(dir) <= strlen(h->mount) || rmdir(dir) < 0)
                break;
        }
    }
    return ok;
}

gboolean
sv_cgroup_exists(SvCgroup *cg)
{
    for (guint i = 0; i < cg->hier->len; i++) {
        Hierarchy *h = cg->hier->pdata[i];
        if (g_file_test(h->dir, G_FILE_TEST_IS_DIR))
            return TRUE;
    }
    return FALSE;
}

/* Removes a cgroup once every process in it has exited, seen through pidfds
 * (a killed process lingers a moment, and rmdir of a busy cgroup fails). */
typedef struct {
    SvCgroup *cg;
    char *name;
    guint pending;
} CgroupReaper;

static void
reaper_finish(CgroupReaper *r)
{
    g_autoptr(GError) error = NULL;

    if (!sv_cgroup_remove(r->cg, &error))
        g_warning("domain %s: cgroup %s is left behind: %s", r->name,
                  sv_cgroup_get_path(r->cg), error ? error->message : "busy");
    sv_cgroup_free(r->cg);
    g_free(r->name);
    g_free(r);
}

static gboolean
reaper_exited(gint fd, GIOCondition cond, gpointer data)
{
    CgroupReaper *r = data;

    (void)cond;
    close(fd);
    if (--r->pending == 0)
        reaper_finish(r);
    return G_SOURCE_REMOVE;
}

void
sv_cgroup_remove_when_empty(SvCgroup *cg, const char *name)
{
    CgroupReaper *r = g_new0(CgroupReaper, 1);
    g_autoptr(GArray) pids = NULL;

    r->cg = cg;
    r->name = g_strdup(name);
    sv_cgroup_kill_all(cg, SIGKILL);
    pids = sv_cgroup_get_pids(cg);
    for (guint i = 0; pids && i < pids->len; i++) {
        int fd = pidfd_open(g_array_index(pids, pid_t, i), 0);
        if (fd < 0)
            continue; /* already gone */
        r->pending++;
        g_unix_fd_add(fd, G_IO_IN, reaper_exited, r);
    }
    if (r->pending == 0)
        reaper_finish(r);
}

/* issue 18, scheduler parameters: the CPU bandwidth of the guest's cgroup (`child` NULL) or of
 * one of its per-thread children, and its CPU weight. */
static char *
cpu_dir(SvCgroup *cg, const char *child, GError **error)
{
    Hierarchy *h;

    if (child)
        return cpu_child_dir(cg, child, error);
    h = need_controller(cg, "cpu", error);
    return h ? g_strdup(h->dir) : NULL;
}

gboolean
sv_cgroup_has_cpu_child(SvCgroup *cg, const char *child)
{
    g_autofree char *dir = cpu_child_dir(cg, child, NULL);

    return dir && g_file_test(dir, G_FILE_TEST_IS_DIR);
}

gboolean
sv_cgroup_check_cpu_bandwidth(guint64 period, gint64 quota, GError **error)
{
    if (period && (period < SV_CGROUP_CPU_PERIOD_MIN || period > SV_CGROUP_CPU_PERIOD_MAX)) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INVALID_ARG,
                     "cfs_period '%" G_GUINT64_FORMAT "' must be in range (%d, %d)", period,
                     SV_CGROUP_CPU_PERIOD_MIN, SV_CGROUP_CPU_PERIOD_MAX);
        return FALSE;
    }
    if (quota > 0 && (quota < SV_CGROUP_CPU_QUOTA_MIN || quota > SV_CGROUP_CPU_QUOTA_MAX)) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INVALID_ARG,
                     "cfs_quota '%" G_GINT64_FORMAT "' must be in range (%d, %" G_GINT64_FORMAT
                     ")", quota, SV_CGROUP_CPU_QUOTA_MIN, SV_CGROUP_CPU_QUOTA_MAX);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_cgroup_set_cpu_bandwidth(SvCgroup *cg, const char *child, guint64 period, gint64 quota,
                            GError **error)
{
    g_autofree char *dir = sv_cgroup_check_cpu_bandwidth(period, quota, error) ? cpu_dir(cg, child, error)
                                                                 : NULL;
    g_autofree char *p = g_strdup_printf("%" G_GUINT64_FORMAT, period);
    g_autofree char *q = NULL;
    guint64 old_period = 0;
    gint64 old_quota = 0;

    if (!dir)
        return FALSE;
    if (cg->version == SV_CGROUP_V1)
        return (!period || write_file(dir, "cpu.cfs_period_us", p, error)) &&
               (!quota || (q = g_strdup_printf("%" G_GINT64_FORMAT, quota),
                           write_file(dir, "cpu.cfs_quota_us", q, error)));
    /* v2: one file, "QUOTA PERIOD" with "max" for no quota. */
    if (!sv_cgroup_get_cpu_bandwidth(cg, child, &old_period, &old_quota, error))
        return FALSE;
    period = period ? period : old_period;
    quota = quota ? quota : old_quota;
    q = quota < 0 ? g_strdup_printf("max %" G_GUINT64_FORMAT, period)
                  : g_strdup_printf("%" G_GINT64_FORMAT " %" G_GUINT64_FORMAT, quota, period);
    return write_file(dir, "cpu.max", q, error);
}

static gboolean
read_number(const char *dir, const char *file, gint64 *out, GError **error)
{
    g_autofree char *text = read_file(dir, file);
    g_autofree char *path = g_build_filename(dir, file, NULL);
    char *end = NULL;

    if (text)
        *out = g_ascii_strtoll(text, &end, 10);
    if (!text || end == text) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INTERNAL_ERROR, "Unable to read '%s'", path);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_cgroup_get_cpu_bandwidth(SvCgroup *cg, const char *child, guint64 *out_period,
                            gint64 *out_quota, GError **error)
{
    g_autofree char *dir = cpu_dir(cg, child, error);
    g_autofree char *text = NULL;
    g_auto(GStrv) words = NULL;
    gint64 period = 0;

    if (!dir)
        return FALSE;
    if (cg->version == SV_CGROUP_V1) {
        if (!read_number(dir, "cpu.cfs_period_us", &period, error) ||
            !read_number(dir, "cpu.cfs_quota_us", out_quota, error))
            return FALSE;
        *out_period = (guint64)period;
        return TRUE;
    }
    text = read_file(dir, "cpu.max");
    words = text ? g_strsplit(g_strstrip(text), " ", 2) : NULL;
    if (!words || !words[0] || !words[1]) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INTERNAL_ERROR, "Unable to read '%s/cpu.max'",
                     dir);
        return FALSE;
    }
    *out_quota = g_str_equal(words[0], "max") ? -1 : g_ascii_strtoll(words[0], NULL, 10);
    *out_period = g_ascii_strtoull(words[1], NULL, 10);
    return TRUE;
}

gboolean
sv_cgroup_get_cpu_shares(SvCgroup *cg, guint64 *out_shares, GError **error)
{
    g_autofree char *dir = cpu_dir(cg, NULL, error);
    gint64 v = 0;

    if (!dir ||
        !read_number(dir, cg->version == SV_CGROUP_V2 ? "cpu.weight" : "cpu.shares", &v, error))
        return FALSE;
    *out_shares = (guint64)v;
    return TRUE;
}

/* issue 18, blkio parameters: one per-device throttle. */
gboolean
sv_cgroup_set_blkio_device_throttle(SvCgroup *cg, const char *path, SvBlkioThrottle kind,
                                    guint64 value, GError **error)
{
    static const char *const v1_files[SV_BLKIO_THROTTLE_LAST] = {
        "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
        "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device"};
    static const char *const v2_keys[SV_BLKIO_THROTTLE_LAST] = {"riops", "wiops", "rbps",
                                                                "wbps"};
    Hierarchy *h = need_controller(cg, cg->version == SV_CGROUP_V2 ? "io" : "blkio", error);
    g_autofree char *text = NULL;
    g_autofree char *number = g_strdup_printf("%" G_GUINT64_FORMAT, value);
    struct stat st;

    g_return_val_if_fail(kind < SV_BLKIO_THROTTLE_LAST, FALSE);
    if (!h || !block_device(path, &st, error))
        return FALSE;
    if (cg->version == SV_CGROUP_V1) {
        text = g_strdup_printf("%u:%u %s", major(st.st_rdev), minor(st.st_rdev), number);
        return write_file(h->dir, v1_files[kind], text, error);
    }
    /* v2: "max" for no limit. */
    text = g_strdup_printf("%u:%u %s=%s", major(st.st_rdev), minor(st.st_rdev), v2_keys[kind],
                           value ? number : "max");
    return write_file(h->dir, "io.max", text, error);
}

gboolean
sv_cgroup_has_blkio_weight(SvCgroup *cg, GError **error)
{
    Hierarchy *h = need_controller(cg, cg->version == SV_CGROUP_V2 ? "io" : "blkio", error);

    return h && blkio_weight_file(cg, h, error);
}

gboolean
sv_cgroup_get_blkio_weight(SvCgroup *cg, guint *out_weight, GError **error)
{
    Hierarchy *h = need_controller(cg, cg->version == SV_CGROUP_V2 ? "io" : "blkio", error);
    const char *file = h ? blkio_weight_file(cg, h, error) : NULL;
    g_autofree char *text = file ? read_file(h->dir, file) : NULL;
    g_auto(GStrv) lines = text ? g_strsplit(text, "\n", 2) : NULL;
    const char *number;

    if (!file)
        return FALSE;
    /* "N" or "default N" on the first line. */
    number = lines && lines[0] ? strrchr(lines[0], ' ') : NULL;
    number = number ? number + 1 : (lines ? lines[0] : NULL);
    if (!number || !g_ascii_isdigit(*number)) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INTERNAL_ERROR, "Unable to read '%s/%s'",
                     h->dir, file);
        return FALSE;
    }
    *out_weight = (guint)g_ascii_strtoull(number, NULL, 10);
    return TRUE;
}
