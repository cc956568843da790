/* qemu_dac.c: file ownership for QEMU's user (qemu_dac.h). */
#include "qemu_dac.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utmpx.h>

#include "conf/domain_status.h"
#include "util/error.h"

/* A file given to QEMU's user: its owner before the first running guest that uses it. */
typedef struct {
    uid_t uid;
    gid_t gid;
    guint users;
    gboolean xattr; /* the owner and count are (also) in the file's attributes */
} Owner;

/* libvirt's remembered owner, in attributes of the file itself so that every daemon (and a
 * restarted one) sees it: the owner before the first guest as "+UID:+GID", the number of
 * running guests using the file, and the host's boot time (attributes with another are
 * from before a reboot: stale, and dropped). */
#define XATTR_OWNER "trusted.libvirt.security.dac"
#define XATTR_USERS "trusted.libvirt.security.ref_dac"
#define XATTR_STAMP "trusted.libvirt.security.timestamp_dac"
#define XATTR_NONE (-2) /* the file system keeps no such attributes, or the file has none */

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

/* The host's boot time: utmp's BOOT_TIME record, as libvirt reads it first; without one,
 * /proc/stat's btime. (libvirt's own fallback, whole seconds of the wall clock less
 * /proc/uptime, wavers by a second from one process to the next; btime does not.) */
static guint64
boot_time_now(void)
{
    struct utmpx id = {.ut_type = BOOT_TIME};
    struct utmpx *res;
    g_autofree char *text = NULL;
    guint64 when = 0;
    const char *p;

    setutxent();
    if ((res = getutxid(&id)))
        when = (guint64)res->ut_tv.tv_sec;
    endutxent();
    if (when)
        return when;
    if (!g_file_get_contents("/proc/stat", &text, NULL, NULL) ||
        !(p = strstr(text, "\nbtime ")))
        return 0;
    return g_ascii_strtoull(p + strlen("\nbtime "), NULL, 10);
}

/* The stamp libvirt writes: the boot time, reckoned once per daemon as libvirt does. */
static char *
boot_stamp(void)
{
    static gsize once;
    static guint64 when;

    if (g_once_init_enter(&once)) {
        when = boot_time_now();
        g_once_init_leave(&once, 1);
    }
    return g_strdup_printf("%" G_GUINT64_FORMAT, when);
}

/* Attribute `name` of `path`; NULL with errno set when there is none. */
static char *
xattr_get(const char *path, const char *name)
{
    char buf[128];
    ssize_t n = getxattr(path, name, buf, sizeof(buf) - 1);

    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return g_strdup(buf);
}

static gboolean
xattr_set(const char *path, const char *name, const char *value, GError **error)
{
    if (setxattr(path, name, value, strlen(value), 0) == 0)
        return TRUE;
    sv_error_set_errno(error, SV_FROM_SECURITY, errno, "Unable to set XATTR %s on %s", name,
                       path);
    return FALSE;
}

static void
xattr_drop(const char *path)
{
    (void)removexattr(path, XATTR_USERS);
    (void)removexattr(path, XATTR_OWNER);
    (void)removexattr(path, XATTR_STAMP);
}

/* The number of guests the attributes of `path` count (stale ones dropped: none), or
 * XATTR_NONE where the file system keeps no attributes, or -1 with an error. */
static int
xattr_users(const char *path, GError **error)
{
    g_autofree char *users = xattr_get(path, XATTR_USERS);
    g_autofree char *stamp = NULL;
    g_autofree char *now = NULL;
    guint64 n;

    if (!users) {
        if (errno == ENODATA)
            return 0;
        if (errno == ENOTSUP || errno == ENOSYS)
            return XATTR_NONE;
        sv_error_set_errno(error, SV_FROM_SECURITY, errno, "Unable to get XATTR %s on %s",
                           XATTR_USERS, path);
        return -1;
    }
    stamp = xattr_get(path, XATTR_STAMP);
    now = boot_stamp();
    if (!stamp || !g_str_equal(stamp, now)) {
        xattr_drop(path);
        return 0;
    }
    if (!g_ascii_string_to_unsigned(users, 10, 0, G_MAXINT, &n, NULL)) {
        sv_error_set(error, SV_FROM_SECURITY, SV_ERR_INTERNAL_ERROR,
                     "malformed refcount %s on %s", users, path);
        return -1;
    }
    return (int)n;
}

/* One more guest uses `path`, whose owner is uid:gid now: the count after (1: the first,
 * whose owner is remembered), XATTR_NONE, or -1 with an error. */
static int
xattr_remember(const char *path, uid_t uid, gid_t gid, GError **error)
{
    int users = xattr_users(path, error);
    g_autofree char *count = NULL;

    if (users < 0)
        return users;
    users++;
    if (users == 1) {
        g_autofree char *owner = g_strdup_printf("+%u:+%u", (guint)uid, (guint)gid);
        g_autofree char *stamp = boot_stamp();
        /* trusted.* attributes need CAP_SYS_ADMIN, which libvirt's daemon has and our
         * units do not grant: without it (EPERM, and nothing was readable either) the
         * owner is remembered in memory, as where the file system keeps no attributes. */
        if (setxattr(path, XATTR_OWNER, owner, strlen(owner), 0) < 0 && errno == EPERM)
            return XATTR_NONE;
        if (!xattr_set(path, XATTR_OWNER, owner, error) ||
            !xattr_set(path, XATTR_STAMP, stamp, error))
            return -1;
    }
    count = g_strdup_printf("%d", users);
    return xattr_set(path, XATTR_USERS, count, error) ? users : -1;
}

/* One guest fewer uses `path`: 0 with the remembered owner when it was the last (the
 * attributes go), 1 when others still do, XATTR_NONE when nothing is remembered (libvirt
 * then gives the file to root), -1 with an error. */
static int
xattr_recall(const char *path, uid_t *uid, gid_t *gid, GError **error)
{
    int users = xattr_users(path, error);
    g_autofree char *owner = NULL;
    guint u, g;

    if (users <= 0)
        return users == 0 ? XATTR_NONE : users;
    if (--users > 0) {
        g_autofree char *count = g_strdup_printf("%d", users);
        return xattr_set(path, XATTR_USERS, count, error) ? 1 : -1;
    }
    owner = xattr_get(path, XATTR_OWNER);
    xattr_drop(path);
    if (!owner || sscanf(owner, "+%u:+%u", &u, &g) != 2)
        return XATTR_NONE;
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    return 0;
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
    int users;

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
    users = dac->remember ? xattr_remember(real, st.st_uid, st.st_gid, error) : XATTR_NONE;
    if (users == -1)
        return FALSE;
    o = g_hash_table_lookup(dac->owners, real);
    if (!o) {
        o = g_new0(Owner, 1);
        o->uid = dac->remember ? st.st_uid : 0;
        o->gid = dac->remember ? st.st_gid : 0;
        o->xattr = users != XATTR_NONE;
        g_hash_table_insert(dac->owners, g_strdup(real), o);
    }
    /* A file another guest (maybe another daemon's) uses keeps the owner it has: libvirt's
     * would be the same, and changing it could cut that guest off. */
    if (users <= 1 && !set_owner(real, dac->uid, dac->gid, error)) {
        uid_t u;
        gid_t g;
        if (users == 1)
            (void)xattr_recall(real, &u, &g, NULL);
        if (o->users == 0)
            g_hash_table_remove(dac->owners, real);
        return FALSE;
    }
    o->users++;
    g_ptr_array_add(owned, g_steal_pointer(&real));
    return TRUE;
}

/* Whether `path` goes back to an owner now that one guest of ours less uses it (o->users
 * counts those left), and to which. */
static gboolean
restore_owner(const Owner *o, const char *path, uid_t *uid, gid_t *gid)
{
    g_autoptr(GError) error = NULL;
    int rc;

    *uid = o->uid;
    *gid = o->gid;
    if (!o->xattr)
        return o->users == 0;
    rc = xattr_recall(path, uid, gid, &error);
    if (rc == -1)
        g_warning("cannot recall the owner of '%s': %s", path, error->message);
    if (rc == XATTR_NONE)
        *uid = *gid = 0;
    return rc == 0 || rc == XATTR_NONE;
}

void
qemu_dac_restore(QemuDac *dac, GPtrArray *owned)
{
    for (guint i = 0; i < owned->len; i++) {
        const char *path = owned->pdata[i];
        Owner *o = g_hash_table_lookup(dac->owners, path);
        uid_t uid;
        gid_t gid;

        if (!o)
            continue;
        o->users--;
        if (restore_owner(o, path, &uid, &gid) && chown(path, uid, gid) < 0 &&
            errno != ENOENT)
            g_warning("cannot give '%s' back to %u:%u: %s", path, (guint)uid, (guint)gid,
                      g_strerror(errno));
        if (o->users == 0)
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
            g_autofree char *users = xattr_get(path, XATTR_USERS);
            o = g_new0(Owner, 1);
            o->uid = (uid_t)uid;
            o->gid = (gid_t)gid;
            o->xattr = users != NULL;  /* they still count the guest */
            g_hash_table_insert(dac->owners, g_strdup(path), o);
        }
        o->users++;
        g_ptr_array_add(owned, g_steal_pointer(&path));
    }
}
