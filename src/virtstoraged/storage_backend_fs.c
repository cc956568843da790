/* storage_backend_fs.c: the fs pool's host work (a file system on a block device or image,
 * mounted on the pool's directory), as libvirt 9.0's storage_backend_fs.c does it: mkfs at
 * build with an overwrite flag, mount at start, umount at stop. Runs on workers; every tool
 * with argv and a clean environment, never a shell. */
#include "storage_backend_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <sys/wait.h>

#include "protocol/sv_wire_constants.h"
#include "util/command.h"
#include "util/error.h"

/* The tools' environment: nothing of the daemon's. */
static const char *const tool_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};

gboolean
storage_tool_run(const char *const *argv, char **ret_out, int *ret_status, GError **error)
{
    g_autofree char *out = NULL, *err = NULL, *cmd = g_strjoinv(" ", (char **)argv);
    g_autoptr(GError) spawn_error = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, (char **)tool_env, G_SPAWN_SEARCH_PATH_FROM_ENVP,
                      NULL, NULL, &out, &err, &status, &spawn_error)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR, "Cannot run %s: %s", cmd,
                     spawn_error->message);
        return FALSE;
    }
    if (ret_status)
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (!ret_status && !g_spawn_check_wait_status(status, NULL)) {
        sv_command_error(argv, status, err, error);
        return FALSE;
    }
    if (ret_out)
        *ret_out = g_steal_pointer(&out);
    return TRUE;
}

gboolean
storage_fs_mounts_has(const char *mounts, const char *target)
{
    g_auto(GStrv) lines = g_strsplit(mounts, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], " ", 3);
        g_autofree char *where = NULL;
        if (!f[0] || !f[1])
            continue;
        where = g_strcompress(f[1]); /* the kernel writes a space as \040 */
        if (g_str_equal(where, target))
            return TRUE;
    }
    return FALSE;
}

/* Whether the pool's directory is a mount point now (/proc/self/mounts). */
static int
is_mounted(const SvStoragePoolDef *def, GError **error)
{
    g_autofree char *mounts = NULL;

    if (!g_file_get_contents("/proc/self/mounts", &mounts, NULL, NULL)) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot read %s", "/proc/self/mounts");
        return -1;
    }
    return storage_fs_mounts_has(mounts, def->target_path);
}

static const char *
device_of(const SvStoragePoolDef *def)
{
    return def->source.devices->len ? def->source.devices->pdata[0] : NULL;
}

char *
storage_probe_device(const char *device, GError **error)
{
    const char *argv[] = {"blkid", "-p", "-o", "value", "-s", "TYPE", "-s", "PTTYPE", device,
                          NULL};
    g_autofree char *found = NULL;
    g_auto(GStrv) lines = NULL;
    int status = 0;

    /* libblkid opens the device first: libvirt's probe fails when it cannot */
    if (access(device, R_OK) < 0) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_STORAGE_PROBE_FAILED,
                     "Failed to create filesystem probe for device %s", device);
        return NULL;
    }
    if (!storage_tool_run(argv, &found, &status, error))
        return NULL;
    lines = g_strsplit(found ? found : "", "\n", -1);
    for (guint i = 0; status != 2 && lines[i]; i++) { /* blkid: 2, nothing found */
        if (*g_strstrip(lines[i]))
            return g_strdup(lines[i]);
    }
    return g_strdup("");
}

gboolean
storage_fs_check_empty(const char *device, const char *format, GError **error)
{
    g_autofree char *found = storage_probe_device(device, error);

    if (!found)
        return FALSE;
    if (!*found)
        return TRUE;
    if (g_str_equal(found, format))
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_STORAGE_POOL_BUILT,
                     "Device '%s' already formatted using '%s'", device, format);
    else
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_STORAGE_POOL_BUILT,
                     "Format of device '%s' does not match the expected format '%s', forced "
                     "overwrite is necessary", device, format);
    return FALSE;
}

/* libvirt zeroes this much at both ends of a device before pvcreate (old labels). */
#define ZERO_BYTES (1024 * 1024)

gboolean
storage_zero_ends(const char *path, GError **error)
{
    g_autofree char *zeros = g_malloc0(ZERO_BYTES);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    off_t size;
    gboolean ok;

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "Unable to open device '%s'", path);
        return FALSE;
    }
    size = lseek(fd, 0, SEEK_END);
    ok = size >= 0 && pwrite(fd, zeros, MIN(ZERO_BYTES, size), 0) >= 0 &&
         (size <= ZERO_BYTES || pwrite(fd, zeros, ZERO_BYTES, size - ZERO_BYTES) >= 0) &&
         fsync(fd) == 0;
    if (!ok)
        sv_error_set_errno(error, SV_FROM_STORAGE, errno,
                           "cannot clear partition table of '%s'", path);
    close(fd);
    return ok;
}

gboolean
storage_fs_make(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    const char *device = device_of(def);
    const char *format = def->source.format;
    const char *force = NULL;

    if (!device) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                     "No source device specified when formatting pool '%s'", def->name);
        return FALSE;
    }
    if ((flags & SV_STORAGE_POOL_BUILD_NO_OVERWRITE) &&
        !storage_fs_check_empty(device, format, error))
        return FALSE;
    /* each mkfs's own word for "overwrite what is there" */
    if (g_str_equal(format, "xfs"))
        force = "-f";
    else if (g_str_has_prefix(format, "ext"))
        force = "-F";
    else if (g_str_equal(format, "vfat"))
        force = "-I";
    {
        const char *argv[] = {"mkfs", "-t", format, force ? force : device,
                              force ? device : NULL, NULL};
        if (!storage_tool_run(argv, NULL, NULL, error)) {
            g_prefix_error(error, "Failed to make filesystem of type '%s' on device '%s': ",
                           format, device);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
storage_fs_mount(const SvStoragePoolDef *def, GError **error)
{
    const char *device = device_of(def);
    int mounted = is_mounted(def, error);

    if (mounted < 0)
        return FALSE;
    if (mounted) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                     "Target '%s' is already mounted", def->target_path);
        return FALSE;
    }
    const char *argv[] = {"mount", "-t", def->source.format, device, def->target_path, NULL};
    return storage_tool_run(argv, NULL, NULL, error);
}

gboolean
storage_fs_check_mounted(const SvStoragePoolDef *def, GError **error)
{
    int mounted = is_mounted(def, error);

    if (mounted == 0)
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                     "Target '%s' is not mounted", def->target_path);
    return mounted == 1;
}

gboolean
storage_fs_unmount(const SvStoragePoolDef *def, GError **error)
{
    const char *argv[] = {"umount", def->target_path, NULL};
    int mounted = is_mounted(def, error);

    if (mounted <= 0) /* not mounted: nothing to stop, as libvirt */
        return mounted == 0;
    return storage_tool_run(argv, NULL, NULL, error);
}
