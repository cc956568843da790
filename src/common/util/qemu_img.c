/* qemu_img.c: qemu-img command lines and runs, qemu-img info parsed (qemu_img.h). */
#include "util/qemu_img.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/command.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/process.h"

/* libvirt's VIR_STORAGE_DEFAULT_VOL_PERM_MODE */
#define DEFAULT_VOL_MODE 0600

const char *const *
sv_storage_tool_env(void)
{
    static const char *const envp[] = {"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};

    return envp;
}

gboolean
sv_storage_tool_run(const char *const *argv, char **ret_out, GError **error)
{
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;

    if (!sv_process_run_sync(argv, sv_storage_tool_env(), &out, &err, &status, error))
        return FALSE;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (ret_out)
            *ret_out = g_steal_pointer(&out);
        return TRUE;
    }
    sv_command_error(argv, status, err, error);
    return FALSE;
}

char *
sv_storage_secret_file(const char *state_dir, const char *pool, const char *vol,
                       const guint8 *key, gsize key_len, gint64 uid, gint64 gid, GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s.%s.secret.XXXXXX", state_dir, pool, vol);
    g_auto(SvFd) fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
    gsize done = 0;

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "failed to open secret file for write");
        return NULL;
    }
    while (done < key_len) {
        ssize_t n = write(fd, key + done, key_len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sv_error_set_errno(error, SV_FROM_STORAGE, n < 0 ? errno : EIO,
                               "failed to write secret file");
            unlink(path);
            return NULL;
        }
        done += n;
    }
    if (uid != -1 && gid != -1 && fchown(fd, uid, gid) < 0) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR, "failed to chown secret file");
        unlink(path);
        return NULL;
    }
    return g_steal_pointer(&path);
}

/* ---- create and convert ------------------------------------------------------------------ */

/* Commas doubled: qemu's option syntax (libvirt's virQEMUBuildBufferEscapeComma). */
static void
append_escaped_comma(GString *s, const char *v)
{
    for (; *v; v++) {
        if (*v == ',')
            g_string_append_c(s, ',');
        g_string_append_c(s, *v);
    }
}

static gboolean
is_fmt(const char *format, const char *name)
{
    return g_strcmp0(format, name) == 0;
}

/* The format qemu-img writes: block devices and ISO images are raw. */
static const char *
out_format(const SvQemuImgVol *vol)
{
    if (vol->block || is_fmt(vol->format, "iso"))
        return "raw";
    return vol->format;
}

/* What libvirt checks of an image and its encryption before it builds the command. */
typedef struct {
    const char *format;       /* the image's format (after block/iso) */
    const char *type;         /* qemu-img's driver ("luks" for an encrypted raw) */
    const char *input_type;   /* the input's driver, for --image-opts */
    const char *input_format; /* the input's format, for -f */
    const char *input_path;
    const char *backing_path;
} Plan;

static gboolean
check_encryption(const SvQemuImgVol *vol, const char *format, const char *type, GError **error)
{
    if (!is_fmt(format, "raw") && !is_fmt(format, "qcow2")) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "volume encryption unsupported with format %s", type);
        return FALSE;
    }
    if (vol->encryption != SV_QEMU_IMG_ENC_LUKS) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "unsupported volume encryption format %d", (int)vol->encryption);
        return FALSE;
    }
    if (vol->n_secrets != 1) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
                     vol->n_secrets ? "too many secrets for luks encryption"
                                    : "no secret provided for luks encryption");
        return FALSE;
    }
    return TRUE;
}

static gboolean
plan_formats(const SvQemuImgVol *vol, const SvQemuImgVol *input, gboolean prealloc, Plan *p,
             GError **error)
{
    const char *fail = NULL;

    p->format = p->type = out_format(vol);
    if (!p->format || !*p->format || is_fmt(p->format, "none")) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR, "unknown storage vol type %d",
                     -1);
        return FALSE;
    }
    p->input_type = input ? input->format : NULL;
    if (prealloc && !is_fmt(p->format, "qcow2"))
        fail = "metadata preallocation only available with qcow2";
    else if (vol->compat && !is_fmt(p->format, "qcow2"))
        fail = "compatibility option only available with qcow2";
    else if (vol->has_features && !is_fmt(p->format, "qcow2"))
        fail = "format features only available with qcow2";
    if (fail) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED, "%s", fail);
        return FALSE;
    }
    if (is_fmt(p->format, "raw") && vol->encryption != SV_QEMU_IMG_ENC_NONE)
        p->type = "luks";
    if (input && is_fmt(input->format, "raw") && input->encryption != SV_QEMU_IMG_ENC_NONE)
        p->input_type = "luks";
    return TRUE;
}

static gboolean
plan_backing(const SvQemuImgVol *vol, const SvQemuImgVol *input, gboolean prealloc,
             const char *pool_path, Plan *p, GError **error)
{
    g_autofree char *abs = NULL;

    if (is_fmt(p->format, "raw")) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "cannot set backing store for raw volume");
        return FALSE;
    }
    if (prealloc) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "metadata preallocation conflicts with backing store");
        return FALSE;
    }
    if (input && input->backing_path && g_strcmp0(input->backing_path, vol->backing_path)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "a different backing store cannot be specified.");
        return FALSE;
    }
    if (!vol->backing_format) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "unknown storage vol backing store type %d", -1);
        return FALSE;
    }
    if (vol->backing_path[0] != '/')
        abs = g_strdup_printf("%s/%s", pool_path ? pool_path : "", vol->backing_path);
    if (access(abs ? abs : vol->backing_path, R_OK) != 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "inaccessible backing store volume %s",
                           vol->backing_path);
        return FALSE;
    }
    p->backing_path = vol->backing_path;
    return TRUE;
}

/* libvirt's checks, in libvirt's order (virStorageBackendCreateQemuImgCmdFromVol). */
static gboolean
plan_create(const SvQemuImgVol *vol, const SvQemuImgVol *input, gboolean prealloc,
            SvQemuImgStep step, const char *pool_path, Plan *p, GError **error)
{
    if (vol->encryption == SV_QEMU_IMG_ENC_QCOW || vol->encryption == SV_QEMU_IMG_ENC_DEFAULT) {
        if (is_fmt(vol->format, "qcow") || is_fmt(vol->format, "qcow2")) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                         "creation of qcow2 encrypted image is not supported");
            return FALSE;
        }
    }
    if (input && input->encryption != SV_QEMU_IMG_ENC_NONE &&
        input->encryption != SV_QEMU_IMG_ENC_LUKS) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "encryption format of inputvol must be LUKS");
        return FALSE;
    }
    if (!plan_formats(vol, input, prealloc, p, error))
        return FALSE;
    if (input) {
        if (step != SV_QEMU_IMG_STEP_CREATE && !(p->input_path = input->path)) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG,
                         "missing input volume target path");
            return FALSE;
        }
        p->input_format = out_format(input);
    }
    if (vol->backing_path && !plan_backing(vol, input, prealloc, pool_path, p, error))
        return FALSE;
    if (vol->encryption != SV_QEMU_IMG_ENC_NONE && !check_encryption(vol, p->format, p->type, error))
        return FALSE;
    return TRUE;
}

static void
append_cipher_opts(GString *o, const SvQemuImgVol *vol, const char *prefix)
{
    if (!vol->cipher_name)
        return;
    g_string_append_printf(o, "%scipher-alg=", prefix);
    append_escaped_comma(o, vol->cipher_name);
    g_string_append_printf(o, "-%u,", vol->cipher_size);
    if (vol->cipher_mode) {
        g_string_append_printf(o, "%scipher-mode=", prefix);
        append_escaped_comma(o, vol->cipher_mode);
        g_string_append_c(o, ',');
    }
    if (vol->cipher_hash) {
        g_string_append_printf(o, "%shash-alg=", prefix);
        append_escaped_comma(o, vol->cipher_hash);
        g_string_append_c(o, ',');
    }
    if (!vol->ivgen_name)
        return;
    g_string_append_printf(o, "%sivgen-alg=", prefix);
    append_escaped_comma(o, vol->ivgen_name);
    g_string_append_c(o, ',');
    if (vol->ivgen_hash) {
        g_string_append_printf(o, "%sivgen-hash-alg=", prefix);
        append_escaped_comma(o, vol->ivgen_hash);
        g_string_append_c(o, ',');
    }
}

/* The -o options (libvirt's storageBackendCreateQemuImgOpts); NULL with error, "" for
 * none. */
static char *
create_opts(const SvQemuImgVol *vol, const Plan *p, gboolean prealloc, const char *alias,
            GError **error)
{
    g_autoptr(GString) o = g_string_new(NULL);
    gboolean qcow2 = is_fmt(p->format, "qcow2");

    if (p->backing_path)
        g_string_append_printf(o, "backing_fmt=%s,", vol->backing_format);
    if (alias) {
        const char *prefix = qcow2 ? "encrypt." : "";

        if (qcow2)
            g_string_append(o, "encrypt.format=luks,");
        g_string_append_printf(o, "%skey-secret=%s,", prefix, alias);
        append_cipher_opts(o, vol, prefix);
    }
    if (prealloc)
        g_string_append(o, (vol->capacity + 1023) / 1024 > (vol->allocation + 1023) / 1024
                               ? "preallocation=metadata,"
                               : "preallocation=falloc,");
    if (vol->nocow)
        g_string_append(o, "nocow=on,");
    if (vol->compat)
        g_string_append_printf(o, "compat=%s,", vol->compat);
    else if (qcow2)
        g_string_append(o, "compat=0.10,");
    if (vol->cluster_size)
        g_string_append_printf(o, "cluster_size=%" G_GUINT64_FORMAT ",", vol->cluster_size);
    if (vol->has_features && qcow2 && vol->lazy_refcounts) {
        if (g_strcmp0(vol->compat, "0.10") == 0) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                         "lazy_refcounts not supported with compat level %s", vol->compat);
            return NULL;
        }
        g_string_append(o, "lazy_refcounts,");
    }
    while (o->len && o->str[o->len - 1] == ',')
        g_string_truncate(o, o->len - 1);
    return g_string_free(g_steal_pointer(&o), FALSE);
}

static void
add_secret_object(GPtrArray *a, const char *alias, const char *path)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "secret,id=%s,file=", alias);
    append_escaped_comma(s, path);
    g_ptr_array_add(a, g_strdup("--object"));
    g_ptr_array_add(a, g_string_free(s, FALSE));
}

/* "driver=D,file.filename=P[,PREFIXkey-secret=A]" of convert's --image-opts. */
static char *
image_opts(const char *driver, const char *path, const char *format, const char *alias)
{
    if (!alias)
        return g_strdup_printf("driver=%s,file.filename=%s", driver, path);
    return g_strdup_printf("driver=%s,file.filename=%s,%skey-secret=%s", driver, path,
                           is_fmt(format, "qcow2") ? "encrypt." : "", alias);
}

static gboolean
add_secrets(GPtrArray *a, const SvQemuImgVol *vol, const SvQemuImgVol *input,
            SvQemuImgStep step, char **alias, char **in_alias, GError **error)
{
    if (vol->encryption != SV_QEMU_IMG_ENC_NONE) {
        if (!vol->secret_path) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                         "path to secret data file is required");
            return FALSE;
        }
        *alias = g_strdup_printf("%s_encrypt0", vol->name);
        add_secret_object(a, *alias, vol->secret_path);
    }
    if (input && input->encryption != SV_QEMU_IMG_ENC_NONE && step == SV_QEMU_IMG_STEP_CONVERT) {
        if (!input->secret_path) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                         "path to inputvol secret data file is required");
            return FALSE;
        }
        *in_alias = g_strdup_printf("%s_encrypt0", input->name);
        add_secret_object(a, *in_alias, input->secret_path);
    }
    return TRUE;
}

char **
sv_qemu_img_create_argv(const char *tool, const SvQemuImgVol *vol, const SvQemuImgVol *input,
                        gboolean prealloc, SvQemuImgStep step, const char *pool_path,
                        GError **error)
{
    g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *alias = NULL, *in_alias = NULL;
    Plan p = {0};

    if (!plan_create(vol, input, prealloc, step, pool_path, &p, error))
        return NULL;
    /* A convert (and the create of a two-step one) never takes the backing store. */
    if (p.input_path || step == SV_QEMU_IMG_STEP_CREATE)
        p.backing_path = NULL;
    g_ptr_array_add(a, g_strdup(tool));
    if (p.input_path && step == SV_QEMU_IMG_STEP_NONE) {
        const char *conv[] = {"convert", "-f", p.input_format, "-O", p.type};
        for (guint i = 0; i < G_N_ELEMENTS(conv); i++)
            g_ptr_array_add(a, g_strdup(conv[i]));
    } else if (p.input_path && step == SV_QEMU_IMG_STEP_CONVERT) {
        const char *conv[] = {"convert", "--image-opts", "-n", "--target-image-opts"};
        for (guint i = 0; i < G_N_ELEMENTS(conv); i++)
            g_ptr_array_add(a, g_strdup(conv[i]));
    } else {
        g_ptr_array_add(a, g_strdup("create"));
        g_ptr_array_add(a, g_strdup("-f"));
        g_ptr_array_add(a, g_strdup(p.type));
    }
    if (p.backing_path) {
        g_ptr_array_add(a, g_strdup("-b"));
        g_ptr_array_add(a, g_strdup(p.backing_path));
    }
    if (!add_secrets(a, vol, input, step, &alias, &in_alias, error))
        return NULL;
    if (step != SV_QEMU_IMG_STEP_CONVERT) {
        guint64 size_k = (vol->capacity + 1023) / 1024;
        g_autofree char *opts = create_opts(vol, &p, prealloc, alias, error);

        if (!opts)
            return NULL;
        if (*opts) {
            g_ptr_array_add(a, g_strdup("-o"));
            g_ptr_array_add(a, g_steal_pointer(&opts));
        }
        if (p.input_path)
            g_ptr_array_add(a, g_strdup(p.input_path));
        g_ptr_array_add(a, g_strdup(vol->path));
        if (!p.input_path && (size_k || !p.backing_path))
            g_ptr_array_add(a, g_strdup_printf("%" G_GUINT64_FORMAT "K", size_k));
    } else {
        g_ptr_array_add(a, image_opts(p.input_type ? p.input_type : "raw", p.input_path,
                                      input->format, in_alias));
        g_ptr_array_add(a, image_opts(p.type, vol->path, p.format, alias));
    }
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&a), FALSE);
}

/* Owner and mode after qemu-img made the file (libvirt's virStorageBackendCreateExecCommand,
 * local pools). */
static gboolean
apply_perms(const SvQemuImgVol *vol, GError **error)
{
    mode_t mode = vol->mode == -1 ? DEFAULT_VOL_MODE : (mode_t)vol->mode;
    struct stat st;
    uid_t uid;
    gid_t gid;

    if (stat(vol->path, &st) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "failed to create %s", vol->path);
        return FALSE;
    }
    uid = vol->uid != -1 && (uid_t)vol->uid != st.st_uid ? (uid_t)vol->uid : (uid_t)-1;
    gid = vol->gid != -1 && (gid_t)vol->gid != st.st_gid ? (gid_t)vol->gid : (gid_t)-1;
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(vol->path, uid, gid) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot chown %s to (%u, %u)",
                           vol->path, (unsigned)uid, (unsigned)gid);
        return FALSE;
    }
    if (mode != (st.st_mode & 0777) && chmod(vol->path, mode) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot set mode of '%s' to %04o",
                           vol->path, (unsigned)mode);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_qemu_img_create(const char *tool, const SvQemuImgVol *vol, const SvQemuImgVol *input,
                   gboolean prealloc, const char *pool_path, GError **error)
{
    SvQemuImgStep step = SV_QEMU_IMG_STEP_NONE;

    if (!tool) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "creation of non-raw file images is not supported without qemu-img.");
        return FALSE;
    }
    /* Into or out of an encrypted image: create it first, then convert into it. */
    if (input && (vol->encryption != SV_QEMU_IMG_ENC_NONE ||
                  input->encryption != SV_QEMU_IMG_ENC_NONE))
        step = SV_QEMU_IMG_STEP_CREATE;
    for (;;) {
        g_auto(GStrv) argv = sv_qemu_img_create_argv(tool, vol, input, prealloc, step, pool_path,
                                                     error);
        gboolean ran;

        if (!argv)
            return FALSE;
        ran = sv_storage_tool_run((const char *const *)argv, NULL, error);
        if (!ran || !apply_perms(vol, error)) {
            /* libvirt removes what it made when the convert step or the permissions
             * fail; a failed first run made nothing it knows of. */
            if (step == SV_QEMU_IMG_STEP_CONVERT || ran)
                unlink(vol->path);
            return FALSE;
        }
        if (step != SV_QEMU_IMG_STEP_CREATE)
            return TRUE;
        step = SV_QEMU_IMG_STEP_CONVERT;
    }
}

/* ---- resize ------------------------------------------------------------------------------ */

char **
sv_qemu_img_resize_argv(const char *tool, const SvQemuImgVol *vol, guint64 capacity,
                        GError **error)
{
    g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
    gboolean qcow2 = is_fmt(vol->format, "qcow2");

    if ((vol->encryption == SV_QEMU_IMG_ENC_QCOW || vol->encryption == SV_QEMU_IMG_ENC_DEFAULT) &&
        (is_fmt(vol->format, "qcow") || qcow2)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "resize of qcow2 encrypted image is not supported");
        return NULL;
    }
    if (!tool) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR, "unable to find qemu-img");
        return NULL;
    }
    if (vol->encryption != SV_QEMU_IMG_ENC_NONE &&
        !check_encryption(vol, vol->format, is_fmt(vol->format, "raw") ? "luks" : vol->format,
                          error))
        return NULL;
    /* qemu-img refuses sizes that are not a multiple of 512 */
    capacity = (capacity + 511) / 512 * 512;
    g_ptr_array_add(a, g_strdup(tool));
    g_ptr_array_add(a, g_strdup("resize"));
    if (capacity < vol->capacity)
        g_ptr_array_add(a, g_strdup("--shrink"));
    if (vol->encryption == SV_QEMU_IMG_ENC_NONE) {
        g_ptr_array_add(a, g_strdup(vol->path));
    } else {
        g_autofree char *alias = g_strdup_printf("%s_encrypt0", vol->name);
        GString *o = g_string_new(NULL);

        if (!vol->secret_path) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                         "path to secret data file is required");
            g_string_free(o, TRUE);
            return NULL;
        }
        add_secret_object(a, alias, vol->secret_path);
        g_string_append_printf(o, "driver=%s,%skey-secret=%s,file.filename=",
                               qcow2 ? "qcow2" : "luks", qcow2 ? "encrypt." : "", alias);
        append_escaped_comma(o, vol->path);
        g_ptr_array_add(a, g_strdup("--image-opts"));
        g_ptr_array_add(a, g_string_free(o, FALSE));
    }
    g_ptr_array_add(a, g_strdup_printf("%" G_GUINT64_FORMAT, capacity));
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&a), FALSE);
}

/* ---- info --------------------------------------------------------------------------------- */

void
sv_qemu_img_info_free(SvQemuImgInfo *info)
{
    if (!info)
        return;
    g_free(info->filename);
    g_free(info->format);
    g_free(info->backing_file);
    g_free(info->backing_format);
    g_free(info->compat);
    g_free(info->encrypt_format);
    g_free(info);
}

static char *
member_str(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return g_strdup(json_node_get_string(n));
}

static guint64
member_u64(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE || json_node_get_value_type(n) != G_TYPE_INT64)
        return 0;
    return (guint64)MAX(json_node_get_int(n), 0);
}

static gboolean
member_bool(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_TYPE(n) == JSON_NODE_VALUE &&
           json_node_get_value_type(n) == G_TYPE_BOOLEAN && json_node_get_boolean(n);
}

static JsonObject *
member_obj(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static SvQemuImgInfo *
info_from_object(JsonObject *o)
{
    SvQemuImgInfo *i = g_new0(SvQemuImgInfo, 1);
    JsonObject *spec = member_obj(o, "format-specific");
    JsonObject *data = member_obj(spec, "data");
    JsonObject *enc = member_obj(data, "encrypt");
    g_autofree char *spec_type = NULL;

    i->filename = member_str(o, "filename");
    i->format = member_str(o, "format");
    i->virtual_size = member_u64(o, "virtual-size");
    i->actual_size = member_u64(o, "actual-size");
    i->cluster_size = member_u64(o, "cluster-size");
    i->backing_file = member_str(o, "backing-filename");
    i->backing_format = member_str(o, "backing-filename-format");
    i->encrypted = member_bool(o, "encrypted");
    i->dirty = member_bool(o, "dirty-flag");
    spec_type = member_str(spec, "type");
    if (g_strcmp0(spec_type, "qcow2") == 0) {
        i->compat = member_str(data, "compat");
        i->lazy_refcounts = member_bool(data, "lazy-refcounts");
        i->encrypt_format = member_str(enc, "format");
    }
    return i;
}

GPtrArray *
sv_qemu_img_info_parse(const char *json, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)sv_qemu_img_info_free);
    g_autoptr(GError) local = NULL;
    JsonNode *root;

    if (!json_parser_load_from_data(parser, json, -1, &local)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "cannot parse qemu-img output: %s", local->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (root && JSON_NODE_HOLDS_OBJECT(root)) {
        g_ptr_array_add(list, info_from_object(json_node_get_object(root)));
    } else if (root && JSON_NODE_HOLDS_ARRAY(root)) {
        JsonArray *arr = json_node_get_array(root);

        for (guint k = 0; k < json_array_get_length(arr); k++) {
            JsonNode *n = json_array_get_element(arr, k);

            if (JSON_NODE_HOLDS_OBJECT(n))
                g_ptr_array_add(list, info_from_object(json_node_get_object(n)));
        }
    }
    if (!list->len) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "cannot parse qemu-img output: no image described");
        return NULL;
    }
    return g_steal_pointer(&list);
}

GPtrArray *
sv_qemu_img_info(const char *tool, const char *path, const char *format,
                 gboolean backing_chain, GError **error)
{
    g_autoptr(GPtrArray) a = g_ptr_array_new();
    g_autofree char *out = NULL;

    g_ptr_array_add(a, (char *)tool);
    g_ptr_array_add(a, "info");
    g_ptr_array_add(a, "--output=json");
    if (backing_chain)
        g_ptr_array_add(a, "--backing-chain");
    if (format) {
        g_ptr_array_add(a, "-f");
        g_ptr_array_add(a, (char *)format);
    }
    /* -U (force share): an image a running guest holds locked can still be read. */
    g_ptr_array_add(a, "-U");
    g_ptr_array_add(a, (char *)path);
    g_ptr_array_add(a, NULL);
    if (!sv_storage_tool_run((const char *const *)a->pdata, &out, error))
        return NULL;
    return sv_qemu_img_info_parse(out, error);
}

/* A file volume that is not a plain raw file (libvirt: vol type file, format other than raw
 * or encrypted). */
static gboolean
not_plain_raw(const SvQemuImgVol *v)
{
    return !v->block && !is_fmt(v->format, "dir") && !is_fmt(v->format, "ploop") &&
           (!is_fmt(v->format, "raw") || v->encryption != SV_QEMU_IMG_ENC_NONE);
}

SvStorageBuild
sv_storage_build_kind(const SvQemuImgVol *vol, const SvQemuImgVol *input)
{
    if (!input) {
        if (is_fmt(vol->format, "raw") && vol->encryption == SV_QEMU_IMG_ENC_NONE)
            return SV_STORAGE_BUILD_RAW;
        if (is_fmt(vol->format, "dir"))
            return SV_STORAGE_BUILD_DIR;
        if (is_fmt(vol->format, "ploop"))
            return SV_STORAGE_BUILD_PLOOP;
        return SV_STORAGE_BUILD_QEMU_IMG;
    }
    if (not_plain_raw(vol) || not_plain_raw(input))
        return SV_STORAGE_BUILD_QEMU_IMG;
    if (is_fmt(vol->format, "ploop"))
        return SV_STORAGE_BUILD_PLOOP;
    return vol->block ? SV_STORAGE_BUILD_BLOCK : SV_STORAGE_BUILD_RAW;
}

/* ---- raw files without qemu-img ----------------------------------------------------------- */

/* libvirt's safezero: allocate [offset, offset+len) as zeros, by fallocate where the file
 * system can, else by writing them. */
static gboolean
zero_range(int fd, guint64 offset, guint64 len)
{
    static const char zeros[64 * 1024];

    if (fallocate(fd, 0, offset, len) == 0)
        return TRUE;
    if (errno != EOPNOTSUPP && errno != ENOSYS)
        return FALSE;
    while (len) {
        ssize_t n = pwrite(fd, zeros, MIN(len, sizeof(zeros)), offset);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        offset += n;
        len -= n;
    }
    return TRUE;
}

/* libvirt's virStorageBackendCopyToFD: `input` copied into fd in 1 MiB reads, written in
 * blocks of the target's block size (at least 4096), zero blocks seeked over when `sparse`;
 * *remain counts down from the input's capacity. */
static gboolean
copy_to_fd(const SvQemuImgVol *vol, const SvQemuImgVol *input, int fd, guint64 *remain,
           gboolean sparse, GError **error)
{
    g_autofree char *buf = g_malloc(1024 * 1024);
    g_autofree char *zero = NULL;
    g_auto(SvFd) in = open(input->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    gsize wbytes = 4096;

    if (in < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "could not open input path '%s'",
                           input->path);
        return FALSE;
    }
    if (fstat(fd, &st) == 0 && (gsize)st.st_blksize > wbytes)
        wbytes = st.st_blksize;
    zero = g_malloc0(wbytes);
    while (*remain) {
        ssize_t got = read(in, buf, MIN(*remain, 1024 * 1024));

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            sv_error_set_errno(error, SV_FROM_STORAGE, errno, "failed reading from file '%s'",
                               input->path);
            return FALSE;
        }
        if (got == 0)
            break;
        *remain -= got;
        for (gsize off = 0; off < (gsize)got; off += wbytes) {
            gsize len = MIN(wbytes, (gsize)got - off);

            if (sparse && memcmp(buf + off, zero, len) == 0) {
                if (lseek(fd, len, SEEK_CUR) < 0) {
                    sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot extend file '%s'",
                                       vol->path);
                    return FALSE;
                }
            } else if (write(fd, buf + off, len) != (ssize_t)len) {
                sv_error_set_errno(error, SV_FROM_STORAGE, errno, "failed writing to file '%s'",
                                   vol->path);
                return FALSE;
            }
        }
    }
    if (fdatasync(fd) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot sync data to file '%s'",
                           vol->path);
        return FALSE;
    }
    return TRUE;
}

/* libvirt's createRawFile. */
static gboolean
fill_raw(int fd, const SvQemuImgVol *vol, const SvQemuImgVol *input, GError **error)
{
    /* Cloned into less room than the original's capacity: the copy stays sparse. */
    gboolean need_alloc = !(input && vol->allocation < input->capacity);
    guint64 pos = 0;

    if (ftruncate(fd, vol->capacity) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot extend file '%s'", vol->path);
        return FALSE;
    }
    if (vol->allocation && need_alloc) {
        if (fallocate(fd, 0, 0, vol->allocation) == 0) {
            need_alloc = FALSE;
        } else if (errno != ENOSYS && errno != EOPNOTSUPP) {
            sv_error_set_errno(error, SV_FROM_STORAGE, errno,
                               "cannot allocate %" G_GUINT64_FORMAT " bytes in file '%s'",
                               vol->allocation, vol->path);
            return FALSE;
        }
    }
    if (input) {
        guint64 remain = input->capacity;

        if (!copy_to_fd(vol, input, fd, &remain, !need_alloc, error))
            return FALSE;
        pos = input->capacity - remain;
    }
    if (need_alloc && vol->allocation > pos && !zero_range(fd, pos, vol->allocation - pos)) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot fill file '%s'", vol->path);
        return FALSE;
    }
    if (fsync(fd) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot sync data to file '%s'",
                           vol->path);
        return FALSE;
    }
    return TRUE;
}

/* Created O_EXCL, then mode and owner forced (libvirt's virFileOpenAs with FORCE_MODE and
 * FORCE_OWNER); -errno on failure. */
static int
open_new(const SvQemuImgVol *vol)
{
    mode_t mode = vol->mode == -1 ? DEFAULT_VOL_MODE : (mode_t)vol->mode;
    g_auto(SvFd) fd = open(vol->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);

    if (fd < 0)
        return -errno;
    if ((vol->uid != -1 || vol->gid != -1) &&
        fchown(fd, vol->uid == -1 ? (uid_t)-1 : (uid_t)vol->uid,
               vol->gid == -1 ? (gid_t)-1 : (gid_t)vol->gid) < 0) {
        int e = errno;
        unlink(vol->path);
        return -e;
    }
    if (fchmod(fd, mode) < 0) {
        int e = errno;
        unlink(vol->path);
        return -e;
    }
    return g_steal_fd(&fd);
}

gboolean
sv_storage_create_raw(const SvQemuImgVol *vol, const SvQemuImgVol *input, gboolean prealloc,
                      GError **error)
{
    g_auto(SvFd) fd = -1;

    if (prealloc) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "metadata preallocation is not supported for raw volumes");
        return FALSE;
    }
    if (vol->backing_path) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_SUPPORT,
                     "backing storage not supported for raw volumes");
        return FALSE;
    }
    if (vol->encryption != SV_QEMU_IMG_ENC_NONE) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "storage pool does not support encrypted volumes");
        return FALSE;
    }
    if ((fd = open_new(vol)) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, -fd, "Failed to create file '%s'", vol->path);
        return FALSE;
    }
    if (!fill_raw(fd, vol, input, error)) {
        unlink(vol->path);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_storage_copy_to_block(const SvQemuImgVol *vol, const SvQemuImgVol *input, GError **error)
{
    g_auto(SvFd) fd = open(vol->path, O_RDWR | O_CLOEXEC);
    guint64 remain = vol->capacity;

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot create path '%s'", vol->path);
        return FALSE;
    }
    if (!copy_to_fd(vol, input, fd, &remain, FALSE, error))
        return FALSE;
    if (close(g_steal_fd(&fd)) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot close file '%s'", vol->path);
        return FALSE;
    }
    return TRUE;
}

/* libvirt's virFileResize. */
static gboolean
resize_raw(const char *path, guint64 capacity, gboolean allocate, GError **error)
{
    g_auto(SvFd) fd = open(path, O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "Unable to open '%s'", path);
        return FALSE;
    }
    if (allocate && fallocate(fd, 0, 0, capacity) != 0) {
        if (errno == EOPNOTSUPP || errno == ENOSYS)
            sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_UNSUPPORTED,
                         "preallocate is not supported on this platform");
        else
            sv_error_set_errno(error, SV_FROM_NONE, errno,
                               "Failed to pre-allocate space for file '%s'", path);
        return FALSE;
    }
    if (ftruncate(fd, capacity) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "Failed to truncate file '%s'", path);
        return FALSE;
    }
    if (close(g_steal_fd(&fd)) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "Unable to save '%s'", path);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_storage_resize(const char *tool, const SvQemuImgVol *vol, guint64 capacity,
                  gboolean allocate, GError **error)
{
    g_auto(GStrv) argv = NULL;
    gboolean raw = is_fmt(vol->format, "raw");

    if (raw && vol->encryption == SV_QEMU_IMG_ENC_NONE)
        return resize_raw(vol->path, capacity, allocate, error);
    if (allocate) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_UNSUPPORTED,
                     raw ? "preallocate is only supported for an unencrypted raw volume"
                         : "preallocate is only supported for raw type volume");
        return FALSE;
    }
    if (!(argv = sv_qemu_img_resize_argv(tool, vol, capacity, error)))
        return FALSE;
    return sv_storage_tool_run((const char *const *)argv, NULL, error);
}
