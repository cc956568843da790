/* lxc_hotplug_disk.c: a host block device given to and taken from a running container, as
 * libvirt 9.0's LXC driver does it (lxcDomainAttachDeviceDiskLive,
 * lxcDomainDetachDeviceDiskLive): allowed in the container's devices cgroup and made as
 * /dev/TARGET inside it, reached through its init's root (never a path outside it). */
#include "lxc_hotplug.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lxc_domain.h"
#include "util/error.h"
#include "util/fd.h"

/* The container's /dev, as its init sees it; -1 with errno. */
static int
open_container_dev(pid_t pid)
{
    g_autofree char *root_path = g_strdup_printf("/proc/%d/root", (int)pid);
    g_auto(SvFd) root = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};

    if (root < 0)
        return -1;
    return (int)syscall(SYS_openat2, root, "dev", &how, sizeof(how));
}

/* The host uid (uid TRUE) or gid the container's root is: its <idmap>'s, else 0. */
static guint
container_root_id(const SvDomainDef *def, gboolean uid)
{
    for (guint i = 0; i < def->idmaps->len; i++) {
        const SvDomainIdMapDef *m = def->idmaps->pdata[i];

        if (m->kind == (uid ? SV_DOMAIN_IDMAP_UID : SV_DOMAIN_IDMAP_GID) && m->start == 0 &&
            m->count > 0)
            return m->target;
    }
    return 0;
}

static gboolean
devices_cgroup(LxcDomain *ld, GError **error)
{
    if (ld->cgroup && sv_cgroup_get_dir(ld->cgroup, "devices"))
        return TRUE;
    sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID, "devices cgroup isn't mounted");
    return FALSE;
}

static char *
device_rule(dev_t rdev, gboolean readonly)
{
    return g_strdup_printf("b %u:%u %s", major(rdev), minor(rdev), readonly ? "rm" : "rwm");
}

/* /dev/NAME made in the container, owned by its root, or FALSE with libvirt's error. */
static gboolean
make_node(SvDomainObj *obj, pid_t pid, const char *name, dev_t rdev, GError **error)
{
    g_auto(SvFd) dev = open_container_dev(pid);

    if (dev < 0 || mknodat(dev, name, S_IFBLK | 0700, rdev) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Unable to create device /dev/%s", name);
        return FALSE;
    }
    if (fchownat(dev, name, container_root_id(obj->def, TRUE),
                 container_root_id(obj->def, FALSE), AT_SYMLINK_NOFOLLOW) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Failed to change ownership of /dev/%s",
                           name);
        unlinkat(dev, name, 0);
        return FALSE;
    }
    return TRUE;
}

/* lxcDomainAttachDeviceDiskLive's checks, in its order (init known already). */
static gboolean
check_disk(SvDomainObj *obj, const SvDomainDiskDef *disk, struct stat *st, GError **error)
{
    if (!devices_cgroup(lxc_domain_of(obj), error))
        return FALSE;
    if (!disk->source) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "Can't setup disk without media");
        return FALSE;
    }
    if (disk->type != SV_DOMAIN_DISK_TYPE_BLOCK) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "Can't setup disk for non-block device");
        return FALSE;
    }
    if (sv_domain_disk_by_name(obj->def, disk->target_dev)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_FAILED, "target %s already exists",
                     disk->target_dev);
        return FALSE;
    }
    if (stat(disk->source, st) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Unable to access %s", disk->source);
        return FALSE;
    }
    if (!S_ISBLK(st->st_mode)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "Disk source %s must be a block device", disk->source);
        return FALSE;
    }
    return TRUE;
}

gboolean
lxc_hotplug_disk_attach(SvDomainObj *obj, pid_t pid, const SvDomainDiskDef *disk,
                        GError **error)
{
    LxcDomain *ld = lxc_domain_of(obj);
    g_autofree char *rule = NULL;
    g_autoptr(GError) undo = NULL;
    struct stat st;

    if (!check_disk(obj, disk, &st, error))
        return FALSE;
    rule = device_rule(st.st_rdev, disk->readonly);
    if (!sv_cgroup_change_device(ld->cgroup, TRUE, rule, error))
        return FALSE;
    if (!make_node(obj, pid, disk->target_dev, st.st_rdev, error)) {
        if (!sv_cgroup_change_device(ld->cgroup, FALSE, rule, &undo))
            g_warning("cannot deny device %s for domain %s: %s", disk->source,
                      obj->def->name, undo->message);
        return FALSE;
    }
    return TRUE;
}

gboolean
lxc_hotplug_disk_detach(SvDomainObj *obj, pid_t pid, const char *target, GError **error)
{
    LxcDomain *ld = lxc_domain_of(obj);
    g_auto(SvFd) dev = -1;
    g_autoptr(GError) deny = NULL;
    SvDomainDiskDef *disk = NULL;
    guint index = 0;
    struct stat st;

    for (; index < obj->def->disks->len && !disk; index++) {
        if (g_str_equal(((SvDomainDiskDef *)obj->def->disks->pdata[index])->target_dev, target))
            disk = obj->def->disks->pdata[index];
    }
    if (!disk) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_FAILED, "disk %s not found", target);
        return FALSE;
    }
    if (!devices_cgroup(ld, error))
        return FALSE;
    dev = open_container_dev(pid);
    if (dev < 0 || (unlinkat(dev, target, 0) < 0 && errno != ENOENT)) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Unable to remove device /dev/%s", target);
        return FALSE;
    }
    if (disk->source && stat(disk->source, &st) == 0 && S_ISBLK(st.st_mode)) {
        g_autofree char *rule = device_rule(st.st_rdev, FALSE);

        if (!sv_cgroup_change_device(ld->cgroup, FALSE, rule, &deny))
            g_warning("cannot deny device %s for domain %s: %s", disk->source,
                      obj->def->name, deny->message);
    }
    g_ptr_array_remove_index(obj->def->disks, index - 1);
    return TRUE;
}

void
lxc_hotplug_disk_replug(SvDomainObj *obj, pid_t pid)
{
    for (guint i = 0; i < obj->def->disks->len; i++) {
        const SvDomainDiskDef *disk = obj->def->disks->pdata[i];
        g_autofree char *node = g_strdup_printf("/proc/%d/root/dev/%s", (int)pid,
                                                disk->target_dev);
        g_autoptr(GError) error = NULL;
        struct stat st;

        /* The devices cgroup keeps its rule; only the node went with the old /dev. */
        if (g_file_test(node, G_FILE_TEST_EXISTS) || !disk->source ||
            stat(disk->source, &st) < 0 || !S_ISBLK(st.st_mode) ||
            make_node(obj, pid, disk->target_dev, st.st_rdev, &error))
            continue;
        g_warning("domain %s: disk %s is not in the container after the reboot: %s",
                  obj->def->name, disk->target_dev, error->message);
    }
}
