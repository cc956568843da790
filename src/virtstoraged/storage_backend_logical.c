/* storage_backend_logical.c: the logical pool type (storage_backend_logical.h). */
#include "storage_backend_logical.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/sv_wire_constants.h"
#include "conf/domain_xml.h"
#include "storage_backend_fs.h"
#include "util/error.h"
#include "util/fd.h"

/* libvirt's virStorageVolType for a logical volume. */
#define VOL_BLOCK 1

/* The LVM tools by the paths Debian's libvirt runs them (its failures name them). */
#define LVM_TOOL(name) "/sbin/" name

static GStrv
argv_of(const char *first, ...)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_strv_builder_add(b, a);
    va_end(ap);
    return g_strv_builder_end(b);
}

GStrv
storage_logical_argv_pvcreate(const char *device)
{
    return argv_of(LVM_TOOL("pvcreate"), device, NULL);
}

GStrv
storage_logical_argv_pvremove(const char *device)
{
    return argv_of(LVM_TOOL("pvremove"), device, NULL);
}

GStrv
storage_logical_argv_vgcreate(const SvStoragePoolDef *def)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    g_strv_builder_add_many(b, LVM_TOOL("vgcreate"), def->source.name, NULL);
    for (guint i = 0; i < def->source.devices->len; i++)
        g_strv_builder_add(b, def->source.devices->pdata[i]);
    return g_strv_builder_end(b);
}

GStrv
storage_logical_argv_vgchange(const SvStoragePoolDef *def, gboolean on)
{
    return argv_of(LVM_TOOL("vgchange"), on ? "-aly" : "-aln", def->source.name, NULL);
}

GStrv
storage_logical_argv_vgremove(const SvStoragePoolDef *def)
{
    return argv_of(LVM_TOOL("vgremove"), "-f", def->source.name, NULL);
}

GStrv
storage_logical_argv_vgs(const SvStoragePoolDef *def)
{
    return argv_of(LVM_TOOL("vgs"), "--separator", ":", "--noheadings", "--units", "b",
                   "--unbuffered", "--nosuffix", "--options", "vg_size,vg_free", def->source.name,
                   NULL);
}

GStrv
storage_logical_argv_lvs(const SvStoragePoolDef *def)
{
    return argv_of(LVM_TOOL("lvs"), "--separator", "#", "--noheadings", "--units", "b",
                   "--unbuffered", "--nosuffix", "--options",
                   "lv_name,origin,uuid,devices,segtype,stripes,seg_size,vg_extent_size,size,"
                   "lv_attr",
                   def->source.name, NULL);
}

GStrv
storage_logical_argv_pvs(void)
{
    return argv_of(LVM_TOOL("pvs"), "--noheadings", "-o", "pv_name,vg_name", NULL);
}

/* Sizes in KiB rounded up, as libvirt gives them to lvcreate. */
static char *
kib(guint64 bytes)
{
    return g_strdup_printf("%" G_GUINT64_FORMAT "K", (bytes + 1023) / 1024);
}

GStrv
storage_logical_argv_lvcreate(const SvStoragePoolDef *def, const char *name, guint64 capacity,
                              guint64 allocation, const char *backing)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_autofree char *cap = kib(capacity);

    g_strv_builder_add_many(b, LVM_TOOL("lvcreate"), "--name", name, "-L", NULL);
    if (allocation != capacity) {
        g_autofree char *alloc = kib(allocation ? allocation : 1);
        g_strv_builder_add_many(b, alloc, "--type", "snapshot", "--virtualsize", NULL);
    }
    g_strv_builder_add(b, cap);
    if (backing)
        g_strv_builder_add_many(b, "-s", backing, NULL);
    else
        g_strv_builder_add(b, def->source.name);
    g_strv_builder_add(b, "--yes");
    return g_strv_builder_end(b);
}

GStrv
storage_logical_argv_lvremove(const char *path)
{
    return argv_of(LVM_TOOL("lvremove"), "-f", path, NULL);
}

GStrv
storage_logical_argv_lvchange_off(const char *path)
{
    return argv_of(LVM_TOOL("lvchange"), "-aln", path, NULL);
}

/* ---------------------------------------------------------------- parsers */

gboolean
storage_logical_parse_vgs(const char *text, guint64 *size, guint64 *free_bytes,
                          GError **error)
{
    g_autoptr(GRegex) re = g_regex_new("^\\s*(\\S+):([0-9]+):?\\s*$", 0, 0, NULL);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        g_autoptr(GMatchInfo) m = NULL;
        g_autofree char *s = NULL, *f = NULL;
        if (!g_regex_match(re, lines[i], 0, &m))
            continue;
        s = g_match_info_fetch(m, 1);
        f = g_match_info_fetch(m, 2);
        if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, size, NULL) ||
            !g_ascii_string_to_unsigned(f, 10, 0, G_MAXUINT64, free_bytes, NULL) ||
            *free_bytes > *size) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                         "malformed volume group size '%s'", s);
            return FALSE;
        }
        return TRUE;
    }
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                 "no volume group size and free space in vgs output");
    return FALSE;
}

static StorageVol *
find_vol(GPtrArray *vols, const char *name)
{
    for (guint i = 0; i < vols->len; i++) {
        StorageVol *v = vols->pdata[i];
        if (g_str_equal(v->name, name))
            return v;
    }
    return NULL;
}

/* One line's volume: a new one, or nothing for a further segment of one already listed. */
static gboolean
lvs_line(GMatchInfo *m, const char *target, GPtrArray *vols, GError **error)
{
    g_autofree char *name = g_match_info_fetch(m, 1);
    g_autofree char *size = g_match_info_fetch(m, 9);
    g_autofree char *attr = g_match_info_fetch(m, 10);
    guint64 bytes;
    StorageVol *vol;

    /* thin pools have no device of their own; inactive volumes none either */
    if (attr[0] == 't' || strlen(attr) < 5 || attr[4] != 'a')
        return TRUE;
    if (find_vol(vols, name))
        return TRUE;
    if (!g_ascii_string_to_unsigned(size, 10, 0, G_MAXUINT64, &bytes, NULL)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "malformed volume size value '%s'", size);
        return FALSE;
    }
    vol = g_new0(StorageVol, 1);
    vol->name = g_steal_pointer(&name);
    vol->path = g_build_filename(target, vol->name, NULL);
    vol->type = VOL_BLOCK;
    vol->capacity = vol->allocation = bytes;
    g_ptr_array_add(vols, vol);
    return TRUE;
}

gboolean
storage_logical_parse_lvs(const char *text, const char *target, GPtrArray *vols,
                          GError **error)
{
    g_autoptr(GRegex) re = g_regex_new(
        "^\\s*(\\S+)#(\\S*)#(\\S+)#(\\S+)#(\\S+)#([0-9]+)#(\\S+)#([0-9]+)#(\\S+)#(\\S+)#?\\s*$", 0,
        0, NULL);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        g_autoptr(GMatchInfo) m = NULL;
        if (g_regex_match(re, lines[i], 0, &m) && !lvs_line(m, target, vols, error))
            return FALSE;
    }
    return TRUE;
}

void
storage_logical_source_free(StorageLogicalSource *s)
{
    if (!s)
        return;
    g_free(s->name);
    g_ptr_array_unref(s->devices);
    g_free(s);
}

GPtrArray *
storage_logical_parse_pvs(const char *text)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)storage_logical_source_free);
    g_autoptr(GRegex) re = g_regex_new("^\\s*(\\S+)\\s+(\\S+)\\s*$", 0, 0, NULL);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint l = 0; lines[l]; l++) {
        g_autoptr(GMatchInfo) m = NULL;
        g_autofree char *vg = NULL;
        StorageLogicalSource *s = NULL;
        if (!g_regex_match(re, lines[l], 0, &m))
            continue;
        vg = g_match_info_fetch(m, 2);
        for (guint i = 0; i < out->len && !s; i++) {
            if (g_str_equal(((StorageLogicalSource *)out->pdata[i])->name, vg))
                s = out->pdata[i];
        }
        if (!s) {
            s = g_new0(StorageLogicalSource, 1);
            s->name = g_steal_pointer(&vg);
            s->devices = g_ptr_array_new_with_free_func(g_free);
            g_ptr_array_add(out, s);
        }
        g_ptr_array_add(s->devices, g_match_info_fetch(m, 1));
    }
    return out;
}

char *
storage_logical_format_sources(GPtrArray *sources)
{
    GString *s = g_string_new("<sources>\n");

    for (guint i = 0; i < sources->len; i++) {
        StorageLogicalSource *src = sources->pdata[i];
        g_string_append(s, "  <source>\n");
        for (guint d = 0; d < src->devices->len; d++) {
            g_string_append(s, "    <device");
            sv_xml_append_attr(s, "path", src->devices->pdata[d]);
            g_string_append(s, "/>\n");
        }
        sv_xml_append_text_elem(s, 4, "name", src->name);
        g_string_append(s, "    <format type='lvm2'/>\n  </source>\n");
    }
    g_string_append(s, "</sources>\n");
    return g_string_free(s, FALSE);
}

/* ---------------------------------------------------------------- steps */

static gboolean
run_argv(GStrv argv, char **ret_out, GError **error)
{
    g_auto(GStrv) owned = argv;

    return storage_tool_run((const char *const *)owned, ret_out, NULL, error);
}

/* vgscan (to see groups made meanwhile; its failure ignored, as libvirt does), then pvs.
 * (element-type StorageLogicalSource) */
static GPtrArray *
list_sources(GError **error)
{
    const char *const vgscan[] = {LVM_TOOL("vgscan"), NULL};
    g_autofree char *out = NULL;
    g_autoptr(GError) scan_error = NULL;

    if (!storage_tool_run(vgscan, NULL, NULL, &scan_error))
        g_warning("Failure when running vgscan to refresh physical volumes: %s",
                  scan_error->message);
    if (!run_argv(storage_logical_argv_pvs(), &out, error))
        return NULL;
    return storage_logical_parse_pvs(out);
}

char *
storage_logical_find_sources(GError **error)
{
    g_autoptr(GPtrArray) sources = list_sources(error);

    return sources ? storage_logical_format_sources(sources) : NULL;
}

/* The pvcreate of each device (unless OVERWRITE, only on a device blkid finds empty; libvirt
 * zeros its first and last MiB first), then vgcreate; a failure pvremoves the devices done. */
gboolean
storage_logical_build(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    guint i;

    for (i = 0; i < def->source.devices->len; i++) {
        const char *path = def->source.devices->pdata[i];
        /* blkid names an LVM2 physical volume LVM2_member */
        if (!(flags & SV_STORAGE_POOL_BUILD_OVERWRITE) &&
            !storage_fs_check_empty(path, "LVM2_member", error))
            break;
        if (!storage_zero_ends(path, error) ||
            !run_argv(storage_logical_argv_pvcreate(path), NULL, error))
            break;
    }
    if (i == def->source.devices->len && run_argv(storage_logical_argv_vgcreate(def), NULL, error))
        return TRUE;
    /* the devices pvcreate initialized before the failure (i: the one that failed, or all
     * of them when vgcreate did) */
    for (guint j = 0; j < i; j++) {
        g_autoptr(GError) e = NULL;
        if (!run_argv(storage_logical_argv_pvremove(def->source.devices->pdata[j]), NULL, &e))
            g_message("Failed to pvremove logical device: %s", e->message);
    }
    return FALSE;
}

/* libvirt's check before a start: pvs must list the group, with one of the pool's devices
 * at least (when it names any). */
gboolean
storage_logical_match_source(const SvStoragePoolDef *def, GError **error)
{
    g_autoptr(GPtrArray) sources = list_sources(error);
    StorageLogicalSource *src = NULL;
    guint matches = 0;

    if (!sources)
        return FALSE;
    for (guint i = 0; i < sources->len && !src; i++) {
        if (g_str_equal(((StorageLogicalSource *)sources->pdata[i])->name, def->source.name))
            src = sources->pdata[i];
    }
    if (!src) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "cannot find logical volume group name '%s'", def->source.name);
        return FALSE;
    }
    if (def->source.devices->len == 0)
        return TRUE;
    for (guint i = 0; i < def->source.devices->len; i++) {
        for (guint j = 0; j < src->devices->len; j++)
            matches += g_str_equal(def->source.devices->pdata[i], src->devices->pdata[j]);
    }
    if (matches == 0) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "cannot find any matching source devices for logical volume group '%s'",
                     def->source.name);
        return FALSE;
    }
    if (matches != def->source.devices->len)
        g_warning("pool device list count doesn't match pvs device list count");
    return TRUE;
}

StorageRefresh *
storage_logical_refresh(const SvStoragePoolDef *def, GError **error)
{
    g_autoptr(StorageRefresh) r = g_new0(StorageRefresh, 1);
    g_autofree char *lvs = NULL, *vgs = NULL;
    guint64 size = 0, free_bytes = 0;

    r->vols = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free);
    if (!run_argv(storage_logical_argv_lvs(def), &lvs, error) ||
        !storage_logical_parse_lvs(lvs, def->target_path, r->vols, error) ||
        !run_argv(storage_logical_argv_vgs(def), &vgs, error) ||
        !storage_logical_parse_vgs(vgs, &size, &free_bytes, error))
        return NULL;
    r->capacity = size;
    r->available = free_bytes;
    r->allocation = size - free_bytes;
    return g_steal_pointer(&r); /* no permissions: libvirt reads none for /dev/VG */
}

gboolean
storage_logical_start(const SvStoragePoolDef *def, GError **error)
{
    return storage_logical_match_source(def, error) &&
           run_argv(storage_logical_argv_vgchange(def, TRUE), NULL, error);
}

gboolean
storage_logical_stop(const SvStoragePoolDef *def, GError **error)
{
    return run_argv(storage_logical_argv_vgchange(def, FALSE), NULL, error);
}

/* vgremove -f, then pvremove of each device (its failure only logged, as libvirt does). */
gboolean
storage_logical_delete(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    if (!sv_check_flags(flags, 0, SV_FROM_STORAGE, "virStorageBackendLogicalDeletePool", error))
        return FALSE;
    if (!run_argv(storage_logical_argv_vgremove(def), NULL, error))
        return FALSE;
    for (guint i = 0; i < def->source.devices->len; i++) {
        g_autoptr(GError) e = NULL;
        if (!run_argv(storage_logical_argv_pvremove(def->source.devices->pdata[i]), NULL, &e))
            g_message("Failed to pvremove logical device: %s", e->message);
    }
    return TRUE;
}

/* ---------------------------------------------------------------- volumes */

/* The new LV's node given its owner (root only, as libvirt) and mode. */
static gboolean
lv_set_perms(const char *path, int mode, gint64 uid, gint64 gid, GError **error)
{
    g_auto(SvFd) fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot open volume '%s'", path);
        return FALSE;
    }
    if (geteuid() == 0 && fchown(fd, (uid_t)uid, (gid_t)gid) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot set file owner '%s'", path);
        return FALSE;
    }
    if (fchmod(fd, mode == -1 ? 0600 : (mode_t)mode) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot set file mode '%s'", path);
        return FALSE;
    }
    return TRUE;
}

StorageRefresh *
storage_logical_create_vol(const SvStoragePoolDef *def, const SvStorageVolDef *vol,
                           GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s", def->target_path, vol->name);
    g_autoptr(StorageRefresh) r = NULL;

    if (!run_argv(storage_logical_argv_lvcreate(def, vol->name, vol->capacity, vol->allocation,
                                                vol->backing ? vol->backing->path : NULL),
                  NULL, error))
        return NULL;
    if (lv_set_perms(path, vol->target.perms.mode, vol->target.perms.uid, vol->target.perms.gid,
                     error) &&
        (r = storage_logical_refresh(def, error))) {
        for (guint i = 0; i < r->vols->len; i++)
            if (g_str_equal(((StorageVol *)r->vols->pdata[i])->name, vol->name))
                return g_steal_pointer(&r);
        sv_error_set_errno(error, SV_FROM_STORAGE, ENOENT,
                           "cannot find newly created volume '%s'", path);
    }
    (void)storage_logical_delete_vol(path, NULL); /* libvirt removes what it made */
    return NULL;
}

gboolean
storage_logical_delete_vol(const char *path, GError **error)
{
    if (run_argv(storage_logical_argv_lvremove(path), NULL, NULL))
        return TRUE;
    return run_argv(storage_logical_argv_lvchange_off(path), NULL, error) &&
           run_argv(storage_logical_argv_lvremove(path), NULL, error);
}
