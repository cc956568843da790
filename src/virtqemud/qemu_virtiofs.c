/* qemu_virtiofs.c: virtiofs shares of QEMU guests: the checks at define, and virtiofsd,
 * run as libvirt 9.0 runs it (qemu_virtiofs.h). */
#include "qemu_virtiofs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "domain/domain_helper.h"
#include "qemu_domain.h"
#include "util/error.h"
#include "util/fd.h"

const char *const qemu_virtiofs_desc_dirs[] = {"/etc/qemu/vhost-user", "/usr/share/qemu/vhost-user",
                                               NULL};

/* ---------------------------------------------------------------- define */

static gboolean refuse(GError **error, const char *message)
{
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED, "%s", message);
    return FALSE;
}

/* libvirt's checks, in its order. NUMA cells (whose memAccess would also do) are refused
 * before this, so the shared memory is <memoryBacking><access mode='shared'/>. (fmode and
 * dmode need accessmode mapped, which virtiofs refuses, so they are not checked here.) */
static gboolean check_virtiofs(const SvDomainDef *def, const SvDomainFsDef *fs, GError **error)
{
    if (fs->readonly)
        return refuse(error, "virtiofs does not yet support read-only mode");
    if (fs->accessmode != SV_DOMAIN_FS_ACCESS_PASSTHROUGH)
        return refuse(error, "virtiofs only supports passthrough accessmode");
    if (fs->wrpolicy)
        return refuse(error, "virtiofs does not support wrpolicy");
    if (fs->model)
        return refuse(error, "virtiofs does not support model");
    if (fs->multidevs)
        return refuse(error, "virtiofs does not support multidevs");
    if (def->memory_backing.access != SV_DOMAIN_MEMORY_ACCESS_SHARED)
        return refuse(error, "'virtiofs' requires shared memory");
    return TRUE;
}

gboolean qemu_fs_check_def(const SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->filesystems->len; i++) {
        const SvDomainFsDef *fs = def->filesystems->pdata[i];

        if ((fs->fmode || fs->dmode) && fs->accessmode != SV_DOMAIN_FS_ACCESS_MAPPED)
            return refuse(error, "fmode and dmode must be used with accessmode=mapped");
        /* QEMU 7.2 has no handle backend any more: libvirt still defines such a share and
         * QEMU refuses it at start, as here. */
        if (fs->driver == SV_DOMAIN_FS_DRIVER_HANDLE &&
            fs->accessmode != SV_DOMAIN_FS_ACCESS_PASSTHROUGH)
            return refuse(error, "only supports passthrough accessmode");
        if (fs->driver == SV_DOMAIN_FS_DRIVER_VIRTIOFS && !check_virtiofs(def, fs, error))
            return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- start */

void qemu_virtiofs_prepare_sockets(SvDomainDef *def, const char *dir)
{
    for (guint i = 0; i < def->filesystems->len; i++) {
        SvDomainFsDef *fs = def->filesystems->pdata[i];
        g_autofree char *name = NULL;

        if (fs->driver != SV_DOMAIN_FS_DRIVER_VIRTIOFS || !fs->info.alias)
            continue;
        name = g_strconcat(fs->info.alias, "-fs.sock", NULL);
        g_free(fs->vhost_socket);
        fs->vhost_socket = g_build_filename(dir, name, NULL);
    }
}

/* FUSE's option syntax: a backslash takes the next character as it is. */
static void append_fuse_escaped(GString *out, const char *s)
{
    for (; *s; s++) {
        if (*s == ',' || *s == '\\')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *s);
    }
}

static void append_switch(GString *out, int value, const char *on, const char *off)
{
    if (value != SV_DOMAIN_SWITCH_ABSENT)
        g_string_append_printf(out, ",%s", value == SV_DOMAIN_SWITCH_ON ? on : off);
}

GStrv qemu_virtiofs_argv(const SvDomainFsDef *fs, int fd)
{
    g_autoptr(GString) opts = g_string_new("source=");
    GPtrArray *argv = g_ptr_array_new();

    append_fuse_escaped(opts, fs->source_dir);
    if (fs->cache)
        g_string_append_printf(opts, ",cache=%s", sv_domain_fs_cache_mode_to_string(fs->cache));
    append_switch(opts, fs->xattr, "xattr", "no_xattr");
    append_switch(opts, fs->lock_flock, "flock", "no_flock");
    append_switch(opts, fs->lock_posix, "posix_lock", "no_posix_lock");
    g_ptr_array_add(argv, g_strdup(fs->binary_path));
    g_ptr_array_add(argv, g_strdup_printf("--fd=%d", fd));
    g_ptr_array_add(argv, g_strdup("-o"));
    g_ptr_array_add(argv, g_string_free(g_steal_pointer(&opts), FALSE));
    g_ptr_array_add(argv, NULL);
    return (GStrv)g_ptr_array_free(argv, FALSE);
}

/* The "binary" of descriptor `path` if its "type" is "fs". (transfer full) */
static char *descriptor_binary(const char *path)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;
    JsonObject *o;

    if (!json_parser_load_from_file(parser, path, NULL) || !(root = json_parser_get_root(parser)) ||
        !JSON_NODE_HOLDS_OBJECT(root))
        return NULL;
    o = json_node_get_object(root);
    if (g_strcmp0(json_object_get_string_member_with_default(o, "type", NULL), "fs") != 0)
        return NULL;
    return g_strdup(json_object_get_string_member_with_default(o, "binary", NULL));
}

char *qemu_virtiofs_find_binary(const char *const *dirs, GError **error)
{
    g_autoptr(GHashTable) files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GList) names = NULL;

    for (guint d = 0; dirs && dirs[d]; d++) {
        g_autoptr(GDir) dir = g_dir_open(dirs[d], 0, NULL);
        const char *entry;

        while (dir && (entry = g_dir_read_name(dir))) {
            if (g_str_has_suffix(entry, ".json") && !g_hash_table_contains(files, entry))
                g_hash_table_insert(files, g_strdup(entry), g_build_filename(dirs[d], entry, NULL));
        }
    }
    names = g_list_sort(g_hash_table_get_keys(files), (GCompareFunc)strcmp);
    for (GList *n = names; n; n = n->next) {
        char *binary = descriptor_binary(g_hash_table_lookup(files, n->data));
        if (binary)
            return binary;
    }
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                 "Unable to find a satisfying virtiofsd");
    return NULL;
}

/* libvirt's checks before it runs virtiofsd. */
static gboolean check_runnable(const SvDomainFsDef *fs, GError **error)
{
    if (!g_file_test(fs->binary_path, G_FILE_TEST_IS_EXECUTABLE) ||
        g_file_test(fs->binary_path, G_FILE_TEST_IS_DIR)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "virtiofsd binary '%s' is not executable", fs->binary_path);
        return FALSE;
    }
    if (!g_file_test(fs->source_dir, G_FILE_TEST_EXISTS)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "the virtiofs export directory '%s' does not exist", fs->source_dir);
        return FALSE;
    }
    return TRUE;
}

/* virtiofsd's own log, as libvirt names it: LOG_DIR/NAME-ALIAS-virtiofsd.log. */
static int open_log(SvDomainObj *obj, const SvDomainFsDef *fs, GError **error)
{
    g_autofree char *name = g_strdup_printf("%s-%s-virtiofsd.log", obj->def->name, fs->info.alias);
    g_autofree char *path = g_build_filename(qemu_ctx_of(obj)->log_dir, name, NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, S_IRUSR | S_IWUSR);

    if (fd < 0)
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "failed to create logfile %s", path);
    return fd;
}

/* The share's socket, listening, for QEMU's user to connect to. */
static int open_socket(SvDomainObj *obj, const SvDomainFsDef *fs, GError **error)
{
    QemuSecurity *security = qemu_ctx_of(obj)->security;
    QemuDomain *qd = qemu_domain_of(obj);
    g_auto(SvFd) fd = -1;

    if (!qemu_security_set_socket_label(security, qd->sec, error))
        return -1;
    fd = qemu_listen_unix(fs->vhost_socket, "virtiofs socket", error);
    qemu_security_clear_socket_label(security, qd->sec);
    if (fd < 0 || !qemu_security_give_file(security, fs->vhost_socket, TRUE, error))
        return -1;
    return g_steal_fd(&fd);
}

/* Fork one share's virtiofsd, held before exec, as a helper of the run. */
static gboolean spawn_one(SvDomainObj *obj, SvDomainFsDef *fs, GError **error)
{
    static const char *const env[] = {"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    g_auto(SvFd) sock = -1;
    g_auto(SvFd) log = -1;
    g_auto(GStrv) argv = NULL;
    g_autofree char *joined = NULL;
    SvSpawnOptions sopts = {0};
    SvProcess *proc;

    if (!check_runnable(fs, error) || (log = open_log(obj, fs, error)) < 0 ||
        (sock = open_socket(obj, fs, error)) < 0)
        return FALSE;
    argv = qemu_virtiofs_argv(fs, sock);
    /* As libvirt, the helper's command line goes into the guest's log. */
    joined = g_strjoinv(" ", argv);
    sv_guest_log_printf(qemu_domain_of(obj)->log_fd, "Starting external device: virtiofsd\n%s",
                        joined);
    sopts.argv = (const char *const *)argv;
    sopts.envp = env;
    sopts.stdin_fd = -1;
    sopts.stdout_fd = log;
    sopts.stderr_fd = log;
    sopts.keep_fds = &sock;
    sopts.n_keep_fds = 1;
    sopts.new_session = TRUE;
    sopts.hold_exec = TRUE;
    /* As root, as libvirt runs it: it serves the directory with the guest's own ids. */
    if (!(proc = sv_process_spawn(&sopts, error))) {
        g_prefix_error(error, "Could not start 'virtiofsd': ");
        return FALSE;
    }
    sv_run_helpers_add(qemu_domain_of(obj)->run.helpers, fs->info.alias, fs->binary_path, proc);
    return TRUE;
}

gboolean qemu_virtiofs_start(SvDomainObj *obj, const char *dir, GError **error)
{
    qemu_virtiofs_prepare_sockets(obj->def, dir);
    for (guint i = 0; i < obj->def->filesystems->len; i++) {
        SvDomainFsDef *fs = obj->def->filesystems->pdata[i];

        if (fs->driver != SV_DOMAIN_FS_DRIVER_VIRTIOFS)
            continue;
        /* libvirt takes any user alias into the socket's file name; a path is refused. */
        if (strchr(fs->info.alias, '/')) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                         "virtiofs alias '%s' cannot name a socket file", fs->info.alias);
            return FALSE;
        }
        if (!fs->binary_path &&
            !(fs->binary_path = qemu_virtiofs_find_binary(qemu_virtiofs_desc_dirs, error)))
            return FALSE;
        if (!spawn_one(obj, fs, error))
            return FALSE;
    }
    return TRUE;
}

const char *qemu_virtiofs_helper_exe(const char *id, gpointer data)
{
    const SvDomainDef *def = data;

    for (guint i = 0; i < def->filesystems->len; i++) {
        const SvDomainFsDef *fs = def->filesystems->pdata[i];

        if (fs->driver == SV_DOMAIN_FS_DRIVER_VIRTIOFS && g_strcmp0(fs->info.alias, id) == 0)
            return fs->binary_path;
    }
    return NULL;
}

void qemu_virtiofs_remove_sockets(const SvDomainDef *def, const char *dir)
{
    for (guint i = 0; i < def->filesystems->len; i++) {
        const SvDomainFsDef *fs = def->filesystems->pdata[i];
        g_autofree char *name = NULL, *path = NULL;

        if (fs->driver != SV_DOMAIN_FS_DRIVER_VIRTIOFS || !fs->info.alias)
            continue;
        name = g_strconcat(fs->info.alias, "-fs.sock", NULL);
        path = g_build_filename(dir, name, NULL);
        unlink(path);
    }
}
