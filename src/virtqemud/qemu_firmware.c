/* qemu_firmware.c: <os firmware='efi'> resolved from QEMU's firmware descriptors (the JSON
 * files of QEMU's docs/interop/firmware.json that Debian's ovmf package installs in
 * /usr/share/qemu/firmware), the per-guest NVRAM file, and its removal at undefine, as
 * libvirt 9.0 does them (qemu_firmware.h). */
#include "qemu_firmware.h"

#include <errno.h>
#include <fnmatch.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fileio.h"

/* A descriptor, reduced to what the choice needs. */
typedef struct {
    char *path;
    gboolean uefi;
    gboolean bios;
    gboolean flash;         /* mapping device "flash" in split mode */
    char *executable;
    char *nvram_template;
    GPtrArray *machines;    /* of char *, globs for x86_64 */
    gboolean requires_smm;
    gboolean secure_boot;
    gboolean enrolled_keys;
} Descriptor;

static void
descriptor_free(gpointer p)
{
    Descriptor *d = p;

    g_free(d->path);
    g_free(d->executable);
    g_free(d->nvram_template);
    g_clear_pointer(&d->machines, g_ptr_array_unref);
    g_free(d);
}

/* Member `name` of `o` when it holds a JSON node of `type`, else NULL: descriptors are
 * read without trusting their shape. */
static JsonNode *
member(JsonObject *o, const char *name, JsonNodeType type)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_TYPE(n) == type ? n : NULL;
}

static JsonObject *
member_object(JsonObject *o, const char *name)
{
    JsonNode *n = member(o, name, JSON_NODE_OBJECT);

    return n ? json_node_get_object(n) : NULL;
}

static JsonArray *
member_array(JsonObject *o, const char *name)
{
    JsonNode *n = member(o, name, JSON_NODE_ARRAY);

    return n ? json_node_get_array(n) : NULL;
}

static const char *
node_string(JsonNode *n)
{
    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : NULL;
}

static const char *
member_string(JsonObject *o, const char *name)
{
    return node_string(member(o, name, JSON_NODE_VALUE));
}

static gboolean
array_has(JsonObject *o, const char *name, const char *value)
{
    JsonArray *a = member_array(o, name);

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        if (g_strcmp0(node_string(json_array_get_element(a, i)), value) == 0)
            return TRUE;
    }
    return FALSE;
}

static char *
object_filename(JsonObject *mapping, const char *name)
{
    return g_strdup(member_string(member_object(mapping, name), "filename"));
}

static void
read_targets(JsonObject *root, Descriptor *d)
{
    JsonArray *targets = member_array(root, "targets");

    for (guint i = 0; targets && i < json_array_get_length(targets); i++) {
        JsonNode *tn = json_array_get_element(targets, i);
        JsonObject *t = JSON_NODE_HOLDS_OBJECT(tn) ? json_node_get_object(tn) : NULL;
        JsonArray *machines = member_array(t, "machines");

        if (g_strcmp0(member_string(t, "architecture"), "x86_64") != 0)
            continue;
        for (guint m = 0; machines && m < json_array_get_length(machines); m++) {
            const char *glob = node_string(json_array_get_element(machines, m));

            if (glob)
                g_ptr_array_add(d->machines, g_strdup(glob));
        }
    }
}

/* NULL for a file that is not a descriptor splitvirt can use; libvirt skips those too. */
static Descriptor *
descriptor_load(const char *path)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) error = NULL;
    JsonObject *root;
    JsonObject *mapping;
    Descriptor *d;

    if (!json_parser_load_from_file(parser, path, &error) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        g_debug("firmware descriptor %s: %s", path, error ? error->message : "not an object");
        return NULL;
    }
    root = json_node_get_object(json_parser_get_root(parser));
    mapping = member_object(root, "mapping");
    if (!member_string(mapping, "device"))
        return NULL;
    d = g_new0(Descriptor, 1);
    d->path = g_strdup(path);
    d->machines = g_ptr_array_new_with_free_func(g_free);
    d->uefi = array_has(root, "interface-types", "uefi");
    d->bios = array_has(root, "interface-types", "bios");
    d->flash = g_strcmp0(member_string(mapping, "device"), "flash") == 0 &&
               g_strcmp0(member_string(mapping, "mode") ?: "split", "split") == 0;
    d->executable = object_filename(mapping, "executable");
    d->nvram_template = object_filename(mapping, "nvram-template");
    d->requires_smm = array_has(root, "features", "requires-smm");
    d->secure_boot = array_has(root, "features", "secure-boot");
    d->enrolled_keys = array_has(root, "features", "enrolled-keys");
    read_targets(root, d);
    return d;
}

static gint
compare_basename(gconstpointer a, gconstpointer b)
{
    g_autofree char *x = g_path_get_basename(*(const char *const *)a);
    g_autofree char *y = g_path_get_basename(*(const char *const *)b);

    return strcmp(x, y);
}

/* The descriptor files as QEMU's spec orders them: by file name over all directories, a
 * name in a later directory replacing the same name in an earlier one. */
static GPtrArray *
descriptor_paths(const char *const *dirs)
{
    g_autoptr(GHashTable) by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter iter;
    gpointer value;

    for (guint i = 0; dirs && dirs[i]; i++) {
        g_autoptr(GDir) dir = g_dir_open(dirs[i], 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
            if (g_str_has_suffix(name, ".json"))
                g_hash_table_insert(by_name, g_strdup(name),
                                    g_build_filename(dirs[i], name, NULL));
        }
    }
    g_hash_table_iter_init(&iter, by_name);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(paths, g_strdup(value));
    g_ptr_array_sort(paths, compare_basename);
    return paths;
}

/* A wanted (yes) or unwanted (no) feature against what the descriptor has. */
static gboolean
feature_ok(SvDomainTristate want, gboolean has)
{
    return want == SV_DOMAIN_TRISTATE_ABSENT || (want == SV_DOMAIN_TRISTATE_YES) == has;
}

static gboolean
descriptor_matches(const Descriptor *d, const SvDomainDef *def, const char *machine)
{
    gboolean machine_ok = FALSE;

    if (!(def->firmware == SV_DOMAIN_FIRMWARE_EFI ? d->uefi : d->bios) || !d->flash ||
        !d->executable)
        return FALSE;
    for (guint i = 0; i < d->machines->len && !machine_ok; i++)
        machine_ok = fnmatch(d->machines->pdata[i], machine, 0) == 0;
    if (!machine_ok)
        return FALSE;
    if (d->requires_smm && def->smm == SV_DOMAIN_SWITCH_OFF)
        return FALSE;
    return feature_ok(def->loader_secure, d->secure_boot) &&
           feature_ok(def->fw_secure_boot, d->secure_boot) &&
           feature_ok(def->fw_enrolled_keys, d->enrolled_keys);
}

char *
qemu_firmware_nvram_path(const char *nvram_dir, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s_VARS.fd", name);

    return g_build_filename(nvram_dir, file, NULL);
}

void
qemu_firmware_post_parse(SvDomainDef *def, const char *nvram_dir)
{
    if (def->os.loader_type == SV_DOMAIN_LOADER_TYPE_PFLASH &&
        def->os.loader_readonly == SV_DOMAIN_TRISTATE_YES && !def->nvram)
        def->nvram = qemu_firmware_nvram_path(nvram_dir, def->name);
}

/* The live definition as libvirt 9.0 shows it after the choice: the loader, NVRAM and SMM
 * it implies, and no firmware attribute any more (it would contradict the loader's). */
static void
apply_descriptor(SvDomainDef *def, const Descriptor *d, const char *nvram_dir)
{
    def->firmware = SV_DOMAIN_FIRMWARE_NONE;
    def->fw_enrolled_keys = SV_DOMAIN_TRISTATE_ABSENT;
    def->fw_secure_boot = SV_DOMAIN_TRISTATE_ABSENT;
    g_free(def->os.loader);
    def->os.loader = g_strdup(d->executable);
    def->os.loader_type = SV_DOMAIN_LOADER_TYPE_PFLASH;
    def->os.loader_readonly = SV_DOMAIN_TRISTATE_YES;
    def->loader_secure = d->secure_boot ? SV_DOMAIN_TRISTATE_YES : SV_DOMAIN_TRISTATE_NO;
    if (d->requires_smm)
        def->smm = SV_DOMAIN_SWITCH_ON;
    if (d->nvram_template) {
        g_free(def->nvram_template);
        def->nvram_template = g_strdup(d->nvram_template);
        if (!def->nvram)
            def->nvram = qemu_firmware_nvram_path(nvram_dir, def->name);
    }
}

gboolean
qemu_firmware_fill(SvDomainDef *def, const char *machine, const char *const *dirs,
                   const char *nvram_dir, GError **error)
{
    g_autoptr(GPtrArray) paths = NULL;

    /* A loader given in the XML is used as it is, as libvirt does. */
    if (def->firmware == SV_DOMAIN_FIRMWARE_NONE || def->os.loader)
        return TRUE;
    paths = descriptor_paths(dirs);
    for (guint i = 0; i < paths->len; i++) {
        Descriptor *d = descriptor_load(paths->pdata[i]);
        gboolean ok = d && descriptor_matches(d, def, machine);

        if (ok) {
            g_debug("firmware for %s: %s", def->name, d->path);
            apply_descriptor(def, d, nvram_dir);
        }
        if (d)
            descriptor_free(d);
        if (ok)
            return TRUE;
    }
    /* libvirt's error when no descriptor fits. */
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                 "Unable to find any firmware to satisfy '%s'",
                 sv_domain_firmware_to_string(def->firmware));
    return FALSE;
}

gboolean
qemu_firmware_prepare_nvram(const SvDomainDef *def, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *data = NULL;
    g_autoptr(GError) local = NULL;
    gsize len = 0;

    if (!def->nvram || g_file_test(def->nvram, G_FILE_TEST_EXISTS))
        return TRUE;
    if (!def->nvram_template) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "unable to find any master var store for loader: %s",
                     def->os.loader ? def->os.loader : "");
        return FALSE;
    }
    /* A few hundred KiB, read and written once per first start, as libvirt does it. */
    if (!g_file_get_contents(def->nvram_template, &data, &len, &local)) {
        sv_error_set_errno(error, SV_FROM_QEMU, local->code == G_FILE_ERROR_NOENT ? ENOENT : EIO,
                           "Failed to open file '%s'", def->nvram_template);
        return FALSE;
    }
    dir = g_path_get_dirname(def->nvram);
    return sv_mkdir_p(dir, 0755, error) &&
           sv_file_write_atomic(def->nvram, data, len, 0600, error);
}

gboolean
qemu_firmware_undefine_nvram(const SvDomainDef *def, const char *nvram_dir, gboolean remove,
                             gboolean keep, GError **error)
{
    g_autofree char *path = def->nvram ? g_strdup(def->nvram)
                            : def->firmware == SV_DOMAIN_FIRMWARE_EFI
                                ? qemu_firmware_nvram_path(nvram_dir, def->name)
                                : NULL;

    if (!path || !g_file_test(path, G_FILE_TEST_EXISTS))
        return TRUE;
    if (remove) {
        if (unlink(path) < 0) {
            sv_error_set_errno(error, SV_FROM_QEMU, errno, "failed to remove nvram: %s", path);
            return FALSE;
        }
        return TRUE;
    }
    if (keep)
        return TRUE;
    sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                 "cannot undefine domain with nvram");
    return FALSE;
}
