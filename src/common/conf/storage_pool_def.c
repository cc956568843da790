/* storage_pool_def.c: storage pool XML (storage_pool_def.h). */
#include "conf/storage_pool_def.h"

#include <stdlib.h>

#include "conf/domain_xml.h"
#include "conf/uuid.h"
#include "util/error.h"

static const char *const pool_types[SV_STORAGE_POOL_TYPE_LAST] = {
    [SV_STORAGE_POOL_DIR] = "dir",          [SV_STORAGE_POOL_FS] = "fs",
    [SV_STORAGE_POOL_NETFS] = "netfs",      [SV_STORAGE_POOL_LOGICAL] = "logical",
    [SV_STORAGE_POOL_DISK] = "disk",        [SV_STORAGE_POOL_ISCSI] = "iscsi",
    [SV_STORAGE_POOL_ISCSI_DIRECT] = "iscsi-direct",
    [SV_STORAGE_POOL_SCSI] = "scsi",        [SV_STORAGE_POOL_MPATH] = "mpath",
    [SV_STORAGE_POOL_RBD] = "rbd",          [SV_STORAGE_POOL_SHEEPDOG] = "sheepdog",
    [SV_STORAGE_POOL_GLUSTER] = "gluster",  [SV_STORAGE_POOL_ZFS] = "zfs",
    [SV_STORAGE_POOL_VSTORAGE] = "vstorage",
};

/* What libvirt's pool options table asks of each type's <source>. */
enum {
    NEEDS_HOST = 1 << 0,
    NEEDS_DIR = 1 << 1,
    NEEDS_DEVICE = 1 << 2,
    NEEDS_ADAPTER = 1 << 3,
    NAME_DEFAULTS = 1 << 4, /* <source><name> defaults to the pool's name */
};

static const char *const fs_formats[] = {"auto", "ext2", "ext3", "ext4", "ufs", "iso9660",
                                         "udf", "gfs", "gfs2", "vfat", "hfs+", "xfs",
                                         "ocfs2", "vmfs", NULL};
static const char *const netfs_formats[] = {"auto", "nfs", "glusterfs", "cifs", NULL};
static const char *const disk_formats[] = {"unknown", "dos", "dvh", "gpt", "mac", "bsd",
                                           "pc98", "sun", "lvm2", NULL};
static const char *const logical_formats[] = {"unknown", "lvm2", NULL};

static const struct {
    unsigned int flags;
    const char *const *formats; /* NULL: no <format> */
    const char *default_format;
} pool_options[SV_STORAGE_POOL_TYPE_LAST] = {
    [SV_STORAGE_POOL_FS] = {NEEDS_DEVICE, fs_formats, "auto"},
    [SV_STORAGE_POOL_NETFS] = {NEEDS_HOST | NEEDS_DIR, netfs_formats, "auto"},
    [SV_STORAGE_POOL_LOGICAL] = {NAME_DEFAULTS, logical_formats, "lvm2"},
    [SV_STORAGE_POOL_DISK] = {NEEDS_DEVICE, disk_formats, "unknown"},
    [SV_STORAGE_POOL_ISCSI] = {NEEDS_HOST | NEEDS_DEVICE},
    [SV_STORAGE_POOL_ISCSI_DIRECT] = {NEEDS_HOST | NEEDS_DEVICE},
    [SV_STORAGE_POOL_SCSI] = {NEEDS_ADAPTER},
    [SV_STORAGE_POOL_RBD] = {NEEDS_HOST | NAME_DEFAULTS},
    [SV_STORAGE_POOL_SHEEPDOG] = {NEEDS_HOST | NAME_DEFAULTS},
    [SV_STORAGE_POOL_GLUSTER] = {NEEDS_HOST | NAME_DEFAULTS},
    [SV_STORAGE_POOL_ZFS] = {NAME_DEFAULTS},
    [SV_STORAGE_POOL_VSTORAGE] = {NAME_DEFAULTS},
};

const char *
sv_storage_pool_type_to_string(int type)
{
    if (type < 0 || type >= SV_STORAGE_POOL_TYPE_LAST)
        return NULL;
    return pool_types[type];
}

int
sv_storage_pool_type_from_string(const char *s)
{
    for (int i = 0; s && i < SV_STORAGE_POOL_TYPE_LAST; i++) {
        if (g_str_equal(pool_types[i], s))
            return i;
    }
    return -1;
}

gboolean
sv_storage_pool_type_supported(int type)
{
    return type == SV_STORAGE_POOL_DIR || type == SV_STORAGE_POOL_FS ||
           type == SV_STORAGE_POOL_LOGICAL || type == SV_STORAGE_POOL_DISK;
}

gboolean
sv_storage_pool_def_check_backend(const SvStoragePoolDef *def, GError **error)
{
    if (sv_storage_pool_type_supported(def->type))
        return TRUE;
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                 "missing backend for pool type %d (%s)", def->type,
                 sv_storage_pool_type_to_string(def->type));
    return FALSE;
}

static void
host_free(SvStoragePoolHost *h)
{
    g_free(h->name);
    g_free(h);
}

void
sv_storage_pool_def_free(SvStoragePoolDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_ptr_array_unref(def->source.hosts);
    g_ptr_array_unref(def->source.devices);
    g_array_unref(def->source.free_extents);
    g_free(def->source.dir);
    g_free(def->source.name);
    g_free(def->source.format);
    g_free(def->target_path);
    g_free(def->perms.label);
    g_free(def);
}

static SvStoragePoolDef *
def_new(void)
{
    SvStoragePoolDef *def = g_new0(SvStoragePoolDef, 1);

    def->source.hosts = g_ptr_array_new_with_free_func((GDestroyNotify)host_free);
    def->source.devices = g_ptr_array_new_with_free_func(g_free);
    def->source.free_extents = g_array_new(FALSE, FALSE, sizeof(SvStoragePoolExtent));
    def->perms.mode = -1;
    def->perms.uid = -1;
    def->perms.gid = -1;
    return def;
}

SvStoragePoolDef *
sv_storage_pool_def_copy(const SvStoragePoolDef *src)
{
    SvStoragePoolDef *def = def_new();

    def->type = src->type;
    def->name = g_strdup(src->name);
    memcpy(def->uuid, src->uuid, 16);
    def->capacity = src->capacity;
    def->allocation = src->allocation;
    def->available = src->available;
    for (guint i = 0; i < src->source.hosts->len; i++) {
        const SvStoragePoolHost *h = src->source.hosts->pdata[i];
        SvStoragePoolHost *c = g_new0(SvStoragePoolHost, 1);
        c->name = g_strdup(h->name);
        c->port = h->port;
        g_ptr_array_add(def->source.hosts, c);
    }
    for (guint i = 0; i < src->source.devices->len; i++)
        g_ptr_array_add(def->source.devices, g_strdup(src->source.devices->pdata[i]));
    g_array_append_vals(def->source.free_extents, src->source.free_extents->data,
                        src->source.free_extents->len);
    def->source.dir = g_strdup(src->source.dir);
    def->source.name = g_strdup(src->source.name);
    def->source.has_adapter = src->source.has_adapter;
    def->source.format = g_strdup(src->source.format);
    def->target_path = g_strdup(src->target_path);
    def->perms = src->perms;
    def->perms.label = g_strdup(src->perms.label);
    return def;
}

/* ---------------------------------------------------------------- parsing */

static gboolean
xml_error(GError **error, const char *fmt, const char *arg)
{
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_XML_ERROR, fmt, arg);
    return FALSE;
}

static gboolean
parse_format(const xmlNode *source, SvStoragePoolDef *def, GError **error)
{
    const char *const *formats = pool_options[def->type].formats;
    g_autofree char *fmt = source ? sv_xml_child_prop(source, "format", "type") : NULL;

    if (!formats)
        return TRUE;
    if (!fmt) {
        def->source.format = g_strdup(pool_options[def->type].default_format);
        return TRUE;
    }
    if (!g_strv_contains(formats, fmt)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "unknown pool format type %s", fmt);
        return FALSE;
    }
    def->source.format = g_steal_pointer(&fmt);
    return TRUE;
}

static gboolean
parse_host(const xmlNode *n, SvStoragePoolDef *def, GError **error)
{
    g_autofree char *name = sv_xml_prop(n, "name");
    g_autofree char *port = sv_xml_prop(n, "port");
    SvStoragePoolHost *h;
    char *end = NULL;
    long p = 0;

    if (!name)
        return xml_error(error, "%s", "missing storage pool host name");
    if (port) {
        p = strtol(port, &end, 10);
        if (!*port || *end || p < 0 || p > 65535)
            return xml_error(error, "Invalid port number: %s", port);
    }
    h = g_new0(SvStoragePoolHost, 1);
    h->name = g_steal_pointer(&name);
    h->port = (int)p;
    g_ptr_array_add(def->source.hosts, h);
    return TRUE;
}

static gboolean
parse_source(const xmlNode *source, SvStoragePoolDef *def, GError **error)
{
    if (!source)
        return parse_format(NULL, def, error);
    for (const xmlNode *n = source->children; n; n = n->next) {
        if (sv_xml_is(n, "host")) {
            if (!parse_host(n, def, error))
                return FALSE;
        } else if (sv_xml_is(n, "device")) {
            g_autofree char *path = sv_xml_prop(n, "path");
            if (!path)
                return xml_error(error, "%s", "missing storage pool source device path");
            g_ptr_array_add(def->source.devices, g_steal_pointer(&path));
        } else if (sv_xml_is(n, "adapter")) {
            def->source.has_adapter = TRUE;
        }
    }
    def->source.dir = sv_xml_child_prop(source, "dir", "path");
    def->source.name = sv_xml_child_text(source, "name");
    return parse_format(source, def, error);
}

/* The target's <permissions>, as libvirt's virStorageDefParsePerms: owner and group are ints
 * from -1 (none) up. */
static gboolean
parse_perms(const xmlNode *perms, SvStoragePerms *out, GError **error)
{
    g_autofree char *mode = sv_xml_child_text(perms, "mode");
    g_autofree char *owner = sv_xml_child_text(perms, "owner");
    g_autofree char *group = sv_xml_child_text(perms, "group");
    char *end = NULL;

    if (mode) {
        long m = strtol(mode, &end, 8);
        if (*end || m < 0 || (m & ~07777))
            return xml_error(error, "%s", "malformed octal mode");
        out->mode = (int)m;
    }
    if (owner) {
        gint64 v = g_ascii_strtoll(owner, &end, 10);
        if (*end || v < -1 || v > G_MAXINT32)
            return xml_error(error, "%s", "malformed owner element");
        out->uid = v;
    }
    if (group) {
        gint64 v = g_ascii_strtoll(group, &end, 10);
        if (*end || v < -1 || v > G_MAXINT32)
            return xml_error(error, "%s", "malformed group element");
        out->gid = v;
    }
    out->label = sv_xml_child_text(perms, "label");
    return TRUE;
}

/* libvirt's virFileSanitizePath: no doubled or trailing '/'. */
static char *
sanitize_path(const char *path)
{
    GString *s = g_string_new(NULL);

    for (const char *p = path; *p; p++) {
        if (*p == '/' && s->len && s->str[s->len - 1] == '/')
            continue;
        g_string_append_c(s, *p);
    }
    if (s->len > 1 && s->str[s->len - 1] == '/')
        g_string_truncate(s, s->len - 1);
    return g_string_free(s, FALSE);
}

/* The requirements of the type's options table, in libvirt's order. */
static gboolean
check_source(SvStoragePoolDef *def, GError **error)
{
    unsigned int flags = pool_options[def->type].flags;

    if ((flags & NEEDS_HOST) && def->source.hosts->len == 0)
        return xml_error(error, "%s", "missing storage pool source host name");
    if ((flags & NEEDS_DIR) && !def->source.dir)
        return xml_error(error, "%s", "missing storage pool source path");
    if ((flags & NAME_DEFAULTS) && !def->source.name)
        def->source.name = g_strdup(def->name);
    if ((flags & NEEDS_ADAPTER) && !def->source.has_adapter)
        return xml_error(error, "%s", "missing storage pool source adapter");
    if ((flags & NEEDS_DEVICE) && def->source.devices->len == 0)
        return xml_error(error, "%s", "missing storage pool source device name");
    return TRUE;
}

static gboolean
parse_target(const xmlNode *root, SvStoragePoolDef *def, GError **error)
{
    const xmlNode *target = sv_xml_child(root, "target");
    g_autofree char *path = target ? sv_xml_child_text(target, "path") : NULL;
    const xmlNode *perms = target ? sv_xml_child(target, "permissions") : NULL;

    if (def->type == SV_STORAGE_POOL_LOGICAL) {
        /* libvirt's logical pools live at /dev/VG, whatever the XML says */
        g_free(path);
        path = g_strdup_printf("/dev/%s", def->source.name);
    }
    if (!path)
        return xml_error(error, "%s", "missing storage pool target path");
    def->target_path = sanitize_path(path);
    return !perms || parse_perms(perms, &def->perms, error);
}

static gboolean
parse_type(const xmlNode *root, SvStoragePoolDef *def, GError **error)
{
    g_autofree char *type = sv_xml_prop(root, "type");

    if (!type) {
        sv_xml_error_missing_attr(error, root, "type");
        return FALSE;
    }
    def->type = sv_storage_pool_type_from_string(type);
    if (def->type < 0) {
        sv_xml_error_invalid_attr(error, root, "type", type);
        return FALSE;
    }
    return TRUE;
}

static gboolean
parse_root(const xmlNode *root, SvStoragePoolDef *def, GError **error)
{
    g_autofree char *uuid = NULL;

    if (!parse_type(root, def, error) ||
        !parse_source(sv_xml_child(root, "source"), def, error))
        return FALSE;
    def->name = sv_xml_child_text(root, "name");
    if (!def->name && (pool_options[def->type].flags & NAME_DEFAULTS) && def->source.name)
        def->name = g_strdup(def->source.name);
    if (!def->name)
        return xml_error(error, "%s", "missing pool source name element");
    if (strchr(def->name, '/'))
        return xml_error(error, "name %s cannot contain '/'", def->name);
    uuid = sv_xml_child_text(root, "uuid");
    if (!uuid)
        sv_uuid_generate(def->uuid);
    else if (!sv_uuid_parse(uuid, def->uuid))
        return xml_error(error, "%s", "malformed uuid element");
    return check_source(def, error) && parse_target(root, def, error);
}

SvStoragePoolDef *
sv_storage_pool_def_parse(const char *xml, GError **error)
{
    g_autoptr(SvStoragePoolDef) def = def_new();
    xmlDoc *doc = sv_xml_read_named_from(xml, "(storage_pool_definition)", SV_FROM_STORAGE,
                                         error);
    xmlNode *root;
    gboolean ok = FALSE;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!sv_xml_is(root, "pool"))
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "expecting root element of 'pool', not '%s'", (const char *)root->name);
    else
        ok = parse_root(root, def, error);
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}

/* ---------------------------------------------------------------- formatting */

static void
format_source(GString *s, const SvStoragePoolDef *def)
{
    g_string_append(s, "  <source>\n");
    for (guint i = 0; i < def->source.hosts->len; i++) {
        const SvStoragePoolHost *h = def->source.hosts->pdata[i];
        g_string_append(s, "    <host");
        sv_xml_append_attr(s, "name", h->name);
        if (h->port)
            g_string_append_printf(s, " port='%d'", h->port);
        g_string_append(s, "/>\n");
    }
    for (guint i = 0; i < def->source.devices->len; i++) {
        const GArray *x = def->source.free_extents;
        g_string_append(s, "    <device");
        sv_xml_append_attr(s, "path", def->source.devices->pdata[i]);
        if (i > 0 || x->len == 0) {
            g_string_append(s, "/>\n");
            continue;
        }
        g_string_append(s, ">\n");
        for (guint k = 0; k < x->len; k++) {
            const SvStoragePoolExtent *e = &g_array_index(x, SvStoragePoolExtent, k);
            g_string_append_printf(s, "      <freeExtent start='%" G_GUINT64_FORMAT "' end='%"
                                   G_GUINT64_FORMAT "'/>\n", e->start, e->end);
        }
        g_string_append(s, "    </device>\n");
    }
    if (def->source.dir) {
        g_string_append(s, "    <dir");
        sv_xml_append_attr(s, "path", def->source.dir);
        g_string_append(s, "/>\n");
    }
    sv_xml_append_text_elem(s, 4, "name", def->source.name);
    if (def->source.format) {
        g_string_append(s, "    <format");
        sv_xml_append_attr(s, "type", def->source.format);
        g_string_append(s, "/>\n");
    }
    g_string_append(s, "  </source>\n");
}

static void
format_target(GString *s, const SvStoragePoolDef *def)
{
    const SvStoragePerms *p = &def->perms;

    g_string_append(s, "  <target>\n");
    sv_xml_append_text_elem(s, 4, "path", def->target_path);
    if (p->mode != -1 || p->uid != -1 || p->gid != -1 || p->label) {
        g_string_append(s, "    <permissions>\n");
        if (p->mode != -1)
            g_string_append_printf(s, "      <mode>0%o</mode>\n", (unsigned)p->mode);
        if (p->uid != -1)
            g_string_append_printf(s, "      <owner>%d</owner>\n", (int)p->uid);
        if (p->gid != -1)
            g_string_append_printf(s, "      <group>%d</group>\n", (int)p->gid);
        sv_xml_append_text_elem(s, 6, "label", p->label);
        g_string_append(s, "    </permissions>\n");
    }
    g_string_append(s, "  </target>\n");
}

char *
sv_storage_pool_def_format(const SvStoragePoolDef *def)
{
    GString *s = g_string_new(NULL);
    char uuid[SV_UUID_STRING_LEN + 1];

    sv_uuid_format(def->uuid, uuid);
    g_string_append_printf(s, "<pool type='%s'>\n", sv_storage_pool_type_to_string(def->type));
    sv_xml_append_text_elem(s, 2, "name", def->name);
    sv_xml_append_text_elem(s, 2, "uuid", uuid);
    g_string_append_printf(s,
                           "  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n"
                           "  <allocation unit='bytes'>%" G_GUINT64_FORMAT "</allocation>\n"
                           "  <available unit='bytes'>%" G_GUINT64_FORMAT "</available>\n",
                           def->capacity, def->allocation, def->available);
    format_source(s, def);
    format_target(s, def);
    g_string_append(s, "</pool>\n");
    return g_string_free(s, FALSE);
}
