/* qemu_migration_nbd.c: a migration's storage copy (NON_SHARED_DISK, NON_SHARED_INC) as
 * libvirt 9.0 runs it over NBD with QEMU's block jobs:
 *  - the destination's QEMU serves the disks to copy (nbd-server-start on a port of the
 *    migration range, block-export-add of each disk's top node, named "drive-ALIAS",
 *    writable) before migrate-incoming, and stops serving (nbd-server-stop) in finish;
 *  - the source's QEMU opens each export (blockdev-add of an nbd node
 *    "migration-TARGET-storage" and a raw node "migration-TARGET-format" on it) and mirrors
 *    the disk into it (blockdev-mirror, job "drive-ALIAS", sync full, or top for
 *    NON_SHARED_INC); memory is sent once every mirror is ready; at pre-switchover the
 *    mirrors are completed (block-job-cancel of a ready mirror leaves the copy in sync) and
 *    their nodes deleted before the devices' state goes. A failed migration cancels them. */
#include "qemu_migration_priv.h"

#include "qemu_migration_qmp.h"
#include "util/error.h"

typedef struct {
    char *target; /* vda */
    char *alias;  /* virtio-disk0 */
    char *node;   /* the disk's top node, libvirt-N-format */
    gboolean mirroring, ready, concluded;
} NbdDisk;

static void
nbd_disk_free(NbdDisk *d)
{
    g_free(d->target);
    g_free(d->alias);
    g_free(d->node);
    g_free(d);
}

static char *
export_name(const NbdDisk *d)
{
    return g_strdup_printf("drive-%s", d->alias);
}

/* ---------------------------------------------------------------- which disks */

/* libvirt's choice without MIGRATE_DISKS: every disk with a medium that is neither shared
 * nor read-only. */
static gboolean
copied(const SvDomainDiskDef *d, const char *const *asked)
{
    if (asked)
        return g_strv_contains(asked, d->target_dev);
    return !d->shareable && !d->readonly && !sv_domain_disk_is_empty(d);
}

gboolean
mig_nbd_choose(SvDomainObj *obj, const char *const *asked, GError **error)
{
    QemuMigration *mig = mig_of(obj);
    GPtrArray *disks = obj->def->disks;

    mig->nbd_disks = g_ptr_array_new_with_free_func((GDestroyNotify)nbd_disk_free);
    for (guint i = 0; i < disks->len; i++) {
        const SvDomainDiskDef *d = disks->pdata[i];
        NbdDisk *n;

        if (!copied(d, asked))
            continue;
        if (!d->info.alias || !d->source_index) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                         "cannot migrate disk '%s': it has no image to copy", d->target_dev);
            return FALSE;
        }
        n = g_new0(NbdDisk, 1);
        n->target = g_strdup(d->target_dev);
        n->alias = g_strdup(d->info.alias);
        n->node = g_strdup_printf("libvirt-%u-format", d->source_index);
        g_ptr_array_add(mig->nbd_disks, n);
    }
    for (guint i = 0; asked && asked[i]; i++) {
        gboolean found = FALSE;

        for (guint j = 0; j < mig->nbd_disks->len && !found; j++)
            found = g_str_equal(((NbdDisk *)mig->nbd_disks->pdata[j])->target, asked[i]);
        if (!found) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "disk target %s not found",
                         asked[i]);
            return FALSE;
        }
    }
    return TRUE;
}

GStrv
mig_nbd_targets(QemuMigration *mig)
{
    GPtrArray *t = g_ptr_array_new();

    for (guint i = 0; mig->nbd_disks && i < mig->nbd_disks->len; i++)
        g_ptr_array_add(t, g_strdup(((NbdDisk *)mig->nbd_disks->pdata[i])->target));
    g_ptr_array_add(t, NULL);
    return (GStrv)g_ptr_array_free(t, FALSE);
}

void
mig_nbd_free(QemuMigration *mig)
{
    g_clear_pointer(&mig->nbd_disks, g_ptr_array_unref);
    g_free(mig->nbd_host);
}

/* ---------------------------------------------------------------- commands in a row */

/* Commands sent together (QEMU answers in order): the last reply, or the first error, goes
 * on with mig->next. */
static void
batch_reply(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj;
    QemuMigration *mig = mig_find(run, &obj);
    void (*next)(SvDomainObj *, const GError *);

    (void)mon;
    (void)ret;
    if (!mig || !mig->batch)
        return;
    mig->batch--;
    if (error && !mig->batch_error)
        mig->batch_error = g_error_copy(error);
    if (mig->batch || !mig->next)
        return;
    next = mig->next;
    mig->next = NULL;
    {
        g_autoptr(GError) e = g_steal_pointer(&mig->batch_error);

        next(obj, e);
    }
}

static void
batch_add(SvDomainObj *obj, const char *cmd, JsonObject *args)
{
    QemuMigration *mig = mig_of(obj);

    mig->batch++;
    qemu_monitor_command(qemu_domain_of(obj)->mon, cmd, args, batch_reply,
                         sv_domain_obj_run_key(obj));
}

/* ---------------------------------------------------------------- destination */

void
mig_nbd_serve(SvDomainObj *obj, const char *address,
              void (*next)(SvDomainObj *obj, const GError *error))
{
    QemuMigration *mig = mig_of(obj);
    JsonObject *args = json_object_new(), *addr = json_object_new(), *data = json_object_new();
    g_autofree char *port = g_strdup_printf("%u", mig->nbd_port);

    mig->next = next;
    json_object_set_string_member(data, "host", address);
    json_object_set_string_member(data, "port", port);
    json_object_set_string_member(addr, "type", "inet");
    json_object_set_object_member(addr, "data", data);
    json_object_set_object_member(args, "addr", addr);
    if (mig->flags & SV_MIGRATE_TLS)
        json_object_set_string_member(args, "tls-creds", QEMU_MIGRATION_TLS_ALIAS);
    batch_add(obj, "nbd-server-start", args);
    for (guint i = 0; i < mig->nbd_disks->len; i++) {
        NbdDisk *d = mig->nbd_disks->pdata[i];
        g_autofree char *id = g_strdup_printf("libvirt-nbd-%s", d->node);
        g_autofree char *name = export_name(d);

        args = json_object_new();
        json_object_set_string_member(args, "type", "nbd");
        json_object_set_string_member(args, "id", id);
        json_object_set_string_member(args, "node-name", d->node);
        json_object_set_boolean_member(args, "writable", TRUE);
        json_object_set_string_member(args, "name", name);
        batch_add(obj, "block-export-add", args);
    }
}

void
mig_nbd_stop(SvDomainObj *obj, void (*next)(SvDomainObj *obj, const GError *error))
{
    QemuMigration *mig = mig_of(obj);

    if (!mig->nbd_disks) {
        next(obj, NULL);
        return;
    }
    mig->next = next;
    batch_add(obj, "nbd-server-stop", NULL);
}

/* ---------------------------------------------------------------- source */

static void
mirror_one(SvDomainObj *obj, QemuMigration *mig, NbdDisk *d)
{
    g_autofree char *storage = g_strdup_printf("migration-%s-storage", d->target);
    g_autofree char *format = g_strdup_printf("migration-%s-format", d->target);
    g_autofree char *port = g_strdup_printf("%u", mig->nbd_port);
    g_autofree char *job = g_strdup_printf("drive-%s", d->alias);
    g_autofree char *name = export_name(d);
    JsonObject *o = json_object_new(), *server = json_object_new();

    json_object_set_string_member(server, "type", "inet");
    json_object_set_string_member(server, "host", mig->nbd_host);
    json_object_set_string_member(server, "port", port);
    json_object_set_string_member(o, "driver", "nbd");
    json_object_set_object_member(o, "server", server);
    json_object_set_string_member(o, "export", name);
    if (mig->flags & SV_MIGRATE_TLS)
        json_object_set_string_member(o, "tls-creds", QEMU_MIGRATION_TLS_ALIAS);
    json_object_set_string_member(o, "node-name", storage);
    json_object_set_boolean_member(o, "read-only", FALSE);
    batch_add(obj, "blockdev-add", o);
    o = json_object_new();
    json_object_set_string_member(o, "node-name", format);
    json_object_set_boolean_member(o, "read-only", FALSE);
    json_object_set_string_member(o, "driver", "raw");
    json_object_set_string_member(o, "file", storage);
    batch_add(obj, "blockdev-add", o);
    o = json_object_new();
    json_object_set_string_member(o, "job-id", job);
    json_object_set_string_member(o, "device", d->node);
    json_object_set_string_member(o, "target", format);
    json_object_set_string_member(o, "sync",
                                  (mig->flags & SV_MIGRATE_NON_SHARED_INC) ? "top" : "full");
    json_object_set_boolean_member(o, "auto-finalize", TRUE);
    json_object_set_boolean_member(o, "auto-dismiss", FALSE);
    d->mirroring = TRUE;
    batch_add(obj, "blockdev-mirror", o);
}

static gboolean
all_mirrors(QemuMigration *mig, gboolean concluded)
{
    for (guint i = 0; i < mig->nbd_disks->len; i++) {
        NbdDisk *d = mig->nbd_disks->pdata[i];

        if (d->mirroring && !(concluded ? d->concluded : d->ready))
            return FALSE;
    }
    return TRUE;
}

/* The storage step is over: what was to follow it. */
static void
nbd_finish(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);
    void (*after)(SvDomainObj *, const GError *) = mig->nbd_after;

    mig->nbd_after = NULL;
    mig->nbd_waiting = 0;
    if (after)
        after(obj, error);
}

/* The mirrors started: wait for them all to be ready. */
static void
mirrors_started(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);

    if (error || all_mirrors(mig, FALSE))
        nbd_finish(obj, error);
    else
        mig->nbd_waiting = NBD_WAIT_READY;
}

void
mig_nbd_mirror(SvDomainObj *obj, void (*next)(SvDomainObj *obj, const GError *error))
{
    QemuMigration *mig = mig_of(obj);

    if (!mig->nbd_disks || !mig->nbd_disks->len) {
        next(obj, NULL);
        return;
    }
    mig->nbd_after = next;
    mig->next = mirrors_started;
    for (guint i = 0; i < mig->nbd_disks->len; i++)
        mirror_one(obj, mig, mig->nbd_disks->pdata[i]);
}

/* Delete the nodes of the mirrors' targets (after their jobs ended). */
static void
remove_targets(SvDomainObj *obj, QemuMigration *mig)
{
    for (guint i = 0; i < mig->nbd_disks->len; i++) {
        NbdDisk *d = mig->nbd_disks->pdata[i];
        g_autofree char *job = g_strdup_printf("drive-%s", d->alias);
        g_autofree char *storage = g_strdup_printf("migration-%s-storage", d->target);
        g_autofree char *format = g_strdup_printf("migration-%s-format", d->target);

        if (!d->mirroring)
            continue;
        d->mirroring = FALSE;
        batch_add(obj, "job-dismiss", mig_args1("id", job));
        batch_add(obj, "blockdev-del", mig_args1("node-name", format));
        batch_add(obj, "blockdev-del", mig_args1("node-name", storage));
    }
}

/* Every mirror concluded: their targets go, then nbd_after. */
static void
mirrors_concluded(SvDomainObj *obj, QemuMigration *mig)
{
    mig->nbd_waiting = 0;
    mig->next = nbd_finish;
    remove_targets(obj, mig);
    if (!mig->batch) {
        mig->next = NULL;
        nbd_finish(obj, NULL);
    }
}

static void
cancels_sent(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);

    if (error)
        nbd_finish(obj, error);
    else if (all_mirrors(mig, TRUE))
        mirrors_concluded(obj, mig);
    else
        mig->nbd_waiting = NBD_WAIT_CONCLUDED;
}

void
mig_nbd_complete(SvDomainObj *obj, gboolean force,
                 void (*next)(SvDomainObj *obj, const GError *error))
{
    QemuMigration *mig = mig_of(obj);

    if (!mig->nbd_disks || !mig->nbd_disks->len) {
        next(obj, NULL);
        return;
    }
    mig->nbd_after = next;
    mig->next = cancels_sent;
    for (guint i = 0; i < mig->nbd_disks->len; i++) {
        NbdDisk *d = mig->nbd_disks->pdata[i];
        g_autofree char *job = g_strdup_printf("drive-%s", d->alias);
        JsonObject *args;

        if (!d->mirroring || d->concluded)
            continue;
        args = mig_args1("device", job);
        json_object_set_boolean_member(args, "force", force);
        batch_add(obj, "block-job-cancel", args);
    }
    if (!mig->batch)
        cancels_sent(obj, NULL);
}

/* A mirror ended before it was ready: libvirt's error. */
static GError *
mirror_failed(const NbdDisk *d)
{
    GError *error = NULL;

    sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "migration of disk %s failed",
                 d->target);
    return error;
}

void
qemu_migration_job_status(SvDomainObj *obj, JsonObject *data)
{
    QemuMigration *mig = mig_of(obj);
    const char *id = qemu_json_string(data, "id");
    const char *status = qemu_json_string(data, "status");
    NbdDisk *failed = NULL;

    if (!mig || !mig->nbd_disks || !id || !status)
        return;
    for (guint i = 0; i < mig->nbd_disks->len; i++) {
        NbdDisk *d = mig->nbd_disks->pdata[i];
        g_autofree char *job = g_strdup_printf("drive-%s", d->alias);

        if (!d->mirroring || !g_str_equal(job, id))
            continue;
        if (g_str_equal(status, "ready")) {
            d->ready = TRUE;
        } else if (g_str_equal(status, "concluded")) {
            if (!d->ready)
                failed = d;
            d->concluded = TRUE;
        }
    }
    if (mig->nbd_waiting == NBD_WAIT_READY && failed) {
        g_autoptr(GError) e = mirror_failed(failed);

        nbd_finish(obj, e);
    } else if (mig->nbd_waiting == NBD_WAIT_READY && all_mirrors(mig, FALSE)) {
        nbd_finish(obj, NULL);
    } else if (mig->nbd_waiting == NBD_WAIT_CONCLUDED && all_mirrors(mig, TRUE)) {
        mirrors_concluded(obj, mig);
    }
}
