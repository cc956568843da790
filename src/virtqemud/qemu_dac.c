/* qemu_dac.c: file ownership for QEMU's user (qemu_dac.h). */
#include "qemu_dac.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/domain_status.h"
#include "util/error.h"

/* A file given to QEMU's user: its owner before the first running guest that uses it. */
typedef struct {
    uid_t uid;
    gid_t gid;
    guint users;
} Owner;

struct QemuDac {
    uid_t uid;
    gid_t gid;
    gboolean dynamic;  /* dynamic_ownership */
    gboolean remember; /* remember_owner */
    GHashTable *owners; /* resolved path -> Owner */
};

static gboolean
conf_flag(SvConfFile *conf, const char *key, gboolean *out, GError **error)
{
    guint v;

    *out = TRUE;
    if (!sv_conf_file_has(conf, key))
        return TRUE;
    if (!sv_conf_file_get_uint(conf, key, &v, error))
        return FALSE;
    if (v > 1) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED, "'%s' must be 0 or 1, not %u",
                     key, v);
        return FALSE;
    }
    *out = v == 1;
    return TRUE;
}

QemuDac *
qemu_dac_new(SvConfFile *conf, uid_t uid, gid_t gid, GError **error)
{
    g_autoptr(QemuDac) dac = g_new0(QemuDac, 1);

    dac->uid = uid;
    dac->gid = gid;
    dac->owners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!conf_flag(conf, "dynamic_ownership", &dac->dynamic, error) ||
        !conf_flag(conf, "remember_owner", &dac->remember, error))
        return NULL;
    return g_steal_pointer(&dac);
}

void
qemu_dac_free(QemuDac *dac)
{
    if (!dac)
        return;
    g_hash_table_unref(dac->owners);
    g_free(dac);
}

gboolean
qemu_dac_enabled(const QemuDac *dac)
{
    return dac->dynamic;
}

char *
qemu_dac_label(const QemuDac *dac)
{
    return g_strdup_printf("+%u:+%u", (guint)dac->uid, (guint)dac->gid);
}

static gboolean
owned_has(const GPtrArray *owned, const char *path)
{
    for (guint i = 0; i < owned->len; i++) {
        if (g_str_equal(owned->pdata[i], path))
            return TRUE;
    }
    return FALSE;
}

static gboolean
set_owner(const char *path, uid_t uid, gid_t gid, GError **error)
{
    if (chown(path, uid, gid) == 0)
        return TRUE;
    sv_error_set_errno(error, SV_FROM_SECURITY, errno,
                       "unable to set user and group to '%u:%u' on '%s'", (guint)uid,
                       (guint)gid, path);
    return FALSE;
}

gboolean
qemu_dac_own(QemuDac *dac, GPtrArray *owned, const char *path, gboolean restore,
             GError **error)
{
    g_autofree char *real = NULL;
    struct stat st;
    Owner *o;

    if (!dac->dynamic)
        return TRUE;
    real = realpath(path, NULL);
    if (!real || stat(real, &st) < 0) {
        sv_error_set_errno(error, SV_FROM_SECURITY, errno,
                           "unable to set user and group to '%u:%u' on '%s'", (guint)dac->uid,
                           (guint)dac->gid, path);
        return FALSE;
    }
    if (owned_has(owned, real))
        return TRUE;
    if (!restore)
        return set_owner(real, dac->uid, dac->gid, error);
    o = g_hash_table_lookup(dac->owners, real);
    if (!o) {
        o = g_new0(Owner, 1);
        o->uid = dac->remember ? st.st_uid : 0;
        o->gid = dac->remember ? st.st_gid : 0;
        g_hash_table_insert(dac->owners, g_strdup(real), o);
    }
    if (!set_owner(real, dac->uid, dac->gid, error)) {
        if (o->users == 0)
            g_hash_table_remove(dac->owners, real);
        return FALSE;
    }
    o->users++;
    g_ptr_array_add(owned, g_steal_pointer(&real));
    return TRUE;
}

void
qemu_dac_restore(QemuDac *dac, GPtrArray *owned)
{
    for (guint i = 0; i < owned->len; i++) {
        const char *path = owned->pdata[i];
        Owner *o = g_hash_table_lookup(dac->owners, path);

        if (!o || --o->users > 0)
            continue;
        if (chown(path, o->uid, o->gid) < 0 && errno != ENOENT)
            g_warning("cannot give '%s' back to %u:%u: %s", path, (guint)o->uid, (guint)o->gid,
                      g_strerror(errno));
        g_hash_table_remove(dac->owners, path);
    }
    g_ptr_array_set_size(owned, 0);
}

void
qemu_dac_format_status(QemuDac *dac, const GPtrArray *owned, GString *out)
{
    for (guint i = 0; i < owned->len; i++) {
        const Owner *o = g_hash_table_lookup(dac->owners, owned->pdata[i]);
        g_autofree char *path = g_markup_escape_text(owned->pdata[i], -1);

        if (o)
            g_string_append_printf(out, "  <chown path='%s' uid='%u' gid='%u'/>\n", path,
                                   (guint)o->uid, (guint)o->gid);
    }
}

void
qemu_dac_take_status(QemuDac *dac, GPtrArray *owned, xmlNodePtr domstatus)
{
    for (xmlNodePtr c = domstatus->children; c; c = c->next) {
        g_autofree char *path = NULL;
        gint64 uid, gid;
        Owner *o;

        if (c->type != XML_ELEMENT_NODE || !g_str_equal((const char *)c->name, "chown"))
            continue;
        path = sv_status_attr(c, "path");
        uid = sv_status_attr_int(c, "uid");
        gid = sv_status_attr_int(c, "gid");
        if (!path || uid < 0 || gid < 0 || uid > G_MAXUINT32 || gid > G_MAXUINT32 ||
            owned_has(owned, path))
            continue;
        o = g_hash_table_lookup(dac->owners, path);
        if (!o) {
            o = g_new0(Owner, 1);
            o->uid = (uid_t)uid;
            o->gid = (gid_t)gid;
            g_hash_table_insert(dac->owners, g_strdup(path), o);
        }
        o->users++;
        g_ptr_array_add(owned, g_steal_pointer(&path));
    }
}
