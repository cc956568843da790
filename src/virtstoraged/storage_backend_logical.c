/* storage_backend_logical.c: the logical pool's host work (an LVM2 volume group on the pool's
 * devices), as libvirt 9.0's storage_backend_logical.c does it: pvcreate and vgcreate at
 * build, vgchange at start and stop, vgs at refresh, vgremove and pvremove at delete, pvs for
 * source discovery. Runs on workers; the LVM tools by libvirt's paths, with argv and a clean
 * environment. */
#include "storage_backend_logical.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/domain_xml.h"
#include "protocol/sv_wire_constants.h"
#include "storage_backend_fs.h"
#include "util/error.h"

#define PVCREATE "/sbin/pvcreate"
#define PVREMOVE "/sbin/pvremove"
#define PVS "/sbin/pvs"
#define VGCREATE "/sbin/vgcreate"
#define VGREMOVE "/sbin/vgremove"
#define VGCHANGE "/sbin/vgchange"
#define VGS "/sbin/vgs"

gboolean
storage_logical_build(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    g_autoptr(GPtrArray) vgcreate = g_ptr_array_new();

    g_ptr_array_add(vgcreate, (gpointer)VGCREATE);
    g_ptr_array_add(vgcreate, def->source.name);
    for (guint i = 0; i < def->source.devices->len; i++) {
        const char *dev = def->source.devices->pdata[i];
        const char *pvcreate[] = {PVCREATE, dev, NULL};
        /* blkid's name for what this pool's format (lvm2) leaves on a device */
        if (!(flags & SV_STORAGE_POOL_BUILD_OVERWRITE) &&
            !storage_fs_check_empty(dev, "LVM2_member", error))
            return FALSE;
        if (!storage_zero_ends(dev, error) || !storage_tool_run(pvcreate, NULL, NULL, error))
            return FALSE;
        g_ptr_array_add(vgcreate, (gpointer)dev);
    }
    g_ptr_array_add(vgcreate, NULL);
    return storage_tool_run((const char *const *)vgcreate->pdata, NULL, NULL, error);
}

/* pvs's "PV VG" lines: the PVs of vg (all PVs with a VG when vg is NULL), as (pv, vg)
 * pairs in a flat array. Pure. */
GPtrArray *
storage_logical_parse_pvs(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " \t", -1);
        guint n = 0;
        const char *pv = NULL, *vg = NULL;
        for (guint k = 0; f[k]; k++) {
            if (!*f[k])
                continue;
            if (n == 0)
                pv = f[k];
            else if (n == 1)
                vg = f[k];
            n++;
        }
        if (pv && vg) {
            g_ptr_array_add(out, g_strdup(pv));
            g_ptr_array_add(out, g_strdup(vg));
        }
    }
    return out;
}

/* libvirt's virStorageBackendLogicalMatchPoolSource: the VG exists, and has one of the
 * pool's devices when it names any. */
gboolean
storage_logical_match_source(const SvStoragePoolDef *def, GError **error)
{
    const char *argv[] = {PVS, "--noheadings", "-o", "pv_name,vg_name", NULL};
    g_autofree char *out = NULL;
    g_autoptr(GPtrArray) pairs = NULL;
    gboolean vg_found = FALSE, dev_found = def->source.devices->len == 0;

    if (!storage_tool_run(argv, &out, NULL, error))
        return FALSE;
    pairs = storage_logical_parse_pvs(out);
    for (guint i = 0; i + 1 < pairs->len; i += 2) {
        if (!g_str_equal(pairs->pdata[i + 1], def->source.name))
            continue;
        vg_found = TRUE;
        for (guint k = 0; k < def->source.devices->len; k++)
            dev_found |= g_str_equal(def->source.devices->pdata[k], pairs->pdata[i]);
    }
    if (!vg_found) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "cannot find logical volume group name '%s'", def->source.name);
        return FALSE;
    }
    if (!dev_found) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
                     "cannot find any matching source devices for logical volume group '%s'",
                     def->source.name);
        return FALSE;
    }
    return TRUE;
}

gboolean
storage_logical_set_active(const SvStoragePoolDef *def, gboolean on, GError **error)
{
    const char *argv[] = {VGCHANGE, on ? "-aly" : "-aln", def->source.name, NULL};

    if (on && !storage_logical_match_source(def, error))
        return FALSE;
    return storage_tool_run(argv, NULL, NULL, error);
}

gboolean
storage_logical_parse_vgs(const char *text, guint64 *size, guint64 *free_bytes)
{
    g_autofree char *t = g_strstrip(g_strdup(text));
    g_auto(GStrv) f = g_strsplit(t, ":", -1);
    char *end = NULL;

    if (g_strv_length(f) != 2)
        return FALSE;
    *size = g_ascii_strtoull(f[0], &end, 10);
    if (end == f[0] || *end)
        return FALSE;
    *free_bytes = g_ascii_strtoull(f[1], &end, 10);
    return end != f[1] && !*end && *free_bytes <= *size;
}

gboolean
storage_logical_refresh(const SvStoragePoolDef *def, guint64 *capacity, guint64 *available,
                        GError **error)
{
    const char *argv[] = {VGS, "--separator", ":", "--noheadings", "--units", "b",
                          "--unbuffered", "--nosuffix", "--options", "vg_size,vg_free",
                          def->source.name, NULL};
    g_autofree char *out = NULL;

    if (!storage_tool_run(argv, &out, NULL, error))
        return FALSE;
    if (!storage_logical_parse_vgs(out, capacity, available)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "cannot parse the size of volume group '%s'", def->source.name);
        return FALSE;
    }
    return TRUE;
}

gboolean
storage_logical_delete(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    const char *vgremove[] = {VGREMOVE, "-f", def->source.name, NULL};

    if (!sv_check_flags(flags, 0, SV_FROM_STORAGE, "virStorageBackendLogicalDeletePool", error) ||
        !storage_tool_run(vgremove, NULL, NULL, error))
        return FALSE;
    for (guint i = 0; i < def->source.devices->len; i++) {
        const char *pvremove[] = {PVREMOVE, def->source.devices->pdata[i], NULL};
        if (!storage_tool_run(pvremove, NULL, NULL, error))
            return FALSE;
    }
    return TRUE;
}

char *
storage_logical_find_sources(GError **error)
{
    const char *argv[] = {PVS, "--noheadings", "-o", "pv_name,vg_name", NULL};
    g_autofree char *out = NULL;
    g_autoptr(GPtrArray) pairs = NULL;

    if (!storage_tool_run(argv, &out, NULL, error))
        return NULL;
    pairs = storage_logical_parse_pvs(out);
    return storage_logical_format_sources(pairs);
}

/* libvirt's <sources> document: one <source> per VG, its PVs in pvs's order. */
char *
storage_logical_format_sources(GPtrArray *pairs)
{
    GString *s = g_string_new("<sources>\n");
    g_autoptr(GPtrArray) vgs = g_ptr_array_new();

    for (guint i = 0; i + 1 < pairs->len; i += 2) {
        if (!g_ptr_array_find_with_equal_func(vgs, pairs->pdata[i + 1], g_str_equal, NULL))
            g_ptr_array_add(vgs, pairs->pdata[i + 1]);
    }
    for (guint v = 0; v < vgs->len; v++) {
        g_string_append(s, "  <source>\n");
        for (guint i = 0; i + 1 < pairs->len; i += 2) {
            if (!g_str_equal(pairs->pdata[i + 1], vgs->pdata[v]))
                continue;
            g_string_append(s, "    <device");
            sv_xml_append_attr(s, "path", pairs->pdata[i]);
            g_string_append(s, "/>\n");
        }
        sv_xml_append_text_elem(s, 4, "name", vgs->pdata[v]);
        g_string_append(s, "    <format type='lvm2'/>\n  </source>\n");
    }
    g_string_append(s, "</sources>\n");
    return g_string_free(s, FALSE);
}
