/* lxc_cgroup.h: one container's cgroup, created, limited, frozen, emptied and removed, on the
 * cgroup v1 controllers (a hierarchy each, MOUNT/<controller>) or on the unified v2 tree.
 *
 * Every operation is a handful of writes to cgroupfs and never waits. The mount root is a
 * parameter so that tests can point it at a fake tree in a temporary directory. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef enum {
    LXC_CGROUP_V1,
    LXC_CGROUP_V2,
    LXC_CGROUP_VERSION_LAST
} LxcCgroupVersion;

const char *lxc_cgroup_version_to_string(int v);
int lxc_cgroup_version_from_string(const char *s);

typedef struct LxcCgroup LxcCgroup;

/* The default parent of every container cgroup of a daemon: "splitvirt-" and the start of
 * the SHA-256 of its --root (so two daemons with different roots never share one). */
char *lxc_cgroup_default_parent(const char *root);

/* Look at the hierarchy under mount_root ("/sys/fs/cgroup"): v2 when mount_root itself is a
 * cgroup2 tree (it has cgroup.controllers), else v1 with every controller this driver uses
 * that is mounted at mount_root/NAME. `path` is the container's cgroup relative to the root
 * of each hierarchy, e.g. "splitvirt-0123abcd/web.libvirt-lxc". Fails when no controller
 * can be used at all. Nothing is created yet. */
LxcCgroup *lxc_cgroup_new(const char *mount_root, const char *path, GError **error);
void lxc_cgroup_free(LxcCgroup *cg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LxcCgroup, lxc_cgroup_free)

LxcCgroupVersion lxc_cgroup_get_version(LxcCgroup *cg);
const char *lxc_cgroup_get_path(LxcCgroup *cg);

/* The container's directory for a controller ("memory", "freezer"...; for v2 any name gives
 * the one directory), or NULL when that controller is not available. (transfer none) */
const char *lxc_cgroup_get_dir(LxcCgroup *cg, const char *controller);

/* Create the cgroup (and its parents). On v2 the controllers are first enabled in the
 * subtree_control of every ancestor. An existing cgroup is reused. */
gboolean lxc_cgroup_create(LxcCgroup *cg, GError **error);

/* Hard memory limit: memory.limit_in_bytes (v1) or memory.max (v2). */
gboolean lxc_cgroup_set_memory_limit(LxcCgroup *cg, guint64 bytes, GError **error);

/* v1 devices controller: deny everything but the nodes a container's /dev offers (null,
 * zero, full, random, urandom, tty, console, ptmx and its own ptys). A no-op on v2, where
 * device access control needs a BPF program, and without the controller. */
gboolean lxc_cgroup_restrict_devices(LxcCgroup *cg, GError **error);

/* Move a process into the cgroup (every hierarchy). */
gboolean lxc_cgroup_add_process(LxcCgroup *cg, pid_t pid, GError **error);

/* Freeze or thaw every process: freezer.state (v1) or cgroup.freeze (v2). The kernel may
 * still be freezing when this returns. */
gboolean lxc_cgroup_set_frozen(LxcCgroup *cg, gboolean frozen, GError **error);
gboolean lxc_cgroup_is_frozen(LxcCgroup *cg);

/* The processes in the cgroup, from every hierarchy, sorted, without duplicates. */
GArray *lxc_cgroup_get_pids(LxcCgroup *cg);

/* Send `sig` to every process in the cgroup, so that none escapes: SIGKILL on v2 uses
 * cgroup.kill where the kernel has it; otherwise the cgroup is frozen while its
 * processes are listed and signalled (a frozen process cannot fork or exit, so no PID is
 * recycled meanwhile), then thawed so that the signal takes effect. Returns how many
 * processes were signalled. */
guint lxc_cgroup_kill_all(LxcCgroup *cg, int sig);

/* Remove the container's cgroup from every hierarchy, then its parent directories when
 * they have become empty. A missing cgroup is not an error; one that still holds
 * processes is (EBUSY). */
gboolean lxc_cgroup_remove(LxcCgroup *cg, GError **error);

/* Whether any of the container's directories exists. */
gboolean lxc_cgroup_exists(LxcCgroup *cg);

/* CPU time used by the cgroup, in ns: cpuacct.usage (v1) or cpu.stat usage_usec (v2); 0
 * when unknown. */
guint64 lxc_cgroup_get_cpu_time(LxcCgroup *cg);
