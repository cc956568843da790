/* qemu_firmware_desc.c: reading QEMU's firmware descriptors (qemu_firmware_desc.h). */
#include "qemu_firmware_desc.h"

#include <fnmatch.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>

const char *const qemu_firmware_desc_dirs[] = {"/etc/qemu/firmware", "/usr/share/qemu/firmware",
                                               NULL};

static void
target_free(gpointer p)
{
    QemuFirmwareTarget *t = p;

    g_free(t->arch);
    g_free(t->machine);
    g_free(t);
}

void
qemu_firmware_desc_free(QemuFirmwareDesc *d)
{
    if (!d)
        return;
    g_free(d->path);
    g_free(d->device);
    g_free(d->executable);
    g_free(d->nvram_template);
    g_clear_pointer(&d->targets, g_ptr_array_unref);
    g_free(d);
}

/* Member `name` of `o` when it holds a node of `type`, else NULL. */
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

static void
read_targets(JsonObject *root, QemuFirmwareDesc *d)
{
    JsonArray *targets = member_array(root, "targets");

    for (guint i = 0; targets && i < json_array_get_length(targets); i++) {
        JsonNode *tn = json_array_get_element(targets, i);
        JsonObject *t = JSON_NODE_HOLDS_OBJECT(tn) ? json_node_get_object(tn) : NULL;
        const char *arch = member_string(t, "architecture");
        JsonArray *machines = member_array(t, "machines");

        for (guint m = 0; arch && machines && m < json_array_get_length(machines); m++) {
            const char *glob = node_string(json_array_get_element(machines, m));
            QemuFirmwareTarget *target;

            if (!glob)
                continue;
            target = g_new0(QemuFirmwareTarget, 1);
            target->arch = g_strdup(arch);
            target->machine = g_strdup(glob);
            g_ptr_array_add(d->targets, target);
        }
    }
}

static void
read_mapping(JsonObject *mapping, QemuFirmwareDesc *d)
{
    d->device = g_strdup(member_string(mapping, "device"));
    if (g_strcmp0(d->device, "flash") == 0) {
        d->split = g_strcmp0(member_string(mapping, "mode") ?: "split", "split") == 0;
        d->executable =
            g_strdup(member_string(member_object(mapping, "executable"), "filename"));
        d->nvram_template =
            g_strdup(member_string(member_object(mapping, "nvram-template"), "filename"));
    } else {
        d->executable = g_strdup(member_string(mapping, "filename"));
    }
}

/* NULL for a file that is no descriptor; libvirt skips those too. */
static QemuFirmwareDesc *
desc_load(const char *path)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) error = NULL;
    JsonObject *root;
    JsonObject *mapping;
    QemuFirmwareDesc *d;

    if (!json_parser_load_from_file(parser, path, &error) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        g_debug("firmware descriptor %s: %s", path, error ? error->message : "not an object");
        return NULL;
    }
    root = json_node_get_object(json_parser_get_root(parser));
    mapping = member_object(root, "mapping");
    if (!member_string(mapping, "device"))
        return NULL;
    d = g_new0(QemuFirmwareDesc, 1);
    d->path = g_strdup(path);
    d->targets = g_ptr_array_new_with_free_func(target_free);
    d->uefi = array_has(root, "interface-types", "uefi");
    d->bios = array_has(root, "interface-types", "bios");
    d->requires_smm = array_has(root, "features", "requires-smm");
    d->secure_boot = array_has(root, "features", "secure-boot");
    d->enrolled_keys = array_has(root, "features", "enrolled-keys");
    read_mapping(mapping, d);
    read_targets(root, d);
    return d;
}

GPtrArray *
qemu_firmware_desc_load_all(const char *const *dirs)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GList) names = NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)qemu_firmware_desc_free);

    for (guint i = 0; dirs && dirs[i]; i++) {
        g_autoptr(GDir) dir = g_dir_open(dirs[i], 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
            if (g_str_has_suffix(name, ".json") && !g_hash_table_contains(seen, name))
                g_hash_table_insert(seen, g_strdup(name), g_build_filename(dirs[i], name, NULL));
        }
    }
    names = g_list_sort(g_hash_table_get_keys(seen), (GCompareFunc)strcmp);
    for (GList *l = names; l; l = l->next) {
        const char *path = g_hash_table_lookup(seen, l->data);
        struct stat st;
        QemuFirmwareDesc *d;

        /* An empty file masks the same name in a later directory. */
        if (stat(path, &st) < 0 || st.st_size == 0)
            continue;
        d = desc_load(path);
        if (d)
            g_ptr_array_add(out, d);
    }
    return out;
}

gboolean
qemu_firmware_desc_targets(const QemuFirmwareDesc *d, const char *arch, const char *machine)
{
    for (guint i = 0; i < d->targets->len; i++) {
        const QemuFirmwareTarget *t = d->targets->pdata[i];

        if (g_str_equal(t->arch, arch) && fnmatch(t->machine, machine, 0) == 0)
            return TRUE;
    }
    return FALSE;
}
